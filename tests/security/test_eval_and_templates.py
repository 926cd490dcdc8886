"""Evaluation commands on small files the test writes, template mining and its persisted state."""

from __future__ import annotations

import csv
import json
import random

from click.testing import CliRunner

from iocwatch.cli import cli
from security.templates import TemplateMiner, grouping_accuracy, mask, variables


def _write_records(path, n, attack_share, seed):
    rng = random.Random(seed)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["duration", "protocol_type", "src_bytes", "count", "label", "difficulty"])
        for _ in range(n):
            if rng.random() < attack_share:
                w.writerow([0, "tcp", rng.randint(0, 10), rng.randint(200, 500), "neptune", 20])
            else:
                w.writerow([rng.randint(0, 5), rng.choice(["tcp", "udp"]), rng.randint(200, 2000),
                            rng.randint(1, 20), "normal", 21])


def test_eval_records_command_prints_metrics(tmp_path):
    _write_records(tmp_path / "train.csv", 400, 0.2, 1)
    _write_records(tmp_path / "test.csv", 200, 0.3, 2)
    res = CliRunner().invoke(cli, ["security", "eval-records", "--train", str(tmp_path / "train.csv"), "--test",
                                   str(tmp_path / "test.csv"), "--label-field", "label", "--normal-value",
                                   "normal", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["roc_auc"] > 0.95 and {"pr_auc", "precision", "recall", "f1"} <= set(out)
    assert "difficulty" in out["ignored_columns"]


def test_eval_sessions_command_prints_metrics(tmp_path):
    rng = random.Random(3)
    for name, n in (("train.jsonl", 300), ("test.jsonl", 200)):
        with open(tmp_path / name, "w") as fh:
            for _ in range(n):
                bad = rng.random() < 0.3
                events = [5, 5, 22, 11, 9] * rng.randint(1, 3) + ([17, 17] if bad else [26])
                fh.write(json.dumps({"events": events, "label": int(bad)}) + "\n")
    res = CliRunner().invoke(cli, ["security", "eval-sessions", "--train", str(tmp_path / "train.jsonl"),
                                   "--test", str(tmp_path / "test.jsonl"), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["roc_auc"] > 0.95 and out["f1"] > 0.9


def test_eval_templates_command_and_grouping_accuracy(tmp_path):
    path = tmp_path / "s.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["LineId", "Content", "EventId"])
        for i in range(30):
            w.writerow([i, f"Failed password for root from 10.0.{i}.1 port {4000 + i} ssh2", "E1"])
            w.writerow([i, f"Accepted publickey for quantri from 10.1.{i}.2 port {5000 + i} ssh2", "E2"])
    res = CliRunner().invoke(cli, ["security", "eval-templates", "--structured", str(path), "--json"])
    assert json.loads(res.output)["grouping_accuracy"] == 1.0
    assert grouping_accuracy(["a", "a", "b"], [1, 1, 1]) == 0.0
    assert grouping_accuracy(["a", "a", "b"], [1, 1, 2]) == 1.0


def test_templates_state_is_persisted(tmp_path):
    state = tmp_path / "t.json"
    m = TemplateMiner(state)
    a, _ = m.add("Connection from 10.0.0.1 port 22 closed")
    m.add("Connection from 10.0.0.2 port 2222 closed")
    m.save()
    again = TemplateMiner(state)
    assert again.match("Connection from 172.16.0.9 port 80 closed") == a
    assert "<*>" in mask("user=admin from 10.0.0.1:22 at /var/log/auth.log")


def test_templates_variables_are_extracted():
    m = TemplateMiner(None)
    m.parse("Failed password for root from 10.0.0.1 port 4022 ssh2")
    cid, template, values = m.parse("Failed password for admin from 10.0.0.9 port 5000 ssh2")
    assert template == "Failed password for <*> from <*> port <*> ssh2"
    assert values == ["admin", "10.0.0.9", "5000"]
    assert variables("kết nối từ 1.2.3.4 lúc Sat Jul  9 22:53:19 2005", "kết nối từ <*> lúc <*>") == [
        "1.2.3.4", "Sat Jul 9 22:53:19 2005"]
