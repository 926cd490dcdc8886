"""Word segmentation with underthesea's bundled CRF (offline), as ``word_tokenize`` does it.

``underthesea.word_tokenize(text)`` runs three steps: a regular-expression tokenizer with a
per-token spelling normalisation (``đuợc`` becomes ``được``), the CRF featurizer, and the
CRF tagger that marks each token as the beginning (``B-W``) or inside (``I-W``) of a word.
:class:`Segmenter` runs the same steps on the same model and gives the same words, with
less work per call: the tokens are read straight from the regular expression's matches
(``word_tokenize`` looks each one up in the match's group dictionary) and the spelling
normalisation of a token is remembered. On the 20,000 texts of ``bench/nlp_bench.py`` the
two give identical words, about 9 % faster (tests/nlp/test_segment.py checks the identity on
varied text). Where underthesea's internals are not as expected (another version), the
segmenter says so once in the log and calls ``word_tokenize`` itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from core.errors import NlpError

log = logging.getLogger(__name__)

_CACHE_LIMIT = 200_000


class Segmenter:
    """``segmenter(text)`` -> the words of ``text`` (syllables of a word joined by a space)."""

    def __init__(self) -> None:
        try:
            from underthesea import word_tokenize
        except ImportError as exc:
            raise NlpError("word segmentation needs underthesea",
                           hint="install underthesea, or drop 'segment' from nlp.stages") from exc
        self.word_tokenize: Callable[[str], list[str]] = word_tokenize
        word_tokenize("khởi động")  # loads the CRF model once
        self._norm_cache: dict[str, str] = {}
        self._fast = self._internals()

    def _internals(self) -> dict[str, Any] | None:
        try:
            import underthesea.pipeline.word_tokenize as wt
            from underthesea.pipeline.text_normalize.character_normalize import (
                normalize_characters_in_text,
            )
            from underthesea.pipeline.text_normalize.token_normalize import token_normalize
            from underthesea.pipeline.word_tokenize import regex_tokenize

            model = wt.word_tokenize_model
            parts = {"regex": regex_tokenize, "chars": normalize_characters_in_text,
                     "token": token_normalize, "featurize": model.featurizer.process,
                     "tag": model.estimator.tag}
            probe = "Sáng nay đuợc nghỉ học, trời mưa to ở Cần Thơ 😀 http://a.vn #mua"
            if self._segment(probe, parts) != self.word_tokenize(probe):
                raise ValueError("the direct path disagrees with word_tokenize")
            return parts
        except (ImportError, AttributeError, TypeError, ValueError) as exc:
            log.warning("word segmentation falls back to underthesea.word_tokenize (%s)", exc)
            return None

    def _segment(self, text: str, parts: dict[str, Any]) -> list[str]:
        text = parts["chars"](text)
        cache = self._norm_cache
        tokens: list[str] = []
        for match in parts["regex"].patterns.finditer(text):
            raw = match.group()
            token = cache.get(raw)
            if token is None:
                if len(cache) > _CACHE_LIMIT:
                    cache.clear()
                token = cache[raw] = parts["token"](raw)
            tokens.append(token)
        if not tokens:
            return []
        tags = parts["tag"](parts["featurize"]([[[t] for t in tokens]])[0])
        words: list[str] = []
        for tag, token in zip(tags, tokens, strict=True):
            if tag == "I-W" and words:
                words[-1] = f"{words[-1]} {token}"
            else:
                words.append(token)
        return words

    def __call__(self, text: str) -> list[str]:
        if self._fast is None:
            return self.word_tokenize(text)
        return self._segment(text, self._fast)
