"""`index load` validates each row on its own: bad rows are reported with line and reason, good rows stored."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from index.loader import MAX_DEPTH, MAX_FIELD_CHARS, load_file


def _jsonl(path: Path, rows: list) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)) + "\n")
    return path


def _ok(i: int, **extra) -> dict:
    return {"url": f"https://baocantho.com.vn/tin-{i}.html", "title": f"Tin {i}", "text": "Cần Thơ mưa lớn",
            "published_at": "2026-11-18T17:30:00+07:00", **extra}


def test_loader_each_malformed_row_is_rejected_with_line_and_reason_and_the_rest_stored(store, tmp_path):
    deep: dict = {"v": 1}
    for _ in range(MAX_DEPTH + 3):
        deep = {"v": deep}
    path = _jsonl(tmp_path / "posts.jsonl", [
        _ok(1),
        _ok(2, published_at="9999-12-31T23:59:59Z"),
        {"url": 12345, "text": "a numeric url"},
        _ok(3, likes=5, engagement={"likes": 3}),
        _ok(4, engagement=7),
        _ok(5, extra=deep),
        '{"url": "https://x.vn/a", "text": ' + "[" * 50_000 + "]" * 50_000 + "}",
        _ok(6, published_at="1900-01-01T00:00:00Z"),
        _ok(7, likes="12", engagement={"shares": 2}),  # beside, not conflicting: merged
        _ok(8, title=["not", "text"]),
        "{not json",
        _ok(9, text="x" * (MAX_FIELD_CHARS + 1)),
        _ok(10, likes=-4),
    ])
    rep = load_file(store, path)
    reasons = {e["line"]: e["reason"] for e in rep.rejected}
    assert set(reasons) == {2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13}
    assert "9999" in reasons[2] and "out of range" in reasons[2]
    assert "url" in reasons[3] and "number" in reasons[3]
    assert "likes" in reasons[4] and "twice" in reasons[4]
    assert "engagement" in reasons[5]
    assert "nested" in reasons[6] and "nested" in reasons[7]
    assert "1900" in reasons[8]
    assert "title" in reasons[10]
    assert "not valid JSON" in reasons[11]
    assert "characters" in reasons[12]
    assert "likes" in reasons[13]
    assert (rep.read, rep.stored, len(rep.rejected)) == (13, 2, 11)
    assert rep.read == rep.stored + len(rep.rejected)
    stored = store.get("posts", rep_id(store, 7))
    assert stored["engagement"]["likes"] == 12 and stored["engagement"]["shares"] == 2


def rep_id(store, i: int) -> str:
    from core.ids import post_id

    return post_id("other", url=_ok(i)["url"])


def test_loader_csv_field_over_131072_characters_is_stored_and_a_huge_one_rejected(store, tmp_path):
    path = tmp_path / "posts.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["url", "title", "text"])
        w.writerow(["https://a.vn/1", "dài", "chữ " * 60_000])  # 240,000 characters
        w.writerow(["https://a.vn/2", "quá dài", "x" * (MAX_FIELD_CHARS + 10)])
        w.writerow(["https://a.vn/3", "ngắn", "Huế"])
        w.writerow(["https://a.vn/4", "thừa", "cột", "thêm"])
    rep = load_file(store, path)
    assert (rep.read, rep.stored) == (4, 2)
    reasons = {e["line"]: e["reason"] for e in rep.rejected}
    assert set(reasons) == {3, 5}
    assert "field" in reasons[3] and "columns" in reasons[5]
    assert store.count("posts") == 2


class _SessionWithoutCounts:
    """A bulk session that does not count replacements (as the Elasticsearch one): the loader
    must then ask the store which ids it holds."""

    def __init__(self, load):
        self._load = load

    def add(self, docs, **kw):
        return self._load.add(docs, **kw)

    @property
    def result(self):
        return self._load.result


class _StoreWithoutCounts:
    def __init__(self, store):
        self._store = store

    def __getattr__(self, name):
        return getattr(self._store, name)

    def bulk(self, kind):
        from contextlib import contextmanager

        @contextmanager
        def session():
            with self._store.bulk(kind) as load:
                yield _SessionWithoutCounts(load)

        return session()


@pytest.mark.parametrize("counting", ["session", "ids query"])
def test_loader_counts_new_and_updated_truthfully(store, tmp_path, counting):
    target = store if counting == "session" else _StoreWithoutCounts(store)
    first = _jsonl(tmp_path / "a.jsonl", [_ok(i) for i in range(5)])
    rep = load_file(target, first)
    assert (rep.stored, rep.updated) == (5, 0)
    second = _jsonl(tmp_path / "b.jsonl", [_ok(i) for i in range(3, 8)] + [_ok(7), {"text": "no id"}])
    rep = load_file(target, second, batch=2)
    d = rep.as_dict()
    assert (d["read"], d["stored"], d["new"], d["updated"], d["rejected"]) == (7, 6, 3, 3, 1)
    assert store.count("posts") == 8


@pytest.mark.parametrize("line", ["[]", "42", '"text"', "null", '{"url": null, "text": 5}', "\x00\x01"])
def test_loader_odd_json_lines_are_rejected_not_raised(store, tmp_path, line):
    path = _jsonl(tmp_path / "odd.jsonl", [line, _ok(1)])
    rep = load_file(store, path)
    assert rep.read == 2 and rep.stored == 1 and rep.rejected[0]["line"] == 1
