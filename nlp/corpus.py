"""Build the project's own labelled corpus from hand-written fragments (deterministic).

    python -m nlp.corpus build [--out nlp/data/corpus/corpus.jsonl] [--seed 2025]

Each row: ``{"id", "text", "topic", "sentiment", "toxicity", "style"}`` where style is
``news`` (formal, with diacritics), ``social`` (lower case, teencode, emoji, stretched
letters) or ``plain`` (social text without diacritics). The fragments live in
``nlp/data/corpus/fragments_*.yaml``; every sentence is composed from them.
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

from core.text import fold

log = logging.getLogger(__name__)

DEFAULT_OUT = Path(__file__).parent / "data" / "corpus" / "corpus.jsonl"
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


def _load(name: str) -> dict[str, Any]:
    text = resources.files("nlp").joinpath(f"data/corpus/{name}").read_text(encoding="utf-8")
    return yaml.safe_load(text)


class _Builder:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
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
                          "toxicity": toxicity, "style": style})

    def variants(self, text: str, topic: str, sentiment: str, toxicity: str, formal: bool) -> None:
        """One sentence in several styles."""
        if formal:
            self.add(text, topic, sentiment, toxicity, "news")
        social = self.social(text)
        self.add(social, topic, sentiment, toxicity, "social")
        if self.rng.random() < 0.6:
            self.add(fold(self.social(text)), topic, sentiment, toxicity, "plain")

    def build(self) -> list[dict[str, Any]]:
        senti = self.common["sentiment"]
        ops = self.common["opinions"]
        for topic, spec in self.topics.items():
            for template in spec["news"]:
                for _ in range(4):
                    self.variants(self.fill(template), topic, "neutral", "clean", formal=True)
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
        self._news_passages()
        rows = self.rows
        self.rng.shuffle(rows)
        for row in rows:
            row["id"] = "c" + hashlib.sha1(row["text"].encode("utf-8")).hexdigest()[:12]
        return [{k: r[k] for k in ("id", "text", "topic", "sentiment", "toxicity", "style")}
                for r in rows]

    def _teaching(self, ops: dict[str, Any]) -> None:
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


def build_corpus(out: Path = DEFAULT_OUT, seed: int = 2025) -> dict[str, Any]:
    """Write the corpus to ``out``; return its size, label counts and SHA-256."""
    rows = _Builder(seed).build()
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    out.write_text(payload, encoding="utf-8")
    summary = {
        "rows": len(rows), "sha256": hashlib.sha256(payload.encode("utf-8")).hexdigest(),
        "topic": dict(Counter(r["topic"] for r in rows)),
        "sentiment": dict(Counter(r["sentiment"] for r in rows)),
        "toxicity": dict(Counter(r["toxicity"] for r in rows)),
        "style": dict(Counter(r["style"] for r in rows)),
    }
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlp.corpus", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="write the corpus JSONL")
    b.add_argument("--out", type=Path, default=DEFAULT_OUT)
    b.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    summary = build_corpus(args.out, args.seed)
    sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
