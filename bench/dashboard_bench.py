"""Dashboard benchmark: time the first (uncached) render of every page over a large index.

Builds (once, then reuses) an embedded index of synthetic Vietnamese posts and alerts
through the store, then renders each page with Streamlit's AppTest as an admin, with
the query cache cleared before each page. Prints one JSON object::

    {"pages": {"overview": s, ...}, "max_s": s, "cached_pages": {...}, "posts": n, "alerts": n, ...}

    python bench/dashboard_bench.py --posts 1000000 --alerts 100000 --json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ helpers next to this script

import synth  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("overview", "listening", "search", "security", "sources")
TARGET_S = 2.0
BATCH = 50_000


def build(data_dir: Path, n_posts: int, n_alerts: int, *, progress: bool) -> dict:
    """Fill the store with synthetic documents ending now (reused when the counts already match)."""
    from tqdm import tqdm

    from core.settings import load_settings
    from index import open_store

    store = open_store(load_settings(data_dir=data_dir))
    try:
        if store.count("posts") == n_posts and store.count("alerts") == n_alerts:
            return {"reused": True, "build_s": 0.0}
        store.delete_all("posts")
        store.delete_all("alerts")
        synth.END = datetime.now(UTC)  # the generators spread documents over the days before END
        started = time.perf_counter()
        rejected = 0
        for kind, docs, total in (("posts", synth.posts(n_posts), n_posts),
                                  ("alerts", synth.alerts(n_alerts), n_alerts)):
            with tqdm(total=total, desc=f"indexing {kind}", unit=" docs", disable=not progress) as bar:
                while True:
                    chunk = list(islice(docs, BATCH))
                    if not chunk:
                        break
                    result = store.upsert_many(kind, chunk)
                    rejected += len(result.rejected)
                    bar.update(len(chunk))
        return {"reused": False, "build_s": round(time.perf_counter() - started, 1), "rejected": rejected}
    finally:
        store.close()


def render_pages(data_dir: Path) -> dict:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from core.settings import get_settings
    from dashboard import data

    os.environ["IOCWATCH_DATA_DIR"] = str(data_dir)
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    from dashboard.auth import add_user

    add_user(get_settings(), "bench", "admin", "bench-password", rounds=4)
    started = time.perf_counter()
    data.store().count("posts")  # open the store once, as a running server has it open
    open_s = time.perf_counter() - started
    # A server has rendered the login form before any page: same imports and runtime warm-up.
    AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=600).run()
    import dashboard.charts  # noqa: F401  (the pages' chart module, imported by the first page in a server)

    admin = {"name": "bench", "role": "admin", "display_name": "bench", "via": "password"}
    first, cached = {}, {}
    for page in PAGES:
        st.cache_data.clear()
        at = AppTest.from_file(str(ROOT / "dashboard" / "pages" / f"{page}.py"), default_timeout=600)
        at.session_state["auth_user"] = admin
        started = time.perf_counter()
        at.run()
        first[page] = round(time.perf_counter() - started, 3)
        if at.exception:
            raise RuntimeError(f"page {page} failed: {at.exception[0].message}")
        started = time.perf_counter()
        at.run()
        cached[page] = round(time.perf_counter() - started, 3)
    return {"pages": first, "max_s": max(first.values()), "cached_pages": cached, "store_open_s": round(open_s, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--data-dir", type=Path, help="where to build/reuse the index "
                        "(default bench/results/dashboard_<posts>_<alerts>)")
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    data_dir = args.data_dir or ROOT / "bench" / "results" / f"dashboard_{args.posts}_{args.alerts}" / "data"
    built = build(data_dir, args.posts, args.alerts, progress=True)  # the bar goes to stderr
    result = {**render_pages(data_dir), "target_s": TARGET_S, "posts": args.posts, "alerts": args.alerts, **built}
    result["within_target"] = result["max_s"] <= TARGET_S
    print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))  # noqa: T201


if __name__ == "__main__":
    main()
