"""Following log files as Filebeat does: a registry of (device, inode, offset) per file.

:class:`LogFollower` reads the complete lines appended to one file and turns them into
records; its :meth:`~LogFollower.position` is the byte offset just after the last line it
handed out, with the device and inode of the file that offset belongs to.
:class:`FollowRegistry` keeps those positions in one JSON state file, written atomically
(:mod:`core.state`). The caller saves the registry only after the records of a batch are
stored, so a restart resumes exactly after the last stored batch: lines read but not
stored are read again (alert ids are deterministic, so a replay updates the same alerts
instead of adding copies), and no stored line is read twice.

* A file with no registry record is read from its start.
* Rotation by rename-and-recreate: when the path names a new inode, the rest of the old
  file is read, then the new file from its start. If the rotation happened while nothing
  was following, the old file is looked up by its inode among the files of the same
  folder (``auth.log.1``) and its rest is read first.
* Rotation by copytruncate (the file shrank below the offset): read again from the start.
* A file that cannot be read or whose format is not recognised is reported in its
  :class:`~security.records.ParseStats` and in :attr:`LogFollower.failed`; the caller goes
  on with the other files.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from core.errors import SecurityMonitorError
from core.state import atomic_write_json, read_json
from security import logs
from security.records import ParseStats, Record

log = logging.getLogger(__name__)

REGISTRY_VERSION = 1


class FollowRegistry:
    """Positions of followed files, ``{path: {"dev", "inode", "offset", "updated_at"}}``.

    Args:
        path: the JSON state file (``None`` keeps positions in memory only).
    """

    def __init__(self, path: str | os.PathLike[str] | None):
        self.path = Path(path) if path is not None else None
        self.files: dict[str, dict[str, Any]] = {}
        if self.path is not None:
            data = read_json(self.path, default={}) or {}
            self.files = dict(data.get("files", {}))

    def get(self, path: str | os.PathLike[str]) -> dict[str, Any] | None:
        return self.files.get(_key(path))

    def update(self, path: str | os.PathLike[str], position: dict[str, int] | None) -> None:
        if position is None:
            return
        self.files[_key(path)] = {**position, "updated_at": datetime.now(UTC).isoformat()}

    def save(self) -> None:
        """Write the registry atomically (raises ``StateWriteError`` and keeps the old one on failure)."""
        if self.path is not None:
            atomic_write_json(self.path, {"version": REGISTRY_VERSION, "files": self.files})


def _key(path: str | os.PathLike[str]) -> str:
    return str(Path(path).absolute())


def _find_by_inode(folder: Path, dev: int, inode: int) -> Path | None:
    """A file of ``folder`` with this device and inode (a log renamed by rotation)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return None
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if st.st_ino == inode and st.st_dev == dev and entry.is_file(follow_symlinks=False):
            return Path(entry.path)
    return None


class LogFollower:
    """Records from the lines appended to one log file, resumable from a registry position.

    Args:
        path: the followed path (it may not exist yet; it is waited for).
        fmt: the log format, or ``None`` to detect it from the first lines.
        position: a registry record (``dev``, ``inode``, ``offset``) to resume from.
        from_start: for a file without a position, read it from its start (the default) or
            only what is appended from now on.
        max_line: longer lines are skipped and counted as ``too_long``.

    Attributes:
        stats: counts of the current batch (replace it to start a new batch).
        failed: why the file is skipped (unreadable, format not recognised), or ``None``.
    """

    def __init__(self, path: str | os.PathLike[str], fmt: str | None = None, *,
                 position: dict[str, Any] | None = None, from_start: bool = True,
                 stats: ParseStats | None = None, max_line: int = logs.MAX_LINE):
        self.path = Path(path)
        self.fmt = fmt
        self.stats = stats if stats is not None else ParseStats(str(path))
        self.max_line = max_line
        self.failed: str | None = None
        self._permanent = False  # the failure is the file's content, not its access
        self._resume = position
        self._from_start = from_start
        self._fh: IO[bytes] | None = None
        self._dev = self._ino = 0
        self._offset = 0  # just after the last line handed out (what the registry records)
        self._buf = b""  # bytes read after _offset that do not end a line yet
        self._drop = False  # inside an over-long line being skipped
        self._parser: Any = None
        self._pending: list[tuple[str, int]] = []  # lines held back until the format is known

    # -- position ---------------------------------------------------------------------
    def position(self) -> dict[str, int] | None:
        """``{"dev", "inode", "offset"}`` just after the last line handed out (None before any file)."""
        if not self._ino:
            return None
        offset = self._pending[0][1] if self._pending else self._offset
        return {"dev": self._dev, "inode": self._ino, "offset": offset}

    # -- opening ------------------------------------------------------------------------
    def _open(self, path: Path, offset: int) -> bool:
        try:
            fh = open(path, "rb")  # noqa: SIM115 - kept open across polls
        except FileNotFoundError:
            return False
        except OSError as exc:
            self._fail(f"{path}: cannot read: {exc.strerror or exc}")
            return False
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            fh.close()
            self._fail(f"{path}: not a regular file")
            return False
        if offset > st.st_size:
            log.warning("%s is shorter than its recorded offset (truncated): read from the start", path)
            offset = 0
        fh.seek(offset)
        self._close()
        self._fh, self._dev, self._ino, self._offset = fh, st.st_dev, st.st_ino, offset
        self._buf, self._drop = b"", False
        if offset and self._parser is None:
            self._prime(path)
        return True

    def _first_open(self) -> bool:
        resume, self._resume = self._resume, None
        if resume:
            try:
                st = os.stat(self.path)
            except FileNotFoundError:
                st = None
            except OSError as exc:
                self._fail(f"{self.path}: cannot read: {exc.strerror or exc}")
                return False
            same = st is not None and (st.st_dev, st.st_ino) == (resume.get("dev"), resume.get("inode"))
            if same:
                return self._open(self.path, int(resume.get("offset", 0)))
            rotated = _find_by_inode(self.path.parent, int(resume.get("dev", -1)), int(resume.get("inode", -1)))
            if rotated is not None:
                log.info("%s was rotated to %s while stopped: reading the rest of it first", self.path, rotated)
                if self._open(rotated, int(resume.get("offset", 0))):
                    return True
            else:
                log.warning("%s was replaced while stopped and the old file is gone: reading the new one "
                            "from its start", self.path)
            return self._open(self.path, 0)
        if not self._open(self.path, 0):
            return False
        if not self._from_start and self._fh is not None:
            end = self._fh.seek(0, os.SEEK_END)
            self._offset = end
            if end and self._parser is None:
                self._prime(self.path)
        return True

    def _prime(self, path: Path) -> None:
        """Resuming mid-file: read the format (and a header, for Zeek TSV and CSV) from its start."""
        try:
            fmt = self.fmt or logs.sniff_format(path)
        except OSError as exc:
            self._fail(f"{path}: cannot read: {exc.strerror or exc}")
            return
        if fmt is None:
            self._fail(f"{path}: log format not recognised", permanent=True)
            return
        parser = logs.make_parser(fmt)
        if fmt in ("zeek", "csv"):
            scratch = ParseStats(str(path))
            with open(path, "rb") as fh:
                for n, line in enumerate(logs.iter_lines(fh, scratch, self.max_line)):
                    if n >= logs.DETECT_LINES:
                        break
                    if fmt == "zeek" and line.startswith("#"):
                        parser.parse(line)
                    elif fmt == "csv" and line.strip():
                        try:
                            parser.parse(line)
                        except SecurityMonitorError as exc:
                            self._fail(f"{path}: {exc.message}", permanent=True)
                            return
                        break
                    elif fmt == "zeek" and line.strip():
                        break
        self._parser = parser

    def _close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def close(self) -> None:
        self._close()

    def _fail(self, reason: str, *, permanent: bool = False) -> None:
        self.failed = reason
        self._permanent = permanent
        self.stats.errors.append(reason)
        log.error("%s; this file is skipped, the others go on", reason)
        self._close()

    def retry(self) -> None:
        """Try a file that could not be read again (a later batch); a format failure stays."""
        if self.failed is not None and not self._permanent:
            self.failed = None

    # -- reading ------------------------------------------------------------------------
    def poll(self, max_lines: int = 10_000) -> Iterator[Record]:
        """Records of the complete lines available now (at most ``max_lines`` lines), then stop.

        Rotation and truncation are checked when the end of the file is reached.
        """
        if self.failed is not None:
            return
        if self._fh is None and not self._first_open():
            return
        lines = 0
        while lines < max_lines and self._fh is not None and self.failed is None:
            raw = self._fh.readline(self.max_line + 1)
            if not raw:
                if self._switch():
                    continue
                return
            if not raw.endswith(b"\n"):
                if self._drop:
                    self._offset += len(raw)  # still inside the skipped line
                    continue
                self._buf += raw
                if len(self._buf) > self.max_line:
                    self.stats.skip("too_long")
                    self._offset += len(self._buf)
                    self._buf, self._drop = b"", True
                continue
            whole = self._buf + raw
            self._buf = b""
            end = self._offset + len(whole)
            if self._drop:
                self._drop = False
                self._offset = end
                continue
            if len(whole) > self.max_line + 1:
                self.stats.skip("too_long")
                self._offset = end
                continue
            lines += 1
            yield from self._line(whole.decode("utf-8", "replace").rstrip("\r\n"), end)

    def _line(self, line: str, end: int) -> Iterator[Record]:
        if self._parser is None:
            self._pending.append((line, self._offset))
            self._offset = end
            detected = self.fmt or logs.detect_format(item for item, _ in self._pending)
            if detected is None:
                if len(self._pending) >= logs.DETECT_LINES:
                    self._pending = self._pending[:1]  # the position stays before them
                    self._fail(f"{self.path}: log format not recognised in its first "
                               f"{logs.DETECT_LINES} lines (give --log-format)", permanent=True)
                return
            self._parser = logs.make_parser(detected)
            held, self._pending = self._pending, []
            for item, _start in held:
                rec = self._parse(item)
                if rec is not None:
                    yield rec
            return
        self._offset = end
        rec = self._parse(line)
        if rec is not None:
            yield rec

    def _parse(self, line: str) -> Record | None:
        try:
            return logs.parse_line(self._parser, line, self.stats)
        except SecurityMonitorError as exc:  # e.g. a CSV header without addresses
            self._fail(f"{self.path}: {exc.message}", permanent=True)
            return None

    def _switch(self) -> bool:
        """At the end of the file: move on after a rotation or a truncation; False when idle."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False  # renamed, the new file not created yet: keep the old one open
        except OSError as exc:
            self._fail(f"{self.path}: cannot read: {exc.strerror or exc}")
            return False
        if (st.st_dev, st.st_ino) != (self._dev, self._ino):
            log.info("%s was rotated; reading the new file from its start", self.path)
            return self._open(self.path, 0)
        if st.st_size < self._offset + len(self._buf):
            log.info("%s was truncated (copytruncate); reading it again from its start", self.path)
            return self._open(self.path, 0)
        return False
