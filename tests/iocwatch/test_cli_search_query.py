"""`iocwatch search` refuses malformed queries: a non-zero exit, the column, and with --json an
object with ``error`` and ``position``; hostile queries never end in a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from iocwatch.cli import cli

DATA = Path(__file__).parents[1] / "data" / "index"
HOSTILE = ["ngập NOT", "(" * 300 + "ngập" + ")" * 300, '"unclosed', "AND", "ngap AND (can tho", "a)", "likes:x",
           "foo:bar", "NOT " * 3000 + "(", "OR"]


@pytest.fixture
def run(settings, monkeypatch):
    monkeypatch.setenv("IOCWATCH_DATA_DIR", str(settings.data_dir))
    from core.settings import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)
    get_settings.cache_clear()


@pytest.mark.parametrize("query", HOSTILE)
def test_cli_search_json_refuses_malformed_queries_with_position(run, query):
    result = run("search", query, "--json")
    assert result.exit_code == 2
    out = json.loads(result.stdout)
    assert set(out) >= {"error", "position", "code"}
    assert 0 <= out["position"] <= len(query)
    assert out["error"].startswith(f"column {out['position'] + 1}: ")


def test_cli_search_text_shows_the_column_and_a_caret(run):
    result = run("search", "ngap", "AND", "(can", "tho")
    assert result.exit_code == 2
    assert "column 10: '(' is never closed" in result.stderr
    assert result.stderr.splitlines()[-1] == "  " + " " * 9 + "^"


def test_cli_search_sorts_most_negative_first(run):
    run("index", "load", str(DATA / "posts_sample.jsonl"))
    out = json.loads(run("search", "--sort", "negative", "--json", "--limit", "50").stdout)
    scores = [h["score"] for h in out["hits"]]
    assert all(s is None for s in scores)  # sorted by a field, not scored
    result = run("search", "--sort", "negative", "--json", "--limit", "50", "--sentiment", "negative")
    assert json.loads(result.stdout)["total"] >= 1


def test_cli_search_hostile_queries_exit_cleanly_in_a_real_process(settings, tmp_path):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("IOCWATCH_")},
           "IOCWATCH_DATA_DIR": str(settings.data_dir)}
    for query in ("ngập NOT", "(" * 300 + "x" + ")" * 300):
        proc = subprocess.run([sys.executable, "-m", "iocwatch", "search", query], cwd=tmp_path,
                              capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "error: column" in proc.stderr and "Traceback" not in proc.stderr
