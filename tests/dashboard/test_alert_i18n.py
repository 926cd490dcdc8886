"""Alert titles and evidence labels the product writes show in the UI language (Vietnamese or English)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.documents import Alert
from core.settings import SecuritySettings
from dashboard.i18n import alert_title, evidence_line, field_label
from security.intel.matcher import IntelObserver
from security.intel.store import load_feed, open_matcher
from security.monitor import Monitor
from security.records import ACK, RST, SYN, AuthEvent, Connection, Packet
from tests.dashboard.conftest import fill_data_dir, login, new_app, use_data_dir

T0 = 1_763_600_000.0
INTEL = Path(__file__).parents[1] / "data" / "intel"


def _fail(i, src, user):
    return AuthEvent(T0 + i, "srv", "sshd", "failure", user=user, src=src, message=f"Failed password for {user}")


def _rule_alerts() -> list[Alert]:
    recs = [_fail(i, "198.51.100.1", "root") for i in range(20)]
    recs += [_fail(i, "198.51.100.2", f"user{i}") for i in range(12)]
    recs += [_fail(i, f"203.0.113.{i % 8}", "quantri") for i in range(16)]
    for port in range(1, 60):
        recs.append(Packet(T0 + port * 0.1, "203.0.113.5", "10.0.0.80", 6, 40000 + port, port, 60, SYN))
        recs.append(Packet(T0 + port * 0.1 + 0.01, "10.0.0.80", "203.0.113.5", 6, port, 40000 + port, 60, RST | ACK))
    m = Monitor(SecuritySettings(analytics_enabled=False))
    m.feed_many(sorted(recs, key=lambda r: r.ts))
    return m.finish().alerts


def test_alert_i18n_rule_titles_rebuilt_in_both_languages():
    alerts = {a.rule_name: a for a in _rule_alerts()}
    assert {"port_scan", "ssh_brute_force", "password_spraying", "distributed_brute_force"} <= set(alerts)
    for a in alerts.values():
        doc = a.to_doc()
        assert doc["title_key"], a.rule_name
        assert alert_title(doc, "en") == a.title  # the English template says what the rule wrote
        assert alert_title(doc, "vi") != a.title
    assert alert_title(alerts["ssh_brute_force"].to_doc(), "vi") == (
        "Dò mật khẩu SSH từ 198.51.100.1: 20 lần đăng nhập thất bại vào 1 tài khoản")
    assert alert_title(alerts["distributed_brute_force"].to_doc(), "vi").startswith(
        "Dò mật khẩu phân tán vào tài khoản quantri: 16 lần thất bại từ 8 nguồn")
    assert alert_title(alerts["port_scan"].to_doc(), "vi").startswith("Dò quét cổng (dọc) từ 203.0.113.5: 59 cổng")


def test_alert_i18n_intel_titles_name_feed_and_indicator_in_vietnamese(tmp_path):
    load_feed(tmp_path, INTEL / "stix_bundle.json", "cert-test")
    cfg = SecuritySettings(analytics_enabled=False)
    m = Monitor(cfg, observers=[IntelObserver(open_matcher(tmp_path).matcher, cfg)])
    m.feed(Connection(T0, "10.0.0.7", "203.0.113.200", 50000, 443, "tcp", state="SF"))
    [a] = [a for a in m.finish().alerts if a.rule_ruleset == "intel"]
    doc = a.to_doc()
    assert alert_title(doc, "en") == a.title[0].upper() + a.title[1:]  # "connection to ..." capitalised
    assert alert_title(doc, "vi").startswith("Kết nối tới 203.0.113.200 có trong nguồn tin tình báo cert-test")


def test_alert_i18n_anomaly_spike_analytics_sigma_and_old_alerts():
    anomaly = {"rule.name": "anomalous_activity",
               "title": "Unusual activity from 10.0.0.9: connections=90 (baseline 4)",
               "title_key": "anomaly", "title_params": {"entity": "10.0.0.9", "features": [["connections", 90, 4]]}}
    assert alert_title(anomaly, "vi") == "Hoạt động bất thường từ 10.0.0.9: Số kết nối = 90 (mức nền 4)"
    assert alert_title(anomaly, "en") == "Unusual activity from 10.0.0.9: Connections = 90 (baseline 4)"
    spike = {"rule.name": "listening.volume_spike", "title": "Lượng thảo luận về chủ đề «ngập» tăng đột biến "
             "(gấp 4.2 lần mức thường)", "title_key": "listening.volume_spike.topic",
             "title_params": {"name": "ngập", "ratio": 4.2, "now": 3.0, "before": 0.7}}
    assert alert_title(spike, "vi") == spike["title"]
    assert alert_title(spike, "en") == "Discussion of topic «ngập» spiked (4.2 times the usual level)"
    # behaviour analytics write English titles without a key: Vietnamese by rule name and technique
    spray = {"rule.name": "brute_force_slow", "threat.technique.id": "T1110.003", "entity": "198.51.100.7",
             "count": 40, "title": "Password spraying from 198.51.100.7: 20 accounts, 40 failed logins over 3.0 h"}
    assert alert_title(spray, "vi") == "Rải mật khẩu từ 198.51.100.7: 40 lần đăng nhập thất bại"
    assert alert_title(spray, "en") == spray["title"]
    beacon = {"rule.name": "beaconing", "entity": "10.0.0.4", "destination.ip": "198.51.100.9",
              "destination.port": 8443, "count": 30, "title": "Beaconing from 10.0.0.4 to 198.51.100.9 ..."}
    assert alert_title(beacon, "vi") == "Kết nối định kỳ (beacon) từ 10.0.0.4 đến 198.51.100.9:8443: 30 nhịp"
    # a Sigma rule's title is its author's text; an alert stored before title keys keeps its title
    sigma = {"rule.name": "sshd_fail", "rule.ruleset": "sigma", "title": "SSHD Failed Logins: 10.0.0.5"}
    old = {"rule.name": "port_scan", "title": "Quét cổng từ 10.0.0.5"}
    for doc in (sigma, old):
        assert alert_title(doc, "vi") == alert_title(doc, "en") == doc["title"]
    # values from another version that the template cannot take: the stored title, not a crash
    broken = {"rule.name": "beaconing", "title": "Beaconing from x", "title_key": "beaconing", "title_params": {}}
    assert alert_title(broken, "vi") == "Beaconing from x"


def test_alert_i18n_evidence_lines_and_field_labels():
    assert evidence_line("10.0.0.4 -> 198.51.100.9:8443 at +60.0s", "vi") == (
        "10.0.0.4 -> 198.51.100.9:8443 lúc +60.0 giây")
    assert evidence_line("10.0.0.4 -> 198.51.100.9:443 at +60s, 512 bytes out", "vi").endswith(
        "lúc +60 giây, 512 byte gửi ra")
    assert evidence_line("10.0.0.4 -> 10.0.0.7:445 (new)", "vi").endswith("(mới)")
    raw = "sshd[812]: Failed password for root from 10.0.0.5 port 52144 ssh2"
    assert evidence_line(raw, "vi") == evidence_line(raw, "en") == raw  # log lines stay as logged
    spike = "Giờ cao điểm: 14:00 với 9 bài"
    assert evidence_line(spike, "en") == "Peak hour: 14:00 with 9 posts" and evidence_line(spike, "vi") == spike
    assert evidence_line("Từ khoá tăng mạnh: ngập (7 bài, trước đó 1)", "en") == (
        "Rising keywords: ngập (7 posts, 1 before)")
    assert field_label("source.ip", "vi") == "Địa chỉ nguồn" and field_label("source.ip", "en") == "Source address"


def _security_page(tmp_path, monkeypatch, lang: str):
    data_dir = tmp_path / "data"
    fill_data_dir(data_dir)
    use_data_dir(monkeypatch, data_dir)
    from core.settings import get_settings
    from index import open_store

    at_time = datetime.now(UTC) - timedelta(minutes=5)
    alert = Alert(id=Alert.make_id("beaconing", "10.0.0.44", at_time.isoformat()), timestamp=at_time,
                  rule_name="beaconing", title="Beaconing from 10.0.0.44 to 198.51.100.9:8443 every 60s",
                  title_key="beaconing", title_params={"entity": "10.0.0.44", "dst": "198.51.100.9:8443",
                                                       "interval": 60},
                  risk_score=99, severity="critical", source_ip="10.0.0.44", entity="10.0.0.44",
                  evidence=["10.0.0.44 -> 198.51.100.9:8443 at +60.0s"])
    store = open_store(get_settings())
    try:
        assert store.upsert_many("alerts", [alert]).ok
    finally:
        store.close()
    at = login(new_app(), "security")
    at.session_state["lang"] = lang  # what the sidebar's language switch sets
    at.switch_page("pages/security.py").run()
    assert not at.exception
    return at


def test_alert_i18n_security_page_in_vietnamese(tmp_path, monkeypatch):
    at = _security_page(tmp_path, monkeypatch, "vi")
    headers = [m.value.replace("\\", "") for m in at.markdown]
    assert "#### Kết nối định kỳ (beacon) từ 10.0.0.44 đến 198.51.100.9:8443, mỗi 60 giây" in headers
    assert any("lúc +60.0 giây" in c.value for c in at.code)
    fields = next(df.value for df in at.dataframe if "Trường" in df.value.columns)
    assert "Địa chỉ nguồn" in set(fields["Trường"])


def test_alert_i18n_security_page_in_english(tmp_path, monkeypatch):
    at = _security_page(tmp_path, monkeypatch, "en")
    headers = [m.value.replace("\\", "") for m in at.markdown]
    assert "#### Beaconing from 10.0.0.44 to 198.51.100.9:8443 every 60s" in headers
    assert any("at +60.0s" in c.value for c in at.code)
    fields = next(df.value for df in at.dataframe if "Field" in df.value.columns)
    assert "Source address" in set(fields["Field"])


def test_alert_i18n_merged_alert_keeps_its_title_and_values_together():
    from security.monitor import merge_alerts

    def beacon(risk, interval):
        return Alert(id="alert-b", rule_name="beaconing", risk_score=risk, entity="10.0.0.4",
                     title=f"Beaconing from 10.0.0.4 to 198.51.100.9:443 every {interval}s", title_key="beaconing",
                     title_params={"entity": "10.0.0.4", "dst": "198.51.100.9:443", "interval": interval})

    merged = merge_alerts(beacon(50, 60), beacon(70, 300))
    assert alert_title(merged.to_doc(), "en") == merged.title == (
        "Beaconing from 10.0.0.4 to 198.51.100.9:443 every 300s")
    assert alert_title(merged.to_doc(), "vi").endswith("mỗi 300 giây")


def test_alert_i18n_every_explained_figure_has_a_vietnamese_name():
    """The figures rules, analytics and intel explain alerts with (their observed dicts) have names."""
    import re

    from dashboard.i18n import FEATURE_NAMES

    root = Path(__file__).parents[2] / "security"
    text = "".join(p.read_text(encoding="utf-8") for p in [*root.glob("analytics/*.py"), root / "rules.py",
                                                           root / "intel" / "matcher.py"])
    named = set(re.findall(r'feature="([a-z_0-9]+)"', text))
    for block in re.findall(r"observed=\{([^}]*)\}", text):
        named |= set(re.findall(r'"([a-z_0-9]+)":', block))
    kinds = set(re.findall(r'kinds\.append\("([a-z_0-9]+)"\)', text)) | {"sql_injection", "xss", "path_traversal",
                                                                         "command_injection"}
    named |= {f"{k}_requests" for k in kinds}
    assert named and not sorted(n for n in named if n not in FEATURE_NAMES)


def test_alert_i18n_every_behaviour_analytic_has_a_vietnamese_title():
    """Analytics write English titles without a key: each one's rule name is mapped in i18n."""
    import re

    from dashboard.i18n import ANALYTIC_TITLES

    root = Path(__file__).parents[2] / "security" / "analytics"
    names = {n for p in root.glob("*.py") for n in re.findall(r'^    name = "([a-z_0-9]+)"', p.read_text(), re.M)}
    assert len(names) >= 10 and not sorted(names - set(ANALYTIC_TITLES))


def test_alert_i18n_titles_stored_before_title_keys_are_translated():
    """Built-in rules wrote English titles and spikes Vietnamese ones before title keys existed."""
    rule_alerts = _rule_alerts()
    for a in rule_alerts:  # what today's rules write, stored without the key as older versions did
        old = {"rule.name": a.rule_name, "title": a.title}
        assert alert_title(old, "vi") == alert_title(a.to_doc(), "vi") and alert_title(old, "en") == a.title
    anomaly = {"rule.name": "anomalous_activity",
               "title": "Unusual activity from 10.0.0.9: connections=90 (baseline 4)"}
    assert alert_title(anomaly, "vi") == "Hoạt động bất thường từ 10.0.0.9: connections=90 (mức nền 4)"
    spike = {"rule.name": "listening.negative_spike",
             "title": "Tỷ lệ ý kiến tiêu cực về danh sách theo dõi «ngập» tăng đột biến (62% so với 20%)"}
    assert alert_title(spike, "en") == "Negative share about watchlist «ngập» spiked (62% against 20%)"
    assert alert_title(spike, "vi") == spike["title"]


def test_alert_i18n_real_spike_alerts_in_both_languages(settings, store):
    """Spike alerts from the detector: Vietnamese as written, English from the key, and the
    evidence lines the detector writes read in English."""
    from iocwatch.ops.spikes import detect_spikes
    from tests.ops.test_spikes import NOW, _corpus

    posts, _, _ = _corpus()
    store.upsert_many("posts", posts, raise_on_error=True)
    alerts = detect_spikes(store, settings, now=NOW).alerts
    assert len(alerts) == 3
    for a in alerts:
        doc = a.to_doc()
        assert alert_title(doc, "vi") == a.title
        english = alert_title(doc, "en")
        assert english.startswith(("Discussion of", "Negative share")) and a.title_params["name"] in english
        assert alert_title({"rule.name": a.rule_name, "title": a.title}, "en") == english  # stored before keys
        for line in a.evidence:
            translated = evidence_line(line, "en")
            assert translated != line, line
            assert not any(w in translated for w in (" bài", "giờ qua", "trước đó", "Chiếm")), translated
