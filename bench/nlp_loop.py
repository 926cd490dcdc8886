"""Learning curve of the correction loop on real text.

    python bench/nlp_loop.py [--n 0,50,100,150] [--order queue|hash] [--data FILE]

Splits ioc_real_dev (hand-labelled excerpts of real Vietnamese city news, letters and forum
posts, read from ``../shared`` at run time and never copied) into two halves by a hash of
the ids. For each N, a throwaway data directory gets the first half analysed by the shipped
models; N of those posts are corrected (topic and sentiment) through the dashboard's code
path (:func:`index.corrections.correct_post`) in the order of the review queue, each task
is retrained as ``iocwatch nlp retrain`` does, and the models are evaluated on the other
half. Prints one JSON object: per N and task, macro-F1 of the candidate and of the model
in use afterwards (the candidate only if the held-back comparison promoted it). Target:
sentiment macro-F1 at N = 150 at least 0.08 above the shipped default on the other half.
Every model is trained in a temporary directory and deleted: nothing trained on
ioc_real_dev is kept or shipped.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

log = logging.getLogger("bench.nlp_loop")

ROOT = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("IOCWATCH_DATASETS", ROOT.parent / "shared" / "datasets"))
TARGET_GAIN = 0.08  # sentiment macro-F1 at the largest N over the shipped default


def read_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def shipped_models() -> dict[str, str]:
    """When each shipped default was trained (to notice a default retrained during the run)."""
    from nlp.models import TASKS, default_model_dir, read_meta

    return {task: str(read_meta(default_model_dir(task)).get("trained_at")) for task in TASKS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATASETS / "ioc_real_dev" / "ioc_real_dev.jsonl")
    parser.add_argument("--n", default="0,50,100,150", help="Corrections per point, comma-separated.")
    parser.add_argument("--order", choices=["queue", "hash"], default="queue",
                        help="Which posts are corrected first: the review queue's or a fixed hash order.")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from iocwatch.flows.learn import learning_curve

    if not args.data.is_file():
        log.error("%s is missing; set IOCWATCH_DATASETS to the folder holding ioc_real_dev", args.data)
        return 2
    rows = read_rows(args.data)
    ns = [int(x) for x in args.n.split(",") if x.strip()]
    started = time.perf_counter()
    shipped_before = shipped_models()
    with tempfile.TemporaryDirectory(prefix="iocwatch-loop-") as tmp:
        curve = learning_curve(rows, ns, Path(tmp), order=args.order)
    if shipped_models() != shipped_before:
        log.error("the shipped models changed during the run: the curve mixes two defaults; run again")
        curve["shipped_changed_during_run"] = True
    curve["shipped_models"] = shipped_before
    points = curve["points"]
    base, last = points[0], points[-1]
    gain = {task: round(last[task]["in_use"] - base[task]["in_use"], 4) for task in ("sentiment", "topic")}
    curve.update(dataset=args.data.name, rows=len(rows), seconds=round(time.perf_counter() - started, 1),
                 gain_in_use_at_last_n=gain,
                 gain_candidate_at_last_n={t: round(last[t]["candidate"] - base[t]["candidate"], 4)
                                           for t in ("sentiment", "topic")},
                 target={"sentiment_gain": TARGET_GAIN, "met": gain["sentiment"] >= TARGET_GAIN})
    print(json.dumps(curve, ensure_ascii=False, indent=1))  # noqa: T201 - a bench prints its JSON
    return 0


if __name__ == "__main__":
    sys.exit(main())
