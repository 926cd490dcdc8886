"""Dashboard benchmark: first and cached render of every page, and the drill-downs, over a large index.

Builds (once, then reuses) an embedded index of synthetic Vietnamese posts and alerts
(``bench/synth.py``, with watchlists, toxic posts, sentiment confidences and listening
spike alerts added here so every section of every page has something to draw), then drives
the real app (``dashboard/app.py``: login, router, pages) with Streamlit's AppTest as an admin:

- ``first``: each page rendered with the query cache cleared (``st.cache_data``; the store
  stays open, as in a running server);
- ``cached``: the same page rendered again (what every click on it costs);
- ``drill``: from a figure to its evidence. A spike's button on Lắng nghe (a real click:
  the listening rerun, the hand-over and the search page); a bar of the topic, source,
  platform and place charts and a day of Tổng quan's chart (the page's rerun with its
  cached data, as the chart click causes, plus the search page opening on the handed-over
  filters, query not cached); picking another alert on An ninh mạng; a typed search query.

Wall seconds are the figures; ``cpu_s`` holds the CPU seconds of the same runs (every thread of
the process), which a shared machine's load does not inflate. Prints one JSON object with each
figure, the targets and whether they are met::

    python bench/dashboard_bench.py                       # 1,000,000 posts, 100,000 alerts
    python bench/dashboard_bench.py --posts 20000 --alerts 2000 --json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import resource
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ helpers next to this script
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, when run as a script

import synth  # noqa: E402

log = logging.getLogger("bench.dashboard")

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"
TARGET_FIRST_S = 2.0  # issue 19: first render of every page
TARGET_CACHED_S = 0.5  # issue 19: a cached render
TARGET_DRILL_S = 1.0  # issue 19: from a figure to its posts (or an alert to its detail)
BATCH = 50_000  # documents per store.bulk batch while building
RECIPE = 2  # bump when the generated documents change, so an older index is rebuilt
SPIKES = 10  # listening spike alerts over the last week (a busy week), on top of --alerts
TIMEOUT_S = 600  # AppTest's limit per run (the first render of a 1M index is far below)
BENCH_USER, BENCH_PASSWORD = "bench", "bench-password"
WATCHLISTS = ("ngap-lut", "giao-thong", "moi-truong", "dich-vu-cong", "dien-nuoc", "lua-dao-mang", "can-tho")
# What each chart's click hands to the search page in the drill-down measurement.
DRILLS = {"topic": "traffic", "source": "vnexpress", "platform": "facebook", "place": "Cần Thơ"}
QUERY = 'ngap AND "cần thơ" NOT sentiment:positive'  # a typed query (folded, phrase, field)


# ---------------------------------------------------------------- documents

def posts(n: int) -> Iterator[dict[str, Any]]:
    """synth's posts with what the pages draw besides: watchlists (a third of the posts), toxicity
    (5 % offensive, 1 % hateful, with scores), sentiment scores as P(positive) - P(negative) and the
    label's confidence."""
    rng = random.Random(19)
    for i, doc in enumerate(synth.posts(n)):
        if i % 3 == 0:
            doc["watchlists"] = [WATCHLISTS[(i // 3) % len(WATCHLISTS)]]
        roll = rng.random()
        doc["toxicity"] = "hate" if roll < 0.01 else "offensive" if roll < 0.06 else "clean"
        doc["toxicity_score"] = round(rng.uniform(0.6, 0.99) if roll < 0.06 else rng.uniform(0.0, 0.4), 3)
        confidence = round(rng.uniform(0.4, 0.99), 3)
        sign = {"negative": -1, "neutral": 0, "positive": 1}[doc["sentiment"]]
        doc["sentiment_score"] = round(sign * confidence, 3)
        doc["label_confidence"] = {"sentiment": confidence, "topic": round(rng.uniform(0.3, 0.95), 3)}
        yield doc


def alerts(n: int, n_posts: int) -> Iterator[dict[str, Any]]:
    """synth's security alerts with an entity, evidence and an explanation, then :data:`SPIKES`
    listening spike alerts over the last week, each naming three posts of its watchlist."""
    for doc in synth.alerts(n):
        doc["entity"] = doc["source.ip"]
        doc["evidence"] = [f"{doc['@timestamp']} {doc['source.ip']} -> {doc['destination.ip']}:"
                           f"{doc['destination.port']} {doc['rule.name']} x{doc['count']}"]
        doc["explanation"] = [{"feature": "connections", "observed": float(doc["count"]), "baseline": 3.0,
                               "kind": "anomaly", "tail_p": 0.01, "distance": 4.0, "baseline_of": "entity"},
                              {"feature": "distinct_ports", "observed": 12.0, "baseline": 2.0,
                               "kind": "anomaly", "tail_p": 0.03, "distance": 3.0, "baseline_of": "entity"}]
        yield doc
    stride = 3 * len(WATCHLISTS)  # posts i with i % stride == 3 * k carry watchlist k
    for k in range(SPIKES):
        name = WATCHLISTS[k % len(WATCHLISTS)]
        index = 3 * (k % len(WATCHLISTS))
        end = synth.END - timedelta(hours=14 * k + 1)
        yield {"id": synth.make_id("bench-spike", str(k)), "@timestamp": end.isoformat(), "module": "listening",
               "event.kind": "alert", "event.category": ["listening"], "rule.name": "volume_spike",
               "title": f"Số bài về «{name}» tăng đột biến", "risk_score": 60.0 + 3 * k,
               "severity": "critical" if k % 4 == 0 else "high",
               "status": "open" if k % 3 else "acknowledged",
               "first_seen": (end - timedelta(hours=6)).isoformat(), "last_seen": end.isoformat(),
               "count": 40 + k, "entity": f"watchlist:{name}",
               "related_ids": [synth.make_id("bench", "7", str(index + stride * j))
                               for j in range(3) if index + stride * j < n_posts],
               "evidence": [f"{40 + k} bài trong 6 giờ so với 9 bài mỗi 6 giờ trước đó"]}


def build(data_dir: Path, n_posts: int, n_alerts: int, *, progress: bool) -> dict[str, Any]:
    """Fill the store with the documents, ending now; reused when it holds this recipe's counts."""
    from tqdm import tqdm

    from core.settings import load_settings
    from core.state import atomic_write_json, read_json
    from index import open_store

    meta_path = data_dir / "bench_meta.json"
    meta = {"recipe": RECIPE, "posts": n_posts, "alerts": n_alerts + SPIKES}
    store = open_store(load_settings(data_dir=data_dir))
    try:
        stored = {k: v for k, v in (read_json(meta_path, {}) or {}).items() if k in meta}
        if stored == meta and store.count("posts") == n_posts and store.count("alerts") == n_alerts + SPIKES:
            return {"reused": True, "build_s": 0.0, "built_at": read_json(meta_path)["built_at"]}
        store.delete_all("posts")
        store.delete_all("alerts")
        synth.END = datetime.now(UTC)  # the generators spread documents over the days before END
        started = time.perf_counter()
        rejected = 0
        for kind, docs, total in (("posts", posts(n_posts), n_posts),
                                  ("alerts", alerts(n_alerts, n_posts), n_alerts + SPIKES)):
            with store.bulk(kind) as load, tqdm(total=total, desc=f"indexing {kind}", unit=" docs",
                                                disable=not progress) as bar:
                while chunk := list(islice(docs, BATCH)):
                    rejected += len(load.add(chunk).rejected)
                    bar.update(len(chunk))
        built = {"reused": False, "build_s": round(time.perf_counter() - started, 1), "rejected": rejected,
                 "built_at": synth.END.isoformat(timespec="seconds")}
        atomic_write_json(meta_path, {**meta, **built})
        return built
    finally:
        store.close()


# ---------------------------------------------------------------- rendering

CPU: dict[str, float] = {}  # CPU seconds of the process (every thread) per measured run, by its name


def _timed(at, what: str) -> float:
    """Run the app once; wall seconds (its CPU seconds go to :data:`CPU` under ``what``). A page that
    raised fails the bench (a fast error is no figure)."""
    started, cpu = time.perf_counter(), time.process_time()
    at.run()
    took = round(time.perf_counter() - started, 3)
    CPU[what] = round(time.process_time() - cpu, 3)
    if at.exception:
        raise RuntimeError(f"{what} failed: {at.exception[0].message}")
    return took


def _title(at) -> str:
    return at.title[0].value if len(at.title) else ""


def _drill_to_search(at, page: str, handed: dict[str, Any], what: str) -> float:
    """A chart click's cost: the page's rerun (its data cached) then the search page opened on the
    filters ``handed`` (as :func:`dashboard.data.hand_over_search` leaves them)."""
    from dashboard import data

    at.switch_page(f"pages/{page}.py")
    _timed(at, page)  # on the page, nothing pending
    rerun = _timed(at, f"{page} rerun")
    at.session_state[data.HANDOVER_KEY] = {"text": handed.pop("text", ""), "range": handed.pop("range_key"),
                                           **handed}
    at.switch_page("pages/search.py")
    opened = _timed(at, what)
    CPU[what] = round(CPU[what] + CPU.pop(f"{page} rerun"), 3)
    if _title(at) != "Tìm kiếm":
        raise RuntimeError(f"drill-down {what} did not open the search page ({_title(at)!r})")
    return round(rerun + opened, 3)


def render(data_dir: Path) -> dict[str, Any]:
    """Every page first and cached, then the drill-downs, as a logged-in admin."""
    import streamlit as st
    from streamlit.logger import set_log_level
    from streamlit.testing.v1 import AppTest

    from core.settings import get_settings
    from dashboard import auth, data

    set_log_level("error")
    # the bench's own calls outside a run (opening the store, picking an alert) warn at any level
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: "missing ScriptRunContext" not in record.getMessage())
    os.environ["IOCWATCH_DATA_DIR"] = str(data_dir)
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    settings = get_settings()
    if BENCH_USER not in auth.load_users(settings):
        auth.add_user(settings, BENCH_USER, "admin", BENCH_PASSWORD, rounds=4)
    started = time.perf_counter()
    data.store().count("posts")  # open the store once, as a running server has it open
    open_s = time.perf_counter() - started

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    at.run()  # the login form: imports and the runtime warmed up, as in a server
    at.text_input(key="login_name").input(BENCH_USER)
    at.text_input(key="login_password").input(BENCH_PASSWORD)
    at.button[0].click()
    _timed(at, "login")  # lands on Tổng quan (not counted: the pages are measured below)

    first, cached = {}, {}
    for page in auth.PAGES:
        at.switch_page(f"pages/{page}.py")
        st.cache_data.clear()
        first[page] = _timed(at, f"first:{page}")
        cached[page] = _timed(at, f"cached:{page}")

    drill: dict[str, float] = {}
    at.switch_page("pages/listening.py")
    _timed(at, "listening")
    spike_buttons = [b for b in at.button if str(b.key or "").startswith("l_spike_")]
    if not spike_buttons:
        raise RuntimeError("no spike on Lắng nghe: the bench's spike alerts were not found")
    spike_buttons[0].click()
    drill["spike_posts"] = _timed(at, "drill:spike_posts")
    if _title(at) != "Tìm kiếm":
        raise RuntimeError(f"the spike button did not open the search page ({_title(at)!r})")
    for kind, value in DRILLS.items():
        drill[f"{kind}_bar"] = _drill_to_search(at, "listening", data.drill_filters(kind, value, "7d"),
                                                f"drill:{kind}_bar")
    yesterday = datetime.now(ZoneInfo(settings.dashboard.timezone)).replace(
        hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    drill["overview_day_bar"] = _drill_to_search(
        at, "overview", data.drill_filters("day", int(yesterday.timestamp() * 1000), "7d", interval="1d"),
        "drill:overview_day_bar")

    at.switch_page("pages/security.py")
    _timed(at, "security")
    # the second riskiest alert of the queue's default view (select_index would hand AppTest a label)
    queue = data.store().search("alerts", data.alerts_query(data.QUEUE_RANGE, statuses=data.OPEN_STATUSES),
                                size=2, sort=[{"risk_score": {"order": "desc"}}]).hits
    if len(queue) < 2:
        raise RuntimeError("An ninh mạng lists fewer than two alerts")
    at.selectbox(key="sec_pick").set_value(queue[1].id)
    drill["alert_detail"] = _timed(at, "drill:alert_detail")

    at.switch_page("pages/search.py")
    _timed(at, "search")
    at.text_input(key="s_text").input(QUERY)
    drill["search_query"] = _timed(at, "drill:search_query")
    results = next((m.value for m in at.markdown if "kết quả**" in m.value), "")
    cpu = {group: {k.split(":", 1)[1]: v for k, v in CPU.items() if k.startswith(group + ":")}
           for group in ("first", "cached", "drill")}
    return {"first": first, "cached": cached, "drill": drill, "cpu_s": cpu, "store_open_s": round(open_s, 3),
            "query": QUERY, "query_results": results.strip("*")}


def _peak_mb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # kB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000, help="synthetic posts (default 1,000,000)")
    parser.add_argument("--alerts", type=int, default=100_000,
                        help=f"synthetic security alerts (default 100,000; plus {SPIKES} listening spikes)")
    parser.add_argument("--data-dir", type=Path, help="where to build/reuse the index "
                        "(default bench/results/dashboard_<posts>_<alerts>/data)")
    parser.add_argument("--json", action="store_true", help="print the JSON result on one line")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("IOCWATCH_LOG_LEVEL", "WARNING")  # the app's own handler: no login lines
    data_dir = args.data_dir or ROOT / "bench" / "results" / f"dashboard_{args.posts}_{args.alerts}" / "data"
    load_before = [round(x, 2) for x in os.getloadavg()]
    built = build(data_dir, args.posts, args.alerts, progress=True)  # the bar goes to stderr
    build_peak = _peak_mb()
    load_start = [round(x, 2) for x in os.getloadavg()]
    measured = render(data_dir)
    result: dict[str, Any] = {
        "posts": args.posts, "alerts": args.alerts, "spike_alerts": SPIKES,
        **measured,
        "max_first_s": max(measured["first"].values()), "max_cached_s": max(measured["cached"].values()),
        "max_drill_s": max(measured["drill"].values()),
        "targets": {"first_s": TARGET_FIRST_S, "cached_s": TARGET_CACHED_S, "drill_s": TARGET_DRILL_S},
        **built, "peak_rss_mb": {"build": build_peak, "total": _peak_mb()},
        "load_average": {"before_build": load_before, "before_render": load_start,
                         "after": [round(x, 2) for x in os.getloadavg()]},
        "cpus": os.cpu_count(), "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    result["within_targets"] = {"first": result["max_first_s"] <= TARGET_FIRST_S,
                                "cached": result["max_cached_s"] <= TARGET_CACHED_S,
                                "drill": result["max_drill_s"] <= TARGET_DRILL_S}
    print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))  # noqa: T201


if __name__ == "__main__":
    main()
