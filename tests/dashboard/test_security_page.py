"""Triage from the security page is written back to the store with who and why."""

from __future__ import annotations

from tests.dashboard.conftest import fill_data_dir, login, new_app, use_data_dir


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def test_security_page_triage_acknowledge_assign_close(tmp_path, monkeypatch):
    from core.settings import get_settings
    from index import open_store

    data_dir = tmp_path / "data"
    fill_data_dir(data_dir)
    use_data_dir(monkeypatch, data_dir)
    at = login(new_app(), "security")
    at.switch_page("pages/security.py").run()
    alert_id = at.selectbox(key="sec_pick").value
    queue_before = int(at.metric[0].value)
    _button(at, "Tiếp nhận").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Đã cập nhật cảnh báo: Đã tiếp nhận"]

    at.selectbox(key="sec_pick").set_value(alert_id).run()
    at.selectbox(key=f"sec_assignee_{alert_id}").set_value("admin").run()  # among users who triage
    _button(at, "Giao việc").click().run()
    at.selectbox(key="sec_pick").set_value(alert_id).run()
    at.selectbox(key=f"sec_reason_{alert_id}").set_value("false_positive").run()
    at.text_input(key=f"sec_note_{alert_id}").input("Máy quét lỗ hổng nội bộ theo lịch").run()
    _button(at, "Đóng cảnh báo").click().run()
    assert not at.exception

    store = open_store(get_settings())
    doc = store.get("alerts", alert_id)
    assert doc["status"] == "closed" and doc["close_reason"] == "false_positive"
    assert doc["assignee"] == "admin"
    actions = [(h["by"], h["action"], h.get("to_status")) for h in doc["history"]]
    assert actions == [("security", "status", "acknowledged"), ("security", "assign", None),
                       ("security", "status", "closed")]
    assert doc["history"][-1]["note"] == "Máy quét lỗ hổng nội bộ theo lịch"
    # the closed alert left the default queue (open, acknowledged, in progress)
    assert int(at.metric[0].value) == queue_before - 1
    assert at.selectbox(key="sec_pick").value != alert_id
