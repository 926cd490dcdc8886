"""Index benchmark: ingest, search and dashboard aggregations on N synthetic Vietnamese posts.

Prints one JSON object. The reference, measured in the same run on the same documents,
is tantivy's own ingest with a minimal schema (no validation, no folding, no exact field).

    python bench/index_bench.py --docs 1000000 --json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ helpers next to this script

from synth import QUERY_WORDS, SOURCES, posts  # noqa: E402

from core.documents import Post  # noqa: E402
from core.settings import load_settings  # noqa: E402
from index import open_store  # noqa: E402
from index.querystring import parse_query, with_filters  # noqa: E402


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(p * len(values)))], 2)


def reference_ingest(docs: int, folder: Path) -> float:
    """tantivy alone: the same documents, one text field, stored JSON, one commit."""
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", tokenizer_name="raw")
    builder.add_text_field("text")
    builder.add_text_field("src", stored=True)
    folder.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(builder.build(), path=str(folder))
    writer = index.writer(heap_size=512_000_000)
    elapsed = 0.0
    source = posts(docs)
    while chunk := list(zip(range(50_000), source, strict=False)):
        start = time.perf_counter()
        for _, doc in chunk:
            writer.add_document(tantivy.Document(id=doc["id"], text=doc["title"] + " " + doc["text"],
                                                 src=json.dumps(doc, ensure_ascii=False)))
        elapsed += time.perf_counter() - start
    start = time.perf_counter()
    writer.commit()
    writer.wait_merging_threads()
    elapsed += time.perf_counter() - start
    return docs / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=200_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--json", action="store_true", help="print only the JSON object")
    ap.add_argument("--no-reference", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="iocwatch-bench-") as tmp:
        settings = load_settings(data_dir=Path(tmp) / "data")
        store = open_store(settings)
        # Posts are built (and validated) in chunks outside the timing: ingest is the store's
        # work, through the bulk-load session `iocwatch index load` uses (the store commits
        # every COMMIT_EVERY posts and when the session ends).
        ingest_s = ingest_cpu = ingest_main = 0.0
        source = posts(args.docs)

        def timed(step):
            nonlocal ingest_s, ingest_cpu, ingest_main
            start, cpu, main = time.perf_counter(), time.process_time(), time.thread_time()
            out = step()
            ingest_s += time.perf_counter() - start
            ingest_cpu += time.process_time() - cpu
            ingest_main += time.thread_time() - main
            return out

        session = store.bulk("posts")
        load = timed(session.__enter__)
        while chunk := [Post.model_validate(d) for _, d in zip(range(50_000), source, strict=False)]:
            result = timed(lambda chunk=chunk: load.add(chunk))
            assert result.ok, result.rejected[:3]
            del chunk, result  # else two chunks of models are alive while the next one is built
        timed(lambda: session.__exit__(None, None, None))  # the last commit
        stored = len(load.result.stored)
        # Let the writers finish their merges (counted as ingest) so searches run on a settled index.
        start = time.perf_counter()
        store.close()
        ingest_s += time.perf_counter() - start
        assert stored == args.docs

        rng = random.Random(3)
        search_ms = []
        for _ in range(args.queries):
            q = with_filters(parse_query(rng.choice(QUERY_WORDS)), [
                {"terms": {"source": rng.sample(SOURCES, 4)}},
                {"range": {"published_at": {"gte": "2026-10-01T00:00:00+07:00"}}},
            ])
            t = time.perf_counter()
            store.search("posts", q, size=20, sort=["published_at:desc"], highlight=["title", "text"])
            search_ms.append((time.perf_counter() - t) * 1000)

        aggs = {
            "per_day": {"date_histogram": {"field": "published_at", "calendar_interval": "day",
                                           "time_zone": "Asia/Ho_Chi_Minh"},
                        "aggs": {"sentiment": {"terms": {"field": "sentiment", "size": 3}}}},
            "topics": {"terms": {"field": "topics", "size": 12}},
        }
        window = {"range": {"published_at": {"gte": "2026-08-22T00:00:00+07:00", "lt": "2026-11-21T00:00:00+07:00"}}}
        aggs_ms = []
        for _ in range(max(20, args.queries // 5)):
            t = time.perf_counter()
            out = store.aggregate("posts", window, aggs)
            aggs_ms.append((time.perf_counter() - t) * 1000)
        assert sum(b["doc_count"] for b in out["per_day"]["buckets"]) == args.docs

        report = {
            "backend": settings.store,
            "docs": args.docs,
            "ingest_docs_per_s": round(args.docs / ingest_s),
            # CPU time per document while ingesting: all threads (tantivy indexes on its own
            # threads), and the calling thread alone (validation is outside, conversion inside)
            "ingest_cpu_us_per_doc": round(ingest_cpu / args.docs * 1e6, 1),
            "ingest_caller_cpu_us_per_doc": round(ingest_main / args.docs * 1e6, 1),
            "search_p50_ms": _pct(search_ms, 0.5),
            "search_p95_ms": _pct(search_ms, 0.95),
            "aggs_p50_ms": _pct(aggs_ms, 0.5),
            "aggs_p95_ms": _pct(aggs_ms, 0.95),
            "search_mean_ms": round(statistics.mean(search_ms), 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "shards": sorted(p.name for p in settings.path("index", "posts").iterdir() if p.is_dir()),
            "cpu_count": os.cpu_count(),
        }
        store.close()
        if not args.no_reference:
            ref = reference_ingest(args.docs, Path(tmp) / "ref")
            report["reference_tantivy_ingest_docs_per_s"] = round(ref)
            report["ingest_ratio_vs_reference"] = round(report["ingest_docs_per_s"] / ref, 3)
    print(json.dumps(report))  # noqa: T201 - the benchmark's output


if __name__ == "__main__":
    main()
