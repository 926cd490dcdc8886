"""Spool throughput: documents/s through the durable spool into the embedded store, into the spool
alone (store down), and replayed afterwards. Prints one JSON object.

    python bench/ops_spool_bench.py [--docs 20000] [--batch 500] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--json", action="store_true", help="(always JSON; kept for `make bench`)")
    args = parser.parse_args()

    from core.errors import StoreUnavailableError
    from core.settings import load_settings
    from index import open_store
    from iocwatch.ops.spool import SpooledStore, open_spool
    from tests.ops.producer import make_batch

    class Down:
        def upsert_many(self, kind, docs, **kw):
            raise StoreUnavailableError("bench: store down")

        def close(self):
            return None

    batches = [[p.to_doc() for p in make_batch(b, args.batch)] for b in range(args.docs // args.batch)]
    n = sum(len(b) for b in batches)
    out: dict = {"docs": n, "batch": args.batch}
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp) / "up")
        store = open_store(settings)
        t0 = time.perf_counter()
        for b in batches:
            store.upsert_many("posts", b)
        out["direct_docs_per_s"] = round(n / (time.perf_counter() - t0))
        store.delete_all("posts")
        spooled = SpooledStore(store, open_spool(settings))
        t0 = time.perf_counter()
        for b in batches:
            spooled.upsert_many("posts", b)
        out["spooled_docs_per_s"] = round(n / (time.perf_counter() - t0))
        assert store.count("posts") == n
        spooled.close()

        settings2 = load_settings(data_dir=Path(tmp) / "down")
        down = SpooledStore(Down(), open_spool(settings2), retry_s=3600)
        t0 = time.perf_counter()
        for b in batches:
            down.upsert_many("posts", b)
        out["spool_only_docs_per_s"] = round(n / (time.perf_counter() - t0))
        out["spool_bytes_per_doc"] = round(down.spool.size_bytes() / n)
        store2 = open_store(settings2)
        back = SpooledStore(store2, down.spool)
        t0 = time.perf_counter()
        res = back.flush(force=True)
        out["replay_docs_per_s"] = round(len(res.stored) / (time.perf_counter() - t0))
        assert store2.count("posts") == n and res.remaining == 0
        back.close()
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
