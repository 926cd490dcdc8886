"""Helpers of the disk fault tests: fill a file system, remount it read-only and back."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path


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
