"""Atomic state: a full disk or a kill while saving models, templates, status or marks keeps the old file."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.settings import load_settings
from security.demo import demo_inputs, write_demo
from tests.faults.disks import fill

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    write_demo(folder, clients=6, visitors=30)
    return folder


def _cli(data_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOCWATCH_")}
    env.update(IOCWATCH_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1",
               IOCWATCH_SERVE__SPOOL_MIN_FREE_MB="1")  # the test disk is small
    return subprocess.run([sys.executable, "-m", "iocwatch", "-q", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _learn_args(inputs: dict[str, list[Path]]) -> list[str]:
    args = ["monitor", "learn"]
    for p in inputs["baseline_pcaps"]:
        args += ["--pcap", str(p)]
    for p in inputs["baseline_logs"]:
        args += ["--log", str(p)]
    return args


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_faults_monitor_learn_on_a_full_disk_keeps_the_working_detector(small_disk, demo_dir, tmp_path):
    from iocwatch.flows.monitor import load_monitor, model_paths
    from security.detectors import Detector

    disk = small_disk("24m")
    data = disk / "data"
    inputs = demo_inputs(demo_dir)
    first = _cli(data, *_learn_args(inputs), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    paths = model_paths(load_settings(data_dir=data))
    before = {k: _digest(paths[k]) for k in ("detector", "templates", "baseline_templates", "meta")}

    filler = fill(disk)
    again = _cli(data, *_learn_args(inputs), cwd=tmp_path)
    assert again.returncode == 2, again.stdout + again.stderr
    assert "error:" in again.stderr and "Traceback" not in again.stderr
    assert "previous version is kept" in again.stderr or "No space" in again.stderr
    after = {k: _digest(paths[k]) for k in before}
    assert after == before  # every state file is the old one, whole
    assert not [p for p in paths["dir"].iterdir() if p.name.endswith(".tmp")]
    Detector.load(paths["detector"])  # still loads while the disk is full
    assert load_monitor(load_settings(data_dir=data)).detector is not None

    filler.unlink()
    run = _cli(data, "monitor", "--json", "--log", str(inputs["attack_logs"][0]), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[-1])["detector"] == "ecod"


_SAVER = """
import sys, time
from pathlib import Path
from core.settings import load_settings
from core.status import record_run
from iocwatch.flows.monitor import _template_miner, model_paths
from security.detectors import Detector
data = Path(sys.argv[1])
settings = load_settings(data_dir=data)
paths = model_paths(settings)
det = Detector.load(paths["detector"])
miner = _template_miner(settings)
print("ready", flush=True)
n = 0
while True:  # save over and over until killed
    det.save(paths["detector"])
    miner.miner.add_log_message(f"session {n} opened for user u{n} by (uid=0)")
    miner.save()
    record_run(data, "monitors", f"input-{n % 7}", items=n)
    n += 1
"""


def test_faults_kill_while_saving_detector_templates_and_status_leaves_them_loadable(demo_dir, tmp_path):
    from core.status import read_status
    from iocwatch.flows.monitor import load_monitor, model_paths
    from security.detectors import Detector

    data = tmp_path / "data"
    inputs = demo_inputs(demo_dir)
    assert _cli(data, *_learn_args(inputs), cwd=tmp_path).returncode == 0
    settings = load_settings(data_dir=data)
    paths = model_paths(settings)
    rng = random.Random(18)
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(data)], cwd=ROOT,
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        Detector.load(paths["detector"])
        monitor = load_monitor(settings)  # detector, baseline templates and template state
        assert monitor.detector is not None and monitor.templates is not None
        assert isinstance(read_status(data)["monitors"], dict)
    leftovers = [p.name for p in paths["dir"].iterdir() if p.name.endswith(".tmp")]
    # a kill between writing and renaming may leave a temporary file; never a torn state file
    assert all(name.startswith(".") for name in leftovers)
