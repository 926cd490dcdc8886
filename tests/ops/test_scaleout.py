"""Scale-out: two crawler processes share one Redis scheduler and dupefilter (scrapy-redis).

Starts Debian's ``redis-server`` on 127.0.0.1 (a free port) and serves the demo site;
two child crawlers collect the same sources at the same time, and the site's hit
counter shows that no page was fetched twice.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time

import pytest

from tests.ops.receivers import free_port

SOURCES = ["demo-baocantho", "demo-congthongtin"]


@pytest.fixture
def redis_url(tmp_path):
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
    import redis

    port = free_port()
    proc = subprocess.Popen([exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(host="127.0.0.1", port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("redis-server did not start")
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


def test_scaleout_two_crawlers_one_redis_fetch_every_page_once(settings, tmp_path, redis_url):
    from crawlers.demo_site.generator import article_url, serve_demo
    from crawlers.runner import read_posts, run_crawl_subprocess

    with serve_demo(7, sources_path=tmp_path / "sources.yaml") as (server, content, sources):
        site = server.site
        starts = {"/baocantho/rss/home.rss", "/congthongtin/thong-bao"}
        gate = threading.Barrier(2, timeout=60)  # both workers start before either crawls
        real_resolve = site.resolve

        article_paths = {article_url(a) for outlet in ("baocantho", "congthongtin")
                         for a in content.of("article", outlet)}

        # Each worker runs one request at a time per source (CONCURRENT_REQUESTS=1), so two
        # article requests of one outlet in flight at once come from the two workers, and a
        # worker cannot pull the whole shared queue into flight. The first article of an outlet
        # is held until the second arrives, for at most 10 s: well below the crawler's download
        # timeout (20 s), whose retry would fetch the page twice. Then, at 0.2 s an article and
        # one at a time, one worker alone would need 13 s (67 articles) to 24 s (121) to drain
        # an outlet, so the other, started at the same moment (the gate on the start pages),
        # takes part on any machine load.
        both_in = {"baocantho": threading.Event(), "congthongtin": threading.Event()}
        waiting = {"baocantho": 0, "congthongtin": 0}
        lock = threading.Lock()

        def resolve(raw_path: str):
            route = real_resolve(raw_path)
            outlet = raw_path.strip("/").split("/")[0]
            if raw_path in article_paths and outlet in both_in:
                with lock:
                    waiting[outlet] += 1
                    if waiting[outlet] >= 2:
                        both_in[outlet].set()
                both_in[outlet].wait(timeout=10)
            if raw_path in starts and site.hits[raw_path] <= 2:
                try:
                    gate.wait()
                except threading.BrokenBarrierError:
                    pass  # the second start request of the other source: no one left to wait for
                if raw_path == "/baocantho/rss/home.rss":
                    gate.reset()
            return route

        site.resolve = resolve
        for path in article_paths:  # articles take a moment, so the work is shared
            site.routes[path].delay_s = 0.2
        outs, reports, errors = {}, {}, []

        def worker(tag: str) -> None:
            own = settings.model_copy(update={"data_dir": tmp_path / f"data-{tag}"})
            out = tmp_path / f"posts-{tag}.jsonl"
            try:
                reports[tag] = run_crawl_subprocess(
                    own, sources, SOURCES, out_path=out, timeout_s=240,
                    overrides={"AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 1},
                    env={"IOCWATCH_CRAWL__REDIS_URL": redis_url})
                outs[tag] = [p for batch in read_posts(out) for p in batch]
            except Exception as exc:  # noqa: BLE001 - reported below with the worker's name
                errors.append(f"{tag}: {exc}")

        threads = [threading.Thread(target=worker, args=(t,)) for t in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert not errors, errors
        hits = dict(site.hits)

    import redis

    keys = {k.decode() for k in redis.Redis.from_url(redis_url).keys("*")}
    pages = {p: n for p, n in hits.items() if p not in starts and p != "/robots.txt"}
    twice = {p: n for p, n in pages.items() if n > 1}
    assert not twice, f"fetched more than once: {sorted(twice.items())[:5]}; redis keys {keys}"
    assert article_paths <= set(pages)  # together they collected everything, once
    ids_a = {p.id for p in outs["a"]}
    ids_b = {p.id for p in outs["b"]}
    assert ids_a and ids_b, (f"both workers took part: a {len(ids_a)} posts, b {len(ids_b)} posts, "
                             f"{len(pages)} pages fetched, reports {reports}")
    assert not ids_a & ids_b  # no post collected by both
    assert {"iocwatch:demo-baocantho:dupefilter", "iocwatch:demo-congthongtin:dupefilter"} <= keys


def test_scaleout_different_sources_of_one_spider_keep_their_own_queue(settings, tmp_path, redis_url):
    from crawlers.demo_site.generator import serve_demo
    from crawlers.runner import read_posts, run_crawl_subprocess

    names = {"a": "demo-tg-tinnongcantho", "b": "demo-tg-canhbaolua"}  # both the telegram spider
    with serve_demo(7, sources_path=tmp_path / "sources.yaml") as (server, content, sources):
        outs, errors = {}, []

        def worker(tag: str) -> None:
            own = settings.model_copy(update={"data_dir": tmp_path / f"data-{tag}"})
            out = tmp_path / f"posts-{tag}.jsonl"
            try:
                run_crawl_subprocess(own, sources, [names[tag]], out_path=out, timeout_s=240,
                                     overrides={"AUTOTHROTTLE_ENABLED": False},
                                     env={"IOCWATCH_CRAWL__REDIS_URL": redis_url})
                outs[tag] = [p for batch in read_posts(out) for p in batch]
            except Exception as exc:  # noqa: BLE001 - reported below with the worker's name
                errors.append(f"{tag}: {exc}")

        threads = [threading.Thread(target=worker, args=(t,)) for t in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert not errors, errors
    for tag, name in names.items():
        channel = name.removeprefix("demo-tg-")
        posts = outs[tag]
        assert len(posts) == len(content.of("telegram", channel))
        assert all(p.source == name and channel in (p.url or "") for p in posts), \
            {(p.source, p.url) for p in posts if channel not in (p.url or "")}
    import redis

    keys = {k.decode() for k in redis.Redis.from_url(redis_url).keys("*")}
    assert {f"iocwatch:{n}:dupefilter" for n in names.values()} <= keys  # one queue per source
