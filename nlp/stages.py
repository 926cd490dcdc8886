"""The named pipeline stages, registered with :func:`register_stage`.

A stage works on a batch of :class:`Doc` (a post plus the scratch state stages share:
the analysis text and the segmented words) in :meth:`Stage.process`. Calling a stage on
a single post (``stage(post)``) runs it on a batch of one. Stages never swallow
failures: the pipeline records them on the post.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from core.documents import RULES_DISAGREE_FLAG, SENTIMENTS, TOXICITIES, Entity, Post
from core.errors import NlpError
from core.settings import NlpSettings

log = logging.getLogger(__name__)

STAGES: dict[str, type[Stage]] = {}
# Texts longer than this are judged for toxicity passage by passage (see ToxicityStage):
# the shipped model learnt from sentences and short posts. On whole news articles it
# flagged 85 of the demo's 277 clean articles, an insult inside an article drowned, and
# passages of up to 400 characters still flagged 45; sentence-sized passages flagged 16,
# and none since the corpus has formal passages (nlp/data/corpus/README.md).
PASSAGE_CHARS = 150
MAX_PASSAGES = 40  # the first 40 passages (about 6,000 characters) of a long post are judged
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\s*\n+\s*")
_NOT_WORDS = re.compile(r"\bemo_[a-z]+\b|(?:https?://|www\.)\S+|(?<!\w)[@#]\w[\w.]*")


def register_stage(name: str) -> Callable[[type[Stage]], type[Stage]]:
    """Class decorator: make a stage available under ``name`` in ``nlp.stages``."""

    def wrap(cls: type[Stage]) -> type[Stage]:
        cls.name = name
        STAGES[name] = cls
        return cls

    return wrap


def _set(post: Post, **fields: Any) -> None:
    """Assign fields without pydantic's per-assignment hook (what it does with
    ``validate_assignment=False``, minus the overhead): the values are already valid."""
    post.__dict__.update(fields)
    post.__pydantic_fields_set__.update(fields)


@dataclass
class Doc:
    """A post on its way through the pipeline, with the scratch state stages share."""

    post: Post
    text: str = ""  # the analysis text (normalised once "normalize" ran)
    words: list[str] | None = None  # segmented words, syllables joined by spaces
    vietnamese: bool = True  # False skips Vietnamese-only stages (language tagged, not dropped)
    empty: bool = False
    failed: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, post: Post) -> Doc:
        if post.text_normalized is not None:
            text = post.text_normalized
        else:
            text = "\n".join(p for p in (post.title, post.text) if p)
        return cls(post, text, empty=not text.strip())


class Stage:
    """Base class of a stage: configure in ``__init__``, work in :meth:`process`.

    ``needs_vietnamese`` stages skip posts tagged as another language or empty.
    """

    name: ClassVar[str] = "stage"
    needs_vietnamese: ClassVar[bool] = False

    def __init__(self, settings: NlpSettings):
        self.settings = settings

    def process(self, docs: list[Doc], shared: dict[Any, Any]) -> None:
        """Annotate every doc of the batch in place; raise on failure.

        Must be idempotent per doc (assign fields, append only what is not there yet):
        when a batch fails, the pipeline re-runs the stage on each doc alone.
        """
        raise NotImplementedError

    def applies(self, doc: Doc) -> bool:
        if doc.empty:
            return False
        return doc.vietnamese or not self.needs_vietnamese

    def __call__(self, post: Post) -> Post:
        doc = Doc.of(post)
        if self.applies(doc):
            self.process([doc], {})
        return post


@register_stage("normalize")
class NormalizeStage(Stage):
    """Unicode, tone marks, teencode, repeats, emoji; writes ``text_normalized``."""

    def __init__(self, settings: NlpSettings):
        super().__init__(settings)
        from nlp.normalize import load_teencode

        self.teencode = load_teencode(settings.teencode_file)

    def applies(self, doc: Doc) -> bool:
        return True

    def process(self, docs: list[Doc], shared: dict[Any, Any]) -> None:
        from nlp.normalize import normalize_text

        for doc in docs:
            raw = "\n".join(p for p in (doc.post.title, doc.post.text) if p)
            text, flags = normalize_text(raw, teencode=self.teencode,
                                         max_chars=self.settings.max_chars)
            _set(doc.post, text_normalized=text)
            doc.text = text
            doc.empty = not text
            for flag in flags:
                if flag not in doc.post.flags:
                    doc.post.flags.append(flag)


@register_stage("language")
class LanguageStage(Stage):
    """Language id; other languages are tagged ``non_vietnamese`` and skip Vietnamese-only stages."""

    def applies(self, doc: Doc) -> bool:
        return True

    def process(self, docs: list[Doc], shared: dict[Any, Any]) -> None:
        from nlp.langid import detect_language

        for doc in docs:
            if doc.empty:
                _set(doc.post, language="und")
                doc.vietnamese = False
                if "empty" not in doc.post.flags:
                    doc.post.flags.append("empty")
                continue
            guess = detect_language(doc.text)
            _set(doc.post, language=guess.language)
            doc.vietnamese = guess.language == "vi"
            if not doc.vietnamese and "non_vietnamese" not in doc.post.flags:
                doc.post.flags.append("non_vietnamese")
            if guess.mixed_script and "mixed_script" not in doc.post.flags:
                doc.post.flags.append("mixed_script")


@register_stage("segment")
class SegmentStage(Stage):
    """Word segmentation with underthesea's bundled CRF (offline), see :mod:`nlp.segment`."""

    needs_vietnamese = True
    _tokenize: ClassVar[Callable[[str], list[str]] | None] = None

    @classmethod
    def tokenizer(cls) -> Callable[[str], list[str]]:
        if cls._tokenize is None:
            from nlp.segment import Segmenter

            cls._tokenize = Segmenter()
        return cls._tokenize

    def process(self, docs: list[Doc], shared: dict[Any, Any]) -> None:
        tokenize = self.tokenizer()
        for doc in docs:
            text = doc.text
            if "emo_" in text or "@" in text or "#" in text or "://" in text:
                text = _NOT_WORDS.sub(" ", text)  # emoji tokens, URLs, mentions, hashtags
            doc.words = tokenize(text)


class ClassifierStage(Stage):
    """Shared code of the three classifier stages: load once, predict a whole batch at once."""

    needs_vietnamese = True
    task: ClassVar[str] = ""
    allowed: ClassVar[tuple[str, ...] | None] = None
    _cache: ClassVar[dict[tuple, Any]] = {}

    def __init__(self, settings: NlpSettings):
        super().__init__(settings)
        from nlp.models import load_classifier

        backend = getattr(settings, f"{self.task}_backend")
        ref = getattr(settings, f"{self.task}_model") or f"default:{self.task}"
        key = (backend, str(ref), settings.device, settings.max_length)
        model = ClassifierStage._cache.get(key)
        if model is None:
            model = load_classifier(ref, backend=backend, device=settings.device,
                                    max_length=settings.max_length,
                                    batch_size=settings.batch_size)
            ClassifierStage._cache[key] = model
        if self.allowed is not None:
            unknown = [lab for lab in model.labels if lab not in self.allowed]
            if unknown:
                raise NlpError(f"the {self.task} model has labels {unknown} outside "
                               f"{list(self.allowed)}", where=str(ref),
                               hint="retrain it with --label-field mapped to those names")
        self.model = model

    def process(self, docs: list[Doc], shared: dict[Any, Any]) -> None:
        labels, proba = self.model.predict([d.text for d in docs], shared)
        for doc, label, score, sure in zip(docs, labels, self.scores(proba),
                                           self.chosen(labels, proba), strict=True):
            self.annotate(doc, label, score)
            self.confidence(doc, sure)

    def confidence(self, doc: Doc, value: float) -> None:
        """Record the probability of the chosen label (``Post.label_confidence``; the review
        queue of the dashboard asks operators about the least sure posts first) and whether
        it is below the model's ``unsure_below`` threshold (``Post.unsure``)."""
        _set(doc.post, label_confidence={**doc.post.label_confidence, self.task: round(value, 4)})
        unsure = [t for t in doc.post.unsure if t != self.task]
        if value < getattr(self.model, "unsure_below", 0.0):
            unsure.append(self.task)
        _set(doc.post, unsure=unsure)

    def chosen(self, labels: list[str], proba: Any) -> list[float]:
        """The probability of each row's chosen label (0 for a label the model lacks)."""
        index = {label: j for j, label in enumerate(self.model.labels)}
        return [float(proba[row, index[label]]) if label in index else 0.0
                for row, label in enumerate(labels)]

    def column(self, proba: Any, label: str) -> Any:
        """The probability column of ``label`` (zeros when the model lacks that label)."""
        import numpy as np

        if label in self.model.labels:
            return proba[:, self.model.labels.index(label)]
        return np.zeros(len(proba))

    def scores(self, proba: Any) -> list[float | None]:
        """One score per row of ``proba`` (see each stage)."""
        return [None] * len(proba)

    def annotate(self, doc: Doc, label: str, score: float | None) -> None:
        raise NotImplementedError


@register_stage("topic")
class TopicStage(ClassifierStage):
    """Topics: the classifier's label plus every topic whose keyword rules fire."""

    task = "topic"

    def __init__(self, settings: NlpSettings):
        from nlp.taxonomy import load_taxonomy

        self.taxonomy = load_taxonomy(settings.topic_rules_file)
        super().__init__(settings)

    def applies(self, doc: Doc) -> bool:
        return not doc.empty

    def process(self, docs: list[Doc], shared: dict[Any, Any]) -> None:
        vi = [d for d in docs if d.vietnamese]
        if vi:
            super().process(vi, shared)
        for doc in docs:
            rules = self.taxonomy.rule_topics(doc.text)
            topics = list(doc.post.topics)
            # keyword rules that fire and leave out the classifier's topic: worth a human look
            disagree = bool(rules) and doc.vietnamese and bool(topics) and topics[0] not in rules
            flags = [f for f in doc.post.flags if f != RULES_DISAGREE_FLAG]
            _set(doc.post, flags=[*flags, RULES_DISAGREE_FLAG] if disagree else flags)
            for topic in rules:
                if topic not in topics:
                    topics.append(topic)
            if len(topics) > 1 and "other" in topics:
                topics.remove("other")
            _set(doc.post, topics=topics)

    def annotate(self, doc: Doc, label: str, score: float | None) -> None:
        _set(doc.post, topics=[label])


@register_stage("sentiment")
class SentimentStage(ClassifierStage):
    """Sentiment label; ``sentiment_score`` = P(positive) - P(negative), in [-1, 1]."""

    task = "sentiment"
    allowed = SENTIMENTS

    def scores(self, proba: Any) -> list[float | None]:
        diff = self.column(proba, "positive") - self.column(proba, "negative")
        return [round(v, 4) for v in diff.tolist()]

    def annotate(self, doc: Doc, label: str, score: float | None) -> None:
        _set(doc.post, sentiment=label, sentiment_score=score)


def passages(text: str, limit: int = PASSAGE_CHARS) -> list[str]:
    """``text`` cut at sentence ends and line breaks into pieces of at most ``limit``
    characters (consecutive sentences share a piece; a longer sentence stays whole)."""
    out: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip()
        if not sentence:
            continue
        if out and len(out[-1]) + 1 + len(sentence) <= limit:
            out[-1] = f"{out[-1]} {sentence}"
        else:
            out.append(sentence)
    return out or [text]


@register_stage("toxicity")
class ToxicityStage(ClassifierStage):
    """Toxicity label; ``toxicity_score`` = 1 - P(clean), the chance it is offensive or hateful.

    A post longer than :data:`PASSAGE_CHARS` is judged passage by passage (its first
    :data:`MAX_PASSAGES`, so a very long text costs a bounded time): its label is the most
    severe label of any passage (one insulting sentence makes an article offensive) and
    its score the highest passage score. Its confidence (``Post.label_confidence``, and
    ``Post.unsure`` below the model's threshold, as for topic and sentiment) is the
    probability of that label in the passage that gave it; a clean long post is as sure as
    its least sure passage.
    """

    task = "toxicity"
    allowed = TOXICITIES

    def scores(self, proba: Any) -> list[float | None]:
        return [round(v, 4) for v in (1.0 - self.column(proba, "clean")).tolist()]

    def process(self, docs: list[Doc], shared: dict[Any, Any]) -> None:
        long_docs = [i for i, doc in enumerate(docs) if len(doc.text) > PASSAGE_CHARS]
        if len(long_docs) < len(docs):
            # the whole batch at once: its features are shared with the other classifiers
            labels, proba = self.model.predict([d.text for d in docs], shared)
            cut = set(long_docs)
            chosen = self.chosen(labels, proba)
            for i, (label, score) in enumerate(zip(labels, self.scores(proba), strict=True)):
                if i not in cut:
                    self.annotate(docs[i], label, score)
                    self.confidence(docs[i], chosen[i])
        if not long_docs:
            return
        pieces: list[str] = []
        owners: list[int] = []
        for i in long_docs:
            parts = passages(docs[i].text)[:MAX_PASSAGES]
            pieces.extend(parts)
            owners.extend([i] * len(parts))
        labels, proba = self.model.predict(pieces)
        severity = {label: rank for rank, label in enumerate(TOXICITIES)}
        # per post: (label, score, confidence) so far; the confidence of the most severe
        # label is that of the passage that gave it (the surest, if several did)
        worst: dict[int, tuple[str, float, float]] = {}
        for owner, label, score, sure in zip(owners, labels, self.scores(proba),
                                             self.chosen(labels, proba), strict=True):
            now = worst.get(owner)
            if now is None:
                worst[owner] = (label, score, sure)
                continue
            if severity[label] > severity[now[0]]:
                worst[owner] = (label, max(now[1], score), sure)
                continue
            confidence = now[2]
            if label == now[0]:
                # "clean" holds only if every passage is clean: as sure as the least sure one;
                # an offensive or hateful label needs one passage: as sure as the surest
                confidence = min(confidence, sure) if label == TOXICITIES[0] else max(confidence, sure)
            worst[owner] = (now[0], max(now[1], score), confidence)
        for i in long_docs:
            label, score, confidence = worst[i]
            self.annotate(docs[i], label, score)
            self.confidence(docs[i], confidence)

    def annotate(self, doc: Doc, label: str, score: float | None) -> None:
        _set(doc.post, toxicity=label, toxicity_score=score)


@register_stage("entities")
class EntitiesStage(Stage):
    """Places (gazetteer, resolved to the provinces after the 2025 mergers, with every name of
    their units in ``place_names`` and their former district in ``place_areas``), persons,
    organisations."""

    needs_vietnamese = True

    def __init__(self, settings: NlpSettings):
        super().__init__(settings)
        from nlp.gazetteer import load_gazetteer

        self.gazetteer = load_gazetteer(settings.gazetteer_file)

    def process(self, docs: list[Doc], shared: dict[Any, Any]) -> None:
        from nlp.entities import find_entities

        for doc in docs:
            found = find_entities(doc.text, self.gazetteer)
            _set(doc.post,
                 entities=[Entity(text=f.text, type=f.type, canonical=f.canonical) for f in found],
                 places=list(dict.fromkeys(f.canonical for f in found
                                           if f.type == "place" and f.canonical)),
                 place_names=list(dict.fromkeys(n for f in found if f.type == "place" for n in f.names)),
                 place_areas=list(dict.fromkeys(f.area for f in found if f.type == "place" and f.area)))


@register_stage("keywords")
class KeywordsStage(Stage):
    """Key phrases per post from the segmented words (and hashtags)."""

    needs_vietnamese = True

    def process(self, docs: list[Doc], shared: dict[Any, Any]) -> None:
        from nlp.keywords import key_phrases

        for doc in docs:
            if doc.words is None:
                doc.words = SegmentStage.tokenizer()(doc.text)
            tags = [w for w in doc.text.split() if w.startswith("#") and len(w) > 1]
            _set(doc.post, keywords=key_phrases(doc.words, limit=self.settings.max_keywords,
                                                hashtags=[t.rstrip(".,!?") for t in tags]))
