"""Scenario evaluation end to end: generated attack families through the monitor, scored against ground truth."""

from __future__ import annotations

import json

from click.testing import CliRunner

from security.scenario_eval import evaluate


def test_scenario_eval_detects_every_kind_without_high_false_alerts():
    r = evaluate(11, hours=24, learn_hours=24, per_kind=1, batch_s=1800)  # learning covers a working day
    assert r["injected"] == 15 and len(r["kinds"]) == 15
    assert r["detection_rate"] >= 0.9, {k: v["missed"] for k, v in r["kinds"].items() if v["missed"]}
    fa = r["false_alerts"]
    assert fa["by_severity"]["high"] == 0 and fa["by_severity"]["critical"] == 0, fa["examples"]
    assert fa["medium_per_host_day"] <= 1.0
    assert r["riskiest_high_benign"] == 0 and all(e["involved"] for e in r["riskiest"][:5])
    detected = [k for k in r["kinds"].values() if k["alerted"]]
    assert all(k["ttd_s_median"] >= 0 for k in detected)


def test_scenario_eval_cli_prints_json(settings, monkeypatch):
    from core.settings import get_settings
    from iocwatch.cli import cli

    monkeypatch.setenv("IOCWATCH_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    res = CliRunner().invoke(cli, ["security", "eval", "--scenario-seed", "5", "--hours", "3", "--learn-hours", "2",
                                   "--per-kind", "1"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["seed"] == 5 and set(out["false_alerts"]["per_host_hour"]) == {"low", "medium", "high", "critical"}
    assert out["injected"] == 15 and all("injected" in k and "alerted" in k for k in out["kinds"].values())
