"""Quality of the linear classifiers on public Vietnamese datasets, and of the shipped defaults.

    python bench/nlp_quality.py [--json] [--only vsfc,vihsd,vntc,vsmec,visfd,defaults,real,plain]

* UIT-VSFC sentiment: train on train, evaluate on dev (targets weighted-F1 >= 0.91, macro-F1 >= 0.78);
* UIT-ViHSD toxicity: train on train, evaluate on dev (target macro-F1 >= 0.66);
* VNTC news topics (its own 10 labels): only the train sample is here, so it is split
  80/20 by a hash of each document id; train on the 80, evaluate on the 20 (aim accuracy >= 0.935);
* UIT-VSMEC emotion (7 classes, Facebook comments) and UIT-ViSFD review stars (1-5, from
  the review text; the aspect labels are not used): train on train, evaluate on the dev
  split. No product target: they check that ``iocwatch nlp train`` holds on label sets
  and registers it was not built for, against the plain bar (``plain``);
* the shipped default sentiment and toxicity models (trained only on the project's own
  corpus) evaluated on the VSFC and ViHSD dev splits (targets macro-F1 >= 0.60 and >= 0.52);
* real text (``real``): the shipped default topic and sentiment models on ioc_real_dev
  (hand-labelled excerpts of real Vietnamese city news, letters and forum posts, read
  from ``../shared`` at run time, never copied or trained on): macro-F1, per-class
  precision and recall, confusion matrices (rows gold, columns predicted), the expected
  calibration error of the sentiment probabilities and the share of labels flagged
  unsure (targets: sentiment macro-F1 >= 0.72 with every recall >= 0.60; topic
  macro-F1 >= 0.80 with no class F1 below 0.55).

Models are trained with the same code as ``iocwatch nlp train`` (the linear backend) into
a temporary directory and thrown away: nothing trained on these datasets is kept or
shipped. Datasets: Kiet Van Nguyen et al., UIT-VSFC (KSE 2018); Son T. Luu et al.,
UIT-ViHSD (IEA/AIE 2021); Cong Duy Vu Hoang et al., VNTC (RIVF 2007); Vong Anh Ho et al.,
UIT-VSMEC (PACLING 2019); Luc Phan et al., UIT-ViSFD (2021). Research use.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

log = logging.getLogger("bench.nlp_quality")

ROOT = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("IOCWATCH_DATASETS", ROOT.parent / "shared" / "datasets"))
TARGETS = {
    "vsfc_sentiment": {"weighted_f1": 0.91, "macro_f1": 0.78},
    "vihsd_toxicity": {"macro_f1": 0.66},
    "vntc_topic": {"accuracy": 0.935},  # the aim since the 0.94 target was retired (issue 15)
    "vsmec_emotion": {},  # no target: compared with the plain bar
    "visfd_stars": {},
    "default_sentiment_on_vsfc": {"macro_f1": 0.60},
    "default_toxicity_on_vihsd": {"macro_f1": 0.52},
    "real_sentiment": {"macro_f1": 0.72, "min_recall": 0.60},
    "real_topic": {"macro_f1": 0.80, "min_f1": 0.55},
}
ECE_BINS = 10  # equal-width bins of the top probability for the expected calibration error
VSFC_MAP = "0:negative,1:neutral,2:positive"
VIHSD_MAP = "0:clean,1:offensive,2:hate"


def _summary(name: str, metrics: dict, seconds: float) -> dict:
    out = {k: metrics[k] for k in ("n", "accuracy", "macro_f1", "weighted_f1")}
    out["per_class_f1"] = {c: row["f1"] for c, row in metrics["per_class"].items()}
    out["seconds"] = round(seconds, 1)
    out["targets"] = TARGETS[name]
    if TARGETS[name]:  # data sets without a target are compared with the plain bar instead
        out["met"] = all(metrics[k] >= v for k, v in TARGETS[name].items())
    return out


def train_eval(name: str, task: str, train_file: Path, dev_file: Path, work: Path, *,
               label_field: str, label_map: str | None = None) -> dict:
    from nlp.train import evaluate, train

    started = time.perf_counter()
    out = work / name
    train(task, train_file, out, label_field=label_field, command=f"bench/nlp_quality.py {name}")
    metrics = evaluate(str(out), dev_file, label_field=label_field, label_map=label_map)
    return _summary(name, metrics, time.perf_counter() - started)


def expected_calibration_error(proba, gold_index, bins: int = ECE_BINS) -> float:
    """Top-label ECE: the gap between confidence and accuracy, averaged over equal-width
    bins of the top probability, weighted by the share of rows in each bin."""
    import numpy as np

    proba = np.asarray(proba, dtype=np.float64)
    top = proba.max(axis=1)
    right = (proba.argmax(axis=1) == np.asarray(gold_index)).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(top, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(top[mask].mean() - right[mask].mean())
    return float(ece)


def real_text(task: str, path: Path, ref: str | None = None) -> dict:
    """The shipped default ``task`` model (or the model ``ref``) on ioc_real_dev (see the
    module docstring)."""
    from nlp.models import load_classifier
    from nlp.normalize import normalize_text
    from nlp.train import metrics

    rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    texts = [normalize_text(r["text"])[0] for r in rows]
    gold = [r[task] for r in rows]
    model = load_classifier(ref or f"default:{task}")
    started = time.perf_counter()
    pred, proba = model.predict(texts, {})
    seconds = time.perf_counter() - started
    m = metrics(gold, pred)
    classes = sorted(set(gold) | set(model.labels))
    confusion = {g: {p: 0 for p in classes} for g in classes}
    for g, p in zip(gold, pred, strict=True):
        confusion[g][p] += 1
    out = {k: m[k] for k in ("n", "accuracy", "macro_f1", "weighted_f1")}
    out["per_class"] = {c: {k: row[k] for k in ("precision", "recall", "f1", "support")}
                        for c, row in m["per_class"].items()}
    out["confusion"] = confusion
    index = {lab: i for i, lab in enumerate(model.labels)}
    out["ece"] = round(expected_calibration_error(proba, [index.get(g, -1) for g in gold]), 4)
    unsure = getattr(getattr(model, "model", None), "unsure_below_", None)
    if unsure is not None:
        top = proba.max(axis=1)
        flagged = top < unsure
        right = [g == p for g, p in zip(gold, pred, strict=True)]
        out["unsure"] = {
            "threshold": round(float(unsure), 4), "share": round(float(flagged.mean()), 4),
            "accuracy_unsure": round(sum(r for r, f in zip(right, flagged, strict=True) if f)
                                     / max(1, int(flagged.sum())), 4),
            "accuracy_sure": round(sum(r for r, f in zip(right, flagged, strict=True) if not f)
                                   / max(1, int((~flagged).sum())), 4)}
    out["seconds"] = round(seconds, 2)
    name = f"real_{task}"
    out["targets"] = TARGETS[name]
    recalls = [row["recall"] for row in out["per_class"].values()]
    f1s = [row["f1"] for row in out["per_class"].values()]
    out["met"] = (m["macro_f1"] >= TARGETS[name]["macro_f1"]
                  and min(recalls) >= TARGETS[name].get("min_recall", 0.0)
                  and min(f1s) >= TARGETS[name].get("min_f1", 0.0))
    return out


def plain_baseline(name: str, train_file: Path, dev_file: Path, *, label_field: str,
                   label_map: str | None = None) -> dict:
    """The bar ``iocwatch nlp train`` must clear: scikit-learn's ``TfidfVectorizer`` (word
    1-grams, and 1-2-grams; the better of the two on dev is reported) + ``LinearSVC()``
    with default settings, on the raw texts."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    from nlp.train import metrics, parse_label_map, read_jsonl

    mapping = parse_label_map(label_map)
    tr = read_jsonl(train_file, label_field=label_field, label_map=mapping, normalize=False)
    dv = read_jsonl(dev_file, label_field=label_field, label_map=mapping, normalize=False)
    out: dict = {}
    for key, ngrams in (("word_1", (1, 1)), ("word_1_2", (1, 2))):
        started = time.perf_counter()
        vec = TfidfVectorizer(ngram_range=ngrams)
        model = LinearSVC().fit(vec.fit_transform(tr.texts), tr.labels)
        m = metrics(dv.labels, list(model.predict(vec.transform(dv.texts))))
        out[key] = {k: m[k] for k in ("n", "accuracy", "macro_f1", "weighted_f1")}
        out[key]["seconds"] = round(time.perf_counter() - started, 1)
        log.info("plain %s %s: %s", name, key, out[key])
    out["best_macro_f1"] = max(v["macro_f1"] for v in out.values())
    out["best_accuracy"] = max(v["accuracy"] for v in out.values() if isinstance(v, dict))
    return out


def vntc_split(work: Path) -> tuple[Path, Path]:
    """80/20 split of the VNTC train sample by a hash of the document id (deterministic)."""
    src = DATASETS / "vntc_10topics" / "train_sample.jsonl"
    train_path, dev_path = work / "vntc_train.jsonl", work / "vntc_dev.jsonl"
    with src.open(encoding="utf-8") as fh, train_path.open("w", encoding="utf-8") as tr, \
            dev_path.open("w", encoding="utf-8") as dv:
        for line in fh:
            row = json.loads(line)
            bucket = int(hashlib.sha1(row["id"].encode("utf-8")).hexdigest(), 16) % 5
            (dv if bucket == 0 else tr).write(line)
    return train_path, dev_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    parser.add_argument("--only", default="vsfc,vihsd,vntc,defaults,real",
                        help="comma-separated subset of vsfc,vihsd,vntc,vsmec,visfd,defaults,"
                             "real,plain (vsmec, visfd and plain, the TF-IDF + LinearSVC bar "
                             "of every data set trained on, are not run by default)")
    parser.add_argument("--models", type=Path, default=None,
                        help="evaluate DIR/{topic,sentiment,toxicity} instead of the shipped "
                             "defaults (defaults and real sections)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if not args.json else logging.WARNING,
                        stream=sys.stderr)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(ROOT))
    from nlp.train import evaluate

    only = {p.strip() for p in args.only.split(",") if p.strip()}

    def ref(task: str) -> str:
        return str(args.models / task) if args.models else f"default:{task}"

    result: dict = {}
    started = time.perf_counter()
    vsfc, vihsd = DATASETS / "uit_vsfc", DATASETS / "uit_vihsd"
    vsmec, visfd = DATASETS / "uit_vsmec", DATASETS / "uit_visfd"
    # --only key -> (result name, task trained, label field, work dir -> (train file, dev file))
    trained = {
        "vsfc": ("vsfc_sentiment", "sentiment", "sentiment",
                 lambda work: (vsfc / "train.jsonl", vsfc / "dev.jsonl")),
        "vihsd": ("vihsd_toxicity", "toxicity", "label",
                  lambda work: (vihsd / "train.jsonl", vihsd / "dev.jsonl")),
        "vntc": ("vntc_topic", "topic", "topic", vntc_split),
        "vsmec": ("vsmec_emotion", "topic", "emotion",
                  lambda work: (vsmec / "train.jsonl", vsmec / "valid.jsonl")),
        "visfd": ("visfd_stars", "sentiment", "n_star",
                  lambda work: (visfd / "train.jsonl", visfd / "dev.jsonl")),
    }
    with tempfile.TemporaryDirectory(prefix="iocwatch-nlp-quality-") as tmp:
        work = Path(tmp)
        for key, (name, task, field, files) in trained.items():
            if key in only:
                result[name] = train_eval(name, task, *files(work), work, label_field=field)
        if "plain" in only:
            result["plain"] = {name: plain_baseline(key, *files(work), label_field=field)
                               for key, (name, _, field, files) in trained.items()}
        if "defaults" in only:
            t0 = time.perf_counter()
            m = evaluate(ref("sentiment"), vsfc / "dev.jsonl", label_field="sentiment",
                         label_map=VSFC_MAP)
            result["default_sentiment_on_vsfc"] = _summary("default_sentiment_on_vsfc", m,
                                                           time.perf_counter() - t0)
            t0 = time.perf_counter()
            m = evaluate(ref("toxicity"), vihsd / "dev.jsonl", label_field="label",
                         label_map=VIHSD_MAP)
            result["default_toxicity_on_vihsd"] = _summary("default_toxicity_on_vihsd", m,
                                                           time.perf_counter() - t0)
    if "real" in only:
        real = DATASETS / "ioc_real_dev" / "ioc_real_dev.jsonl"
        result["real_sentiment"] = real_text("sentiment", real, ref("sentiment"))
        result["real_topic"] = real_text("topic", real, ref("topic"))
    result["all_targets_met"] = all(v["met"] for v in result.values()
                                    if isinstance(v, dict) and "met" in v)
    result["seconds"] = round(time.perf_counter() - started, 1)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
