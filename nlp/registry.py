"""Model versions in the data directory, and which one the pipeline uses.

Layout, per task (``topic``, ``sentiment``, ``toxicity``)::

    <data_dir>/models/<task>/v1/      a model directory (meta.json + the backend's files)
                            /v2/      ... plus version.json: how it was made and evaluated
                            /current  JSON pointer: {"version": "v2", "history": ["shipped", "v1"], ...}

The model shipped in the package (``nlp/models/<task>``) stays read-only and is the version
named ``shipped``; with no ``current`` pointer it is the one in use. A version directory is
written under a temporary name and renamed into place, and the pointer is replaced
atomically (:mod:`core.state`), so a crash or a kill leaves the previous state whole.
Writers (retraining, promotion, rollback) hold the writer lock of ``<data_dir>/models``
(:class:`core.state.WriterLock`): a second one waits or is refused with the holder named.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.errors import NlpError
from core.settings import NlpSettings
from core.state import WriterLock, atomic_write_json, read_json
from nlp.models import TASKS, default_model_dir, read_meta

log = logging.getLogger(__name__)

SHIPPED = "shipped"  # the version name of the model in the package
POINTER = "current"  # the pointer file in <data_dir>/models/<task>/
VERSION_FILE = "version.json"  # how a version was made and evaluated
_VERSION = re.compile(r"^v(\d+)$")


@dataclass
class ModelVersion:
    """One version of a task's model: ``name`` (``shipped``, ``v1``...), its directory and records."""

    task: str
    name: str
    path: Path
    meta: dict[str, Any] = field(default_factory=dict)  # the model's meta.json
    record: dict[str, Any] = field(default_factory=dict)  # version.json (not for shipped)

    @property
    def ref(self) -> str:
        """What :func:`nlp.models.load_classifier` takes for this version."""
        return f"default:{self.task}" if self.name == SHIPPED else str(self.path)


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise NlpError(f"unknown task {task!r}", hint=f"use one of {', '.join(TASKS)}")


class ModelRegistry:
    """The model versions kept in one data directory.

    Args:
        data_dir: the data directory (``settings.data_dir``); versions live in its ``models/``.
    """

    def __init__(self, data_dir: str | os.PathLike[str]):
        self.root = Path(data_dir) / "models"

    def lock(self, purpose: str, wait_s: float = 0.0) -> WriterLock:
        """The writer lock of the registry (``<data_dir>/models/.writer.lock``)."""
        return WriterLock(self.root, purpose, wait_s=wait_s)

    def task_dir(self, task: str) -> Path:
        _check_task(task)
        return self.root / task

    # ---- reading ------------------------------------------------------------------------
    def shipped(self, task: str) -> ModelVersion:
        path = default_model_dir(task)
        return ModelVersion(task, SHIPPED, path, read_meta(path))

    def version(self, task: str, name: str) -> ModelVersion:
        """The version called ``name``; raises :class:`NlpError` when there is none."""
        if name == SHIPPED:
            return self.shipped(task)
        path = self.task_dir(task) / name
        if not _VERSION.match(name) or not path.is_dir():
            raise NlpError(f"no {task} model version {name!r}",
                           hint="list the versions with `iocwatch nlp models`", where=str(path))
        return ModelVersion(task, name, path, read_meta(path), read_json(path / VERSION_FILE, {}))

    def versions(self, task: str) -> list[ModelVersion]:
        """Every version of ``task``: ``shipped`` first, then ``v1``, ``v2``... in order."""
        out = [self.shipped(task)]
        directory = self.task_dir(task)
        if directory.is_dir():
            numbered = sorted((int(m.group(1)), p.name) for p in directory.iterdir()
                              if p.is_dir() and (m := _VERSION.match(p.name)))
            out.extend(self.version(task, name) for _, name in numbered)
        return out

    def pointer(self, task: str) -> dict[str, Any]:
        """The ``current`` pointer of ``task`` (``{}`` when the shipped model is in use)."""
        return read_json(self.task_dir(task) / POINTER, {}) or {}

    def current(self, task: str) -> ModelVersion:
        """The version the pipeline uses: the pointer's, else ``shipped``."""
        name = self.pointer(task).get("version") or SHIPPED
        return self.version(task, name)

    # ---- writing (callers hold :meth:`lock`) --------------------------------------------
    def add(self, task: str, build: Callable[[Path], dict[str, Any]],
            record: dict[str, Any] | None = None) -> ModelVersion:
        """Make a new version: ``build(directory)`` writes the model there; the directory is
        then renamed to the next ``vN``. Not promoted: see :meth:`promote`."""
        directory = self.task_dir(task)
        directory.mkdir(parents=True, exist_ok=True)
        with self.lock(f"new {task} model version"):
            tmp = Path(tempfile.mkdtemp(dir=directory, prefix=".new-"))
            try:
                build(tmp)
                atomic_write_json(tmp / VERSION_FILE, {
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"), **(record or {})})
                numbers = [int(m.group(1)) for p in directory.iterdir()
                           if (m := _VERSION.match(p.name))]
                name = f"v{max(numbers, default=0) + 1}"
                os.rename(tmp, directory / name)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            _fsync_dir(directory)
        log.info("new %s model version %s", task, name)
        return self.version(task, name)

    def update_record(self, task: str, name: str, **fields: Any) -> None:
        """Add ``fields`` to a version's ``version.json`` (atomically)."""
        path = self.version(task, name).path / VERSION_FILE
        with self.lock(f"record {task} {name}"):
            atomic_write_json(path, {**read_json(path, {}), **fields})

    def promote(self, task: str, name: str, *, by: str | None = None) -> ModelVersion:
        """Make ``name`` the version in use (the previous one is remembered for rollback)."""
        target = self.version(task, name)
        with self.lock(f"promote {task} {name}"):
            pointer = self.pointer(task)
            now = pointer.get("version") or SHIPPED
            history = list(pointer.get("history") or [])
            if now != name:
                history.append(now)
            self._write_pointer(task, name, history, by, "promote")
        log.info("%s model %s is now in use (was %s)", task, name, now)
        return target

    def rollback(self, task: str, *, by: str | None = None) -> ModelVersion:
        """Go back to the version in use before the current one; raises when there is none."""
        with self.lock(f"rollback {task}"):
            pointer = self.pointer(task)
            now = pointer.get("version") or SHIPPED
            history = list(pointer.get("history") or [])
            if not history:
                raise NlpError(f"the {task} model in use ({now}) has no earlier version to go back to",
                               hint="`iocwatch nlp models` lists the versions")
            previous = history.pop()
            self.version(task, previous)  # it must still exist
            self._write_pointer(task, previous, history, by, "rollback")
        log.info("%s model rolled back from %s to %s", task, now, previous)
        return self.version(task, previous)

    def _write_pointer(self, task: str, name: str, history: list[str], by: str | None,
                       action: str) -> None:
        atomic_write_json(self.task_dir(task) / POINTER, {
            "version": name, "history": history, "action": action, "by": by,
            "at": datetime.now(UTC).isoformat(timespec="seconds")})


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def with_current_models(nlp: NlpSettings, data_dir: str | os.PathLike[str]) -> NlpSettings:
    """``nlp`` with each linear task that names no model pointed at its current version.

    A model set explicitly (``nlp.<task>_model``) or another backend is left as configured;
    a task with no promoted version keeps the shipped default.
    """
    registry = ModelRegistry(data_dir)
    changes: dict[str, Any] = {}
    for task in TASKS:
        if getattr(nlp, f"{task}_model") or getattr(nlp, f"{task}_backend") != "linear":
            continue
        current = registry.current(task)
        if current.name != SHIPPED:
            log.info("%s model: version %s from %s", task, current.name, current.path)
            changes[f"{task}_model"] = str(current.path)
    return nlp.model_copy(update=changes) if changes else nlp
