"""Triage that shows what was decided: the close reason and its note on the alert and in its
history, history in the UI language, the assignee picked among users who triage, a note kept with
the action it went with, times in the dashboard's timezone."""

from __future__ import annotations

from tests.dashboard.conftest import login, new_app
from tests.dashboard.truth_fixtures import ATTACKER


def _attack_id() -> str:
    from dashboard import data

    return next(r["id"] for r in data.alert_queue("30d", statuses=data.OPEN_STATUSES)["rows"]
                if r["rule"] == "web_attack" and r["entity"] == ATTACKER)


def test_truth_triage_keeps_each_note_with_its_action(fresh_truth):
    from dashboard import data
    from index.triage import triage

    alert_id = _attack_id()
    triage(data.store(), alert_id, assignee="security", note="anh Bảo xem giúp", by="admin")
    closed = triage(data.store(), alert_id, status="closed", reason="false_positive", note="quét của đối tác",
                    by="security")
    assign, close = closed.history[-2], closed.history[-1]
    assert (assign.action, assign.assignee, assign.note) == ("assign", "security", "anh Bảo xem giúp")
    assert (close.to_status, close.reason, close.note) == ("closed", "false_positive", "quét của đối tác")
    assert closed.close_reason == "false_positive"


def test_truth_closed_alert_shows_its_reason_and_note(fresh_truth):
    alert_id = _attack_id()
    at = login(new_app(), "security")
    at.switch_page("pages/security.py").run()
    at.selectbox(key="sec_pick").set_value(alert_id).run()
    assignees = at.selectbox(key=f"sec_assignee_{alert_id}")
    assert set(assignees.options) == {"(chưa giao)", "Người dùng security", "Người dùng admin"}  # no comms
    at.text_input(key=f"sec_note_{alert_id}").input("quét của đối tác").run()
    at.selectbox(key=f"sec_reason_{alert_id}").set_value("false_positive").run()
    next(b for b in at.button if b.label == "Đóng cảnh báo").click().run()
    assert not at.exception, at.exception
    at.multiselect(key="sec_status").set_value(["open", "acknowledged", "in_progress", "closed"]).run()
    at.selectbox(key="sec_pick").set_value(alert_id).run()
    info = " ".join(i.value for i in at.info)
    assert "Đã đóng – lý do: Báo động nhầm" in info and "quét của đối tác" in info
    reason_box = at.selectbox(key=f"sec_reason_{alert_id}")
    assert reason_box.value == "false_positive" and reason_box.disabled
    history = next(df.value for df in at.dataframe if "Thao tác" in df.value.columns)
    last = history.iloc[-1]
    assert (last["Thao tác"], last["Lý do"], last["Ghi chú"]) == ("Đổi trạng thái", "Báo động nhầm",
                                                                "quét của đối tác")
    assert last["Trạng thái"] == "Mới → Đã đóng"
    at.session_state["lang"] = "en"  # AppTest runs a switched page alone, without the sidebar switch
    at.run()
    history = next(df.value for df in at.dataframe if "Action" in df.value.columns)
    assert (history.iloc[-1]["Action"], history.iloc[-1]["Reason"]) == ("Status change", "False positive")


def test_truth_assign_from_users_who_triage(fresh_truth):
    from dashboard import data

    alert_id = _attack_id()
    at = login(new_app(), "admin")
    at.switch_page("pages/security.py").run()
    at.selectbox(key="sec_pick").set_value(alert_id).run()
    at.text_input(key=f"sec_note_{alert_id}").input("ưu tiên xử lý").run()
    at.selectbox(key=f"sec_assignee_{alert_id}").set_value("security").run()
    next(b for b in at.button if b.label == "Giao việc").click().run()
    assert not at.exception, at.exception
    stored = data.get_alert(alert_id)
    assert stored["assignee"] == "security"
    assert (stored["history"][-1]["action"], stored["history"][-1]["note"]) == ("assign", "ưu tiên xử lý")
    history = next(df.value for df in at.dataframe if "Thao tác" in df.value.columns)
    assert history.iloc[-1]["Trạng thái"] == "Người phụ trách: Người dùng security"
