"""Word segmentation: the pipeline's segmenter against underthesea.word_tokenize, on gold text.

    python bench/segment_bench.py [--json] [--splits train,dev]

Reads the UD Vietnamese VTB developer splits from ``../shared/datasets/ud_vietnamese_vtb``
(news sentences with gold word segmentation; CC BY-SA 4.0, read at run time, never copied):
``<split>.raw.txt`` is segmented by :class:`nlp.segment.Segmenter` (the ``segment`` stage,
which decodes underthesea's CRF in Python, :mod:`nlp.crf`) and by ``word_tokenize`` itself.
Prints word-level precision, recall and F1 of both against ``<split>.ws.txt``, the number of
sentences where the two differ (target 0: the segmenter must give word_tokenize's words),
how many sentences the decoder left to underthesea's tagger (exact ties), and the speed of
both, timed in interleaved chunks (sentences per second and their ratio; target >= 1).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("IOCWATCH_DATASETS", ROOT.parent / "shared" / "datasets"))


def spans(words: list[str]) -> set[tuple[int, int]]:
    """Each word as (start, end) over the sentence's characters without spaces, so a
    tokenization that splits punctuation differently does not shift every later word."""
    out, start = set(), 0
    for word in words:
        n = len(word.replace(" ", ""))
        out.add((start, start + n))
        start += n
    return out


def prf(gold: list[list[str]], pred: list[list[str]]) -> dict[str, float]:
    """Word-level precision, recall and F1 (a word counts when its exact span matches)."""
    hit = n_gold = n_pred = 0
    for g, p in zip(gold, pred, strict=True):
        gs, ps = spans(g), spans(p)
        hit += len(gs & ps)
        n_gold += len(gs)
        n_pred += len(ps)
    precision, recall = hit / max(1, n_pred), hit / max(1, n_gold)
    f1 = 2 * precision * recall / max(1e-12, precision + recall)
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    parser.add_argument("--splits", default="train,dev", help="VTB splits to read")
    parser.add_argument("--chunk", type=int, default=250, help="sentences per interleaved chunk")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    sys.path.insert(0, str(ROOT))
    from underthesea import word_tokenize

    from nlp.segment import Segmenter

    raw: list[str] = []
    gold: list[list[str]] = []
    for split in [s.strip() for s in args.splits.split(",") if s.strip()]:
        base = DATASETS / "ud_vietnamese_vtb"
        lines = (base / f"{split}.raw.txt").read_text(encoding="utf-8").splitlines()
        golds = (base / f"{split}.ws.txt").read_text(encoding="utf-8").splitlines()
        if len(lines) != len(golds):
            raise SystemExit(f"{split}: {len(lines)} raw sentences but {len(golds)} gold ones")
        raw += lines
        gold += [[w.replace("_", " ") for w in line.split()] for line in golds]
    segmenter = Segmenter()
    decode = segmenter._fast["decode"] if segmenter._fast else None
    ties = 0
    if decode is not None:
        for text in raw:
            tokens = segmenter._tokens(text, segmenter._fast)
            ties += bool(tokens) and decode(tokens) is None
    ours: list[list[str]] = []
    theirs: list[list[str]] = []
    t_ours = t_theirs = 0.0
    for start in range(0, len(raw), args.chunk):
        chunk = raw[start:start + args.chunk]
        gc.disable()
        t0 = time.perf_counter()
        theirs += [word_tokenize(t) for t in chunk]
        t1 = time.perf_counter()
        ours += [segmenter(t) for t in chunk]
        t2 = time.perf_counter()
        gc.enable()
        t_theirs += t1 - t0
        t_ours += t2 - t1
    result = {
        "sentences": len(raw),
        "segmenter": {**prf(gold, ours), "sentences_per_s": round(len(raw) / t_ours, 1)},
        "word_tokenize": {**prf(gold, theirs), "sentences_per_s": round(len(raw) / t_theirs, 1)},
        "sentences_that_differ": sum(a != b for a, b in zip(ours, theirs, strict=True)),
        "ties_left_to_the_tagger": ties,
        "decoder": decode is not None,
        "speed_ratio": round(t_theirs / t_ours, 3),
    }
    result["targets_met"] = result["sentences_that_differ"] == 0 and result["speed_ratio"] >= 1.0
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
