"""State that survives faults: atomic file writes and one writer lock per data directory.

Every file of state the product keeps (detector models, log templates, model versions,
follow positions, status, users) is written with :func:`atomic_write` or one of its
wrappers: the bytes go to a temporary file in the same directory, are fsynced, and the
file is renamed over the old one (then the directory is fsynced). A crash, a kill or a
full disk at any point leaves either the old file or the new one, never a mix, and a
failed write removes its temporary file.

Writers that change shared state (imports, crawls, the monitor, retraining) hold
:class:`WriterLock` on the data directory. A second writer either waits up to a bound or
is refused with :class:`LockHeldError`, whose message names the holder (pid, command,
host, since when). The lock is an ``fcntl.flock`` on ``<data_dir>/.writer.lock``; the
kernel releases it when the holder dies, so a killed run never leaves a stale lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from core.errors import IocwatchError

log = logging.getLogger(__name__)

LOCK_NAME = ".writer.lock"


class StateWriteError(IocwatchError):
    """A state file could not be written; the previous version is still in place."""


class LockHeldError(IocwatchError):
    """Another process holds the writer lock of this data directory."""

    def __init__(self, path: Path, holder: dict[str, Any] | None, waited_s: float):
        self.path = path
        self.holder = holder or {}
        who = describe_holder(self.holder)
        waited = f" after waiting {waited_s:.0f} s" if waited_s > 0 else ""
        scope = path.name[len(".writer-"):-len(".lock")] if path.name.startswith(".writer-") else ""
        what = f"the data directory ({scope})" if scope else "the data directory"
        super().__init__(
            f"{what} is being written by {who}{waited}",
            hint="wait for that run to finish, or stop it; pass --wait SECONDS to queue behind it",
            where=str(path.parent),
        )


def describe_holder(holder: dict[str, Any]) -> str:
    """One readable phrase for the holder record of a lock ('pid 12 (iocwatch index load) ...')."""
    if not holder:
        return "another process"
    parts = [f"pid {holder.get('pid', '?')}"]
    if holder.get("purpose"):
        parts.append(f"({holder['purpose']})")
    if holder.get("host"):
        parts.append(f"on {holder['host']}")
    if holder.get("since"):
        parts.append(f"since {holder['since']}")
    return " ".join(parts)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # some filesystems cannot open a directory; the rename is still atomic
        return
    try:
        # fsync of a directory is not supported everywhere (e.g. some network mounts)
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], Any], *,
                 mode: int | None = None) -> Path:
    """Write a file atomically: ``write(fh)`` fills a temporary file that then replaces ``path``.

    Args:
        path: the file to create or replace.
        write: called with a binary file handle open on the temporary file.
        mode: permission bits of the new file (default: those of the old file, else 0o644).

    Returns:
        ``path`` as a ``Path``.

    Raises:
        StateWriteError: the write, fsync or rename failed (disk full, read-only, ...). The
            old file is untouched and the temporary file is removed.
    """
    target = Path(path)
    directory = target.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise StateWriteError(f"cannot write {target.name}: {exc.strerror or exc}",
                              hint="check free space and permissions", where=str(directory)) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is None:
            try:
                mode = target.stat().st_mode & 0o7777
            except FileNotFoundError:
                mode = 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise StateWriteError(f"cannot write {target.name}: {exc.strerror or exc}; "
                                  "the previous version is kept",
                                  hint="check free space and permissions",
                                  where=str(target)) from exc
        raise
    _fsync_dir(directory)
    return target


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, **kw: Any) -> Path:
    """Atomically replace ``path`` with ``data``."""
    return atomic_write(path, lambda fh: fh.write(data), **kw)


def atomic_write_text(path: str | os.PathLike[str], text: str, **kw: Any) -> Path:
    """Atomically replace ``path`` with ``text`` (UTF-8)."""
    return atomic_write_bytes(path, text.encode("utf-8"), **kw)


def atomic_write_json(path: str | os.PathLike[str], obj: Any, **kw: Any) -> Path:
    """Atomically replace ``path`` with ``obj`` as indented UTF-8 JSON."""
    text = json.dumps(obj, ensure_ascii=False, indent=1, default=str)
    return atomic_write_text(path, text + "\n", **kw)


def read_json(path: str | os.PathLike[str], default: Any = None) -> Any:
    """Read a JSON state file; ``default`` when it does not exist.

    Raises:
        StateWriteError: never; a corrupt file raises ``IocwatchError`` naming it.
    """
    p = Path(path)
    try:
        raw = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        return default
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise IocwatchError(f"state file is not valid JSON ({exc.msg}, line {exc.lineno})",
                            hint="restore it from a backup or delete it to start afresh",
                            where=str(p)) from exc


class WriterLock:
    """The single-writer lock of a data directory (a context manager).

    Args:
        data_dir: the data directory to lock.
        purpose: what the holder is doing, shown to whoever meets the lock
            (e.g. ``"iocwatch index load posts.jsonl"``).
        wait_s: how long to wait for another holder to finish; 0 refuses at once.
        poll_s: how often to retry while waiting.
        scope: what the holder writes (e.g. ``"posts"``, ``"security"``): writers of different
            scopes of one directory do not exclude each other (lock file
            ``.writer-<scope>.lock``); no scope is the whole directory (``.writer.lock``).

    Raises:
        LockHeldError: on ``__enter__``, when the lock is still held after ``wait_s``.

    The lock is re-entrant within one process (a nested ``WriterLock`` on the same
    directory is a no-op), so a command that holds it can call library code that also
    asks for it.
    """

    # resolved lock path -> [nesting depth, open lock file], shared by the threads of a process
    _held: dict[str, list[Any]] = {}
    _guard = threading.Lock()  # one thread of this process acquires or releases at a time

    def __init__(self, data_dir: str | os.PathLike[str], purpose: str | None = None, *,
                 wait_s: float = 0.0, poll_s: float = 0.2, scope: str | None = None):
        self.path = Path(data_dir) / (f".writer-{scope}.lock" if scope else LOCK_NAME)
        self.purpose = purpose or " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:3])
        self.wait_s = max(0.0, float(wait_s))
        self.poll_s = poll_s
        self._key = ""

    def holder(self) -> dict[str, Any] | None:
        """The record the current holder wrote, or None when nobody wrote one."""
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        if not text:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return None

    def __enter__(self) -> WriterLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._key = str(self.path.resolve())
        with self._guard:
            entry = self._held.get(self._key)
            if entry is not None:
                entry[0] += 1
                return self
            try:
                fh = open(self.path, "a+b", buffering=0)  # noqa: SIM115 - held for the lock's life
            except OSError as exc:
                raise StateWriteError(f"cannot take the writer lock: {exc.strerror or exc}",
                                      hint="the data directory must be writable (read-only or "
                                           "full disk?)", where=str(self.path.parent)) from exc
            start = time.monotonic()
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    waited = time.monotonic() - start
                    if waited >= self.wait_s:
                        holder = self.holder()
                        fh.close()
                        raise LockHeldError(self.path, holder, waited) from None
                    time.sleep(min(self.poll_s, max(0.01, self.wait_s - waited)))
            record = {"pid": os.getpid(), "purpose": self.purpose, "host": socket.gethostname(),
                      "since": datetime.now(UTC).replace(microsecond=0).isoformat()}
            try:
                fh.seek(0)
                fh.truncate()
                fh.write(json.dumps(record).encode("utf-8"))  # unbuffered: fails here, not at close
            except OSError as exc:  # a full disk: the lock holds, only its description is missing
                log.warning("writer lock taken, but its holder could not be recorded in %s: %s",
                            self.path, exc)
            self._held[self._key] = [1, fh]
        return self

    def __exit__(self, *exc: object) -> None:
        with self._guard:
            entry = self._held.get(self._key)
            if entry is None:
                return
            entry[0] -= 1
            if entry[0] > 0:
                return
            del self._held[self._key]
            fh = entry[1]
            with contextlib.suppress(OSError):  # the holder record is a courtesy
                fh.seek(0)
                fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()


@contextlib.contextmanager
def writer_lock(data_dir: str | os.PathLike[str], purpose: str | None = None, *,
                wait_s: float = 0.0) -> Iterator[WriterLock]:
    """Function form of :class:`WriterLock`."""
    with WriterLock(data_dir, purpose, wait_s=wait_s) as lock:
        yield lock
