"""The monitor flow end to end on the generated demo network, with the real embedded store."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from core.documents import Alert
from iocwatch.flows.monitor import model_paths, run_learn, run_monitor
from security.demo import INJECTED, demo_inputs, write_demo


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    write_demo(folder, clients=10, visitors=60)
    return folder


def test_monitor_flow_demo_raises_each_injected_attack_once(settings, store, demo_dir):
    inputs = demo_inputs(demo_dir)
    meta = run_learn(settings, pcaps=inputs["baseline_pcaps"], logs=inputs["baseline_logs"])
    assert meta["detector"] == "ecod" and meta["windows"] > 50
    assert model_paths(settings)["detector"].exists() and model_paths(settings)["templates"].exists()
    report = run_monitor(settings, store, pcaps=inputs["attack_pcaps"], logs=inputs["attack_logs"])
    alerts = [Alert.from_doc(store.get("alerts", i)) for i in report["alert_ids"]]
    for rule, spec in INJECTED.items():
        hits = [a for a in alerts if a.rule_name == rule]
        assert len(hits) == 1, rule
        assert hits[0].entity == spec["entity"] and hits[0].threat_technique_id == spec["technique"]
        assert hits[0].explanation and hits[0].evidence
        assert any(e.baseline is not None for e in hits[0].explanation)
    attackers = {spec["entity"] for spec in INJECTED.values()}  # Sigma rules may alert on them too
    benign = [a for a in alerts if a.rule_name not in INJECTED and a.entity not in attackers]
    assert all(a.severity.rank <= 1 for a in benign)
    assert report["stored"] == len(alerts) and not report["rejected"]
    assert store.count("alerts") == len(alerts)

    # re-running the same inputs neither duplicates nor inflates, and keeps triage
    from index.triage import triage

    scan = next(a for a in alerts if a.rule_name == "port_scan")
    triage(store, scan.id, status="acknowledged", assignee="an.nguyen", by="test")
    again = run_monitor(settings, store, pcaps=inputs["attack_pcaps"], logs=inputs["attack_logs"])
    assert sorted(again["alert_ids"]) == sorted(report["alert_ids"])
    assert store.count("alerts") == len(alerts)
    kept = Alert.from_doc(store.get("alerts", scan.id))
    assert kept.status.value == "acknowledged" and kept.assignee == "an.nguyen" and kept.count == scan.count


def test_monitor_flow_cli_lists_and_triages(settings, demo_dir, monkeypatch):
    from core.settings import get_settings
    from iocwatch.cli import cli

    monkeypatch.setenv("IOCWATCH_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    inputs = demo_inputs(demo_dir)
    runner = CliRunner()
    args = ["monitor", "--json"] + sum((["--pcap", str(p)] for p in inputs["attack_pcaps"]), []) \
        + sum((["--log", str(p)] for p in inputs["attack_logs"]), [])
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    report = json.loads(res.output.strip().splitlines()[-1])
    assert report["by_rule"]["port_scan"] == 1 and report["detector"] is None  # rules only: nothing learnt here
    res = runner.invoke(cli, ["alerts", "list", "--min-severity", "high", "--json"])
    out = json.loads(res.output)
    assert out["total"] == len(out["alerts"])  # the five injected attacks, and Sigma rules firing on them
    assert {a["rule"] for a in out["alerts"] if not a["rule"].startswith("sigma:")} == set(INJECTED)
    first = out["alerts"][0]
    for key in ("id", "rule", "technique", "severity", "risk_score", "source_ip", "destination_ip",
                "destination_domain", "user", "first_seen", "last_seen", "count", "explanation"):
        assert key in first
    res = runner.invoke(cli, ["alerts", "triage", first["id"][:10], "--status", "closed"])
    assert res.exit_code != 0  # closing needs a reason
    res = runner.invoke(cli, ["alerts", "triage", first["id"][:10], "--status", "closed", "--reason",
                              "true_positive", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["status"] == "closed"
    res = runner.invoke(cli, ["alerts", "list", "--status", "closed", "--json"])
    assert json.loads(res.output)["total"] == 1
    get_settings.cache_clear()


def test_monitor_flow_follow_stores_alerts_per_batch_and_reports_bad_inputs(settings, store, tmp_path):
    from core.status import read_status
    from iocwatch.flows.monitor import follow_monitor

    log = tmp_path / "auth.log"
    log.write_text("".join(
        f"2026-11-20T10:00:{i:02d}+00:00 srv sshd[9]: Failed password for root from 198.51.100.7 port {4000 + i} ssh2\n"
        for i in range(30)))
    reports = list(follow_monitor(settings, store, logs=[log], interval_s=0.5, max_batches=1, from_start=True))
    assert reports[0]["by_rule"] == {"ssh_brute_force": 1, "sigma:ssh_brute_force_source": 1}  # built-in and Sigma
    assert store.count("alerts") == 2

    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"\x00" * 100)
    report = run_monitor(settings, store, pcaps=[bad, tmp_path / "missing.pcap"])
    assert report["alerts"] == 0
    assert all(inp["errors"] for inp in report["inputs"])
    status = read_status(settings.data_dir)["monitors"]
    assert status[str(bad)]["ok"] is False and status[str(log)]["items"] == 30


def test_monitor_flow_accepts_a_store_that_only_upserts(settings, tmp_path):
    from index.base import BulkResult

    class SpoolLike:
        def __init__(self):
            self.docs = []

        def upsert_many(self, kind, docs):
            docs = list(docs)
            self.docs.extend(docs)
            return BulkResult(stored=[d.id for d in docs])

    log = tmp_path / "access.log"
    log.write_text('192.0.2.9 - - [20/Nov/2026:10:00:00 +0000] '
                   '"GET /a?q=1%20UNION%20SELECT%201 HTTP/1.1" 500 1 "-" "x"\n')
    spool = SpoolLike()
    report = run_monitor(settings, spool, logs=[log])
    assert report["stored"] == 2  # the built-in rule and the bundled Sigma rule
    assert {d.rule_name for d in spool.docs} == {"web_attack", "sigma:sql_injection_in_a_web_request"}


def test_monitor_flow_demo_step_meets_the_done_criteria(settings):
    from iocwatch.flows.monitor import demo_step

    report: dict = {}
    demo_step(settings, report)
    assert report["injected_detected"] == report["injected"] == 5
    assert report["benign_above_medium"] == 0
