"""`iocwatch nlp corrections`: list the operators' corrections in force, and withdraw one made by
mistake, on corrections made the way the dashboard makes them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from core.documents import Post
from index.corrections import CorrectionsJournal, correct_post, journal_examples
from iocwatch.cli import cli


@pytest.fixture
def run(settings, monkeypatch):
    monkeypatch.setenv("IOCWATCH_DATA_DIR", str(settings.data_dir))
    from core.settings import get_settings

    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(cli, list(args))
        if ok:
            assert result.exit_code == 0, (result.output, result.exception)
        return result

    yield invoke
    get_settings.cache_clear()


def _post(i: int, text: str) -> Post:
    return Post.new(platform="news", source="s", native_id=f"n{i}", text=text, topics=["traffic"],
                    sentiment="negative", sentiment_score=-0.5, toxicity="clean", toxicity_score=0.02,
                    language="vi", label_confidence={"topic": 0.9, "sentiment": 0.8})


@pytest.fixture
def corrected(settings, store):
    """Two stored posts with corrections, and one corrected post no longer stored; the store is
    closed before the command opens its own."""
    a, b, gone = _post(1, "Cầu mới thông xe"), _post(2, "Kẹt xe"), _post(3, "Bài đã xóa")
    store.upsert_many("posts", [a, b, gone])
    correct_post(store, a.id, "sentiment", "positive", by="comms", role="comms")
    correct_post(store, a.id, "sentiment", "neutral", by="analyst", role="analyst")
    correct_post(store, a.id, "topic", "urban_construction", by="comms", role="comms")
    correct_post(store, b.id, "toxicity", "offensive", by="comms", role="comms")
    correct_post(store, gone.id, "sentiment", "positive", by="comms", role="comms")
    kept = [store.get("posts", p.id) for p in (a, b)]
    store.delete_all("posts")  # the index rebuilt without the third post: only the journal has it
    store.upsert_many("posts", kept)
    store.close()
    return a, b, gone


def test_cli_corrections_lists_the_corrections_in_force(run, corrected):
    a, b, gone = corrected
    rows = json.loads(run("nlp", "corrections", "--json").output)
    assert {(r["post_id"], r["task"]) for r in rows} == {
        (a.id, "sentiment"), (a.id, "topic"), (b.id, "toxicity"), (gone.id, "sentiment")}
    assert [r["at"] for r in rows] == sorted((r["at"] for r in rows), reverse=True)  # newest first
    by_key = {(r["post_id"], r["task"]): r for r in rows}
    a_sent = by_key[(a.id, "sentiment")]
    assert (a_sent["label"], a_sent["before"], a_sent["by"], a_sent["n"], a_sent["stored"]) == (
        "neutral", "negative", "analyst", 2, True)  # before: what a withdrawal gives back
    sentiment = json.loads(run("nlp", "corrections", "--task", "sentiment", "--json").output)
    assert {r["post_id"] for r in sentiment} == {a.id, gone.id}

    text = run("nlp", "corrections", "--task", "sentiment").output.splitlines()
    assert text[0] == "2 correction(s) in force"
    line = next(x for x in text if a.id in x)
    assert "sentiment" in line and "negative -> neutral" in line and "by analyst (2 corrections)" in line


def test_cli_corrections_withdraw_gives_the_model_label_back(run, corrected, settings):
    a, b, _ = corrected
    out = run("nlp", "corrections", "--withdraw", a.id, "--task", "sentiment", "--by", "lan").output
    assert out.strip() == f"{a.id}: sentiment correction withdrawn; the label is back to negative"
    from index import open_store

    store = open_store(settings)
    try:
        stored = Post.from_doc(store.get("posts", a.id))
    finally:
        store.close()
    assert stored.sentiment == "negative" and [c.task for c in stored.corrections] == ["topic"]
    last = json.loads(CorrectionsJournal.of(settings).path.read_text(encoding="utf-8").splitlines()[-1])
    assert (last["post_id"], last["task"], last["withdrawn"], last["by"]) == (a.id, "sentiment", True, "lan")
    assert a.id not in {pid for pid, _, _ in journal_examples(settings, "sentiment")}
    rows = json.loads(run("nlp", "corrections", "--json").output)
    assert (a.id, "sentiment") not in {(r["post_id"], r["task"]) for r in rows}
    assert (a.id, "topic") in {(r["post_id"], r["task"]) for r in rows}

    # again: nothing left to withdraw, said clearly (exit 2 through the CLI's error line)
    again = run("nlp", "corrections", "--withdraw", a.id, "--task", "sentiment", ok=False)
    assert again.exit_code != 0 and "nothing to withdraw" in str(again.exception)


def test_cli_corrections_withdraw_a_post_no_longer_stored_and_usage_errors(run, corrected, settings):
    _, _, gone = corrected
    rows = json.loads(run("nlp", "corrections", "--task", "sentiment", "--json").output)
    assert {r["post_id"]: r["stored"] for r in rows}[gone.id] is False
    assert f"{gone.id}  sentiment" in run("nlp", "corrections").output  # listed, marked not stored
    assert "not stored" in run("nlp", "corrections").output
    res = json.loads(run("nlp", "corrections", "--withdraw", gone.id, "--task", "sentiment", "--json").output)
    assert res == {"post_id": gone.id, "task": "sentiment", "withdrawn": True, "stored": False, "label": None}
    assert gone.id not in {pid for pid, _, _ in journal_examples(settings, "sentiment")}
    last = json.loads(CorrectionsJournal.of(settings).path.read_text(encoding="utf-8").splitlines()[-1])
    assert last["by"].startswith("cli:")  # the default operator name

    missing_task = run("nlp", "corrections", "--withdraw", gone.id, ok=False)
    assert missing_task.exit_code == 2 and "--withdraw needs --task" in missing_task.output
    stray_by = run("nlp", "corrections", "--by", "lan", ok=False)
    assert stray_by.exit_code == 2 and "--by goes with --withdraw" in stray_by.output


def test_cli_corrections_lists_stored_corrections_older_than_the_journal(run, corrected, settings):
    a, b, gone = corrected
    CorrectionsJournal.of(settings).path.unlink()  # corrected before the journal existed
    rows = json.loads(run("nlp", "corrections", "--json").output)
    assert {(r["post_id"], r["task"]) for r in rows} == {(a.id, "sentiment"), (a.id, "topic"), (b.id, "toxicity")}
    a_sent = next(r for r in rows if (r["post_id"], r["task"]) == (a.id, "sentiment"))
    assert (a_sent["label"], a_sent["before"], a_sent["n"], a_sent["stored"]) == ("neutral", "negative", 2, True)
    run("nlp", "corrections", "--withdraw", b.id, "--task", "toxicity", "--by", "lan")
    assert (b.id, "toxicity") not in {(r["post_id"], r["task"])
                                      for r in json.loads(run("nlp", "corrections", "--json").output)}
