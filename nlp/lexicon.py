"""A civic sentiment lexicon with negation and contrast, scored sentence by sentence.

The word lists (``nlp/data/lexicon.yaml``, written for iocwatch) hold phrases of good
news ("khánh thành", "thông xe", "phấn khởi") and bad news ("ngập", "sạt lở", "bức
xúc", "lừa đảo") about city life, plus four kinds of cue:

* **negators** ("không", "chưa", "chẳng", "chả", "không còn", "hết"): up to
  ``NEGATION_WINDOW`` syllables before a phrase in the same clause, they turn its
  polarity around ("chưa hoàn thành" is bad news, "không còn ngập" good news);
* **remedies** ("khắc phục", "kéo giảm", "xử lý"): before a bad-news phrase they make
  it good news ("khắc phục sạt lở");
* **contrast** words ("nhưng", "tuy nhiên"): the clause after one weighs
  ``AFTER_CONTRAST`` times, the clauses before it ``BEFORE_CONTRAST`` times;
* **neutral** cues of notices, schedules and procedures ("thông báo", "hồ sơ").

:func:`analyse` scores each sentence (weighted clause sums) and the whole post (sum of
the sentence scores), and returns *cue tokens* that :class:`nlp.features.HashedFeaturizer`
adds to a text's features, so a classifier learns how much each cue counts on its
training data (the lexicon itself has no tuned weights). Text without diacritics
("khong con ngap") is matched against the lexicon without diacritics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import yaml

from nlp.textfold import fast_fold as fold

NEGATION_WINDOW = 3  # syllables between a negator or remedy and the phrase it turns around
BEFORE_CONTRAST = 0.5  # weight of the clauses before "nhưng", "tuy nhiên"...
AFTER_CONTRAST = 1.5  # weight of the clause after one
STRONG = 2.0  # a post whose |score| reaches this gets the "strong" cue token
# a few bigrams that begin with a negator but do not negate ("không khí" is the air)
_NOT_NEGATION = {("không", "khí"), ("không", "gian"), ("không", "chỉ"), ("không", "ít"),
                 ("không", "những"), ("không", "quân"), ("hết", "sức"), ("hết", "mình"),
                 ("không", "lưu"), ("chẳng", "hạn")}
_TOKEN = re.compile(r"\w+|[.!?;:\n,]", re.UNICODE)
_SENTENCE_END = frozenset(".!?;:\n")
_KINDS = ("positive", "negative", "negators", "remedies", "contrast", "neutral")


@dataclass
class Lexicon:
    """Phrases (tuples of syllables) by kind, indexed by first syllable, longest first."""

    index: dict[str, list[tuple[tuple[str, ...], str]]]
    folded_index: dict[str, list[tuple[tuple[str, ...], str]]]
    sizes: dict[str, int]

    @classmethod
    def from_lists(cls, lists: dict[str, list[str]]) -> Lexicon:
        index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        folded: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for kind in _KINDS:
            for phrase in lists.get(kind) or []:
                words = tuple(phrase.lower().split())
                if not words:
                    continue
                index.setdefault(words[0], []).append((words, kind))
                plain = tuple(fold(w) for w in words)
                folded.setdefault(plain[0], []).append((plain, kind))
        for table in (index, folded):
            for entries in table.values():
                entries.sort(key=lambda e: -len(e[0]))
        return cls(index, folded, {k: len(lists.get(k) or []) for k in _KINDS})


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """The bundled lexicon (``nlp/data/lexicon.yaml``), read once per process."""
    text = resources.files("nlp").joinpath("data/lexicon.yaml").read_text(encoding="utf-8")
    return Lexicon.from_lists(yaml.safe_load(text))


@dataclass
class LexiconResult:
    """``score`` of the post (> 0 good news), one score per sentence, and the cue tokens."""

    score: float = 0.0
    sentences: list[float] = field(default_factory=list)
    cues: list[str] = field(default_factory=list)


def _undiacritised(tokens: list[str]) -> bool:
    words = [t for t in tokens if t.isalpha()]
    if len(words) < 3:
        return False
    plain = sum(1 for w in words if fold(w) == w)
    return plain >= 0.9 * len(words)


def analyse(text: str, lexicon: Lexicon | None = None) -> LexiconResult:
    """Score ``text`` (any case) with the lexicon; see the module docstring."""
    lex = lexicon or load_lexicon()
    tokens = _TOKEN.findall(text.lower())
    table = lex.index
    if _undiacritised(tokens):
        tokens = [fold(t) for t in tokens]
        table = lex.folded_index
    result = LexiconResult()
    cues = result.cues
    clauses: list[float] = []  # finished clause scores of the current sentence
    weights: list[float] = []
    clause = 0.0
    after_contrast = False
    last_negator = last_remedy = -100
    pos = 0  # syllable position inside the current clause

    def end_sentence() -> None:
        nonlocal clause, clauses, weights, after_contrast
        clauses.append(clause)
        weights.append(AFTER_CONTRAST if after_contrast else 1.0)
        if after_contrast:
            weights[:-1] = [w * BEFORE_CONTRAST for w in weights[:-1]]
            if clause > 0:
                cues.append("after_contrast_pos")
            elif clause < 0:
                cues.append("after_contrast_neg")
        if any(c != 0 for c in clauses):
            score = sum(c * w for c, w in zip(clauses, weights, strict=True))
            result.sentences.append(score)
            if score > 0:
                cues.append("sentence_pos")
            elif score < 0:
                cues.append("sentence_neg")
        clauses, weights, clause, after_contrast = [], [], 0.0, False

    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        if tok in _SENTENCE_END:
            end_sentence()
            pos, last_negator, last_remedy = 0, -100, -100
            i += 1
            continue
        if tok == ",":
            pos, last_negator, last_remedy = pos + NEGATION_WINDOW + 1, -100, -100
            i += 1
            continue
        match = None
        for words, kind in table.get(tok, ()):
            if tuple(tokens[i:i + len(words)]) == words:
                match = (words, kind)
                break
        if match is None:
            pos += 1
            i += 1
            continue
        words, kind = match
        if kind == "negators":
            if len(words) > 1 or (i + 1 >= n or (tok, tokens[i + 1]) not in _NOT_NEGATION):
                last_negator = pos + len(words) - 1
        elif kind == "remedies":
            last_remedy = pos + len(words) - 1
            cues.append("remedy")
        elif kind == "contrast":
            clauses.append(clause)
            weights.append(AFTER_CONTRAST if after_contrast else 1.0)
            clause, after_contrast = 0.0, True
            last_negator = last_remedy = -100
            cues.append("contrast")
        elif kind == "neutral":
            cues.append("neutral")
        else:
            value = 1.0 if kind == "positive" else -1.0
            if pos - last_negator <= NEGATION_WINDOW:
                value = -value
                cues.append("negated_pos" if kind == "positive" else "negated_neg")
            elif value < 0 and pos - last_remedy <= NEGATION_WINDOW:
                value = 0.5
                cues.append("remedied_neg")
            else:
                cues.append("pos" if value > 0 else "neg")
            clause += value
        pos += len(words)
        i += len(words)
    end_sentence()
    result.score = sum(result.sentences)
    if result.score > 0:
        cues.append("post_pos" if result.score < STRONG else "post_pos_strong")
    elif result.score < 0:
        cues.append("post_neg" if result.score > -STRONG else "post_neg_strong")
    elif result.sentences:
        cues.append("post_mixed")
    else:
        cues.append("post_none")
    if any(s > 0 for s in result.sentences) and any(s < 0 for s in result.sentences):
        cues.append("sentences_mixed")
    return result
