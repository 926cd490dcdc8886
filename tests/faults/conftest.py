"""Fault fixtures: a small real file system that fills up, and a helper to fill it."""

from __future__ import annotations

import errno
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """``small_disk("8m")`` mounts a tmpfs of that size and returns its path (unmounted after).

    Skipped, with the reason, where mounting is not allowed (not root, no CAP_SYS_ADMIN).
    """
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        mnt = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
        mnt.mkdir()
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)],
                             capture_output=True, text=True)
        if res.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({res.stderr.strip() or res.returncode})")
        mounted.append(mnt)
        return mnt

    yield mount
    for mnt in mounted:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(folder: Path, name: str = "filler.bin") -> Path:
    """Write a file in ``folder`` until its file system has no space left; returns the file."""
    path = folder / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for size in (1 << 16, 512, 1):  # big blocks, then the last bytes
            while True:
                try:
                    os.write(fd, b"\xff" * size)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    return path


def remount_read_only(mnt: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)


def remount_read_write(mnt: Path) -> None:
    subprocess.run(["mount", "-o", "remount,rw", str(mnt)], check=True)
