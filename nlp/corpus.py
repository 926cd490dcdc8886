"""Build the project's own labelled corpus (deterministic).

    python -m nlp.corpus build [--out nlp/data/corpus/corpus.jsonl] [--seed 2025] [--passages DIR]

Two sources, both written for iocwatch:

* **passages** (``nlp/data/corpus/passages/*.yaml``): whole news leads, notices, reader
  letters and forum posts of realistic length, one file per topic, each labelled with
  its topic and sentiment. News, notices and letters become style ``news``, forum posts
  style ``forum``; some forum posts also get a lower-case teencode copy (``social``)
  and an undiacritised one (``plain``), as people type them.
* **templates**: short sentences composed from the hand-written fragments in
  ``nlp/data/corpus/fragments_*.yaml``, in groups (:data:`TEMPLATE_TASKS`). Each group
  keeps only the labels it still helps with on real text (chosen by cross-validation on
  the passages, see the corpus README); the other labels of its rows are ``null``, so
  ``iocwatch nlp train`` skips those rows for that task.

Each row: ``{"id", "text", "topic", "sentiment", "toxicity", "style", "source"}`` where
style is ``news`` (formal, with diacritics), ``forum`` (a private person's post),
``social`` (lower case, teencode, emoji, stretched letters) or ``plain`` (social text
without diacritics), and ``source`` is ``passage:<file>`` or ``template:<group>``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import re
import sys
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from core.errors import NlpError
from core.text import fold

log = logging.getLogger(__name__)

DEFAULT_OUT = Path(__file__).parent / "data" / "corpus" / "corpus.jsonl"
PASSAGES_DIR = Path(__file__).parent / "data" / "corpus" / "passages"
LABELS = ("topic", "sentiment", "toxicity")
# Which labels each group of template rows keeps, and the share of the group's rows that
# keep it (chosen by a hash of the text and task; the other labels are null). Chosen by
# cross-validation on the passages (see the corpus README): short template statements
# and opinions teach the words of social comments and of toxicity, but their topics and
# neutral news sentences do not read like real city news.
TEMPLATE_TASKS: dict[str, dict[str, float]] = {
    # one-sentence neutral statements built from fragments
    "news": {"toxicity": 1.0},
    # citizens' praise, complaints, questions and requests: a share of them teaches the
    # words of social comments without drowning the passages
    "opinion": {"topic": 0.3, "sentiment": 0.2, "toxicity": 1.0},
    # students' feedback on teaching (kept for comments like UIT-VSFC's)
    "teaching": {"topic": 0.1, "sentiment": 0.3, "toxicity": 1.0},
    "toxic": {"toxicity": 1.0},  # profanity and insults (the toxicity model's only examples)
    "chat": {"toxicity": 1.0},  # family and chat sentences with words insults also use
    "news_passage": {"toxicity": 1.0},  # formal two- or three-sentence passages (clean)
}
# template groups whose topic labels a topic without passages keeps in full (insults and
# chat are filed under "other" by the templates, which is not what "other" means)
TOPIC_FALLBACK_GROUPS = ("news", "opinion", "teaching", "news_passage")
PASSAGE_KINDS = {"news": "news", "notice": "news", "letter": "news", "forum": "forum"}
FORUM_SOCIAL = 0.5  # share of forum passages that also get a lower-case teencode copy
FORUM_PLAIN = 0.5  # and an undiacritised copy
_TEENCODE = [  # (word, social spellings) applied at random in the "social" style
    ("không", ["ko", "k", "hông", "khum"]), ("được", ["dc", "đc"]), ("gì", ["j"]),
    ("mọi người", ["mn"]), ("với", ["vs"]), ("quá", ["wá", "quáaa", "quá trời"]),
    ("rồi", ["r", "rùi"]), ("biết", ["bít"]), ("vậy", ["z", "zậy"]), ("người", ["ng"]),
    ("cũng", ["cx"]), ("nhiều", ["nhìu"]), ("thích", ["thik"]), ("yêu", ["iu"]),
]
_POSITIVE_CHAT = {"hay quá anh ơi", "chúc mừng em nha", "bài hát này hay ghê",
                  "chị hát hay quá, mong ra nhiều bài mới", "anh diễn đạt quá trời",
                  "video dễ thương ghê", "đội tuyển đá hay lắm", "ủng hộ anh hết mình",
                  "cảm ơn bạn đã chia sẻ", "tuyệt vời, chúc team thành công",
                  "ca sĩ này giọng ấm ghê", "cổ vũ đội nhà hết mình", "cười đau bụng luôn 😂",
                  "nhìn ngon quá, cho xin địa chỉ quán", "xem xong mà xúc động quá",
                  "thương ba mẹ quá"}
_NEGATIVE_CHAT = {"nhớ nhà quá", "nghe bài này nhớ người yêu cũ", "mai đi học rồi buồn ghê",
                  "nhìn mà thương quá"}
_POSITIVE_SWEARING = ("hay", "đẹp", "ngon", "cười", "trúng số")


def _unit(key: str) -> float:
    """A number in [0, 1) fixed by ``key`` (deterministic sampling of template rows)."""
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) / 16 ** 8


def _load(name: str) -> dict[str, Any]:
    text = resources.files("nlp").joinpath(f"data/corpus/{name}").read_text(encoding="utf-8")
    return yaml.safe_load(text)


class _Builder:
    def __init__(self, seed: int, template_tasks: dict[str, dict[str, float]] | None = None,
                 passages_dir: Path = PASSAGES_DIR):
        self.rng = random.Random(seed)
        self.template_tasks = TEMPLATE_TASKS if template_tasks is None else template_tasks
        self.passages_dir = passages_dir
        self.group = "opinion"
        self.passage_index = -1
        self.common = _load("fragments_common.yaml")
        self.topics = _load("fragments_topics.yaml")["topics"]
        self.rows: list[dict[str, Any]] = []
        self.seen: set[str] = set()

    def fill(self, template: str) -> str:
        slots = self.common["slots"]
        return re.sub(r"\{(\w+)\}", lambda m: self.rng.choice(slots[m.group(1)])
                      if m.group(1) in slots else m.group(0), template)

    def social(self, text: str) -> str:
        out = text.lower()
        for word, spellings in _TEENCODE:
            if word in out and self.rng.random() < 0.5:
                out = re.sub(rf"(?<!\w){word}(?!\w)", self.rng.choice(spellings), out, count=1)
        if self.rng.random() < 0.15:
            out = out.rstrip(".") + self.rng.choice(["!!!", "...", " ??", "!"])
        return out.rstrip(".")

    def add(self, text: str, topic: str, sentiment: str, toxicity: str, style: str) -> None:
        text = " ".join(text.split())
        text = re.sub(r"\s+([,.!?])", r"\1", text)
        if not text or text.lower() in self.seen:
            return
        self.seen.add(text.lower())
        self.rows.append({"text": text, "topic": topic, "sentiment": sentiment,
                          "toxicity": toxicity, "style": style, "source": f"template:{self.group}"})

    def variants(self, text: str, topic: str, sentiment: str, toxicity: str, formal: bool) -> None:
        """One sentence in several styles."""
        if formal:
            self.add(text, topic, sentiment, toxicity, "news")
        social = self.social(text)
        self.add(social, topic, sentiment, toxicity, "social")
        if self.rng.random() < 0.6:
            self.add(fold(self.social(text)), topic, sentiment, toxicity, "plain")

    def build(self, internal: bool = False) -> list[dict[str, Any]]:
        """The rows; ``internal`` keeps ``passage`` (the index of the passage a row comes
        from, for grouped cross-validation; None for template rows)."""
        senti = self.common["sentiment"]
        ops = self.common["opinions"]
        for topic, spec in self.topics.items():
            self.group = "news"
            for template in spec["news"]:
                for _ in range(4):
                    self.variants(self.fill(template), topic, "neutral", "clean", formal=True)
            self.group = "opinion"
            for polarity, key in (("positive", "pos"), ("negative", "neg")):
                pre, suf = senti[f"{key}_prefix"], senti[f"{key}_suffix"]
                for body in spec[key]:
                    for _ in range(5):
                        text = self.rng.choice(pre) + self.fill(body) + self.rng.choice(suf)
                        self.variants(text, topic, polarity, "clean", formal=False)
            for question in senti["neutral_questions"].get(topic, []):
                for frame in senti["neutral_social"]:
                    if self.rng.random() < 0.6:
                        self.variants(frame.format(q=self.fill(question)), topic, "neutral",
                                      "clean", formal=False)
            for subject in ops["subjects"][topic]:
                subject = self.fill(subject)
                for _ in range(6):
                    inten = self.rng.choice(ops["intensifiers"])
                    good = self.rng.choice(ops["positive"])
                    bad = self.rng.choice(ops["negative"])
                    self.variants(f"{subject} {inten} {good}", topic, "positive", "clean", False)
                    self.variants(f"{subject} {inten} {bad}", topic, "negative", "clean", False)
                    negated = self.rng.choice(ops["negated_positive"]).format(p=good)
                    self.variants(f"{subject} {negated}", topic, "negative", "clean", False)
                for frame in ops["mild_neutral"]:
                    if self.rng.random() < 0.5:
                        self.variants(frame.format(s=subject), topic, "neutral", "clean", False)
                for _ in range(2):
                    mild = self.rng.choice(self.common["mild"]["x"])
                    self.variants(f"{subject} hơi {mild}", topic, "negative", "clean", False)
                    neg = self.rng.choice(self.common["negated_negative"]).format(
                        n=self.rng.choice(self.common["negatable_negative"]))
                    self.variants(f"{subject} {neg}", topic, "positive", "clean", False)
            self._requests(topic)
            if topic == "education":
                self._teaching(ops)
            self._compound(topic, spec, ops)
        self._toxic()
        self.group = "news_passage"
        self._news_passages()
        self._keep_template_labels()
        self._passages()
        rows = self.rows
        self.rng.shuffle(rows)
        for row in rows:
            row["id"] = "c" + hashlib.sha1(row["text"].encode("utf-8")).hexdigest()[:12]
        keys = ("id", "text", *LABELS, "style", "source") + (("passage",) if internal else ())
        return [{k: r.get(k) for k in keys} for r in rows]

    def _keep_template_labels(self) -> None:
        """Null the labels each template group does not keep; drop rows left with none.
        A topic that has no passages yet keeps the topic label of all its template rows
        in :data:`TOPIC_FALLBACK_GROUPS`."""
        with_passages = {topic for path in sorted(self.passages_dir.glob("*.yaml"))
                         for topic, *_ in read_passages(path)}
        kept = []
        for row in self.rows:
            shares = self.template_tasks.get(row["source"].split(":", 1)[1], {})
            for task in LABELS:
                share = shares.get(task, 0.0)
                group = row["source"].split(":", 1)[1]
                if (task == "topic" and row["topic"] not in with_passages
                        and group in TOPIC_FALLBACK_GROUPS):
                    share = 1.0
                if share < 1.0 and _unit(f"{task}:{row['text']}") >= share:
                    row[task] = None
            if any(row[task] is not None for task in LABELS):
                kept.append(row)
        self.rows = kept

    def _passages(self) -> None:
        """Whole passages from ``passages/*.yaml`` (file name order), clean, with their labels."""
        for path in sorted(self.passages_dir.glob("*.yaml")):
            for topic, sentiment, kind, text in read_passages(path):
                self.passage_index += 1
                style = PASSAGE_KINDS[kind]
                self._add_passage(text, topic, sentiment, style, path.name)
                if style == "forum":
                    if self.rng.random() < FORUM_SOCIAL:
                        self._add_passage(self.social(text), topic, sentiment, "social", path.name)
                    if self.rng.random() < FORUM_PLAIN:
                        self._add_passage(fold(self.social(text)), topic, sentiment, "plain",
                                          path.name)

    def _add_passage(self, text: str, topic: str, sentiment: str, style: str, name: str) -> None:
        before = len(self.rows)
        self.add(text, topic, sentiment, "clean", style)
        if len(self.rows) > before:
            self.rows[-1]["source"] = f"passage:{name}"
            self.rows[-1]["passage"] = self.passage_index

    def _teaching(self, ops: dict[str, Any]) -> None:
        self.group = "teaching"
        teach = self.common["teaching"]
        subjects = ["", "", "", "thầy", "cô", "giảng viên", "thầy giáo", "cô giáo"]
        for polarity in ("positive", "negative"):
            words = teach[polarity]
            for _ in range(260):
                n = self.rng.choice([1, 1, 2, 2, 3])
                parts = self.rng.sample(words, n)
                subject = self.rng.choice(subjects)
                inten = self.rng.choice(["", "", "rất ", "khá ", "quá "]) if n == 1 else ""
                text = (subject + " " if subject else "") + inten + ", ".join(parts)
                self.variants(text, "education", polarity, "clean", formal=False)
        self.group = "opinion"

    def _requests(self, topic: str) -> None:
        req = self.common["requests"]
        spec = req["by_topic"].get(topic)
        if not spec:
            return
        for action in spec["a"]:
            for _ in range(3):
                frame = self.rng.choice(req["frames"])
                text = frame.format(a=action, who=self.rng.choice(spec["who"]))
                self.variants(text, topic, "negative", "clean", formal=False)

    def _compound(self, topic: str, spec: dict[str, Any], ops: dict[str, Any]) -> None:
        """Two clauses of the same polarity in one sentence, as long comments have."""
        subjects = ops["subjects"][topic]
        for polarity, key, words in (("positive", "pos", ops["positive"]),
                                     ("negative", "neg", ops["negative"])):
            for _ in range(12):
                first = self.fill(self.rng.choice(spec[key]))
                second = f"{self.fill(self.rng.choice(subjects))} {self.rng.choice(words)}"
                joiner = self.rng.choice([", ", ", còn ", " và ", ", ngoài ra "])
                self.variants(first + joiner + second, topic, polarity, "clean", formal=False)

    def _in_context(self, text: str) -> str:
        """Half of the toxic sentences sit inside ordinary talk, as in long comments."""
        if self.rng.random() < 0.5:
            return text
        tox = self.common["toxicity"]
        spec = self.topics[self.rng.choice(list(self.topics))]
        context = self.fill(self.rng.choice(tox["clean_chat"] + spec["pos"] + spec["neg"] + spec["news"]))
        context = context.rstrip(".")
        return f"{context}, {text}" if self.rng.random() < 0.5 else f"{text}. {context}"

    def _toxic(self) -> None:
        tox = self.common["toxicity"]
        bodies = [(topic, pol, body) for topic, spec in self.topics.items()
                  for pol, key in (("negative", "neg"), ("positive", "pos")) for body in spec[key]]
        self.group = "toxic"
        for _ in range(750):
            topic, polarity, body = self.rng.choice(bodies)
            template = self.rng.choice(tox["offensive_templates"])
            text = self.fill(template.replace("{ins}", self.rng.choice(tox["offensive_inserts"]))
                             .replace("{body}", self.fill(body)))
            self.variants(self._in_context(text), topic, polarity, "offensive", formal=False)
        for text in tox["offensive_standalone"]:
            polarity = "positive" if any(w in text for w in _POSITIVE_SWEARING) else "negative"
            for _ in range(2):
                self.variants(text, "other", polarity, "offensive", formal=False)
        negative_bodies = [b for b in bodies if b[1] == "negative"]
        for _ in range(800):
            template = self.rng.choice(tox["hate_templates"])
            topic = "other"
            body = ""
            if "{body}" in template:
                topic, _, body = self.rng.choice(negative_bodies)
                body = self.fill(body)
            text = self.fill(template.replace("{body}", body)
                             .replace("{target}", self.rng.choice(tox["hate_targets"]))
                             .replace("{insult}", self.rng.choice(tox["hate_insults"])))
            self.variants(self._in_context(text), topic, "negative", "hate", formal=False)
        self.group = "chat"
        for raw in tox["clean_family"]:
            for _ in range(4):
                polarity = "negative" if any(w in raw for w in ("sốt", "không nổi", "lạ")) else "neutral"
                self.variants(self.fill(raw), "other", polarity, "clean", formal=False)
        for raw in tox["clean_chat"] + tox["clean_negative"]:
            text = self.fill(raw)
            if text in _POSITIVE_CHAT:
                polarity = "positive"
            elif text in _NEGATIVE_CHAT or text in tox["clean_negative"]:
                polarity = "negative"
            else:
                polarity = "neutral"
            for _ in range(4):
                self.variants(self.fill(raw), "other", polarity, "clean", formal=False)

    def _quote(self, spec: dict[str, Any], neutral: bool = False) -> tuple[str, str]:
        """One attributed sentence ("Theo bà X, ...") and the polarity of what is quoted."""
        news = self.common["news_passages"]
        choices = [("neutral", spec["news"]), ("positive", spec["pos"]), ("negative", spec["neg"])]
        polarity, pool = choices[0] if neutral else self.rng.choice(choices)
        clause = self.fill(self.rng.choice(pool)).rstrip(".")
        clause = clause[0].lower() + clause[1:]
        if self.rng.random() < 0.5:
            title, name = self.rng.choice(["ông", "anh"]), self.rng.choice(news["men"])
        else:
            title, name = self.rng.choice(["bà", "chị"]), self.rng.choice(news["women"])
        frame = self.fill(self.rng.choice(news["frames"]))
        text = frame.format(who=f"{title} {name}", Who=f"{title.capitalize()} {name}", clause=clause)
        return text, polarity

    def _news_passages(self) -> None:
        """Clean formal passages of two or three sentences, as the toxicity stage reads an
        article: statements, attributed quotes and bad-news facts (deaths, animals, fights)
        whose words insults also use."""
        news = self.common["news_passages"]
        for topic, spec in self.topics.items():
            facts = news["facts"].get(topic, [])
            for fact in facts:
                for _ in range(2):
                    self.variants(self.fill(fact), topic, "negative", "clean", formal=True)
            for _ in range(8):
                quote, polarity = self._quote(spec)
                self.add(quote, topic, polarity, "clean", "news")
            for _ in range(36):
                parts = [self.fill(self.rng.choice(spec["news"]))]
                polarities = {"neutral"}
                if facts and self.rng.random() < 0.5:
                    parts.append(self.fill(self.rng.choice(facts)))
                    polarities.add("negative")
                if self.rng.random() < 0.7:
                    quote, polarity = self._quote(spec)
                    parts.append(quote)
                    polarities.add(polarity)
                if len(parts) == 1:
                    parts.append(self.fill(self.rng.choice(spec["news"])))
                polarity = ("negative" if "negative" in polarities else
                            "positive" if "positive" in polarities else "neutral")
                self.add(" ".join(p if p.endswith(".") else p + "." for p in parts),
                         topic, polarity, "clean", "news")
        for topic, polarity, fact in news["calm_facts"]:
            self.add(fact, topic, polarity, "clean", "news")
            quote, _ = self._quote(self.topics[topic], neutral=True)
            self.add(f"{fact} {quote}", topic, polarity, "clean", "news")


def read_passages(path: Path) -> list[tuple[str, str, str, str]]:
    """``(topic, sentiment, kind, text)`` of each passage in a ``passages/*.yaml`` file.

    The file holds ``topic: <id>`` and lists ``negative``/``neutral``/``positive`` of
    ``{kind: news|notice|letter|forum, text: "..."}``. A malformed file or entry raises
    :class:`core.errors.NlpError` naming the file (a half-written file is never skipped
    silently)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise NlpError(f"cannot read passages: {exc}", where=str(path),
                       hint="fix the YAML of the passages file") from exc
    if not isinstance(data, dict) or not isinstance(data.get("topic"), str):
        raise NlpError("a passages file needs `topic: <id>`", where=str(path))
    out = []
    for sentiment in ("negative", "neutral", "positive"):
        for item in data.get(sentiment) or []:
            if (not isinstance(item, dict) or item.get("kind") not in PASSAGE_KINDS
                    or not isinstance(item.get("text"), str) or not item["text"].strip()):
                raise NlpError(f"bad {sentiment} passage {item!r}", where=str(path),
                               hint=f"each needs kind ({'/'.join(PASSAGE_KINDS)}) and text")
            out.append((data["topic"], sentiment, item["kind"], item["text"].strip()))
    return out


def build_rows(seed: int = 2025, template_tasks: dict[str, dict[str, float]] | None = None,
               passages_dir: Path = PASSAGES_DIR, internal: bool = False) -> list[dict[str, Any]]:
    """The corpus rows (see the module docstring); ``template_tasks`` overrides
    :data:`TEMPLATE_TASKS` and ``internal`` keeps the passage index of each row (both for
    the cross-validation that chose the groups)."""
    return _Builder(seed, template_tasks, passages_dir).build(internal)


def build_corpus(out: Path = DEFAULT_OUT, seed: int = 2025,
                 passages_dir: Path = PASSAGES_DIR) -> dict[str, Any]:
    """Write the corpus to ``out``; return its size, label counts and SHA-256."""
    rows = build_rows(seed, passages_dir=passages_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    out.write_text(payload, encoding="utf-8")
    summary = {
        "rows": len(rows), "sha256": hashlib.sha256(payload.encode("utf-8")).hexdigest(),
        "topic": dict(Counter(r["topic"] for r in rows if r["topic"])),
        "sentiment": dict(Counter(r["sentiment"] for r in rows if r["sentiment"])),
        "toxicity": dict(Counter(r["toxicity"] for r in rows if r["toxicity"])),
        "style": dict(Counter(r["style"] for r in rows)),
        "source": dict(Counter(r["source"].split(":")[0] + ":" + r["source"].split(":")[1]
                               .removesuffix(".yaml") for r in rows)),
    }
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlp.corpus", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="write the corpus JSONL")
    b.add_argument("--out", type=Path, default=DEFAULT_OUT)
    b.add_argument("--seed", type=int, default=2025)
    b.add_argument("--passages", type=Path, default=PASSAGES_DIR,
                   help="folder of passages/*.yaml files (default: the bundled one)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    summary = build_corpus(args.out, args.seed, args.passages)
    sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
