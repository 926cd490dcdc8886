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


def test_templates_categorical_slots_keep_their_words(tmp_path):
    state = tmp_path / "t.json"
    m = TemplateMiner(state)
    lines = []
    for i in range(6):
        for user in ("root", "quantri", "backup"):  # a key=value field with three words: a category
            lines.append(f"camera-gw: login failure; tries=3 src=10.2.{i}.7 user={user}")
        for word in ("started", "stopped"):  # free text is never a category
            lines.append(f"pump station {i} reported state {word} to the control room")
        for name in ("lan", "minh", "ngoc", "tuan", "hoa", "khanh"):
            lines.append(f"Failed password for {name} from 10.9.{i}.1 port {4000 + i} ssh2")
    for line in lines:
        m.add(line)
    ids = {line: m.match(line) for line in lines}
    by_template = {m.templates()[i] for i in set(ids.values())}
    assert by_template == {
        "camera-gw: login failure; tries <*> src <*> user root",
        "camera-gw: login failure; tries <*> src <*> user quantri",
        "camera-gw: login failure; tries <*> src <*> user backup",
        "pump station <*> reported state <*> to the control room",
        "Failed password for <*> from <*> port <*> ssh2",
    }
    # The first word keeps the cluster's id, so earlier and later lines agree.
    assert ids[lines[0]] == m.add("camera-gw: login failure; tries=5 src=10.3.3.3 user=root")[0]
    m.save()
    again = TemplateMiner(state)
    assert all(again.match(line) == cid for line, cid in ids.items())
    # A fourth word turns the field into a parameter: its lines share one id again.
    for user in ("lan", "minh"):
        again.add(f"camera-gw: login failure; tries=1 src=10.4.4.4 user={user}")
    merged = {again.match(f"camera-gw: login failure; tries=2 src=10.5.5.5 user={u}") for u in ("root", "backup")}
    assert merged == {ids[lines[0]]}


def test_templates_mask_collapses_lists_units_and_addresses():
    assert mask("wrote 1190 bytes (1.16 KB) to disk in 35 ms") == "wrote <*> to disk in <*>"
    assert mask("retry in <1 sec, peers 10.0.0.1,10.0.0.2 and fe80::1ff:fe23:4567:890a") == (
        "retry in <*>, peers <*> and <*>")
    assert mask('10.1.1.1 "GET /api/v2/cams?id=7&zone=ninh-kieu HTTP/1.1" status: 200') == (
        '<*> "GET <*> HTTP/<*>" status: <*>')
    assert mask("backup at 2026-11-20T10:00:01.5+07:00 of rdd_12_3 ok") == "backup at <*> of <*> ok"
    assert mask("ntp synchronized to LOCAL(0), stratum 10") == "ntp synchronized to LOCAL(<*>), stratum <*>"
    assert mask("token df0798e for eth0") == "token <*> for eth0"  # no half-masked words
