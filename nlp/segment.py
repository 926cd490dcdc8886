"""Word segmentation with underthesea's bundled CRF (offline), as ``word_tokenize`` does it.

``underthesea.word_tokenize(text)`` runs three steps: a regular-expression tokenizer with a
per-token spelling normalisation (``đuợc`` becomes ``được``), the CRF featurizer, and the
CRF tagger that marks each token as the beginning (``B-W``) or inside (``I-W``) of a word.
:class:`Segmenter` runs the same steps on the same model and gives the same words, with
less work per call:

* the tokens are read straight from the regular expression's matches (``word_tokenize``
  looks each one up in the match's group dictionary) and the spelling normalisation of a
  token is remembered;
* the featurizer and the tagger are replaced by :class:`nlp.crf.CrfDecoder`, which reads
  the same model file and sums the same feature weights from per-token caches and
  precomputed tables instead of writing 43 feature strings per token. Where two
  labellings score the same (51 of 37,244 sentences in our check, runs of emoji and
  symbols), the sentence goes through underthesea's featurizer and tagger, so ties break
  as theirs do.

On the 20,000 texts of ``bench/nlp_bench.py`` the two give identical words;
``tests/nlp/test_segment.py`` checks the identity on varied text. Where underthesea's
internals are not as expected (another version or model), the segmenter says so once in
the log and uses underthesea's featurizer and tagger, or ``word_tokenize`` itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import NlpError
from nlp.crf import CrfDecoder

log = logging.getLogger(__name__)

_CACHE_LIMIT = 200_000
# checked at start against word_tokenize (the first) and underthesea's tagger (all): the
# first has a misspelt tone, an emoji, a URL and a hashtag; the others names, numbers,
# abbreviations, a one-token sentence and mixed case
_PROBES = ("Sáng nay đuợc nghỉ học, trời mưa to ở Cần Thơ 😀 http://a.vn #mua",
           "UBND TP.HCM vừa phê duyệt 1.250 tỷ đồng cho dự án chống ngập đường Nguyễn Hữu Cảnh.",
           "Ngập",
           "CẦU RẠCH MIỄU 2 thông xe sớm 3 tháng, người dân Bến Tre phấn khởi!!!",
           "Ông Nguyễn Văn A (45 tuổi, ngụ Q.Bình Thạnh) bị lừa 2,3 tỷ qua Zalo")


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
                     "tag": model.estimator.tag, "decode": None}
            if self._segment(_PROBES[0], parts) != self.word_tokenize(_PROBES[0]):
                raise ValueError("the direct path disagrees with word_tokenize")
        except (ImportError, AttributeError, TypeError, ValueError) as exc:
            log.warning("word segmentation falls back to underthesea.word_tokenize (%s)", exc)
            return None
        parts["decode"] = self._decoder(Path(wt.__file__).parent / "models", parts)
        return parts

    def _decoder(self, models: Path, parts: dict[str, Any]) -> CrfDecoder | None:
        """The Python decoder of the bundled model, if it gives the tagger's tags on the probes."""
        try:
            import joblib

            found = [d for d in sorted(models.iterdir())
                     if all((d / f).is_file() for f in ("models.bin", "features.bin", "dictionary.bin"))]
            if len(found) != 1:
                raise ValueError(f"{len(found)} segmentation models under {models}, expected 1")
            base = found[0]
            decoder = CrfDecoder(list(joblib.load(base / "features.bin")),
                                 joblib.load(base / "dictionary.bin"), base / "models.bin")
            for probe in _PROBES:
                tokens = self._tokens(probe, parts)
                tags = decoder(tokens)  # None: a tie, left to the tagger anyway
                if tags is not None and tags != parts["tag"](parts["featurize"]([[[t] for t in tokens]])[0]):
                    raise ValueError(f"the decoder disagrees with the tagger on {probe!r}")
            return decoder
        except (OSError, ValueError, TypeError, KeyError, NlpError) as exc:
            log.warning("word segmentation uses underthesea's featurizer and tagger (%s)", exc)
            return None

    def _tokens(self, text: str, parts: dict[str, Any]) -> list[str]:
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
        return tokens

    def _segment(self, text: str, parts: dict[str, Any]) -> list[str]:
        tokens = self._tokens(text, parts)
        if not tokens:
            return []
        tags = parts["decode"](tokens) if parts["decode"] is not None else None
        if tags is None:  # no decoder, or a tie it leaves to the tagger
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
