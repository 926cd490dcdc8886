"""What was already collected: canonical URL, post id, content fingerprint and simhash.

Persisted in SQLite under ``<data_dir>/crawl/seen.sqlite`` so incremental runs skip
known URLs before downloading them, drop the same content seen again on the same
source, and link near-duplicate reposts to the post first collected.

Near-duplicates: a 64-bit simhash of word 3-shingles finds candidates (8 bands of 8
bits, within :data:`NEAR_DISTANCE` bits), and a 64-permutation MinHash signature
confirms them (estimated Jaccard similarity of the shingles >= :data:`NEAR_JACCARD`).
Simhash alone cannot tell a repost with a credit line from two short articles that
share a few stock sentences; the shingle overlap can.

A post is recorded only after the sink accepted it, so a crash never marks as seen
something that was not delivered.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from core.ids import canonical_url
from core.text import fold

NEAR_DISTANCE = 14  # simhash candidates: Hamming distance (of 64 bits) at most this
NEAR_JACCARD = 0.7  # confirmed near-duplicate: estimated shingle Jaccard at least this
N_PERM = 64  # MinHash permutations (std. error of the Jaccard estimate ~0.06 at 0.7)
MIN_WORDS_NEAR = 25  # shorter texts are compared by exact fingerprint only
_WORD = re.compile(r"\w+", re.UNICODE)
_MASK64 = (1 << 64) - 1


def text_words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def fingerprint(title: str, text: str, toks: list[str] | None = None) -> str:
    """Exact content fingerprint: SHA-1 of the folded words of title and body.

    ``toks`` are :func:`text_words` of ``f"{title}\n{text}"`` when already computed.
    """
    toks = text_words(f"{title}\n{text}") if toks is None else toks
    return hashlib.sha1(" ".join(toks).encode("utf-8")).hexdigest()


@lru_cache(maxsize=200_000)
def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")


def _shingle_hashes(toks: list[str]):
    """64-bit hashes of the distinct word 3-shingles, as a uint64 array.

    Each word is hashed once (BLAKE2b, cached); a shingle's hash mixes its three word
    hashes with splitmix64 arithmetic, vectorised. Stable across processes and runs.
    """
    import numpy as np

    w = np.fromiter((_word_hash(t) for t in toks), dtype=np.uint64, count=len(toks))
    with np.errstate(over="ignore"):
        x = w[:-2] * np.uint64(0x9E3779B97F4A7C15) ^ w[1:-1] * np.uint64(0xC2B2AE3D27D4EB4F) ^ w[2:]
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return np.unique(x)


def _simhash_of(hashes) -> int:
    import numpy as np

    bits = np.unpackbits(hashes.astype(">u8").view(np.uint8).reshape(-1, 8), axis=1)  # MSB first
    keep = bits.sum(axis=0) * 2 > len(hashes)
    return int.from_bytes(np.packbits(keep).tobytes(), "big")


@lru_cache(maxsize=1)
def _perms():
    import numpy as np

    rng = np.random.RandomState(20251117)  # fixed: signatures must compare across runs
    a = rng.randint(1, 2**31 - 1, size=N_PERM).astype(np.uint64)
    b = rng.randint(0, 2**31 - 1, size=N_PERM).astype(np.uint64)
    return a, b


def _minhash_of(hashes) -> bytes:
    import numpy as np

    h = hashes & np.uint64(0xFFFFFFFF)
    a, b = _perms()
    prime = np.uint64(4294967311)  # > 2**32; a*h+b stays below 2**63
    sig = ((a[:, None] * h[None, :] + b[:, None]) % prime).min(axis=1) & np.uint64(0xFFFFFFFF)
    return sig.astype("<u4").tobytes()


def signatures(text: str, toks: list[str] | None = None) -> tuple[int | None, bytes | None]:
    """``(simhash, minhash)`` of ``text`` computed from one pass over its shingles;
    ``(None, None)`` when the text is too short to compare."""
    toks = text_words(text) if toks is None else toks
    if len(toks) < MIN_WORDS_NEAR:
        return None, None
    hashes = _shingle_hashes(toks)
    return _simhash_of(hashes), _minhash_of(hashes)


def simhash(text: str, toks: list[str] | None = None) -> int | None:
    """64-bit simhash of word 3-shingles; ``None`` when the text is too short to compare."""
    return signatures(text, toks)[0]


def minhash(text: str, toks: list[str] | None = None) -> bytes | None:
    """MinHash signature (64 x uint32) of word 3-shingles; ``None`` when the text is too short."""
    return signatures(text, toks)[1]


def jaccard(sig_a: bytes | None, sig_b: bytes | None) -> float:
    """Estimated Jaccard similarity of two :func:`minhash` signatures (0 when one is missing)."""
    import numpy as np

    if not sig_a or not sig_b:
        return 0.0
    return float((np.frombuffer(sig_a, "<u4") == np.frombuffer(sig_b, "<u4")).mean())


def is_near(sh_a: int | None, sig_a: bytes | None, sh_b: int | None, sig_b: bytes | None) -> bool:
    """True when two texts are near-duplicates (see the module docstring)."""
    if sh_a is None or sh_b is None:
        return False
    return bin((sh_a ^ sh_b) & _MASK64).count("1") <= NEAR_DISTANCE and jaccard(sig_a, sig_b) >= NEAR_JACCARD


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
                b4 INTEGER, b5 INTEGER, b6 INTEGER, b7 INTEGER, minhash BLOB,
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

    def near_duplicate(self, sh: int | None, sig: bytes | None = None,
                       exclude_id: str | None = None) -> str | None:
        """Id of the first collected post that is a near-duplicate of (``sh``, ``sig``)."""
        if sh is None:
            return None
        b = _bands(sh)
        rows = self.db.execute(
            "SELECT id, simhash, minhash FROM seen WHERE b0 = ? OR b1 = ? OR b2 = ? OR b3 = ? "
            "OR b4 = ? OR b5 = ? OR b6 = ? OR b7 = ? ORDER BY rowid",
            b,
        ).fetchall()
        for pid, other, other_sig in rows:
            if pid == exclude_id or other is None:
                continue
            if is_near(sh, sig, other & _MASK64, other_sig):
                return pid
        return None

    def add_many(self, posts: Iterable,
                 hashes: dict[str, tuple[int | None, bytes | None]] | None = None) -> int:
        """Record delivered posts (``core.documents.Post``); returns how many rows changed.

        ``hashes`` maps post id to its already computed ``(simhash, minhash)``.
        """
        rows = []
        hashes = hashes or {}
        for p in posts:
            fp = p.fingerprint or fingerprint(p.title, p.text)
            sh, sig = hashes[p.id] if p.id in hashes else signatures(f"{p.title}\n{p.text}")
            bands = _bands(sh) if sh is not None else [None] * N_BANDS
            rows.append((p.id, canonical_url(p.url) if p.url else None, p.source, fp,
                         _signed(sh) if sh is not None else None, *bands, sig))
        before = self.db.total_changes
        self.db.executemany(
            "INSERT INTO seen (id, url, source, fingerprint, simhash, b0, b1, b2, b3, b4, b5, b6, b7, minhash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "fingerprint = excluded.fingerprint, simhash = excluded.simhash, b0 = excluded.b0, "
            "b1 = excluded.b1, b2 = excluded.b2, b3 = excluded.b3, b4 = excluded.b4, "
            "b5 = excluded.b5, b6 = excluded.b6, b7 = excluded.b7, minhash = excluded.minhash",
            rows,
        )
        self.db.commit()
        return self.db.total_changes - before

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM seen").fetchone()[0]

    def close(self) -> None:
        self.db.close()
