"""Training and evaluation: functions and the `iocwatch nlp train|eval` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.errors import NlpError
from nlp.train import evaluate, metrics, parse_label_map, read_jsonl, train

DATA = Path(__file__).parent.parent / "data" / "nlp"


def test_train_read_jsonl_counts_bad_rows_and_maps_int_labels():
    data = read_jsonl(DATA / "int_labels.jsonl", text_field="content", label_field="y",
                      label_map=parse_label_map("0:negative,1:neutral,2:positive"))
    assert len(data.texts) == 15
    assert set(data.labels) == {"negative", "neutral", "positive"}
    assert data.skipped == 4
    assert data.reasons == {"not_json": 1, "no_y": 1, "no_content": 1, "not_an_object": 1}
    with pytest.raises(NlpError, match="does not exist"):
        read_jsonl(DATA / "missing.jsonl")
    with pytest.raises(NlpError, match="no usable rows"):
        read_jsonl(DATA / "int_labels.jsonl")  # default fields text/label are absent


def test_train_label_map_syntax_errors():
    assert parse_label_map("0:a, 1:b") == {"0": "a", "1": "b"}
    with pytest.raises(NlpError, match="no ':'"):
        parse_label_map("0=a")


def test_train_metrics_per_class():
    out = metrics(["a", "a", "b", "c"], ["a", "b", "b", "c"])
    assert out["n"] == 4 and out["accuracy"] == 0.75
    assert out["per_class"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert out["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3, abs=1e-4)


def test_train_then_eval_records_provenance(tmp_path):
    meta = train("sentiment", DATA / "tiny_sentiment.jsonl", tmp_path / "m", command="test")
    assert meta["labels"] == ["negative", "neutral", "positive"]
    assert len(meta["data_sha256"]) == 64 and meta["versions"]["scikit-learn"]
    saved = json.loads((tmp_path / "m" / "meta.json").read_text(encoding="utf-8"))
    assert saved["n_train"] == 45 and saved["backend"] == "linear"
    result = evaluate(str(tmp_path / "m"), DATA / "int_labels.jsonl", text_field="content",
                      label_field="y", label_map="0:negative,1:neutral,2:positive")
    assert result["n"] == 15 and result["skipped_rows"] == 4
    assert result["accuracy"] > 0.8  # the same sentences it was trained on


def test_train_cli_train_and_eval_json(tmp_path, settings):
    from iocwatch.cli import cli

    runner = CliRunner()
    out = tmp_path / "model"
    res = runner.invoke(cli, ["nlp", "train", "--task", "toxicity", "--data",
                              str(DATA / "tiny_sentiment.jsonl"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["nlp", "eval", "--model", str(out), "--data",
                              str(DATA / "int_labels.jsonl"), "--text-field", "content",
                              "--label-field", "y", "--label-map",
                              "0:negative,1:neutral,2:positive", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout.strip().splitlines()[-1])
    assert {"n", "accuracy", "macro_f1", "weighted_f1", "per_class"} <= set(doc)
    assert set(doc["per_class"]) == {"negative", "neutral", "positive"}


def test_train_eval_default_model_reference(tmp_path):
    result = evaluate("default:sentiment", DATA / "tiny_sentiment.jsonl")
    assert result["n"] == 45
    assert result["macro_f1"] > 0.5  # sentences unlike the corpus's, judged by the shipped model


def test_train_cli_analyse_prints_one_json_per_post(tmp_path, settings):
    from iocwatch.cli import cli

    posts = tmp_path / "posts.txt"
    posts.write_text("kẹt xe quá ở Ninh Kiều\n\nThe weather is nice today\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["nlp", "analyse", "--file", str(posts)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.strip().splitlines()]
    assert len(rows) == 3
    assert rows[0]["language"] == "vi" and rows[0]["places"] == ["Thành phố Cần Thơ"]
    assert rows[1]["flags"] == ["empty"]
    assert rows[2]["language"] == "en" and rows[2]["sentiment"] is None


def test_train_tasks_of_one_file_share_idf_over_every_text(tmp_path):
    import numpy as np

    from nlp.linear import LinearTextClassifier

    rows = []
    for i in range(24):
        good = i % 2 == 0
        rows.append({"text": f"{'cầu mới thông xe phấn khởi' if good else 'đường ngập sâu bức xúc'} {i}",
                     "sentiment": "positive" if good else "negative",
                     "topic": None if i % 3 == 0 else ("traffic" if i % 4 < 2 else "other")})
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    train("sentiment", path, tmp_path / "s", label_field="sentiment")
    meta = train("topic", path, tmp_path / "t", label_field="topic")
    assert meta["n_train"] == 16 and meta["skipped_rows"] == 8  # rows with no topic skipped...
    s, t = LinearTextClassifier.load(tmp_path / "s"), LinearTextClassifier.load(tmp_path / "t")
    assert np.array_equal(s.idf_char_, t.idf_char_)  # ...but still in the IDF statistics
    assert s.idf_key == t.idf_key or s.features.lexicon != t.features.lexicon


def test_train_read_jsonl_weights_and_bad_weights(tmp_path: Path):
    path = tmp_path / "w.jsonl"
    rows = [{"text": "a", "label": "x", "weight": 3}, {"text": "b", "label": "y"},
            {"text": "c", "label": "x", "weight": -1}, {"text": "d", "label": "y", "weight": "2"},
            {"text": "e", "label": "x", "weight": True}, {"text": "f", "label": "y", "weight": 0.5}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    data = read_jsonl(path, weight_field="weight")
    assert data.texts == ["a", "b", "f"] and data.weights == [3.0, 1.0, 0.5]
    assert data.reasons == {"bad_weight": 3}
    assert read_jsonl(path).weights == [] and len(read_jsonl(path).texts) == 6  # no weight field read


def test_train_passes_precomputed_counts_to_the_linear_fit(tmp_path: Path):
    import numpy as np

    from nlp.features import FeatureConfig
    from nlp.linear import LinearTextClassifier

    config = FeatureConfig(word_bits=16, char_bits=16)
    path = DATA / "tiny_sentiment.jsonl"
    data = read_jsonl(path)
    counts = LinearTextClassifier(config).counts(data.texts + data.unlabelled)
    train("sentiment", path, tmp_path / "a", linear=LinearTextClassifier(config))
    train("sentiment", path, tmp_path / "b", linear=LinearTextClassifier(config), counts=counts)
    a, b = LinearTextClassifier.load(tmp_path / "a"), LinearTextClassifier.load(tmp_path / "b")
    assert (a.coef_ != b.coef_).nnz == 0 and np.array_equal(a.intercept_, b.intercept_)
    with pytest.raises(NlpError, match="precomputed counts are not those"):
        train("sentiment", path, tmp_path / "c", linear=LinearTextClassifier(config),
              counts=LinearTextClassifier(config).counts(data.texts[1:]))
