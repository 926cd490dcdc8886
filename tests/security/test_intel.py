"""Threat intelligence: feed readers, the stored feeds, the matcher, the monitor observer and the CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.settings import SecuritySettings
from security.intel.feeds import IntelError
from security.intel.matcher import IntelMatcher, IntelObserver, url_alerts
from security.intel.store import list_feeds, load_feed, open_matcher
from security.monitor import Monitor
from security.records import AuthEvent, Connection, DnsQuery, HttpRequest

DATA = Path(__file__).parents[1] / "data" / "intel"
T0 = 1_763_632_800.0


def _cfg(**kw) -> SecuritySettings:
    return SecuritySettings(analytics_enabled=False, **kw)


def test_intel_stix_bundle_patterns_confidence_expiry_and_what_is_skipped(tmp_path):
    out = load_feed(tmp_path, DATA / "stix_bundle.json", "cert-test")
    st = out["stats"]
    assert st["format"] == "stix" and st["by_type"] == {"ip": 1, "domain": 1, "url": 1, "cidr": 1, "hash": 1}
    assert st["skipped"] == {"expired": 1, "unsupported_pattern": 2, "revoked": 1}
    m = open_matcher(tmp_path).matcher
    assert m.match_ip("203.0.113.200").confidence == 90
    assert m.match_ip("198.19.4.5").indicator == "198.18.0.0/15"  # ISSUBSET
    assert m.match_ip("192.0.2.250") is None and m.match_ip("192.0.2.251") is None  # expired, compound pattern
    assert m.match_domain("www.dangnhap-vneid.example").feed == "cert-test"
    assert m.match_url("HTTP://LOGIN.example.net:80/vneid/auth.php#x").type == "url"
    assert m.match_hash("5E2B8F4F1D7F0C3A9B6E4D2C1A0F9E8D7C6B5A4F3E2D1C0B9A8F7E6D5C4B3A29").confidence == 60


def test_intel_misp_feed_folder_csv_and_text_lists(tmp_path):
    misp = load_feed(tmp_path, DATA / "misp_feed", "misp")["stats"]
    assert misp["format"] == "misp" and misp["indicators"] == 5
    assert misp["skipped"] == {"bad_value": 1, "unsupported_type": 1, "bad_event_file": 1}
    assert load_feed(tmp_path, DATA / "misp_export.csv", "misp-csv")["stats"]["format"] == "misp-csv"
    plain = load_feed(tmp_path, DATA / "plain.csv", "plain", now=T0)["stats"]
    assert plain["by_type"] == {"cidr": 1, "domain": 1} and plain["skipped"] == {"expired": 1, "bad_value": 1}
    text = load_feed(tmp_path, DATA / "plain.txt", "text")["stats"]
    assert text["by_type"] == {"ip": 1, "url": 1, "domain": 1, "hash": 1} and text["skipped"] == {"bad_value": 1}
    m = open_matcher(tmp_path, now=T0).matcher  # the plain list was loaded "at" T0 (its expiry is from then)
    assert m.match_ip("192.0.2.77").label.startswith("Chiến dịch") and m.match_ip("192.0.2.77").confidence == 90
    assert m.match_url("https://dichvucong-gov.example/nop-phat").feed == "misp"  # refanged hxxps / [.]
    assert m.match_hash("0cc175b9c0f1b6a831c399e269772661").feed == "misp"  # filename|md5
    assert m.match_domain("x.update-check.example").feed == "misp-csv"
    assert m.match_domain("bad-dns.example").feed == "text" and m.match_ip("203.0.113.9").feed == "plain"
    assert m.match_domain("example") is None and m.match_domain("notbad-dns.example") is None


@pytest.mark.parametrize("name,needle", [("corrupt.json", "corrupt JSON"), ("empty.txt", "no usable indicator"),
                                         ("all_expired.json", "all 1 indicators have expired")])
def test_intel_bad_feeds_are_refused_with_a_clear_message(tmp_path, name, needle):
    with pytest.raises(IntelError) as err:
        load_feed(tmp_path / "intel", DATA / name, "x")
    assert needle in str(err.value) and name in str(err.value)
    assert not (tmp_path / "intel" / "x.json").exists()


def test_intel_store_survives_a_corrupt_or_old_feed_file_and_keeps_the_valid_ones(tmp_path):
    load_feed(tmp_path, DATA / "plain.txt", "good")
    (tmp_path / "broken.json").write_text('{"format": 1, "rows": [')
    (tmp_path / "old.json").write_text(json.dumps({"format": 0, "indicators": ["1.2.3.4"]}))
    opened = open_matcher(tmp_path)
    assert [f["name"] for f in opened.feeds] == ["good"] and opened.matcher.match_ip("192.0.2.123")
    msgs = {Path(p.path).name: p.message for p in opened.problems}
    assert "unreadable" in msgs["broken.json"] and "unknown format version" in msgs["old.json"]
    feeds = {f["name"]: f for f in list_feeds(tmp_path)}
    assert "error" in feeds["broken"] and feeds["good"]["indicators"] == 4


def test_intel_feed_that_expires_after_loading_is_reported_and_dropped(tmp_path):
    load_feed(tmp_path, DATA / "plain.txt", "short", ttl_days=1, now=T0)
    opened = open_matcher(tmp_path, now=T0 + 2 * 86400)
    assert len(opened.matcher) == 0 and "expired" in opened.problems[0].message
    assert len(open_matcher(tmp_path, now=T0 + 3600).matcher) == 4


def test_intel_matcher_longest_prefix_and_duplicate_confidence():
    m = IntelMatcher()
    m.add_rows("a", [["cidr", "10.20.0.0/16", 40, None, ""], ["ip", "10.20.30.40", 30, None, ""],
                     ["cidr", "2001:db8::/32", 50, None, ""]])
    m.add_rows("b", [["cidr", "10.20.30.0/24", 90, None, ""], ["ip", "10.20.30.40", 80, None, "dup"]])
    assert m.match_ip("10.20.30.7").indicator == "10.20.30.0/24"
    assert m.match_ip("10.20.99.1").indicator == "10.20.0.0/16"
    assert m.match_ip("10.20.30.40").feed == "b"  # the higher confidence of two feeds
    assert m.match_ip("2001:0db8:0000::0001").type == "cidr" and m.match_ip("10.21.0.1") is None
    assert m.match_ip("not-an-ip") is None and m.match_ip("") is None


def test_intel_observer_alerts_name_the_feed_and_indicator_on_each_record_kind(tmp_path):
    load_feed(tmp_path, DATA / "stix_bundle.json", "cert-test")
    load_feed(tmp_path, DATA / "misp_export.csv", "misp-csv")
    cfg = _cfg(allowlist=["10.9.9.9"])
    m = Monitor(cfg, observers=[IntelObserver(open_matcher(tmp_path).matcher, cfg)])
    m.feed(Connection(T0, "10.0.0.7", "203.0.113.200", 50000, 443, "tcp", state="SF"))
    m.feed(Connection(T0 + 60, "10.0.0.7", "203.0.113.200", 50001, 443, "tcp", state="SF"))
    m.feed(DnsQuery(T0, "10.0.0.8", "10.0.0.1", "a.update-check.example"))
    m.feed(HttpRequest(T0, "198.19.0.5", "GET", "/", 200, raw="198.19.0.5 GET /"))
    m.feed(HttpRequest(T0, "10.0.0.9", "GET", "/vneid/auth.php", 200, host="login.example.net"))
    m.feed(AuthEvent(T0, "srv", "sshd", "failure", user="root", src="198.51.100.66", message="Failed password"))
    m.feed(DnsQuery(T0, "10.9.9.9", "10.0.0.1", "update-check.example"))  # allow-listed host
    res = m.finish()
    got = {(a.threat_feed_name, a.threat_indicator_name, a.entity): a for a in res.alerts if a.rule_ruleset == "intel"}
    assert set(got) == {("cert-test", "203.0.113.200", "10.0.0.7"), ("misp-csv", "update-check.example", "10.0.0.8"),
                        ("cert-test", "198.18.0.0/15", "198.19.0.5"),
                        ("cert-test", "http://login.example.net/vneid/auth.php", "10.0.0.9"),
                        ("misp-csv", "198.51.100.66", "198.51.100.66")}
    c2 = got[("cert-test", "203.0.113.200", "10.0.0.7")]
    assert c2.count == 2 and c2.rule_name == "threat_intel" and c2.severity.value == "high"
    assert c2.threat_technique_id == "T1071" and "cert-test" in c2.title and c2.destination_ip == "203.0.113.200"
    assert c2.to_doc()["threat.feed.name"] == "cert-test" and c2.to_doc()["threat.indicator.type"] == "ip"
    assert res.suppressed == 1


def test_intel_crawled_urls_match_url_and_domain_indicators(tmp_path):
    load_feed(tmp_path, DATA / "misp_feed", "misp")
    alerts = url_alerts(open_matcher(tmp_path).matcher,
                        [("https://dichvucong-gov.example/nop-phat", "post:abc", T0),
                         ("https://tuoitre.vn/tin-tuc", "post:def", T0),
                         ("http://cdn.phat-nguoi.example/a.js", "post:ghi", T0)], _cfg())
    assert sorted((a.entity, a.threat_indicator_name) for a in alerts) == [
        ("post:abc", "https://dichvucong-gov.example/nop-phat"), ("post:ghi", "cdn.phat-nguoi.example")]


def test_intel_cli_load_list_and_monitor_run(settings, monkeypatch, tmp_path, store):
    from core.settings import get_settings
    from iocwatch.cli import cli
    from iocwatch.flows.monitor import run_monitor

    monkeypatch.setenv("IOCWATCH_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    runner = CliRunner()
    res = runner.invoke(cli, ["security", "intel", "load", str(DATA / "stix_bundle.json"), "--name", "cert-test",
                              "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output[res.output.index("{\n"):])["stats"]["indicators"] == 5  # after the log line
    res = runner.invoke(cli, ["security", "intel", "load", str(DATA / "corrupt.json"), "--name", "bad"])
    assert res.exit_code != 0 and "corrupt JSON" in str(res.exception)  # main() prints it as one line
    res = runner.invoke(cli, ["security", "intel", "list", "--json"])
    assert [f["name"] for f in json.loads(res.output[res.output.index("{\n"):])["feeds"]] == ["cert-test"]
    get_settings.cache_clear()
    log = tmp_path / "access.log"
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(T0))
    log.write_text(f'198.18.4.4 - - [{stamp}] "GET / HTTP/1.1" 200 10 "-" "Mozilla/5.0"\n')
    report = run_monitor(settings, store, logs=[log])
    assert report["by_rule"] == {"threat_intel": 1}


def test_intel_scan_posts_alerts_on_crawled_urls_and_links(settings, store):
    from core.documents import Alert, Post
    from iocwatch.commands.sigma_intel import scan_posts
    from iocwatch.flows.monitor import intel_dir

    load_feed(intel_dir(settings), DATA / "misp_feed", "cert-city")
    store.upsert_many("posts", [
        Post.new(platform="forum", source="forum-test", native_id="1", url="https://forum.example/t/1",
                 text="Nhận thông báo phạt nguội, bấm vào https://dichvucong-gov.example/nop-phat để nộp."),
        Post.new(platform="news", source="news-test", url="http://cdn.phat-nguoi.example/bai-viet",
                 text="Bài viết"),
        Post.new(platform="news", source="news-test", url="https://tuoitre.vn/tin-tuc", text="Không liên quan"),
    ])
    report = scan_posts(settings, store, hours=24)
    assert report["posts"] == 3 and report["alerts"] == report["stored"] == 2
    alerts = [Alert.from_doc(h.source) for h in store.search("alerts", None, size=10).hits]
    assert {a.threat_indicator_name for a in alerts} == {"https://dichvucong-gov.example/nop-phat",
                                                         "cdn.phat-nguoi.example"}
    assert all(a.threat_feed_name == "cert-city" and a.entity.startswith("post:") for a in alerts)
    assert scan_posts(settings, store, hours=24)["stored"] == 2 and store.count("alerts") == 2  # same ids again


def test_intel_over_limit_feed_keeps_the_first_indicators_and_counts_the_rest(tmp_path):
    out = load_feed(tmp_path, DATA / "plain.txt", "small", max_indicators=2)
    assert out["stats"]["indicators"] == 2 and out["stats"]["skipped"]["over_limit"] == 2


@pytest.mark.parametrize("fmt", ["stix", "misp", "misp-csv", "csv", "text"])
def test_intel_mutated_feeds_never_raise_anything_but_intel_error(tmp_path, fmt):
    import random

    from security.intel.feeds import read

    rng = random.Random(fmt)
    source = (DATA / {"stix": "stix_bundle.json", "misp": "misp_feed/6f1c1b7e-8a41-4d2b-9a55-000000000001.json",
                      "misp-csv": "misp_export.csv", "csv": "plain.csv", "text": "plain.txt"}[fmt]).read_bytes()
    for i in range(60):
        data = bytearray(source)
        for _ in range(rng.randint(1, 12)):
            pos = rng.randrange(len(data))
            data[pos:pos + rng.randint(0, 8)] = bytes(rng.randrange(256) for _ in range(rng.randint(0, 4)))
        path = tmp_path / f"m{i}"
        path.write_bytes(bytes(data))
        try:
            rows = list(read(path, fmt))
        except IntelError:
            continue
        assert all(r.type in ("ip", "cidr", "domain", "url", "hash") and 0 <= r.confidence <= 100 for r in rows)
