"""What was already collected: canonical URL, post id, content fingerprint and simhash.

Persisted in SQLite under ``<data_dir>/crawl/seen.sqlite`` so incremental runs skip
known URLs before downloading them, drop the same content seen again on the same
source, and link near-duplicate reposts (simhash within :data:`NEAR_DISTANCE` bits)
to the post first collected.

A post is recorded only after the sink accepted it, so a crash never marks as seen
something that was not delivered.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from core.ids import canonical_url
from core.text import fold

NEAR_DISTANCE = 6  # Hamming distance (of 64 bits) under which two texts are near-duplicates
MIN_WORDS_NEAR = 25  # shorter texts are compared by exact fingerprint only
_WORD = re.compile(r"\w+", re.UNICODE)
_MASK64 = (1 << 64) - 1


def text_words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def fingerprint(title: str, text: str) -> str:
    """Exact content fingerprint: SHA-1 of the folded words of title and body."""
    return hashlib.sha1(" ".join(text_words(f"{title}\n{text}")).encode("utf-8")).hexdigest()


def simhash(text: str) -> int | None:
    """64-bit simhash of word 3-shingles; ``None`` when the text is too short to compare."""
    toks = text_words(text)
    if len(toks) < MIN_WORDS_NEAR:
        return None
    import numpy as np

    shingles = [" ".join(toks[i:i + 3]).encode() for i in range(len(toks) - 2)]
    hashes = np.array([int.from_bytes(hashlib.blake2b(sh, digest_size=8).digest(), "big")
                       for sh in shingles], dtype=np.uint64)
    bits = (hashes[:, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)
    weights = bits.sum(axis=0).astype(np.int64) * 2 - len(shingles)
    value = 0
    for bit in np.nonzero(weights > 0)[0]:
        value |= 1 << int(bit)
    return value


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


N_BANDS = 8  # 8-bit bands: any two hashes within 7 bits share at least one band


def _bands(v: int) -> list[int]:
    return [(v >> (8 * i)) & 0xFF for i in range(N_BANDS)]


class SeenStore:
    """SQLite-backed memory of collected posts (one writer: the crawling process)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS seen (
                id TEXT PRIMARY KEY, url TEXT, source TEXT, fingerprint TEXT,
                simhash INTEGER, b0 INTEGER, b1 INTEGER, b2 INTEGER, b3 INTEGER,
                b4 INTEGER, b5 INTEGER, b6 INTEGER, b7 INTEGER,
                at TEXT DEFAULT CURRENT_TIMESTAMP);
            CREATE INDEX IF NOT EXISTS seen_url ON seen(url);
            CREATE INDEX IF NOT EXISTS seen_fp ON seen(fingerprint);
            CREATE INDEX IF NOT EXISTS seen_b0 ON seen(b0);
            CREATE INDEX IF NOT EXISTS seen_b1 ON seen(b1);
            CREATE INDEX IF NOT EXISTS seen_b2 ON seen(b2);
            CREATE INDEX IF NOT EXISTS seen_b3 ON seen(b3);
            CREATE INDEX IF NOT EXISTS seen_b4 ON seen(b4);
            CREATE INDEX IF NOT EXISTS seen_b5 ON seen(b5);
            CREATE INDEX IF NOT EXISTS seen_b6 ON seen(b6);
            CREATE INDEX IF NOT EXISTS seen_b7 ON seen(b7);
            """
        )

    def has_url(self, url: str) -> bool:
        row = self.db.execute("SELECT 1 FROM seen WHERE url = ? LIMIT 1", (canonical_url(url),)).fetchone()
        return row is not None

    def has_id(self, post_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM seen WHERE id = ?", (post_id,)).fetchone() is not None

    def fingerprint_of(self, post_id: str) -> str | None:
        row = self.db.execute("SELECT fingerprint FROM seen WHERE id = ?", (post_id,)).fetchone()
        return row[0] if row else None

    def same_content(self, fp: str) -> tuple[str, str | None] | None:
        """``(id, source)`` of the first post with exactly this fingerprint."""
        row = self.db.execute("SELECT id, source FROM seen WHERE fingerprint = ? ORDER BY rowid LIMIT 1",
                              (fp,)).fetchone()
        return (row[0], row[1]) if row else None

    def near_duplicate(self, sh: int | None, exclude_id: str | None = None) -> str | None:
        """Id of the first collected post within :data:`NEAR_DISTANCE` bits of ``sh``."""
        if sh is None:
            return None
        b = _bands(sh)
        rows = self.db.execute(
            "SELECT id, simhash FROM seen WHERE b0 = ? OR b1 = ? OR b2 = ? OR b3 = ? "
            "OR b4 = ? OR b5 = ? OR b6 = ? OR b7 = ? ORDER BY rowid",
            b,
        ).fetchall()
        for pid, other in rows:
            if pid == exclude_id or other is None:
                continue
            if bin((other & _MASK64) ^ sh).count("1") <= NEAR_DISTANCE:
                return pid
        return None

    def add_many(self, posts: Iterable, simhashes: dict[str, int | None] | None = None) -> int:
        """Record delivered posts (``core.documents.Post``); returns how many rows changed.

        ``simhashes`` maps post id to an already computed :func:`simhash`.
        """
        rows = []
        simhashes = simhashes or {}
        for p in posts:
            fp = p.fingerprint or fingerprint(p.title, p.text)
            sh = simhashes[p.id] if p.id in simhashes else simhash(f"{p.title}\n{p.text}")
            bands = _bands(sh) if sh is not None else [None] * N_BANDS
            rows.append((p.id, canonical_url(p.url) if p.url else None, p.source, fp,
                         _signed(sh) if sh is not None else None, *bands))
        before = self.db.total_changes
        self.db.executemany(
            "INSERT INTO seen (id, url, source, fingerprint, simhash, b0, b1, b2, b3, b4, b5, b6, b7) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "fingerprint = excluded.fingerprint, simhash = excluded.simhash, b0 = excluded.b0, "
            "b1 = excluded.b1, b2 = excluded.b2, b3 = excluded.b3, b4 = excluded.b4, "
            "b5 = excluded.b5, b6 = excluded.b6, b7 = excluded.b7",
            rows,
        )
        self.db.commit()
        return self.db.total_changes - before

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM seen").fetchone()[0]

    def close(self) -> None:
        self.db.close()
