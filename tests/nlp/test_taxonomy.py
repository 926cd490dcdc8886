"""Topic taxonomy and keyword rules."""

from __future__ import annotations

import pytest

from core.errors import NlpError
from nlp.taxonomy import load_taxonomy


def test_taxonomy_has_the_twelve_operation_centre_topics():
    tax = load_taxonomy()
    assert len(tax.topics) == 12
    assert {"security_order", "traffic", "environment_disaster", "information_security",
            "other"} <= set(tax.topics)


def test_taxonomy_rules_match_with_and_without_diacritics():
    tax = load_taxonomy()
    assert tax.rule_topics("Sáng nay kẹt xe ở cầu Cái Răng") == ["traffic"]
    assert tax.rule_topics("sang nay ket xe qua") == ["traffic"]
    assert tax.rule_topics("hôm nay trời đẹp") == []


def test_taxonomy_operator_rules_extend_and_are_checked(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("tourism: [bến ninh kiều]\n", encoding="utf-8")
    assert "tourism" in load_taxonomy(str(rules)).rule_topics("Tối nay ra Bến Ninh Kiều chơi")
    bad = tmp_path / "bad.yaml"
    bad.write_text("sports: [bóng đá]\n", encoding="utf-8")
    with pytest.raises(NlpError, match="unknown topic"):
        load_taxonomy(str(bad))
