"""`monitor` exits non-zero when no input could be read, and says which inputs failed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from iocwatch.cli import cli

DATA = Path(__file__).parents[1] / "data" / "security"


@pytest.fixture
def run(settings, monkeypatch):
    monkeypatch.setenv("IOCWATCH_DATA_DIR", str(settings.data_dir))
    from core.settings import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli, list(args))
    get_settings.cache_clear()


def test_monitor_exit_nothing_readable_is_an_error(run, tmp_path):
    unknown = tmp_path / "app.log"
    unknown.write_text("".join(f"step {i} done\n" for i in range(300)))
    for args in (["--log", str(tmp_path / "missing.log")], ["--log", str(unknown)],
                 ["--pcap", str(DATA / "wrong_magic.pcap")]):
        result = run("monitor", *args)
        assert result.exit_code != 0, (args, result.output)
        assert "no input could be read" in str(result.exception) or "no input could be read" in result.output


def test_monitor_exit_some_inputs_unread_warns_and_exits_1(run, tmp_path):
    result = run("monitor", "--log", str(DATA / "auth.log"), "--log", str(tmp_path / "missing.log"))
    assert result.exit_code == 1, result.output
    assert "1 of 2 inputs could not be read" in result.output and "missing.log" in result.output


def test_monitor_exit_all_inputs_read_is_success(run):
    result = run("monitor", "--log", str(DATA / "auth.log"), "--pcap", str(DATA / "small.pcap"))
    assert result.exit_code == 0, result.output


def test_monitor_exit_through_the_real_cli_entry_point(settings, tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("IOCWATCH_")}
    env.update(IOCWATCH_DATA_DIR=str(settings.data_dir), PYTHONPATH=str(Path(__file__).parents[2]))
    res = subprocess.run([sys.executable, "-m", "iocwatch", "-q", "monitor", "--log", str(tmp_path / "nope.log")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert "error:" in res.stderr and "no input could be read" in res.stderr and "nope.log" in res.stderr
