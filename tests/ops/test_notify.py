"""Notification sinks against local receivers: webhook, Telegram Bot API, SMTP; retries; no secrets in logs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from core.documents import Alert, Explanation, Post, Severity
from iocwatch.ops.notify import (
    Notification,
    Notifier,
    build_digest,
    digest_due,
    send_digest,
    sinks_from_settings,
)
from tests.ops.receivers import HttpReceiver, SmtpReceiver

TOKEN = "123456:AAH-bi-mat-cua-bot-telegram"


def _alert(rule="port_scan", sev=Severity.HIGH, module="security", entity="10.0.0.7") -> Alert:
    return Alert(id=Alert.make_id(rule, entity, "2026-11-21T10"), rule_name=rule, module=module,
                 title=f"Quét cổng từ {entity}", severity=sev, risk_score=80, entity=entity,
                 source_ip=entity, explanation=[Explanation(feature="distinct_ports", observed=412,
                                                            baseline=3.5)])


def _settings(settings, **notify):
    section = type(settings.notify)(**{**dict(settings.notify), **notify})  # validated
    return settings.model_copy(update={"notify": section})


def test_notify_webhook_retries_with_backoff_then_delivers(settings):
    sleeps = []
    with HttpReceiver(fail_first=2) as rx:
        cfg = _settings(settings, webhook_url=rx.url + "/hook", retries=3, backoff_s=0.5)
        report = Notifier(cfg, sleep=sleeps.append).notify_alerts([_alert()])
    assert report.sent == 1 and report.failed == 0
    assert sleeps == [0.5, 1.0]  # exponential back-off
    assert report.per_sink["webhook"] == {"ok": 1, "failed": 0, "retries": 2}
    path, body = rx.requests[0]
    assert path == "/hook" and body["kind"] == "alert" and body["severity"] == "high"
    assert body["data"]["rule.name"] == "port_scan" and "Quét cổng" in body["title"]


def test_notify_severity_floor_and_each_alert_sent_once(settings):
    with HttpReceiver() as rx:
        cfg = _settings(settings, webhook_url=rx.url, min_severity="high")
        notifier = Notifier(cfg, sleep=lambda s: None)
        alerts = [_alert("port_scan", Severity.HIGH), _alert("dns_burst", Severity.MEDIUM),
                  _alert("brute_force", Severity.CRITICAL, entity="admin")]
        first = notifier.notify_alerts(alerts)
        again = Notifier(cfg, sleep=lambda s: None).notify_alerts(alerts)  # next monitor cycle
    assert (first.sent, first.skipped_severity) == (2, 1)
    assert (again.sent, again.already_sent) == (0, 2)
    assert sorted(b["data"]["rule.name"] for _, b in rx.requests) == ["brute_force", "port_scan"]


def test_notify_telegram_uses_configured_api_base_and_hides_token(settings, caplog):
    caplog.set_level(logging.DEBUG)
    with HttpReceiver(fail_first=1) as rx:
        cfg = _settings(settings, telegram_bot_token=TOKEN, telegram_chat_id="-100200300",
                        telegram_api_base=rx.url, backoff_s=0.0)
        report = Notifier(cfg, sleep=lambda s: None).notify_alerts([_alert()])
    assert report.sent == 1
    path, body = rx.requests[0]
    assert path == f"/bot{TOKEN}/sendMessage"
    assert body["chat_id"] == "-100200300" and "Quét cổng từ 10.0.0.7" in body["text"]
    assert "attempt 1 failed" in caplog.text  # the failure was logged ...
    assert TOKEN not in caplog.text and "bi-mat" not in caplog.text  # ... without the token


def test_notify_telegram_refusal_reported_without_token(settings, caplog):
    with HttpReceiver(reply={"ok": False, "description": "Bad Request: chat not found"}) as rx:
        cfg = _settings(settings, telegram_bot_token=TOKEN, telegram_chat_id="1",
                        telegram_api_base=rx.url, retries=1, backoff_s=0.0)
        report = Notifier(cfg, sleep=lambda s: None).notify_alerts([_alert()])
    assert report.failed == 1 and report.sent == 0
    assert "chat not found" in report.errors[0]
    assert TOKEN not in caplog.text and all(TOKEN not in e for e in report.errors)


def test_notify_email_smtp_login_and_message(settings, caplog):
    caplog.set_level(logging.DEBUG)
    with SmtpReceiver() as rx:
        cfg = _settings(settings, smtp_host="127.0.0.1", smtp_port=rx.port, smtp_user="canhbao",
                        smtp_password="mat-khau-smtp-rat-bi-mat", smtp_from="iocwatch@ioc.local",
                        email_to=["truc-ban@ioc.local"], smtp_starttls=False)
        report = Notifier(cfg, sleep=lambda s: None).notify_alerts([_alert()])
    assert report.sent == 1 and rx.logins == ["canhbao"]
    rcpt, msg = rx.messages[0]
    assert rcpt == ["truc-ban@ioc.local"]
    assert "Quét cổng" in msg["Subject"]
    assert "distinct_ports: 412 (nền 3.5)" in msg.get_body(("plain",)).get_content()
    assert "mat-khau-smtp-rat-bi-mat" not in caplog.text


def test_notify_email_wrong_password_fails_without_leaking_it(settings, caplog):
    with SmtpReceiver() as rx:
        cfg = _settings(settings, smtp_host="127.0.0.1", smtp_port=rx.port, smtp_user="canhbao",
                        smtp_password="sai-mat-khau-123", email_to=["a@ioc.local"],
                        smtp_starttls=False, retries=1, backoff_s=0.0)
        report = Notifier(cfg, sleep=lambda s: None).notify_alerts([_alert()])
    assert report.failed == 1 and "SMTPAuthenticationError" in report.errors[0]
    assert not rx.messages
    assert "sai-mat-khau-123" not in caplog.text + " ".join(report.errors)


def test_notify_unreachable_webhook_fails_after_retries(settings):
    sleeps = []
    cfg = _settings(settings, webhook_url="http://user:pw-secret@127.0.0.1:9/x", retries=2,
                    backoff_s=0.25)
    report = Notifier(cfg, sleep=sleeps.append).notify_alerts([_alert()])
    assert report.failed == 1 and sleeps == [0.25, 0.5]
    assert "pw-secret" not in report.errors[0] and "127.0.0.1:9" in report.errors[0]


def test_notify_sinks_only_when_configured(settings):
    assert sinks_from_settings(settings) == []
    cfg = _settings(settings, telegram_bot_token=TOKEN)  # no chat id: not a usable sink
    assert sinks_from_settings(cfg) == []
    assert Notifier(cfg).notify_alerts([_alert()]).considered == 0


def test_notify_daily_digest_for_communications_staff(settings, store):
    now = datetime(2026, 11, 21, 1, 30, tzinfo=UTC)  # 08:30 in Ho Chi Minh City
    posts = []
    for i in range(12):
        posts.append(Post.new(platform="facebook", source="nhom-cu-dan", native_id=f"p{i}",
                              text=f"Cư dân phàn nàn về ngập nước đường số {i}",
                              published_at=now - timedelta(hours=i + 1),
                              sentiment="negative" if i % 3 else "neutral",
                              topics=["ngap-lut"], watchlists=["ha-tang"], places=["Cần Thơ"]))
    store.upsert_many("posts", posts)
    spike = _alert("volume_spike", Severity.HIGH, module="listening", entity="watchlist:ha-tang")
    spike.title = "Thảo luận về ngập lụt tăng đột biến"
    spike.timestamp = now - timedelta(hours=2)
    spike.related_ids = [p.id for p in posts[:5]]
    store.upsert_many("alerts", [spike, _alert()])
    note = build_digest(store, settings, now=now)
    assert note.kind == "digest" and note.data["posts"] == 12
    assert "Số bài viết và bình luận thu thập: 12" in note.text
    assert "tiêu cực 8 (67%)" in note.text and "ngap-lut (12)" in note.text
    assert "Thảo luận về ngập lụt tăng đột biến · 5 bài viết" in note.text
    with SmtpReceiver() as rx:
        cfg = _settings(settings, smtp_host="127.0.0.1", smtp_port=rx.port, smtp_starttls=False,
                        email_to=["soc@ioc.local"], digest_to=["truyen-thong@ioc.local"],
                        digest_hour=7)
        assert digest_due(cfg, now=now)
        out = send_digest(store, cfg, Notifier(cfg, sleep=lambda s: None), now=now)
        assert out is not None and out["outcome"] == {"email": "ok"}
        assert not digest_due(cfg, now=now + timedelta(hours=3))  # once a day
        assert digest_due(cfg, now=now + timedelta(days=1))
        assert not digest_due(cfg, now=now.replace(hour=23) - timedelta(days=1))  # 06:00 local
    assert rx.messages[0][0] == ["truyen-thong@ioc.local"]
    assert "Tóm tắt hằng ngày 21/11/2026" in rx.messages[0][1]["Subject"]


def test_notify_bad_min_severity_is_a_config_error(settings, monkeypatch):
    from core.errors import ConfigError
    from core.settings import load_settings

    monkeypatch.setenv("IOCWATCH_NOTIFY__MIN_SEVERITY", "urgent")  # refused when settings load
    with pytest.raises(ConfigError, match="notify.min_severity.*IOCWATCH_NOTIFY__MIN_SEVERITY"):
        load_settings()


def test_notify_notification_from_listening_alert_is_a_spike():
    note = Notification.from_alert(_alert("volume_spike", module="listening", entity="topic:giao-thong"))
    assert note.kind == "spike" and note.title.startswith("[CAO] Đột biến thảo luận")


def test_notify_cli_sinks_test_and_digest(settings, store, monkeypatch):
    from click.testing import CliRunner

    from core.settings import get_settings
    from iocwatch.cli import cli

    store.upsert_many("alerts", [_alert(), _alert("dns_burst", Severity.LOW)])
    store.close()
    with HttpReceiver() as rx:
        monkeypatch.setenv("IOCWATCH_DATA_DIR", str(settings.data_dir))
        monkeypatch.setenv("IOCWATCH_NOTIFY__WEBHOOK_URL", rx.url + "/hook?key=khoa-bi-mat-webhook")
        monkeypatch.setenv("IOCWATCH_NOTIFY__TELEGRAM_BOT_TOKEN", TOKEN)
        get_settings.cache_clear()
        try:
            runner = CliRunner()
            out = runner.invoke(cli, ["notify", "sinks"])
            assert out.exit_code == 0 and "webhook" in out.output
            assert "khoa-bi-mat" not in out.output and TOKEN not in out.output
            out = runner.invoke(cli, ["notify", "test"])
            assert out.exit_code == 0 and out.output.split() == ["webhook", "ok"]
            out = runner.invoke(cli, ["notify", "alerts", "--hours", "100000"])
            assert out.exit_code == 0 and "sent 1" in out.output and "below severity 1" in out.output
            out = runner.invoke(cli, ["notify", "digest"])
            assert out.exit_code == 0 and "Tóm tắt hằng ngày" in out.output
        finally:
            get_settings.cache_clear()
    kinds = [b["kind"] for _, b in rx.requests]
    assert kinds == ["test", "alert"]


def test_notify_webhook_with_credentials_in_url_is_delivered_with_basic_auth(settings, caplog):
    import base64

    with HttpReceiver() as rx:
        url = rx.url.replace("http://", "http://hook%20user:p%40ss-w0rd@") + "/in?x=1"
        cfg = _settings(settings, webhook_url=url, retries=0)
        with caplog.at_level(logging.DEBUG):
            report = Notifier(cfg, sleep=lambda s: None).notify_alerts([_alert()])
    assert report.sent == 1 and report.failed == 0
    assert rx.requests[0][0] == "/in?x=1"
    expected = "Basic " + base64.b64encode(b"hook user:p@ss-w0rd").decode()
    assert rx.authorizations == [expected]
    assert "p%40ss-w0rd" not in caplog.text and "p@ss-w0rd" not in caplog.text
