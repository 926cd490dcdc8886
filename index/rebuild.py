"""Re-index the embedded store with this version's schema, reading each document's stored JSON."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import tantivy

from core.errors import CorruptIndexError, StoreError
from core.settings import Settings

log = logging.getLogger(__name__)


def _read_old(folder: Path):
    """The documents of an old index folder: one tantivy index, or a folder of shards."""
    from index.embedded import iter_index

    indices = [folder] if (folder / "meta.json").exists() else sorted(
        sub for sub in folder.iterdir() if (sub / "meta.json").exists())
    for path in indices:
        try:
            old = tantivy.Index.open(str(path))
        except (ValueError, OSError) as exc:
            raise CorruptIndexError(f"cannot read {path}: {exc}", where=str(path),
                                    hint="the documents in it cannot be recovered; reload your exports") from None
        yield from iter_index(old)


def rebuild(settings: Settings, *, kinds: list[str], from_dir: Path | None = None) -> dict[str, int]:
    """Move each kind's index aside, re-create it and re-add every document; returns counts."""
    if settings.store != "embedded":
        raise StoreError("rebuild is for the embedded store",
                         hint="on Elasticsearch use the reindex API after `iocwatch index init`")
    from index.embedded import EmbeddedStore

    counts: dict[str, int] = {}
    for kind in kinds:
        live = settings.path("index", kind)
        source = Path(from_dir) / kind if from_dir and (Path(from_dir) / kind).exists() else from_dir
        if source is None:
            if not live.exists():
                counts[kind] = 0
                continue
            source = live.with_name(kind + ".old")
            if source.exists():
                shutil.rmtree(source)
            live.rename(source)
        store = EmbeddedStore(settings)
        result = store.upsert_many(kind, _read_old(source))
        counts[kind] = len(result.stored)
        for doc_id, reason in result.rejected:
            log.warning("not re-indexed: %s: %s", doc_id, reason)
        log.info("%s: %d documents re-indexed from %s", kind, counts[kind], source)
    return counts
