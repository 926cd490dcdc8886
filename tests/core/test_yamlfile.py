"""Operator YAML files: syntax errors name the file and line, in the caller's error class."""

from __future__ import annotations

import pytest

from core.errors import ConfigError, NlpError
from core.yamlfile import read_yaml


def test_yamlfile_reads_mappings_and_empty_files(tmp_path):
    good = tmp_path / "ok.yaml"
    good.write_text("nguon:\n  - Báo Cần Thơ\n", encoding="utf-8")
    assert read_yaml(good) == {"nguon": ["Báo Cần Thơ"]}
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert read_yaml(empty) == {}


def test_yamlfile_syntax_error_names_file_line_and_uses_the_callers_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: 1\nb: [1, 2\nc: 3\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml:\d+: YAML syntax error"):
        read_yaml(bad)
    with pytest.raises(NlpError, match="cannot read topic rules") as err:
        read_yaml(bad, what="cannot read topic rules", error=NlpError, hint="fix it")
    assert err.value.hint == "fix it"
