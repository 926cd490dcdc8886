"""Sigma rules: loading and validation, field mapping, evaluation on normalised events, correlations, export."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.settings import SecuritySettings
from security.monitor import Monitor
from security.records import AuthEvent, Connection, DnsQuery, HttpRequest, SyslogLine
from security.sigma.engine import SigmaEngine
from security.sigma.events import to_event
from security.sigma.export import export
from security.sigma.loader import load, load_cached

DATA = Path(__file__).parents[1] / "data" / "sigma"
T0 = 1_763_632_800.0  # 2025-11-20 10:00 UTC


def _cfg(**kw) -> SecuritySettings:
    return SecuritySettings(analytics_enabled=False, **kw)


def _rule(rs, title_part):
    return next(r for r in rs.rules if title_part in r.title)


def _web(target, *, src="203.0.113.5", ua="Mozilla/5.0", status=200, ts=T0, method="GET"):
    return HttpRequest(ts, src, method, target, status, 100, ua, "", raw=f'{src} - - "{method} {target}" {status}')


def test_sigma_bundled_rules_load_without_problems():
    rs = load([])
    assert rs.errors == [] and rs.problems == []
    assert len(rs.rules) >= 15 and {c.type for c in rs.correlations} == {"event_count", "value_count"}
    assert {r.kind for r in rs.rules} == {"linux", "webserver", "dns", "conn"}
    assert all(r.rule.id and r.rule.level and any(t.namespace == "attack" for t in r.rule.tags) for r in rs.rules)


def test_sigma_bad_files_are_named_with_their_line_and_the_others_still_load():
    rs = load([DATA / "good", DATA / "bad"], bundled=False)
    by_file = {Path(p.path).name: p for p in rs.problems if "none of which could be loaded" not in p.message}
    assert by_file["bad_yaml.yml"].line == 8 and "bad YAML" in by_file["bad_yaml.yml"].message
    assert "containz" in by_file["unknown_modifier.yml"].message and by_file["unknown_modifier.yml"].line == 7
    assert "unknown field 'cs-cookie'" in by_file["unknown_field.yml"].message
    assert by_file["unknown_field.yml"].line == 8
    assert "'filter' not defined" in by_file["undefined_selection.yml"].message
    assert "temporal" in by_file["temporal.yml"].message and by_file["temporal.yml"].severity == "error"
    assert "empty" in by_file["empty.yml"].message
    assert "not a mapping" in by_file["not_a_mapping.yaml"].message
    assert by_file["windows_process.yml"].severity == "skipped"
    assert all(p.severity == "error" for n, p in by_file.items() if n != "windows_process.yml")
    assert sorted(r.title for r in rs.rules if "fixture" not in (r.rule.name or "")) == sorted([
        "Modifier coverage on web requests", "Accepted SSH login with a password (operator rule, keywords)",
        "TXT query to a test domain from an internal host"])
    assert str(by_file["bad_yaml.yml"]).startswith(str(DATA / "bad" / "bad_yaml.yml") + ":8:")
    silenced = [p for p in rs.problems if p.rule == "Base for the temporal correlation"]
    assert silenced and silenced[0].severity == "skipped" and "none of which could be loaded" in silenced[0].message


def test_sigma_modifiers_and_conditions_on_crafted_events():
    rule = _rule(load([DATA / "good"], bundled=False), "Modifier coverage")

    def hit(rec):
        kind, ev = to_event(rec)
        assert kind == "webserver"
        return rule.match(ev)

    assert hit(_web("/run?cmd=ls&mode=EXEC"))  # contains|all, case-insensitive
    assert not hit(_web("/run?cmd=ls"))  # all: one value missing
    assert hit(_web("/cgi-bin/test.cgi"))  # startswith
    assert hit(_web("/app/.env"))  # endswith
    assert hit(_web("/", ua="curl/8.5.0")) and not hit(_web("/", ua="curl/8.5.0 extra"))  # re
    payload = base64.b64encode(b"x=1;/bin/sh -c id").decode()
    assert hit(_web(f"/q?d={payload}"))  # base64offset
    assert not hit(_web("/cgi-bin/test.cgi", src="10.1.2.3"))  # not cidr
    assert not hit(_web("/cgi-bin/test.cgi", status=404))  # and not filter
    assert not hit(_web("/index.html"))

    dns = _rule(load([DATA / "good"], bundled=False), "TXT query")
    _, ev = to_event(DnsQuery(T0, "10.0.0.9", "10.0.0.1", "aGVsbG8.exfil.test", qtype="TXT"))
    assert dns.match(ev)
    _, ev = to_event(DnsQuery(T0, "10.0.0.9", "10.0.0.1", "aGVsbG8.exfil.test", qtype="A"))
    assert not dns.match(ev)  # all of: the type selection fails
    _, ev = to_event(DnsQuery(T0, "172.20.0.9", "10.0.0.1", "aGVsbG8.exfil.test", qtype="TXT"))
    assert not dns.match(ev)  # cidr list


def test_sigma_keywords_search_the_message_and_services_narrow_the_log_source():
    rs = load([DATA / "good"], bundled=False)
    eng = SigmaEngine(rs, _cfg())
    msg = "Accepted password for alice from 198.51.100.4 port 5000 ssh2"
    eng.observe(AuthEvent(T0, "srv", "sshd", "success", user="alice", src="198.51.100.4", message=msg))
    eng.observe(AuthEvent(T0, "srv", "sshd", "success", user="ops", src="198.51.100.5",
                          message=msg.replace("alice", "ops")))  # filtered account
    eng.observe(SyslogLine(T0, "srv", "cron", 1, msg))  # the keyword, but not from sshd
    alerts = eng.finish()
    assert [a.entity for a in alerts] == ["198.51.100.4"]


def test_sigma_alert_carries_rule_id_title_level_and_attack_tags():
    rs = load([])
    eng = SigmaEngine(rs, _cfg())
    eng.observe(SyslogLine(T0, "web01", "useradd", 812,
                           "new user: name=svc2, UID=0, GID=0, home=/root, shell=/bin/bash"))
    (alert,) = eng.finish()
    rule = _rule(rs, "UID 0")
    assert alert.rule_id == str(rule.rule.id) and alert.rule_ruleset == "sigma" and alert.rule_level == "critical"
    assert alert.title.startswith("New account with UID 0") and alert.severity.value == "critical"
    assert alert.threat_technique_id == "T1136.001" and "attack.t1136.001" in alert.tags
    assert alert.host_name == "web01" and alert.entity == "web01" and alert.evidence
    doc = alert.to_doc()
    assert doc["rule.id"] == alert.rule_id and doc["rule.level"] == "critical" and "attack.persistence" in doc["tags"]


def _failures(n, src="203.0.113.77", step=5.0, users=None):
    users = users or ["root"]
    return [AuthEvent(T0 + i * step, "srv", "sshd", "failure", user=users[i % len(users)], src=src, port=40000 + i,
                      message=f"Failed password for {users[i % len(users)]} from {src} port {40000 + i} ssh2")
            for i in range(n)]


def test_sigma_event_count_correlation_fires_at_its_threshold_within_its_timespan():
    rs = load([])

    def alerts(records):
        eng = SigmaEngine(rs, _cfg())
        for r in records:
            eng.observe(r)
        return {a.rule_name: a for a in eng.finish()}

    assert alerts(_failures(9)) == {}  # one below the threshold; the base rule alerts only through it
    got = alerts(_failures(10))
    assert set(got) == {"sigma:ssh_brute_force_source"}
    a = got["sigma:ssh_brute_force_source"]
    assert a.entity == "203.0.113.77" and a.count == 10 and a.threat_technique_id == "T1110.001"
    assert any(e.feature == "events" and e.observed == 10 for e in a.explanation)
    assert alerts(_failures(12, step=40.0)) == {}  # 12 failures over 7.5 min: never 10 within 5 min


def test_sigma_value_count_correlation_counts_distinct_accounts():
    rs = load([])
    eng = SigmaEngine(rs, _cfg())
    for r in _failures(8, step=30.0, users=[f"user{i}" for i in range(8)]):
        eng.observe(r)
    got = {a.rule_name: a for a in eng.finish()}
    assert set(got) == {"sigma:ssh_password_spraying"}  # 8 accounts in 4 min, only 8 failures (brute force needs 10)
    assert got["sigma:ssh_password_spraying"].threat_technique_id == "T1110.003"
    eng = SigmaEngine(rs, _cfg())
    for r in _failures(8, step=30.0, users=[f"user{i}" for i in range(7)]):
        eng.observe(r)
    assert eng.finish() == []


def test_sigma_in_the_monitor_alerts_alongside_the_rules_and_respects_the_allowlist():
    cfg = _cfg(allowlist=["198.51.100.0/24"])
    m = Monitor(cfg, observers=[SigmaEngine(load([]), cfg)])
    m.feed(_web("/x?u=1'--", src="192.0.2.10"))
    m.feed(_web("/x?u=1'--", src="198.51.100.3"))
    m.feed(Connection(T0, "10.0.0.8", "192.0.2.200", 51000, 4444, "tcp", state="SF"))
    m.feed(Connection(T0, "10.0.0.8", "192.0.2.201", 51001, 4444, "tcp", state="S0"))  # never answered
    result = m.finish()
    sig = {(a.rule_name, a.entity) for a in result.alerts if a.rule_ruleset == "sigma"}
    assert sig == {("sigma:sql_injection_in_a_web_request", "192.0.2.10"),
                   ("sigma:connection_to_a_port_used_by_attack_tools", "10.0.0.8")}
    assert result.suppressed >= 1


def test_sigma_load_cached_reloads_when_a_rule_file_changes(tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "r.yml").write_text((DATA / "good" / "dns_all_of.yml").read_text())
    first = load_cached([folder], bundled=False)
    assert load_cached([folder], bundled=False) is first
    (folder / "r.yml").write_text("title: [broken\n")
    second = load_cached([folder], bundled=False)
    assert second is not first and second.rules == [] and second.errors[0].path.endswith("r.yml")


def test_sigma_export_to_lucene_and_esql_with_the_ecs_field_names():
    lucene = export([], target="lucene")
    by_title = {q["title"]: q for q in lucene.queries}
    assert "user_agent.original:" in by_title["Vulnerability scanner User-Agent"]["queries"][0]
    assert any("lucene export has no correlation" in p.message for p in lucene.problems)
    esql = export([], target="esql")
    q = {x["title"]: x for x in esql.queries}["SSH brute force from one source"]["queries"][0]
    assert "count()" in q and "source.ip" in q and ">= 10" in q
    assert any("Log4Shell" in (p.rule or "") for p in esql.problems)  # keywords: not in ES|QL, named
    bad = export([DATA / "bad"], bundled=False, target="lucene")
    assert any(Path(p.path).name == "bad_yaml.yml" for p in bad.problems)


def test_sigma_cli_validate_list_and_export(tmp_path, settings, monkeypatch):
    from core.settings import get_settings
    from iocwatch.cli import cli

    monkeypatch.setenv("IOCWATCH_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    runner = CliRunner()
    res = runner.invoke(cli, ["security", "sigma", "validate"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["security", "sigma", "validate", str(DATA / "bad"), "--no-bundled"])
    assert res.exit_code == 1 and "bad_yaml.yml:8" in res.output and "containz" in res.output
    res = runner.invoke(cli, ["security", "sigma", "list", "--json", str(DATA / "good")])
    out = json.loads(res.output)
    assert out["skipped"] == 1 and any(r["title"].startswith("Modifier coverage") for r in out["rule_list"])
    target = tmp_path / "queries.json"
    res = runner.invoke(cli, ["security", "sigma", "export", "--target", "esql", "--output", str(target)])
    assert res.exit_code == 0, res.output
    assert json.loads(target.read_text())["target"] == "esql"
    get_settings.cache_clear()


@pytest.mark.parametrize("line", ["", "{}", "title: x\nlogsource: 3\ndetection: 4\n", "- a\n- b\n", "\x00\x01"])
def test_sigma_odd_files_never_raise(tmp_path, line):
    (tmp_path / "odd.yml").write_text(line)
    rs = load([tmp_path], bundled=False)
    assert rs.rules == [] and rs.errors and all(p.path.endswith("odd.yml") for p in rs.errors)


def test_sigma_mutated_rule_files_are_reported_never_raised(tmp_path):
    import random

    from security.sigma.loader import BUNDLED_DIR

    rng = random.Random(16)
    sources = sorted(BUNDLED_DIR.glob("*.yml")) + sorted((DATA / "good").glob("*.yml"))
    for i in range(80):
        data = bytearray(rng.choice(sources).read_bytes())
        for _ in range(rng.randint(1, 6)):
            pos = rng.randrange(len(data))
            junk = bytes(rng.choice(b"|:-'\"{}[]*?\n abc01") for _ in range(rng.randint(0, 3)))
            data[pos:pos + rng.randint(0, 6)] = junk
        (tmp_path / f"m{i:02d}.yml").write_bytes(bytes(data))
    rs = load([tmp_path], bundled=False)
    assert len(rs.rules) + len(rs.correlations) + len(rs.problems) >= 80 - 5  # every file ends up somewhere
    assert all(p.path.startswith(str(tmp_path)) for p in rs.problems)
    eng = SigmaEngine(rs, _cfg())
    for rec in (_web("/a?b=c"), AuthEvent(T0, "h", "sshd", "failure", user="u", src="192.0.2.1", message="Failed"),
                DnsQuery(T0, "10.0.0.1", "10.0.0.2", "x.example"), Connection(T0, "10.0.0.1", "10.0.0.2", 1, 22, "tcp"),
                SyslogLine(T0, "h", "sudo", 1, "u : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/sh")):
        eng.observe(rec)
    eng.finish()
