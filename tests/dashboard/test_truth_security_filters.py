"""An ninh mạng's filters and links: the entity filter takes an address, a CIDR block or a prefix;
techniques are shown by name; alerts on the same entity in overlapping time are linked; the
riskiest hosts (security.risk) come with their alert timeline."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import login, new_app
from tests.dashboard.truth_fixtures import ATTACKER, LONE_ATTACKER, NOISE


def test_truth_entity_clauses_read_addresses_blocks_and_prefixes():
    from dashboard.data import entity_clauses

    assert {"term": {"source.ip": "10.0.0.5"}} in entity_clauses("10.0.0.5")
    assert {c["prefix"]["source.ip"] for c in entity_clauses("10.20.1.0/24") if "source.ip" in c["prefix"]} == \
        {"10.20.1."}
    def prefixes(block: str) -> set[str]:
        return {c["prefix"]["entity"] for c in entity_clauses(block) if "entity" in c["prefix"]}

    assert len(prefixes("10.20.0.0/20")) == 16  # 10.20.0. … 10.20.15.
    assert prefixes("10.0.0.0/8") == {"10."}
    assert {"prefix": {"user.name": "adm"}} in entity_clauses("adm")
    for bad in ("10.0.0.0/33", "10.0.0.300/24"):
        with pytest.raises(ValueError):
            entity_clauses(bad)


def test_truth_entity_filter_takes_a_block_or_a_prefix(truth):
    from dashboard import data

    def total(entity: str) -> int:
        return data.alert_queue("30d", statuses=data.OPEN_STATUSES, entity=entity)["total"]

    assert total("10.99.0.0/24") == len(NOISE)
    assert total("10.99.0.1") == 1  # an address is exact: not 10.99.0.10, .11, .12
    assert total("203.0.113.") == 3
    assert total("10.0.0.0/8") > len(NOISE)


def test_truth_security_page_technique_names_and_bad_block(truth):
    at = login(new_app(), "security")
    at.switch_page("pages/security.py").run()
    options = at.multiselect(key="sec_tech").options
    assert "T1190 – Exploit Public-Facing Application" in options
    queue = next(df.value for df in at.dataframe if "Kỹ thuật ATT&CK" in df.value.columns)
    assert "T1190 – Exploit Public-Facing Application" in set(queue["Kỹ thuật ATT&CK"])  # in the queue too
    at.text_input(key="sec_entity").input("10.99.0.0/40").run()
    assert not at.exception and any("Bộ lọc đối tượng không hợp lệ" in e.value for e in at.error)
    at.text_input(key="sec_entity").input("10.99.0.0/24").run()
    assert {m.label: m.value for m in at.metric}["Hàng đợi cảnh báo"] == str(len(NOISE))


def test_truth_related_alerts_are_linked(truth):
    from dashboard import data

    rows = [r for r in data.alert_queue("30d", statuses=data.OPEN_STATUSES, entity=ATTACKER)["rows"]]
    newest = max(rows, key=lambda r: r["time"])["id"]
    related = data.related_alerts(newest)
    assert len(related) == 2 and {r["entity"] for r in related} == {ATTACKER}
    at = login(new_app(), "security")
    at.switch_page("pages/security.py").run()
    at.selectbox(key="sec_pick").set_value(newest).run()
    buttons = [b for b in at.button if (b.key or "").startswith("sec_rel_")]
    assert len(buttons) == 2
    target = buttons[0].key.removeprefix("sec_rel_")
    buttons[0].click().run()
    assert not at.exception, at.exception
    assert at.text_input(key="sec_entity").value == ATTACKER
    assert at.selectbox(key="sec_pick").value == target


def test_truth_riskiest_hosts_with_their_timeline(truth):
    from dashboard import data

    risky = data.riskiest_entities()
    scores = [r["score"] for r in risky]
    assert scores == sorted(scores, reverse=True)
    by_entity = {r["entity"]: r for r in risky}
    assert LONE_ATTACKER in by_entity and ATTACKER in by_entity
    assert len(by_entity[ATTACKER]["timeline"]) == 3
    at = login(new_app(), "security")
    at.switch_page("pages/security.py").run()
    table = next(df.value for df in at.dataframe if "Điểm rủi ro đối tượng" in df.value.columns)
    assert list(table["Đối tượng (IP, người dùng, máy)"])[0] == risky[0]["entity"]
    assert at.selectbox(key="sec_risky") is not None
