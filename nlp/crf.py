"""underthesea's word-segmentation CRF, decoded in Python from cached feature weights.

underthesea segments words with a linear-chain CRF (CRFsuite's model format, two labels:
``B-W`` begins a word, ``I-W`` continues one). For every token its featurizer writes 43
feature strings (the token, its neighbours up to two away, the bigrams and trigrams around
it, lower-cased, "is a number", "is title-cased", "is in the dictionary"), and the tagger
adds up the weight of each string for each label and runs Viterbi. Written out, those
strings are most of the cost of segmentation.

:class:`CrfDecoder` gives the same tags without writing them. Each feature depends on one
unit of text: a token, a pair of adjacent tokens or three of them. So the weights are
regrouped once, at load, by template and value, and the summed weights a unit gives to each
position around it (e.g. a bigram gives to the positions two before it up to one after it)
are computed once per distinct unit and cached. A sentence's emission scores are then a few
cached look-ups per token, and Viterbi over two labels is a handful of additions.

:func:`read_crfsuite` reads the model file (CRFsuite's ``lCRF``/``FOMC`` layout: a header,
a chunk of features ``(type, source, destination, weight)`` and two string tables in
CQDB layout, read through their id-ordered backward arrays).

What the featurizer computes was read off its output (``tests/nlp/test_segment.py`` checks
the decoder against underthesea's own featurizer and tagger on varied text):

* a window outside the sentence has the value ``BOS`` (it starts before the first token)
  or else ``EOS``, for every variant of the template;
* ``lower``: Python's ``str.lower``; ``is_in_dict``: the lower-cased text is in the bundled
  dictionary; ``isdigit``: the token reads as a 32-bit signed integer (``+``/``-`` and
  leading zeros allowed); ``istitle``: the first character of every space-separated part
  is its own upper case (so digits and punctuation count as title-cased).
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np

from core.errors import NlpError

LABELS = ("B-W", "I-W")
_TEMPLATE = re.compile(r"^T\[(-?\d+)(?:,(-?\d+))?\](?:\.(lower|isdigit|istitle|is_in_dict))?$")
_CACHE_LIMIT = 300_000  # distinct tokens, pairs or triples remembered per kind
_I32 = (-(2 ** 31), 2 ** 31 - 1)
# Two scores closer than this are a tie: the sums here run in another order than the
# tagger's, so which of two equal labellings wins is left to underthesea's own tagger.
TIE = 1e-9
_FEATURE = np.dtype([("type", "<i4"), ("src", "<i4"), ("dst", "<i4"), ("weight", "<f8")])


def read_crfsuite(path: Path) -> tuple[list[str], list[str], list[tuple[int, int, int, float]]]:
    """``(labels, attributes, features)`` of a CRFsuite CRF1d model file.

    ``features`` are ``(type, source, destination, weight)``: type 0 is a state feature
    (attribute id -> label id), type 1 a transition (label id -> label id).
    Raises :class:`NlpError` when the file is not in that layout.
    """
    data = Path(path).read_bytes()
    if len(data) < 48 or data[:4] != b"lCRF" or data[8:12] != b"FOMC":
        raise NlpError("not a CRFsuite CRF1d model", where=str(path))
    (_, _, _, _, _, n_labels, n_attrs, off_feat, off_labels, off_attrs, _, _) = struct.unpack_from(
        "<4sI4sIIIIIIIII", data, 0)
    if data[off_feat:off_feat + 4] != b"FEAT":
        raise NlpError("CRFsuite model without a feature chunk", where=str(path))
    n_feat = struct.unpack_from("<I", data, off_feat + 8)[0]
    if off_feat + 12 + 20 * n_feat > len(data):
        raise NlpError("CRFsuite model shorter than its feature chunk says", where=str(path))
    rows = np.frombuffer(data, dtype=_FEATURE, count=n_feat, offset=off_feat + 12)
    features = list(zip(rows["type"].tolist(), rows["src"].tolist(), rows["dst"].tolist(),
                        rows["weight"].tolist(), strict=True))
    labels = _cqdb_strings(data, off_labels, n_labels, path)
    attrs = _cqdb_strings(data, off_attrs, n_attrs, path)
    return labels, attrs, features


def _cqdb_strings(data: bytes, offset: int, count: int, path: Path) -> list[str]:
    """The strings of a CQDB table, by id (its backward array holds each record's offset)."""
    if data[offset:offset + 4] != b"CQDB":
        raise NlpError("CRFsuite model with a damaged string table", where=str(path))
    bwd_size, bwd_offset = struct.unpack_from("<II", data, offset + 16)
    if bwd_size < count:
        raise NlpError("CRFsuite string table shorter than the model says", where=str(path))
    out = []
    for i in range(count):
        record = offset + struct.unpack_from("<I", data, offset + bwd_offset + 4 * i)[0]
        rid, size = struct.unpack_from("<iI", data, record)
        if rid != i or size == 0:
            raise NlpError("CRFsuite string table out of order", where=str(path))
        out.append(data[record + 8:record + 8 + size - 1].decode("utf-8"))
    return out


def is_int32(token: str) -> bool:
    """What the featurizer's ``isdigit`` means: ``token`` reads as a 32-bit signed integer."""
    digits = token[1:] if token[:1] in "+-" else token
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    return _I32[0] <= int(token) <= _I32[1]


def is_title(text: str) -> bool:
    """What the featurizer's ``istitle`` means: each space-separated part starts with a
    character that is its own upper case."""
    return all(part[:1].upper() == part[:1] for part in text.split(" "))


class CrfDecoder:
    """``decoder(tokens)`` -> ``B-W``/``I-W`` tags, as underthesea's CRF tagger gives them.

    Built from the featurizer's template names, its dictionary and the model file; raises
    :class:`NlpError` for a template or a label it does not know (the caller then keeps
    underthesea's own featurizer and tagger).
    """

    def __init__(self, templates: list[str], dictionary: set[str] | frozenset[str], model: Path):
        labels, attrs, features = read_crfsuite(model)
        if tuple(labels) != LABELS:
            raise NlpError(f"the segmentation CRF has labels {labels}, not {list(LABELS)}",
                           where=str(model))
        self.dictionary = dictionary
        # template name -> (first offset, last offset, variant or "")
        parsed: dict[str, tuple[int, int, str]] = {}
        for name in templates:
            m = _TEMPLATE.match(name)
            if m is None:
                raise NlpError(f"unknown segmentation feature template {name!r}", where=str(model))
            start = int(m.group(1))
            end = int(m.group(2)) if m.group(2) is not None else start
            if not -2 <= start <= end <= 2 or end - start > 2:
                raise NlpError(f"segmentation feature template {name!r} out of range",
                               where=str(model))
            parsed[name] = (start, end, m.group(3) or "")
        # weights by template and value: {name: {value: [w_B, w_I]}}
        weights: dict[str, dict[str, list[float]]] = {name: {} for name in parsed}
        self.transition = [[0.0, 0.0], [0.0, 0.0]]
        for kind, src, dst, weight in features:
            if kind == 1:
                self.transition[src][dst] = weight
                continue
            if kind != 0:
                continue
            name, sep, value = attrs[src].partition("=")
            if not sep or name not in weights:
                continue  # an attribute no template of the featurizer writes
            weights[name].setdefault(value, [0.0, 0.0])[dst] += weight
        # templates grouped by window (start, end): [(variant, weights)]
        self.windows: dict[tuple[int, int], list[tuple[str, dict[str, list[float]]]]] = {}
        for name, (start, end, variant) in parsed.items():
            self.windows.setdefault((start, end), []).append((variant, weights[name]))
        # what a window outside the sentence adds: every variant has the value BOS or EOS
        self.outside = {
            window: {edge: self._sum(window, {v: edge for v, _ in group})
                     for edge in ("BOS", "EOS")}
            for window, group in self.windows.items()}
        self._edges: dict[tuple[int, int], tuple[float, float]] = {}
        self._tokens: dict[str, tuple[tuple[tuple[int, float, float], ...], bool]] = {}
        # pairs and triples are mostly new text, so they are not cached: their flags
        # (in the dictionary, title-cased) give one of four precomputed contributions, and
        # only the rare pair or triple that is itself a feature value adds its own weights
        self._ngrams = {width: self._ngram_tables(width) for width in (2, 3)}

    def _sum(self, window: tuple[int, int], values: dict[str, str]) -> tuple[float, float]:
        b = i = 0.0
        for variant, table in self.windows[window]:
            w = table.get(values.get(variant, ""))
            if w is not None:
                b += w[0]
                i += w[1]
        return b, i

    def _ngram_tables(self, width: int) -> tuple[dict, dict, dict]:
        """For units of ``width`` tokens: ``(by_flags, by_text, by_lower)``.

        ``by_flags[(in_dict, title)]`` is what the flag variants of every window of that
        width add, as ``[(shift, w_B, w_I)]``; ``by_text`` and ``by_lower`` map a text (or its
        lower-cased form) that is a feature value to what it adds, the same way.
        """
        by_flags: dict[tuple[bool, bool], list[tuple[int, float, float]]] = {}
        by_text: dict[str, list[tuple[int, float, float]]] = {}
        by_lower: dict[str, list[tuple[int, float, float]]] = {}
        for (start, end), group in self.windows.items():
            if end - start + 1 != width:
                continue
            for in_dict in (False, True):
                for title in (False, True):
                    b, i = self._sum((start, end), {"is_in_dict": str(in_dict),
                                                    "istitle": str(title), "": "\0", "lower": "\0"})
                    by_flags.setdefault((in_dict, title), []).append((-start, b, i))
            for variant, table in group:
                target = {"": by_text, "lower": by_lower}.get(variant)
                if target is None:
                    continue
                for value, (b, i) in table.items():
                    target.setdefault(value, []).append((-start, b, i))
        return by_flags, by_text, by_lower

    def _token(self, token: str) -> tuple[tuple[tuple[int, float, float], ...], bool]:
        """What one token adds, ``((shift, w_B, w_I), ...)``, and whether it is title-cased."""
        cached = self._tokens.get(token)
        if cached is not None:
            return cached
        lower = token.lower()
        title = is_title(token)
        values = {"": token, "lower": lower, "is_in_dict": str(lower in self.dictionary),
                  "istitle": str(title), "isdigit": str(is_int32(token))}
        adds = []
        for (start, end) in self.windows:
            if start == end:
                b, i = self._sum((start, end), values)
                if b or i:
                    adds.append((-start, b, i))
        if len(self._tokens) > _CACHE_LIMIT:
            self._tokens.clear()
        cached = self._tokens[token] = (tuple(adds), title)
        return cached

    def _edge(self, pos: int, n: int) -> tuple[float, float]:
        """What the windows reaching outside a sentence of ``n`` tokens add at ``pos``."""
        key = (pos, n) if n < 5 else (pos if pos < 2 else pos - n, 0)
        cached = self._edges.get(key)
        if cached is None:
            b = i = 0.0
            for (start, end), edges in self.outside.items():
                if pos + start < 0:
                    wb, wi = edges["BOS"]
                elif pos + end >= n:
                    wb, wi = edges["EOS"]
                else:
                    continue
                b += wb
                i += wi
            cached = self._edges[key] = (b, i)
        return cached

    def __call__(self, tokens: list[str]) -> list[str] | None:
        """The tags of ``tokens``; ``None`` when two labellings score (nearly) the same, as
        the tie may break either way here (the caller asks underthesea's tagger then)."""
        n = len(tokens)
        if n == 0:
            return []
        em_b = [0.0] * n
        em_i = [0.0] * n
        titles = []
        for j, token in enumerate(tokens):
            adds, title = self._token(token)
            titles.append(title)
            for shift, b, i in adds:
                pos = j + shift
                if 0 <= pos < n:
                    em_b[pos] += b
                    em_i[pos] += i
        dictionary = self.dictionary
        for width, (by_flags, by_text, by_lower) in self._ngrams.items():
            for j in range(n - width + 1):
                text = " ".join(tokens[j:j + width])
                lower = text.lower()
                title = titles[j] and titles[j + 1] and (width == 2 or titles[j + 2])
                adds = by_flags[(lower in dictionary, title)]
                extra = by_text.get(text)
                if extra is not None:
                    adds = adds + extra
                extra = by_lower.get(lower)
                if extra is not None:
                    adds = adds + extra
                for shift, b, i in adds:
                    pos = j + shift
                    if 0 <= pos < n:
                        em_b[pos] += b
                        em_i[pos] += i
        for pos in {0, 1, n - 2, n - 1}:
            if 0 <= pos < n:
                b, i = self._edge(pos, n)
                em_b[pos] += b
                em_i[pos] += i
        return self._viterbi(em_b, em_i)

    def _viterbi(self, em_b: list[float], em_i: list[float]) -> list[str] | None:
        (bb, bi), (ib, ii) = self.transition
        score_b, score_i = em_b[0], em_i[0]
        back: list[tuple[int, int]] = []
        gap = float("inf")  # the smallest margin of any choice made (a tie if under TIE)
        for pos in range(1, len(em_b)):
            from_b, from_i = score_b + bb, score_i + ib
            from_bi, from_ii = score_b + bi, score_i + ii
            gap = min(gap, abs(from_b - from_i), abs(from_bi - from_ii))
            back.append((0 if from_b >= from_i else 1, 0 if from_bi >= from_ii else 1))
            score_b = max(from_b, from_i) + em_b[pos]
            score_i = max(from_bi, from_ii) + em_i[pos]
        gap = min(gap, abs(score_b - score_i))
        if gap < TIE:
            return None
        label = 0 if score_b >= score_i else 1
        tags = [label]
        for prev in reversed(back):
            label = prev[label]
            tags.append(label)
        tags.reverse()
        return [LABELS[t] for t in tags]
