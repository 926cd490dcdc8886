"""The whole pipeline over posts: fields filled, bad input defined, failures isolated."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from core.documents import SENTIMENTS, TOXICITIES, Post
from core.errors import NlpError
from nlp.pipeline import load_pipeline
from nlp.stages import STAGES, Doc, Stage, passages, register_stage


def _post(i: int, text: str, **kw: Any) -> Post:
    return Post(id=f"p{i}", source="test", platform="facebook", text=text, **kw)


@pytest.fixture(scope="module")
def nlp():
    from core.settings import NlpSettings

    return load_pipeline(NlpSettings())


def test_pipeline_fills_dashboard_fields(nlp):
    post = nlp(_post(1, "Sáng nay đường Mậu Thân qua quận Ninh Kiều, Cần Thơ ngập sâu, "
                        "xe chết máy hàng loạt 😡 ko ai xử lý j hết #ngapnuoc",
                     title="Triều cường gây ngập ở Cần Thơ"))
    assert post.text.startswith("Sáng nay")  # the original is kept
    assert "không ai xử lý gì" in post.text_normalized
    assert post.language == "vi"
    assert post.topics and set(post.topics) <= set(nlp.stages[3].taxonomy.topics)
    assert post.sentiment in SENTIMENTS and -1 <= post.sentiment_score <= 1
    assert post.toxicity in TOXICITIES and 0 <= post.toxicity_score <= 1
    assert post.places == ["Thành phố Cần Thơ"]
    assert {e.type for e in post.entities} == {"place"}
    assert "#ngapnuoc" in post.keywords
    assert post.analysis_errors == []
    Post.from_doc(post.to_doc())  # still a valid document for the store


def test_pipeline_obvious_labels(nlp):
    good, bad, hate = nlp.pipe([
        _post(1, "Cảm ơn các anh công an phường đã giúp đỡ bà con rất tận tình, tuyệt vời"),
        _post(2, "kẹt xe cả tiếng đồng hồ, đèn tín hiệu hư mà không ai sửa, quá bực mình"),
        _post(3, "lũ óc chó ngu như bò, cút hết đi"),
    ])
    assert good.sentiment == "positive" and good.toxicity == "clean"
    assert bad.sentiment == "negative" and "traffic" in bad.topics
    assert hate.toxicity == "hate" and hate.toxicity_score > 0.5


ARTICLE = ("Bác sĩ Bệnh viện Đa khoa thành phố cứu sống bệnh nhân nguy kịch nhờ kỹ thuật mới\n"
           "Sáng thứ hai, một bệnh nhân 62 tuổi ở phường Cái Răng được đưa vào viện trong tình trạng hôn mê. "
           "Các bác sĩ đã hội chẩn khẩn cấp và quyết định can thiệp mạch vành ngay trong đêm. "
           "Ca can thiệp kéo dài gần hai giờ, bệnh nhân đã qua cơn nguy kịch. "
           "Theo ông Trần Văn Lộc, trưởng khoa tim mạch, trước đây người bệnh phải lên tuyến trên mới làm được. "
           "Gia đình bệnh nhân bày tỏ lòng biết ơn đội ngũ y bác sĩ đã tận tình cứu chữa. "
           "Năm nay bệnh viện đã thực hiện thành công hơn 300 ca can thiệp tương tự. "
           "Người dân có thể đăng ký khám qua tổng đài hoặc ứng dụng của bệnh viện.")


def test_passages_cut_long_texts_at_sentence_ends():
    from nlp.stages import passages

    pieces = passages(ARTICLE, 150)
    assert len(pieces) >= 5 and all(len(p) <= 150 for p in pieces)
    assert " ".join(pieces).split() == ARTICLE.split()  # nothing lost, nothing added
    assert pieces[0].startswith("Bác sĩ") and pieces[0].endswith("kỹ thuật mới")  # the title alone
    assert passages("Một câu rất dài " * 30, 150) == [("Một câu rất dài " * 30).strip()]  # kept whole
    assert passages("  \n ", 150) == ["  \n "]


def test_pipeline_toxicity_of_a_long_article_is_judged_passage_by_passage(nlp):
    insult = ARTICLE.replace("Gia đình bệnh nhân", "Mấy thằng cán bộ ngu như bò, chỉ giỏi ăn hại. Gia đình bệnh nhân")
    clean, rude = nlp.pipe([_post(1, ARTICLE), _post(2, insult)])
    assert clean.toxicity == "clean" and clean.toxicity_score < 0.5
    # judged as a whole, the shipped model lets the one insulting sentence drown (P(clean) 0.99)
    assert rude.toxicity in ("offensive", "hate") and rude.toxicity_score > 0.5
    # the label's confidence is that of the passage that gave it (it is not 1 - score)
    model = nlp.stages[5].model
    insult_passage = next(p for p in passages(rude.text_normalized) if "ngu như bò" in p)
    labels, proba = model.predict([insult_passage])
    assert labels == [rude.toxicity]
    assert rude.label_confidence["toxicity"] == pytest.approx(
        proba[0, model.labels.index(rude.toxicity)], abs=1e-4)
    # clean holds only if every passage is: as sure as the least sure one
    clean_pieces = passages(clean.text_normalized)
    _, proba = model.predict(clean_pieces)
    assert clean.label_confidence["toxicity"] == pytest.approx(
        proba[:, model.labels.index("clean")].min(), abs=1e-4)


def test_pipeline_toxicity_confidence_of_short_posts_and_unsure_mark(nlp):
    texts = ["Cảm ơn các anh chị công an phường đã giúp bà con trong đêm mưa lũ.",
             "Đồ ngu, mày biết gì mà nói.",
             "Ờ thì cũng tạm được, chả biết nói sao."]
    out = nlp.pipe([_post(i, t) for i, t in enumerate(texts)])
    model = nlp.stages[5].model
    labels, proba = model.predict(texts)
    for post, label, row in zip(out, labels, proba, strict=True):
        assert post.toxicity == label
        confidence = post.label_confidence["toxicity"]
        assert confidence == pytest.approx(row[model.labels.index(label)], abs=1e-4)
        assert ("toxicity" in post.unsure) == (confidence < model.unsure_below)


def test_pipeline_bad_input_each_gets_a_defined_result(nlp):
    posts = [
        _post(1, ""), _post(2, "   \n\t "),
        _post(3, "The council approved the new budget for the city on Monday"),
        _post(4, "Cần Thơ hôm nay rất đẹp 今天的芹苴很漂亮我们去看看"),
        _post(5, "xin\x00 chào\x07 Cần Thơ"),
        _post(6, "kẹt xe\ud800 quá"),
        _post(7, "Mưa lớn ở Cần Thơ. " * 60_000),  # about 1.2 MB
    ]
    out = {p.id: p for p in nlp.pipe(posts, batch_size=3)}
    for key in ("p1", "p2"):
        assert out[key].language == "und" and "empty" in out[key].flags
        assert out[key].sentiment is None and out[key].analysis_errors == []
    assert out["p3"].language == "en" and "non_vietnamese" in out["p3"].flags
    assert out["p3"].sentiment is None  # not analysed, and never a made-up neutral
    assert "mixed_script" in out["p4"].flags and out["p4"].language == "vi"
    assert "control_chars_removed" in out["p5"].flags and out["p5"].places
    assert "invalid_unicode" in out["p6"].flags and out["p6"].sentiment in SENTIMENTS
    assert "truncated" in out["p7"].flags
    assert len(out["p7"].text_normalized) <= 20_000 and out["p7"].sentiment in SENTIMENTS


@register_stage("explode_on_boom")
class _ExplodeStage(Stage):
    """A test stage that fails on posts containing 'boom'."""

    seen: ClassVar[list[int]] = []

    def process(self, docs: list[Doc], shared: dict) -> None:
        _ExplodeStage.seen.append(len(docs))
        for doc in docs:
            if "boom" in doc.text:
                raise RuntimeError("kaboom")
            if "checked" not in doc.post.tags:  # stages are idempotent: a batch may be re-run
                doc.post.tags.append("checked")


def test_pipeline_one_failing_post_never_fails_its_batch():
    from core.settings import NlpSettings

    try:
        nlp = load_pipeline(NlpSettings(stages=["normalize", "explode_on_boom", "sentiment"]))
        posts = [_post(i, t) for i, t in enumerate(["rất tốt", "boom boom", "quá tệ"])]
        out = list(nlp.pipe(posts, batch_size=10))
    finally:
        STAGES.pop("explode_on_boom", None)
    assert [p.id for p in out] == ["p0", "p1", "p2"]  # order kept
    assert out[1].analysis_errors == ["explode_on_boom: RuntimeError: kaboom"]
    assert out[0].tags == ["checked"] and out[2].tags == ["checked"]
    assert out[1].sentiment in SENTIMENTS  # later stages still ran on it
    assert nlp.stats["failures"] == {"explode_on_boom": 1}
    assert _ExplodeStage.seen[0] == 3  # the batch was tried whole first


def test_pipeline_stages_are_chosen_by_config_and_checked():
    from core.settings import NlpSettings

    nlp = load_pipeline(NlpSettings(stages=["normalize", "language"]))
    post = nlp(_post(1, "ko bít"))
    assert post.text_normalized == "không biết" and post.language == "vi"
    assert post.sentiment is None and post.topics == []
    with pytest.raises(NlpError, match="unknown NLP stage"):
        load_pipeline(NlpSettings(stages=["normalize", "lemmatise"]))


def test_pipeline_single_stage_call_on_a_post():
    from core.settings import NlpSettings

    stage = STAGES["entities"](NlpSettings())
    post = stage(_post(1, "Ngập ở Sóc Trăng"))
    assert post.places == ["Thành phố Cần Thơ"]


def test_pipeline_demo_news_articles_are_not_flagged_toxic(nlp):
    """The demo's news articles (written clean, many quoting named residents) stay clean:
    before the corpus had formal passages, the shipped model flagged 15 of them."""
    from datetime import UTC, datetime

    from crawlers.demo_site.generator import generate_content

    content = generate_content(7, now=datetime(2026, 11, 1, 8, 0, tzinfo=UTC))
    articles = content.of("article")
    posts = [_post(i, item.text, title=item.title) for i, item in enumerate(articles)]
    flagged = [(p.title, p.toxicity) for p in nlp.pipe(posts) if p.toxicity != "clean"]
    assert len(articles) > 250
    assert flagged == []


def test_pipeline_flags_the_demo_rude_comments(nlp):
    """The demo site's rude comments (written for it) are found by the shipped model."""
    from crawlers.demo_site.content import RUDE_COMMENTS

    texts = [(label, t) for label, pool in RUDE_COMMENTS.items() for t in pool]
    out = list(nlp.pipe([_post(i, t) for i, (_, t) in enumerate(texts)]))
    flagged = sum(p.toxicity != "clean" for p in out)
    assert flagged >= len(texts) - 2
    hateful = [p.toxicity for (label, _), p in zip(texts, out, strict=True) if label == "hate"]
    assert hateful.count("hate") >= 2
