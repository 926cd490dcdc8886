"""The Vietnamese NLP pipeline: named stages over :class:`~core.documents.Post`, chosen by config.

>>> nlp = load_pipeline(settings)           # models load once per process
>>> post = nlp(post)                        # one post
>>> for post in nlp.pipe(posts, batch_size=64): ...   # batches, same order

Stages come from ``settings.nlp.stages`` (see :data:`nlp.stages.STAGES`). Each stage
runs on a whole batch; if it raises, the batch is retried post by post so one bad
post never fails its batch, and the failure is written to that post's
``analysis_errors`` (its labels stay empty: a failure is never turned into a label).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from core.documents import Post
from core.errors import NlpError
from core.settings import NlpSettings, Settings
from nlp.stages import STAGES, Doc, Stage

log = logging.getLogger(__name__)


class Pipeline:
    """An ordered list of stages with batched, failure-isolating execution.

    ``stats`` counts, since creation, posts seen, stage failures by stage name and the
    seconds spent in each stage.
    """

    def __init__(self, stages: list[Stage], settings: NlpSettings):
        self.stages = stages
        self.settings = settings
        self.stats: dict[str, Any] = {"posts": 0, "failures": {}, "seconds": {}, "reloads": 0,
                                      "reload_errors": 0}
        self._watch: tuple[NlpSettings, Path] | None = None  # see watch_versions
        self._versions_seen: tuple = ()
        self._checked_at = 0.0

    def watch_versions(self, nlp_settings: NlpSettings, data_dir: Path) -> Pipeline:
        """Follow the model versions of ``data_dir`` (:mod:`nlp.registry`): at most every
        ``reload_check_s`` seconds, before a batch, a promotion or rollback since the last
        check rebuilds the stages with the versions now current. A version that fails to
        load is logged and counted (``stats["reload_errors"]``); the stages in use go on."""
        self._watch = (nlp_settings, Path(data_dir))
        self._versions_seen = self._pointer_state()
        self._checked_at = time.monotonic()
        return self

    def _pointer_state(self) -> tuple:
        from nlp.models import TASKS
        from nlp.registry import POINTER

        assert self._watch is not None
        out = []
        for task in TASKS:
            try:
                st = (self._watch[1] / "models" / task / POINTER).stat()
                out.append((task, st.st_mtime_ns, st.st_size, st.st_ino))
            except FileNotFoundError:
                out.append((task, None))
        return tuple(out)

    def _maybe_reload(self) -> None:
        every = self.settings.reload_check_s
        if self._watch is None or every <= 0 or time.monotonic() - self._checked_at < every:
            return
        self._checked_at = time.monotonic()
        state = self._pointer_state()
        if state == self._versions_seen:
            return
        from nlp.registry import with_current_models

        try:
            fresh = build_pipeline(with_current_models(*self._watch))
        except Exception as exc:  # noqa: BLE001 - the stages in use go on; counted and logged
            self.stats["reload_errors"] += 1
            log.error("model versions changed in %s but could not be loaded (%s); "
                      "the models in use go on", self._watch[1], exc)
            self._versions_seen = state  # tried once per change, not before every batch
            return
        self.stages = fresh.stages
        self._versions_seen = state
        self.stats["reloads"] += 1
        log.info("model versions changed in %s: stages reloaded", self._watch[1])

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.stages]

    def __call__(self, post: Post) -> Post:
        return next(self.pipe([post], batch_size=1))

    def pipe(self, posts: Iterable[Post], batch_size: int | None = None) -> Iterator[Post]:
        """Analyse ``posts`` in batches of ``batch_size``; yield them in input order."""
        size = max(1, batch_size or self.settings.batch_size)
        batch: list[Post] = []
        for post in posts:
            batch.append(post)
            if len(batch) >= size:
                yield from self._run(batch)
                batch = []
        if batch:
            yield from self._run(batch)

    def _run(self, posts: list[Post]) -> list[Post]:
        self._maybe_reload()
        collect = gc.isenabled()
        gc.disable()
        try:
            return self._run_stages(posts)
        finally:
            if collect:
                gc.enable()

    def _run_stages(self, posts: list[Post]) -> list[Post]:
        docs = [Doc.of(p) for p in posts]
        shared: dict[Any, Any] = {}
        for stage in self.stages:
            todo = [d for d in docs if stage.applies(d)]
            if not todo:
                continue
            started = time.perf_counter()
            try:
                stage.process(todo, shared)
            except Exception as exc:  # noqa: BLE001 - isolate the failing post(s) below
                log.warning("stage %s failed on a batch of %d (%s); retrying post by post",
                            stage.name, len(todo), exc)
                for doc in todo:
                    try:
                        stage.process([doc], {})
                    except Exception as one:  # noqa: BLE001 - recorded on the post
                        self._fail(doc, stage.name, one)
            seconds = self.stats["seconds"]
            seconds[stage.name] = seconds.get(stage.name, 0.0) + time.perf_counter() - started
        self.stats["posts"] += len(posts)
        return posts

    def _fail(self, doc: Doc, stage: str, exc: Exception) -> None:
        message = f"{stage}: {type(exc).__name__}: {exc}"[:500]
        doc.post.analysis_errors.append(message)
        doc.failed.add(stage)
        failures = self.stats["failures"]
        failures[stage] = failures.get(stage, 0) + 1
        log.warning("post %s: %s", doc.post.id, message)


def build_pipeline(nlp_settings: NlpSettings) -> Pipeline:
    """Instantiate the stages named in ``nlp_settings.stages``, in that order."""
    stages: list[Stage] = []
    for name in nlp_settings.stages:
        cls = STAGES.get(name)
        if cls is None:
            raise NlpError(f"unknown NLP stage {name!r}",
                           hint=f"nlp.stages may name: {', '.join(STAGES)}")
        stages.append(cls(nlp_settings))
    return Pipeline(stages, nlp_settings)


def load_pipeline(settings: Settings | NlpSettings) -> Pipeline:
    """The pipeline configured by ``settings.nlp`` (or an :class:`NlpSettings` directly).

    Given the whole :class:`Settings`, a task with no model configured uses the version
    promoted in the data directory, if any (:mod:`nlp.registry`), else the shipped default,
    and the pipeline follows later promotions and rollbacks (:meth:`Pipeline.watch_versions`).
    """
    if isinstance(settings, NlpSettings):
        return build_pipeline(settings)
    from nlp.registry import with_current_models

    pipeline = build_pipeline(with_current_models(settings.nlp, settings.data_dir))
    return pipeline.watch_versions(settings.nlp, Path(settings.data_dir))
