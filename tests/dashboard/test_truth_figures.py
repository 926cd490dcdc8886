"""Figures drawn as they are: top talkers ranked by alerts and risk with outside attackers
included, whole-number axes for counts, numbers sorted as numbers."""

from __future__ import annotations

import json

import pandas as pd

from tests.dashboard.conftest import login, new_app
from tests.dashboard.truth_fixtures import ATTACKER, LONE_ATTACKER, NOISE


def _specs(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def test_truth_talkers_rank_by_risk_and_include_outside_attackers(truth):
    from dashboard import data

    talkers = data.alert_queue("30d", statuses=data.OPEN_STATUSES)["talkers"]
    ips = [r["ip"] for r in talkers]
    assert ATTACKER in ips and LONE_ATTACKER in ips  # one critical alert outranks a low one
    assert all(ips.index(LONE_ATTACKER) < ips.index(ip) for ip in NOISE if ip in ips)
    risks = [r["total_risk"] for r in talkers]
    assert risks == sorted(risks, reverse=True)
    by_ip = {r["ip"]: r for r in talkers}
    assert by_ip[ATTACKER]["internal"] is False and by_ip["10.0.0.5"]["internal"] is True
    assert by_ip[ATTACKER]["count"] == 3 and by_ip[ATTACKER]["total_risk"] == 255.0


def test_truth_security_page_talkers_chart_counts_on_whole_numbers(truth):
    at = login(new_app(), "security")
    at.switch_page("pages/security.py").run()
    assert not at.exception, at.exception
    table = next(df.value for df in at.dataframe if "IP nguồn" in df.value.columns)
    assert LONE_ATTACKER in set(table["IP nguồn"])
    assert set(table.loc[table["IP nguồn"] == ATTACKER, "Phạm vi"]) == {"Bên ngoài"}
    talker_chart = next(s for s in _specs(at) if "Số cảnh báo" in json.dumps(s, ensure_ascii=False))
    assert talker_chart["encoding"]["x"]["axis"] == {"format": "d", "tickMinStep": 1}
    assert talker_chart["encoding"]["y"]["sort"] == list(table["IP nguồn"])  # riskiest first


def test_truth_listening_counts_on_whole_numbers_and_change_sorts_as_number(truth):
    at = login(new_app(), "comms")
    at.switch_page("pages/listening.py").run()
    assert not at.exception, at.exception
    for spec in _specs(at):
        for channel in ("x", "y"):
            enc = (spec.get("encoding") or {}).get(channel) or {}
            if enc.get("field") in ("count", "value"):
                assert enc.get("axis", {}).get("format") == "d", spec
    topics = next(df.value for df in at.dataframe if "Thay đổi" in df.value.columns)
    assert pd.api.types.is_numeric_dtype(topics["Thay đổi"])
    ordered = topics["Thay đổi"].dropna().sort_values(ascending=False)
    assert list(ordered) == sorted(ordered, reverse=True)


def test_truth_change_percent_is_a_number():
    from dashboard.data import change_percent

    assert change_percent(683 + 100, 100) == 683.0 and change_percent(3, 0) is None
    assert sorted([change_percent(v, 100) for v in (783, 162, 143, 433)]) == [43.0, 62.0, 333.0, 683.0]
