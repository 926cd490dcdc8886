"""One alert count everywhere: Tổng quan counts what An ninh mạng's queue and Lắng nghe's spike
queue count; spikes are triaged on Lắng nghe by comms and admin, security alerts on An ninh mạng."""

from __future__ import annotations

import pytest

from core.errors import DashboardError
from tests.dashboard.conftest import login, new_app


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_truth_overview_and_security_count_the_same_open_alerts(fresh_truth):
    at = login(new_app(), "admin")
    assert not at.exception, at.exception
    overview = _metrics(at)
    at.switch_page("pages/security.py").run()
    security = _metrics(at)
    assert overview["Cảnh báo an ninh chưa đóng"] == security["Hàng đợi cảnh báo"] == str(
        fresh_truth["security_open_30d"] + 3 + 1 + 12 + 1)  # the fixture's, the attackers', the noise, the anomaly
    for sev in ("Nghiêm trọng", "Cao"):
        assert security[sev] != ""
    # the critical spike is a listening alert: counted on its own, not among security alerts
    assert overview["Cảnh báo lắng nghe chưa đóng"] == "4"
    assert security["Nghiêm trọng"] == "3"


def test_truth_comms_triages_a_spike_on_listening(fresh_truth):
    from dashboard import data

    at = login(new_app(), "comms")
    at.switch_page("pages/listening.py").run()
    assert not at.exception, at.exception
    queue = next(df.value for df in at.dataframe if "Danh sách theo dõi" in df.value.columns
                 and "Trạng thái" in df.value.columns)
    assert len(queue) == 4 and list(queue["Mức độ"])[0] == "Nghiêm trọng"
    critical = at.selectbox(key="l_alert").value
    at.text_input(key=f"l_note_{critical}").input("đã báo phòng truyền thông").run()
    at.button(key="l_ack").click().run()
    assert not at.exception, at.exception
    alert = data.get_alert(critical)
    assert alert["status"] == "acknowledged"
    assert alert["history"][-1]["note"] == "đã báo phòng truyền thông"
    at.selectbox(key=f"l_reason_{critical}").set_value("benign").run()
    at.button(key="l_close").click().run()
    assert data.get_alert(critical)["status"] == "closed"
    assert data.get_alert(critical)["close_reason"] == "benign"
    at.switch_page("pages/overview.py").run()
    assert _metrics(at)["Cảnh báo lắng nghe chưa đóng"] == "3"


def test_truth_spike_queue_only_for_roles_that_triage_it(fresh_truth):
    from dashboard import data

    at = login(new_app(), "analyst")
    at.switch_page("pages/listening.py").run()
    assert not at.exception
    assert "Hàng đợi cảnh báo lắng nghe (đột biến)" not in [h.value for h in at.subheader]
    spike = data.listening_queue()[0]["id"]
    with pytest.raises(DashboardError):
        data.triage_alert(spike, by="security", status="acknowledged", role="security")
    security_alert = next(r["id"] for r in data.alert_queue("30d", statuses=data.OPEN_STATUSES)["rows"])
    with pytest.raises(DashboardError):
        data.triage_alert(security_alert, by="comms", status="acknowledged", role="comms")
