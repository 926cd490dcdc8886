"""Passages files enter the corpus: styles, variants of forum posts, labels kept per template group."""

from __future__ import annotations

import pytest

from core.errors import NlpError
from nlp.corpus import build_rows, read_passages

PASSAGES = """topic: traffic
negative:
  - {kind: forum, text: "Đường Nguyễn Văn Cừ ngập sâu, xe chết máy hàng loạt, không ai xử lý gì cả."}
  - {kind: letter, text: "Tôi đề nghị cơ quan chức năng sớm sửa mặt đường trước nhà, ổ gà rất nguy hiểm."}
neutral:
  - {kind: notice, text: "Từ ngày 5/1, xe tải trên 10 tấn không được lưu thông qua cầu Cái Răng."}
positive:
  - {kind: news, text: "Cầu mới chính thức thông xe, người dân hai bờ phấn khởi."}
"""


def test_corpus_passages_become_rows_with_their_labels(tmp_path):
    (tmp_path / "traffic.yaml").write_text(PASSAGES, encoding="utf-8")
    assert [p[:3] for p in read_passages(tmp_path / "traffic.yaml")] == [
        ("traffic", "negative", "forum"), ("traffic", "negative", "letter"),
        ("traffic", "neutral", "notice"), ("traffic", "positive", "news")]
    rows = build_rows(passages_dir=tmp_path, internal=True)
    mine = [r for r in rows if r["source"] == "passage:traffic.yaml"]
    styles = {r["style"] for r in mine}
    assert {"news", "forum"} <= styles and styles <= {"news", "forum", "social", "plain"}
    assert all(r["toxicity"] == "clean" and r["topic"] == "traffic" for r in mine)
    assert len({r["passage"] for r in mine}) == 4  # variants share their passage's index
    notice = next(r for r in mine if r["text"].startswith("Từ ngày 5/1"))
    assert notice["style"] == "news" and notice["sentiment"] == "neutral"
    # template rows keep only the labels their group keeps: toxic rows carry no topic
    toxic = [r for r in rows if r["source"] == "template:toxic"]
    assert toxic and all(r["topic"] is None and r["sentiment"] is None for r in toxic)
    # a topic with passages keeps a share of its template rows' topic labels; one without keeps all
    news_rows = [r for r in rows if r["source"] == "template:opinion"]
    assert any(r["topic"] == "health" for r in news_rows)
    kept = sum(1 for r in news_rows if r["topic"] == "traffic")
    assert 0 < kept < sum(1 for r in news_rows if r["topic"] == "health")
    assert build_rows(passages_dir=tmp_path) == build_rows(passages_dir=tmp_path)  # deterministic


def test_corpus_passages_refuse_a_malformed_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("topic: traffic\nnegative:\n  - {kind: tweet, text: \"x\"}\n", encoding="utf-8")
    with pytest.raises(NlpError, match="bad negative passage"):
        read_passages(bad)
    bad.write_text("negative: [\n", encoding="utf-8")
    with pytest.raises(NlpError, match="cannot read passages"):
        read_passages(bad)
