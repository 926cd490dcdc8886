"""Stateless hashed text features shared by every linear classifier of the pipeline.

A :class:`HashedFeaturizer` turns texts into sparse count matrices with two blocks:
syllable n-grams (plus undiacritised unigrams, so "khong" meets "không") and
character n-grams inside each syllable. Hashing is deterministic (CRC-32), so the same
configuration gives the same columns in every process: the pipeline computes the
counts of a batch once and each classifier applies its own IDF weights and model.
Per-syllable features are cached, which keeps featurisation far cheaper than word
segmentation.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import sparse

from core.text import fold

_TOKEN = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class FeatureConfig:
    """Which features, and how many hashed columns per block (powers of two)."""

    word_ngrams: int = 2  # syllable n-grams 1..word_ngrams
    char_min: int = 1  # character n-grams inside a syllable, padded with spaces
    char_max: int = 5
    folded: bool = True  # also an undiacritised copy of each syllable
    word_bits: int = 20  # 2**bits columns for the syllable block
    char_bits: int = 20  # and for the character block

    def key(self) -> tuple:
        return tuple(asdict(self).values())


def _h(text: str, mask: int) -> int:
    return zlib.crc32(text.encode("utf-8", "surrogatepass")) & mask


class HashedFeaturizer:
    """Texts -> (syllable-block counts, character-block counts), both CSR float32."""

    _CACHE_LIMIT = 400_000

    def __init__(self, config: FeatureConfig | None = None):
        self.config = config or FeatureConfig()
        self._word_mask = (1 << self.config.word_bits) - 1
        self._char_mask = (1 << self.config.char_bits) - 1
        self._token_cache: dict[str, tuple[list[int], list[int]]] = {}

    @property
    def n_word(self) -> int:
        return 1 << self.config.word_bits

    @property
    def n_char(self) -> int:
        return 1 << self.config.char_bits

    def tokens(self, text: str) -> list[str]:
        return _TOKEN.findall(text.lower())

    def _token_features(self, token: str) -> tuple[list[int], list[int]]:
        cached = self._token_cache.get(token)
        if cached is not None:
            return cached
        cfg = self.config
        words = [_h("w:" + token, self._word_mask)]
        if cfg.folded:
            plain = fold(token)
            if plain != token:
                words.append(_h("f:" + plain, self._word_mask))
        padded = f" {token} "
        chars: list[int] = []
        for n in range(cfg.char_min, cfg.char_max + 1):
            if n > len(padded):
                break
            for i in range(len(padded) - n + 1):
                gram = padded[i:i + n]
                if gram != " " * n:
                    chars.append(_h(gram, self._char_mask))
        if len(self._token_cache) > self._CACHE_LIMIT:
            self._token_cache.clear()
        result = (words, chars)
        self._token_cache[token] = result
        return result

    def transform(self, texts: Sequence[str]) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """Raw counts for ``texts``: ``(syllable block, character block)``."""
        w_idx: list[int] = []
        c_idx: list[int] = []
        w_ptr = [0]
        c_ptr = [0]
        n_max = self.config.word_ngrams
        mask = self._word_mask
        for text in texts:
            toks = self.tokens(text)
            for tok in toks:
                words, chars = self._token_features(tok)
                w_idx.extend(words)
                c_idx.extend(chars)
            for n in range(2, n_max + 1):
                for i in range(len(toks) - n + 1):
                    w_idx.append(_h(f"{n}:" + " ".join(toks[i:i + n]), mask))
            w_ptr.append(len(w_idx))
            c_ptr.append(len(c_idx))
        return (self._csr(w_idx, w_ptr, self.n_word), self._csr(c_idx, c_ptr, self.n_char))

    @staticmethod
    def _csr(idx: list[int], ptr: list[int], width: int) -> sparse.csr_matrix:
        data = np.ones(len(idx), dtype=np.float32)
        m = sparse.csr_matrix((data, np.asarray(idx, dtype=np.int32), np.asarray(ptr, dtype=np.int64)),
                              shape=(len(ptr) - 1, width))
        m.sum_duplicates()
        return m


def tfidf(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear TF (1 + log tf) times IDF, each row L2-normalised."""
    m = counts.copy()
    m.data = 1.0 + np.log(m.data)
    m = m.multiply(idf.reshape(1, -1)).tocsr().astype(np.float32)
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.diags(1.0 / norms).dot(m).tocsr().astype(np.float32)


def fit_idf(counts: sparse.csr_matrix) -> np.ndarray:
    """Smoothed IDF as scikit-learn computes it: ``ln((1 + n) / (1 + df)) + 1``."""
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    return (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
