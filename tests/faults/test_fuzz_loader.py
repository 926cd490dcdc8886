"""Property tests of the importer (`index load`): random and mutated rows never raise, and
read = stored + rejected, with exactly the stored ids in the index."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.loader import load_file

SAMPLE = Path(__file__).parents[1] / "data" / "index" / "posts_sample.jsonl"
FAST = settings(max_examples=30, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                    st.text(max_size=40))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=12)
KEYS = ["id", "url", "native_id", "platform", "source", "title", "text", "content", "published_at",
        "collected_at", "likes", "comments", "shares", "views", "engagement", "author", "topics",
        "keywords", "places", "sentiment", "sentiment_score", "language", "tags"]
rows = st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=10)), values, max_size=10)
good_rows = st.builds(lambda n, t, d: {"url": f"https://a.vn/{n}", "text": t, "published_at": d},
                      st.integers(0, 50), st.text(max_size=30),
                      st.sampled_from(["2026-01-02T03:04:05Z", "2025-12-31", "9999-01-01T00:00:00Z", "hôm qua"]))


@pytest.fixture(scope="module")
def module_store(tmp_path_factory):
    from core.settings import load_settings
    from index import open_store

    st_ = open_store(load_settings(data_dir=tmp_path_factory.mktemp("fuzz-data")))
    yield st_
    st_.close()


def _check(store, report) -> None:
    assert report.read == report.stored + len(report.rejected)
    assert 0 <= report.updated <= report.stored
    for err in report.rejected:
        assert err["reason"] and (err["line"] is None or err["line"] >= 1)


@FAST
@given(batch=st.lists(st.one_of(rows, good_rows), max_size=12))
def test_fuzz_loader_random_jsonl_rows_never_raise_and_counts_add_up(module_store, tmp_path_factory, batch):
    path = tmp_path_factory.mktemp("fz") / "rows.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for row in batch:
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    before = module_store.count("posts")
    report = load_file(module_store, path)
    _check(module_store, report)
    assert report.read == len(batch)
    assert module_store.count("posts") == before + report.stored - report.updated


@FAST
@given(batch=st.lists(st.dictionaries(st.sampled_from(KEYS), st.text(max_size=60), max_size=8), max_size=10))
def test_fuzz_loader_random_csv_rows_never_raise_and_counts_add_up(module_store, tmp_path_factory, batch):
    path = tmp_path_factory.mktemp("fz") / "rows.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=KEYS)
        writer.writeheader()
        for row in batch:
            writer.writerow(row)
    report = load_file(module_store, path)
    _check(module_store, report)
    assert report.read == len(batch)


@FAST
@given(data=st.data())
def test_fuzz_loader_mutated_export_never_raises(module_store, tmp_path_factory, data):
    raw = SAMPLE.read_bytes()
    ops = data.draw(st.lists(st.tuples(st.integers(0, len(raw)), st.binary(max_size=12)), min_size=1, max_size=8))
    for pos, chunk in ops:
        raw = raw[:pos] + chunk + raw[pos + len(chunk):]
    suffix = data.draw(st.sampled_from([".jsonl", ".csv"]))
    path = tmp_path_factory.mktemp("fz") / f"mutated{suffix}"
    path.write_bytes(raw)
    report = load_file(module_store, path)
    _check(module_store, report)
