"""Throughput of the default NLP pipeline against underthesea.word_tokenize alone.

    python bench/nlp_bench.py [--json] [--posts 20000] [--batch-size N]

Runs the whole default pipeline (every stage of ``nlp.stages``) on at least 20,000
posts and, in the same run and on the same texts, ``underthesea.word_tokenize`` alone.
The two are timed in interleaved chunks so load from other processes on the machine
hits both alike, and both run with Python's cyclic garbage collector paused (the
pipeline pauses it during each batch). Prints ``posts_per_s``,
``tokenize_only_posts_per_s``, ``ratio`` and ``peak_rss_mb`` (targets: ratio >= 0.7,
peak_rss_mb <= 1500).

Texts: comments and sentences from the train splits of UIT-ViHSD and UIT-VSFC in
``../shared/datasets`` (research use; read, never copied), distinct texts only.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("IOCWATCH_DATASETS", ROOT.parent / "shared" / "datasets"))
TARGET_RATIO = 0.7
TARGET_RSS_MB = 1500


def load_texts(n: int) -> list[str]:
    texts: list[str] = []
    seen: set[str] = set()
    for name in ("uit_vihsd/train.jsonl", "uit_vsfc/train.jsonl", "uit_vihsd/dev.jsonl",
                 "uit_vsfc/dev.jsonl"):
        path = DATASETS / name
        if not path.is_file():
            continue
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                text = json.loads(line).get("text") or ""
                if text.strip() and text not in seen:
                    seen.add(text)
                    texts.append(text)
                    if len(texts) >= n:
                        return texts
    if len(texts) < n:
        raise SystemExit(f"only {len(texts)} distinct texts found under {DATASETS}; need {n}")
    return texts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=None,
                        help="posts per batch (default: nlp.batch_size, 256)")
    parser.add_argument("--chunk", type=int, default=2000, help="posts per interleaved chunk")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(ROOT))

    from tqdm import tqdm
    from underthesea import word_tokenize

    from core.documents import Post
    from core.settings import load_settings
    from nlp.pipeline import load_pipeline

    texts = load_texts(args.posts)
    settings = load_settings(data_dir=Path("/tmp/iocwatch-nlp-bench"))
    args.batch_size = args.batch_size or settings.nlp.batch_size
    pipeline = load_pipeline(settings)
    warm = [Post(id=f"w{i}", source="bench", platform="facebook", text=t)
            for i, t in enumerate(texts[:50])]
    list(pipeline.pipe(warm, batch_size=args.batch_size))
    word_tokenize(texts[0])
    pipeline.stats["seconds"].clear()

    posts = [Post(id=f"p{i}", source="bench", platform="facebook", text=t)
             for i, t in enumerate(texts)]
    t_tok = 0.0
    t_pipe = 0.0
    errors = 0
    for start in tqdm(range(0, len(texts), args.chunk), desc="bench", unit="chunk", file=sys.stderr):
        chunk_texts = texts[start:start + args.chunk]
        gc.disable()  # the pipeline pauses the collector during a batch: the reference too
        t0 = time.perf_counter()
        for text in chunk_texts:
            word_tokenize(text)
        t_tok += time.perf_counter() - t0
        gc.enable()
        t0 = time.perf_counter()
        for post in pipeline.pipe(posts[start:start + args.chunk], batch_size=args.batch_size):
            errors += bool(post.analysis_errors)
        t_pipe += time.perf_counter() - t0

    n = len(texts)
    result = {
        "posts": n,
        "batch_size": args.batch_size,
        "stages": pipeline.names,
        "posts_per_s": round(n / t_pipe, 1),
        "tokenize_only_posts_per_s": round(n / t_tok, 1),
        "ratio": round(t_tok / t_pipe, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "posts_with_errors": errors,
        "stage_ms_per_post": {k: round(v / n * 1000, 3)
                              for k, v in pipeline.stats["seconds"].items()},
        "vietnamese": sum(1 for p in posts if p.language == "vi"),
    }
    result["targets_met"] = result["ratio"] >= TARGET_RATIO and result["peak_rss_mb"] <= TARGET_RSS_MB
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
