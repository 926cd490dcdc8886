"""`iocwatch index load` and `iocwatch search` end to end, through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from iocwatch.cli import cli

DATA = Path(__file__).parents[1] / "data" / "index"


@pytest.fixture
def run(settings, monkeypatch):
    monkeypatch.setenv("IOCWATCH_DATA_DIR", str(settings.data_dir))
    from core.settings import get_settings

    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str):
        result = runner.invoke(cli, list(args), catch_exceptions=False)
        return result

    yield invoke
    get_settings.cache_clear()


def test_cli_index_load_reports_stored_and_rejected_rows(run):
    result = run("index", "load", str(DATA / "posts_sample.jsonl"), "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)[str(DATA / "posts_sample.jsonl")]
    assert (report["read"], report["stored"], report["rejected"]) == (15, 12, 3)
    reasons = {e["line"]: e["reason"] for e in report["errors"]}
    assert "no id" in reasons[13]
    assert "not valid JSON" in reasons[14]
    assert "published_at" in reasons[15]


def test_cli_search_json_finds_can_tho_and_reload_does_not_duplicate(run):
    run("index", "load", str(DATA / "posts_sample.jsonl"), str(DATA / "posts_sample.csv"))
    first = json.loads(run("search", "can", "tho", "--json", "--limit", "50").stdout)
    run("index", "load", str(DATA / "posts_sample.jsonl"), str(DATA / "posts_sample.csv"))
    second = json.loads(run("search", "can tho", "--json", "--limit", "50").stdout)
    assert first["total"] == second["total"] == 7
    assert {h["id"] for h in first["hits"]} == {h["id"] for h in second["hits"]}
    for hit in first["hits"]:
        assert {"id", "title", "text", "url", "source", "published_at"} <= set(hit)
        blob = (hit["title"] or "") + " " + hit["text"]
        assert "Cần Thơ" in blob or "cần thơ" in blob.lower() or "can tho" in blob
    assert json.loads(run("search", "da nang", "--json").stdout)["total"] == 2
    assert json.loads(run("search", "Huế", "--exact", "--json").stdout)["total"] == 1


def test_cli_search_filters_and_sort(run):
    run("index", "load", str(DATA / "posts_sample.jsonl"))
    out = json.loads(run("search", "can tho", "--platform", "facebook", "--platform", "telegram",
                         "--sort", "newest", "--json").stdout)
    assert [h["platform"] for h in out["hits"]] == ["telegram", "facebook"]
    out = json.loads(run("search", "--since", "2026-11-21T00:00:00+07:00", "--sentiment", "negative",
                         "--json").stdout)
    assert out["total"] == 2


def test_cli_config_show_masks_secrets(run, monkeypatch):
    from core.settings import get_settings

    monkeypatch.setenv("IOCWATCH_INDEX__ES_PASSWORD", "s3cret-value")
    monkeypatch.setenv("IOCWATCH_ES_URL", "https://elastic:pw123@es.internal:9200")
    get_settings.cache_clear()
    out = run("config", "show", "--json").stdout
    assert "s3cret-value" not in out and "pw123" not in out
    data = json.loads(out)
    assert data["index"]["es_password"] == "********"
    assert data["es_url"] == "https://elastic:********@es.internal:9200"


def test_cli_errors_are_one_clear_line(settings, tmp_path):
    bad = tmp_path / "iocwatch.toml"
    bad.write_text("store = 'mongodb'\n")
    proc = subprocess.run([sys.executable, "-m", "iocwatch", "index", "stats"], cwd=tmp_path,
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode == 2
    assert "error:" in proc.stderr and "store" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_help_lists_commands(run):
    out = run("--help").stdout
    for name in ("config", "index", "search", "demo"):
        assert name in out
