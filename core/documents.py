"""The documents that cross package borders, defined once.

* :class:`Post` is what spiders yield, NLP stages annotate and the store receives.
* :class:`Alert` is what security rules, detectors and spike detection produce; its
  serialised form uses ECS field names (``@timestamp``, ``source.ip``, ``rule.name``...).

Both serialise to plain JSON-able dicts with :meth:`to_doc` and come back with
:meth:`from_doc`; the store never sees anything else.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.errors import ValidationFailed
from core.ids import make_id, post_id
from core.text import nfc

PLATFORMS = ("news", "facebook", "youtube", "telegram", "forum", "other")
Platform = Literal["news", "facebook", "youtube", "telegram", "forum", "other"]
SENTIMENTS = ("negative", "neutral", "positive")
Sentiment = Literal["negative", "neutral", "positive"]
TOXICITIES = ("clean", "offensive", "hate")
Toxicity = Literal["clean", "offensive", "hate"]
LABEL_TASKS = ("topic", "sentiment", "toxicity")  # the labels operators may correct
LabelTask = Literal["topic", "sentiment", "toxicity"]
CORRECTED_FLAG = "corrected"  # in Post.flags while any label of the post is an operator's
RULES_DISAGREE_FLAG = "topic_rules_disagree"  # topic keyword rules fired, none for the classifier's topic


def audit_bucket(post_id: str) -> float:
    """A post's place in [0, 1), from a hash of its id: stable, and blind to its text and labels.

    Posts below ``learn.holdout`` form the audit sample: the review queue asks operators
    about them in a label-blind order (not by how unsure the models are), and retraining
    holds their corrections back to judge a candidate, so the judgement is made on posts
    like the stream rather than on the hardest ones.
    """
    import hashlib

    return int(hashlib.sha1(post_id.encode("utf-8")).hexdigest()[:8], 16) / 0x100000000
# The score a human label stands for: sure of its class (charts that average scores agree
# with the counts).
HUMAN_SENTIMENT_SCORE = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}
HUMAN_TOXICITY_SCORE = {"clean": 0.0, "offensive": 1.0, "hate": 1.0}
_TOPIC_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_aware(value: datetime | None) -> datetime | None:
    """``value`` with UTC as its time zone when it has none (stored times are all aware)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class Author(BaseModel):
    """An author as stored: a pseudonymous id and the public display name."""

    model_config = ConfigDict(extra="ignore")
    id: str | None = None
    name: str | None = None


class Engagement(BaseModel):
    """Engagement counts as the platform reported them at collection time."""

    model_config = ConfigDict(extra="ignore")
    likes: int = Field(0, ge=0)
    comments: int = Field(0, ge=0)
    shares: int = Field(0, ge=0)
    views: int = Field(0, ge=0)

    @property
    def total(self) -> int:
        return self.likes + self.comments + self.shares


class Entity(BaseModel):
    """A named entity found in a post: ``type`` is ``place``, ``person`` or ``org``."""

    model_config = ConfigDict(extra="ignore")
    text: str
    type: Literal["place", "person", "org"]
    canonical: str | None = None  # gazetteer name after mergers, e.g. "Thành phố Cần Thơ"


class Correction(BaseModel):
    """An operator's label for one task of a post: who, when, and the label it replaced.

    ``before`` is the post's label for ``task`` just before this correction (the model's, or
    an earlier operator's; for ``topic`` the first topic). The last correction of a task is
    the post's label for it, whatever a model says later (see :meth:`Post.keep_human_labels`).
    """

    model_config = ConfigDict(extra="ignore")
    task: LabelTask
    label: str = Field(min_length=1)
    by: str = Field(min_length=1)
    at: datetime = Field(default_factory=utcnow)
    before: str | None = None

    @field_validator("at")
    @classmethod
    def _tz(cls, value: datetime) -> datetime:
        return as_aware(value) or value


class Post(BaseModel):
    """A public post or article, from collection to the index.

    ``id`` is deterministic (platform + native id, or canonical URL): see
    :func:`core.ids.post_id`. ``text`` is the original text; NLP writes the normalised
    form to ``text_normalized`` and never overwrites ``text``.
    """

    model_config = ConfigDict(extra="ignore", validate_assignment=False)

    id: str = Field(min_length=1)
    url: str | None = None
    source: str = Field(min_length=1)
    platform: Platform = "news"
    title: str = ""
    text: str = ""
    text_normalized: str | None = None
    author: Author | None = None
    published_at: datetime | None = None
    collected_at: datetime = Field(default_factory=utcnow)
    language: str | None = None
    topics: list[str] = Field(default_factory=list)
    sentiment: Sentiment | None = None
    sentiment_score: float | None = None
    toxicity: Toxicity | None = None
    toxicity_score: float | None = None
    entities: list[Entity] = Field(default_factory=list)
    places: list[str] = Field(default_factory=list)  # provinces after the 2025 mergers
    # every name of the places named, at every level ("Xuân Khánh", "Ninh Kiều", "Cần Thơ", ...)
    place_names: list[str] = Field(default_factory=list)
    place_areas: list[str] = Field(default_factory=list)  # their former districts, "Ninh Kiều (Cần Thơ)"
    keywords: list[str] = Field(default_factory=list)
    engagement: Engagement = Field(default_factory=Engagement)
    watchlists: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    parent_id: str | None = None  # the post a comment answers
    duplicate_of: str | None = None  # the original of a near-duplicate repost
    fingerprint: str | None = None  # content fingerprint for incremental runs
    flags: list[str] = Field(default_factory=list)  # e.g. "truncated", "non_vietnamese"
    analysis_errors: list[str] = Field(default_factory=list)  # failures recorded on the post
    # Per task ("topic", "sentiment", "toxicity"): the probability the classifier gave the
    # label it chose (1.0 for an operator's label); the review queue asks about the lowest.
    label_confidence: dict[str, float] = Field(default_factory=dict)
    # Tasks whose label the classifier is unsure of: the probability of its label is below
    # the threshold the model chose out of fold on its training data (``unsure_below`` in
    # the model's meta.json); the dashboard shows these labels as unsure, not as confident.
    unsure: list[str] = Field(default_factory=list)
    corrections: list[Correction] = Field(default_factory=list)  # operators' labels, oldest first
    # For each corrected task, what the model said (kept up to date by re-analysis):
    # {"sentiment": {"label": "neutral", "score": 0.1, "confidence": 0.5}, "topic": {"label":
    # "traffic", "topics": ["traffic", "health"], ...}}.
    model_labels: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("title", "text")
    @classmethod
    def _nfc(cls, value: str) -> str:
        return nfc(value) if value else value

    @field_validator("published_at", "collected_at")
    @classmethod
    def _tz(cls, value: datetime | None) -> datetime | None:
        return as_aware(value)

    @classmethod
    def new(cls, *, platform: str, source: str, native_id: str | None = None,
            url: str | None = None, **fields: Any) -> Post:
        """Build a post with its deterministic id."""
        return cls(id=post_id(platform, native_id=native_id, url=url), platform=platform,
                   source=source, url=url, **fields)

    # ---- operators' labels -------------------------------------------------------------
    def human_label(self, task: str) -> str | None:
        """The operator's label for ``task`` (the last correction), or ``None``."""
        for correction in reversed(self.corrections):
            if correction.task == task:
                return correction.label
        return None

    def human_labels(self) -> dict[str, str]:
        """``{task: label}`` for every corrected task."""
        out: dict[str, str] = {}
        for correction in self.corrections:
            out[correction.task] = correction.label
        return out

    def label_of(self, task: str) -> str | None:
        """The post's effective label for ``task`` (for ``topic`` the first topic)."""
        if task == "topic":
            return self.topics[0] if self.topics else None
        if task in ("sentiment", "toxicity"):
            return getattr(self, task)
        raise ValidationFailed(self.id, "task", f"{task!r} is not one of {list(LABEL_TASKS)}")

    def _model_output(self, task: str) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label_of(task),
                               "confidence": self.label_confidence.get(task)}
        if task == "topic":
            out["topics"] = list(self.topics)
        else:
            out["score"] = getattr(self, f"{task}_score")
        if task in self.unsure:  # only when marked, so sure outputs read as before
            out["unsure"] = True
        return out

    def _set_human(self, task: str, label: str) -> None:
        if task == "topic":
            self.topics = [label]
        elif task == "sentiment":
            self.sentiment, self.sentiment_score = label, HUMAN_SENTIMENT_SCORE[label]
        else:
            self.toxicity, self.toxicity_score = label, HUMAN_TOXICITY_SCORE[label]
        self.label_confidence = {**self.label_confidence, task: 1.0}
        self.unsure = [t for t in self.unsure if t != task]
        if CORRECTED_FLAG not in self.flags:
            self.flags = [*self.flags, CORRECTED_FLAG]

    def check_label(self, task: str, label: str) -> str:
        """``label`` if it is a valid label of ``task``; raises :class:`ValidationFailed`."""
        if task == "sentiment":
            ok = label in SENTIMENTS
        elif task == "toxicity":
            ok = label in TOXICITIES
        elif task == "topic":
            ok = bool(_TOPIC_ID.match(label or ""))
        else:
            raise ValidationFailed(self.id, "task", f"{task!r} is not one of {list(LABEL_TASKS)}")
        if not ok:
            raise ValidationFailed(self.id, task, f"{label!r} is not a {task} label")
        return label

    def corrected(self, task: str, label: str, by: str, at: datetime | None = None) -> Post:
        """A copy of this post with the operator's ``label`` for ``task``.

        The effective field changes at once (``topics`` becomes ``[label]``; ``sentiment`` /
        ``toxicity`` and their scores take the human label's value), so every count and chart
        uses it; the model's output is kept in ``model_labels`` and the correction (who,
        when, the label before) is appended to ``corrections``.
        """
        self.check_label(task, label)
        if not by:
            raise ValidationFailed(self.id, "by", "a correction needs the operator's name")
        post = self.model_copy(deep=True)
        if post.human_label(task) is None:
            post.model_labels = {**post.model_labels, task: post._model_output(task)}
        post.corrections = [*post.corrections,
                            Correction(task=task, label=label, by=by, at=at or utcnow(),
                                       before=post.label_of(task))]
        post._set_human(task, label)
        return post

    def label_without_corrections(self, task: str) -> str | None:
        """The label ``task`` goes back to when its corrections are withdrawn: the model's
        (``model_labels``, kept up to date by re-analysis), else the ``before`` of the first
        correction of ``task``; the current label when ``task`` is not corrected."""
        model = self.model_labels.get(task)
        if model is not None:
            return model.get("label")
        first = next((c for c in self.corrections if c.task == task), None)
        return first.before if first is not None else self.label_of(task)

    def withdrawn(self, task: str) -> Post:
        """A copy of this post without the operators' corrections of ``task``.

        The effective field goes back to the model's output kept in ``model_labels`` (label,
        score, confidence, its unsure mark, every topic), or, when that is missing, to the ``before`` of the
        first correction of ``task`` (with no score or confidence). The other tasks'
        corrections stay; the ``corrected`` flag goes when none is left. A post without a
        correction of ``task`` comes back unchanged (a copy).
        """
        if task not in LABEL_TASKS:
            raise ValidationFailed(self.id, "task", f"{task!r} is not one of {list(LABEL_TASKS)}")
        post = self.model_copy(deep=True)
        if post.human_label(task) is None:
            return post
        model = post.model_labels.get(task) or {}
        label = post.label_without_corrections(task)
        if task == "topic":
            post.topics = list(model.get("topics") or ([label] if label else []))
        else:
            setattr(post, task, label)
            setattr(post, f"{task}_score", model.get("score"))
        confidence = model.get("confidence")
        post.label_confidence = {k: v for k, v in post.label_confidence.items() if k != task}
        if confidence is not None:
            post.label_confidence[task] = confidence
        if model.get("unsure") and task not in post.unsure:
            post.unsure = [*post.unsure, task]
        post.corrections = [c for c in post.corrections if c.task != task]
        post.model_labels = {k: v for k, v in post.model_labels.items() if k != task}
        if not post.corrections:
            post.flags = [f for f in post.flags if f != CORRECTED_FLAG]
        return post

    def correction_fields(self) -> dict[str, Any]:
        """The stored fields a correction changes (what :meth:`Store.update` receives)."""
        doc = self.to_doc()
        return {k: doc[k] for k in ("topics", "sentiment", "sentiment_score", "toxicity",
                                    "toxicity_score", "label_confidence", "unsure", "flags",
                                    "corrections", "model_labels")}

    def keep_human_labels(self, stored: Post | None = None) -> Post:
        """Make the operators' labels win over a fresh analysis, in place; returns ``self``.

        Call it on a post the models just (re-)labelled: the corrections of ``stored`` (the
        copy in the store, e.g. before a re-crawl) or of this post itself are kept, the fresh
        model output of every corrected task goes to ``model_labels``, and the effective
        fields take the human labels again. Idempotent.
        """
        source = stored if stored is not None else self
        if not source.corrections:
            return self
        if stored is not None:
            self.corrections = [c.model_copy() for c in stored.corrections]
            self.model_labels = {**stored.model_labels, **self.model_labels}
        for task, label in self.human_labels().items():
            fresh = self.label_of(task) is not None and (
                self.label_of(task) != label or self.label_confidence.get(task) != 1.0)
            if fresh:  # a model labelled this post since the human label was applied
                self.model_labels = {**self.model_labels, task: self._model_output(task)}
            self._set_human(task, label)
        return self

    def to_doc(self) -> dict[str, Any]:
        """The JSON-able dict that stores receive."""
        return self.model_dump(mode="json")

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Post:
        """Validate a stored or imported dict; raises :class:`ValidationFailed` naming the field."""
        return validate_doc(cls, doc)


class Severity(StrEnum):
    """Alert severity, ordered: compare with :meth:`rank`."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return ("low", "medium", "high", "critical").index(self.value)

    @classmethod
    def from_score(cls, risk: float) -> Severity:
        """Map a 0-100 risk score to a severity (>=90 critical, >=70 high, >=40 medium)."""
        if risk >= 90:
            return cls.CRITICAL
        if risk >= 70:
            return cls.HIGH
        if risk >= 40:
            return cls.MEDIUM
        return cls.LOW


class AlertStatus(StrEnum):
    """Triage states; the allowed moves are in :data:`TRIAGE_MOVES`."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


TRIAGE_MOVES: dict[str, set[str]] = {
    "open": {"acknowledged", "in_progress", "closed"},
    "acknowledged": {"in_progress", "closed", "open"},
    "in_progress": {"closed", "acknowledged", "open"},
    "closed": {"open"},  # re-open
}
CLOSE_REASONS = ("true_positive", "false_positive", "benign")


class Explanation(BaseModel):
    """One figure behind an alert: what was observed against the baseline or the rule's threshold.

    ``kind`` "rule": a figure the rule itself tested (``threshold`` and ``direction`` say what
    it had to reach); "anomaly": a feature far from the entity's baseline (``tail_p``: the share
    of baseline windows at least this high; ``distance``: baseline spreads above the median;
    ``baseline_of``: "entity" for the entity's own windows, "all" for every entity's). Rows
    written before these fields have ``kind`` None.
    """

    model_config = ConfigDict(extra="ignore")
    feature: str
    observed: float
    baseline: float | None = None
    contribution: float = 0.0  # share of the anomaly's rarity, 0..1 (0 for rule figures)
    kind: Literal["rule", "anomaly"] | None = None
    threshold: float | None = None  # the rule's threshold for this figure
    direction: Literal["min", "max"] | None = None  # the figure had to reach at least / at most it
    tail_p: float | None = None
    distance: float | None = None
    baseline_of: Literal["entity", "all"] | None = None


class HistoryEntry(BaseModel):
    """One change to an alert: who did what, when."""

    model_config = ConfigDict(extra="ignore")
    at: datetime = Field(default_factory=utcnow)
    by: str = "system"
    action: str  # "status", "assign" or "comment"
    from_status: str | None = None
    to_status: str | None = None
    note: str | None = None  # the operator's note written with this action
    reason: str | None = None  # a close's reason (one of CLOSE_REASONS)
    assignee: str | None = None  # an assignment's new assignee ("" when unassigned)


class Alert(BaseModel):
    """A security alert (or a listening alert for a crisis spike), ECS-style when stored.

    Python attributes use snake_case; :meth:`to_doc` writes ECS names such as
    ``@timestamp``, ``event.kind``, ``source.ip``, ``destination.port``, ``user.name``,
    ``host.name``, ``rule.name``, ``threat.technique.id``. ``risk_score`` is 0-100,
    higher is worse.
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str = Field(min_length=1)
    timestamp: datetime = Field(default_factory=utcnow, alias="@timestamp")
    module: Literal["security", "listening"] = "security"
    event_kind: str = Field("alert", alias="event.kind")
    event_category: list[str] = Field(default_factory=list, alias="event.category")
    source_ip: str | None = Field(None, alias="source.ip")
    destination_ip: str | None = Field(None, alias="destination.ip")
    destination_port: int | None = Field(None, alias="destination.port")
    destination_domain: str | None = Field(None, alias="destination.domain")
    user_name: str | None = Field(None, alias="user.name")
    host_name: str | None = Field(None, alias="host.name")
    rule_name: str = Field(alias="rule.name")
    threat_technique_id: str | None = Field(None, alias="threat.technique.id")
    threat_technique_name: str | None = Field(None, alias="threat.technique.name")
    rule_id: str | None = Field(None, alias="rule.id")  # e.g. a Sigma rule's id
    # "sigma", "intel", "analytics" (behaviour over hours); None = a built-in rule or the anomaly detector
    rule_ruleset: str | None = Field(None, alias="rule.ruleset")
    rule_level: str | None = Field(None, alias="rule.level")  # a Sigma rule's own level
    tags: list[str] = Field(default_factory=list)  # a Sigma rule's tags (attack.t1110.001, ...)
    threat_feed_name: str | None = Field(None, alias="threat.feed.name")  # intel feed that matched
    threat_indicator_name: str | None = Field(None, alias="threat.indicator.name")  # the indicator
    threat_indicator_type: str | None = Field(None, alias="threat.indicator.type")  # ip, cidr, domain, url, hash
    # the feed's confidence in the indicator, 0-100
    threat_indicator_confidence: int | None = Field(None, alias="threat.indicator.confidence")
    title: str = ""
    # The product's own title as a text key and its values, so the dashboard shows it in the UI
    # language (dashboard.i18n.ALERT_TITLES); None for titles written by others (a Sigma rule's
    # author) and for alerts stored before these fields, which show ``title`` as stored.
    title_key: str | None = None
    title_params: dict[str, Any] = Field(default_factory=dict)
    risk_score: float = Field(0.0, ge=0, le=100)
    severity: Severity = Severity.LOW
    status: AlertStatus = AlertStatus.OPEN
    assignee: str | None = None
    close_reason: str | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    count: int = Field(1, ge=1)
    explanation: list[Explanation] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    related_ids: list[str] = Field(default_factory=list)  # posts behind a listening alert
    entity: str | None = None  # the entity the alert is about (IP, user, host, watchlist, topic)
    history: list[HistoryEntry] = Field(default_factory=list)

    @field_validator("timestamp", "first_seen", "last_seen")
    @classmethod
    def _tz(cls, value: datetime | None) -> datetime | None:
        return as_aware(value)

    @model_validator(mode="after")
    def _window(self) -> Alert:
        if self.first_seen is None:
            self.first_seen = self.timestamp
        if self.last_seen is None:
            self.last_seen = self.first_seen
        return self

    @staticmethod
    def make_id(rule_name: str, entity: str, window_start: str) -> str:
        """Deterministic id: one alert per rule, entity and de-duplication window."""
        return make_id("alert", rule_name, entity, window_start)

    def to_doc(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Alert:
        return validate_doc(cls, doc)


def validate_doc(model: type[BaseModel], doc: dict[str, Any]) -> Any:
    """Validate ``doc`` as ``model``; on failure raise :class:`ValidationFailed` with id and field."""
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err.get("loc", ())) or "<document>"
        doc_id = doc.get("id") if isinstance(doc, dict) else None
        raise ValidationFailed(doc_id, field, err.get("msg", "invalid")) from None
