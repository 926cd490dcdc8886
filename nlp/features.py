"""Stateless hashed text features shared by every linear classifier of the pipeline.

A :class:`HashedFeaturizer` turns texts into sparse count matrices with two blocks:
syllable n-grams (plus an undiacritised copy of each syllable, so "khong" meets "không") and
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

from nlp.textfold import fast_fold as fold

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
    lexicon: bool = False  # add the civic lexicon's cue tokens (nlp.lexicon) to the syllable block

    def key(self) -> tuple:
        """What the counts of :meth:`HashedFeaturizer.transform` depend on (not ``lexicon``:
        the cue tokens are a separate matrix, see :class:`Counts`), so models with and
        without the lexicon share one featurisation of a batch."""
        return tuple(v for k, v in asdict(self).items() if k != "lexicon")


class Counts(tuple):
    """``(syllable block, character block)`` counts of a batch, plus the texts, so the
    lexicon cue tokens (:meth:`HashedFeaturizer.cues`) are computed at most once per
    batch, only when a model uses them."""

    def __new__(cls, words: sparse.csr_matrix, chars: sparse.csr_matrix,
                texts: Sequence[str] = ()) -> Counts:
        out = super().__new__(cls, (words, chars))
        out.texts = texts
        out._cues = None
        out._words_cues = None
        return out

    def cues(self, featurizer: HashedFeaturizer) -> sparse.csr_matrix:
        if self._cues is None:
            self._cues = featurizer.cues(self.texts)
        return self._cues

    def words_with_cues(self, featurizer: HashedFeaturizer) -> sparse.csr_matrix:
        """The syllable block plus the cue tokens (computed once per batch)."""
        if self._words_cues is None:
            self._words_cues = (self[0] + self.cues(featurizer)).tocsr()
        return self._words_cues


def _h(text: str, mask: int) -> int:
    return zlib.crc32(text.encode("utf-8", "surrogatepass")) & mask


class HashedFeaturizer:
    """Texts -> (syllable-block counts, character-block counts), both CSR float32."""

    _CACHE_LIMIT = 400_000

    def __init__(self, config: FeatureConfig | None = None):
        self.config = config or FeatureConfig()
        self._word_mask = (1 << self.config.word_bits) - 1
        self._char_mask = (1 << self.config.char_bits) - 1
        self._token_cache: dict[str, tuple[list[int], list[int], int]] = {}
        self._cue_cache: dict[str, int] = {}

    @property
    def n_word(self) -> int:
        return 1 << self.config.word_bits

    @property
    def n_char(self) -> int:
        return 1 << self.config.char_bits

    def tokens(self, text: str) -> list[str]:
        return _TOKEN.findall(text.lower())

    def _token_features(self, token: str) -> tuple[np.ndarray, np.ndarray, int]:
        cached = self._token_cache.get(token)
        if cached is not None:
            return cached
        cfg = self.config
        token_hash = zlib.crc32(token.encode("utf-8", "surrogatepass"))
        if cfg.folded:
            # a syllable with diacritics counts as itself and as its undiacritised form; a
            # syllable without is only the latter, so "khong" meets "không"
            plain = fold(token)
            words = [_h("f:" + plain, self._word_mask)]
            if plain != token:
                words.append(_h("w:" + token, self._word_mask))
        else:
            words = [_h("w:" + token, self._word_mask)]
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
        result = (np.asarray(words, dtype=np.int32), np.asarray(chars, dtype=np.int32), token_hash)
        self._token_cache[token] = result
        return result

    def transform(self, texts: Sequence[str]) -> Counts:
        """Raw counts for ``texts``: ``(syllable block, character block)`` as :class:`Counts`.

        Vectorised over the batch: the batch's distinct syllables get their cached
        feature rows, a documents x syllables count matrix is multiplied by them, and
        syllable n-grams are hashed with numpy from the syllables' cached hashes.
        """
        n_docs = len(texts)
        findall = _TOKEN.findall
        lists = [findall(t.lower()) for t in texts]
        vocab: dict[str, int] = {}
        inv_list = [vocab.setdefault(tok, len(vocab)) for toks in lists for tok in toks]
        if not vocab:
            return Counts(sparse.csr_matrix((n_docs, self.n_word), dtype=np.float32),
                          sparse.csr_matrix((n_docs, self.n_char), dtype=np.float32), texts)
        cache = self._token_cache
        feats = [cache.get(t) or self._token_features(t) for t in vocab]
        inv = np.asarray(inv_list, dtype=np.int64)
        lengths = np.fromiter((len(t) for t in lists), dtype=np.int64, count=n_docs)
        doc_ids = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        word_arrays = [f[0] for f in feats]
        char_arrays = [f[1] for f in feats]
        word_len = np.fromiter((len(a) for a in word_arrays), dtype=np.int64, count=len(feats))
        char_len = np.fromiter((len(a) for a in char_arrays), dtype=np.int64, count=len(feats))
        word_rows = [np.repeat(doc_ids, word_len[inv])]
        word_cols = [np.concatenate([word_arrays[i] for i in inv_list]).astype(np.int64)]
        n_max = self.config.word_ngrams
        if n_max >= 2 and len(inv) > 1:
            hashes = np.fromiter((f[2] for f in feats), dtype=np.uint64, count=len(feats))[inv]
            mask = np.uint64(self._word_mask)
            prime = np.uint64(1_000_003)
            for n in range(2, n_max + 1):
                if len(inv) < n:
                    break
                m = len(inv) - n + 1
                h = np.full(m, np.uint64(n), dtype=np.uint64)
                for k in range(n):
                    h = (h * prime) ^ hashes[k:m + k]
                same = doc_ids[:m] == doc_ids[n - 1:]
                word_rows.append(doc_ids[:m][same])
                word_cols.append((h & mask)[same].astype(np.int64))
        words = self._coo(np.concatenate(word_rows), np.concatenate(word_cols), n_docs, self.n_word)
        chars = self._coo(np.repeat(doc_ids, char_len[inv]),
                          np.concatenate([char_arrays[i] for i in inv_list]).astype(np.int64),
                          n_docs, self.n_char)
        return Counts(words, chars, texts)

    def cues(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """Counts of each text's lexicon cue tokens (hashed "lex:" + cue), in the columns
        of the syllable block."""
        rows, cols = self._lexicon_features(texts)
        return self._coo(rows, cols, len(texts), self.n_word)

    def _lexicon_features(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Rows and hashed columns of each text's lexicon cue tokens ("lex:" + cue)."""
        from nlp.lexicon import analyse, load_lexicon

        lexicon = load_lexicon()
        cache = self._cue_cache
        rows: list[int] = []
        cols: list[int] = []
        for i, text in enumerate(texts):
            for cue in analyse(text, lexicon).cues:
                col = cache.get(cue)
                if col is None:
                    col = cache[cue] = _h("lex:" + cue, self._word_mask)
                rows.append(i)
                cols.append(col)
        return np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)

    @staticmethod
    def _coo(rows: np.ndarray, cols: np.ndarray, n_rows: int, width: int) -> sparse.csr_matrix:
        m = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                              shape=(n_rows, width))
        m.sum_duplicates()
        return m

    @staticmethod
    def _csr(idx: list[int], ptr: list[int], width: int) -> sparse.csr_matrix:
        data = np.ones(len(idx), dtype=np.float32)
        m = sparse.csr_matrix((data, np.asarray(idx, dtype=np.int32), np.asarray(ptr, dtype=np.int64)),
                              shape=(len(ptr) - 1, width))
        m.sum_duplicates()
        return m


def tfidf(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear TF (1 + log tf) times IDF, each row L2-normalised (all O(nnz) in numpy)."""
    data = (1.0 + np.log(counts.data)) * idf[counts.indices]
    indptr = counts.indptr
    squares = np.concatenate([[0.0], np.cumsum(data.astype(np.float64) ** 2)])
    norms = np.sqrt(squares[indptr[1:]] - squares[indptr[:-1]])
    norms[norms == 0] = 1.0
    data = data / np.repeat(norms, np.diff(indptr))
    return sparse.csr_matrix((data.astype(np.float32), counts.indices, indptr), shape=counts.shape)


def fit_idf(counts: sparse.csr_matrix, min_df: int = 1) -> np.ndarray:
    """Smoothed IDF as scikit-learn computes it: ``ln((1 + n) / (1 + df)) + 1``.

    Columns found in fewer than ``min_df`` training documents get weight 0, which drops
    them from :func:`tfidf` (and from its L2 norm) without changing the matrix shape.
    """
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
    if min_df > 1:
        idf[df < min_df] = 0.0
    return idf
