"""The segmenter gives exactly underthesea.word_tokenize's words, by a shorter path."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from underthesea import word_tokenize

from nlp.segment import Segmenter

TEXTS = [
    "Bác sĩ bây giờ có thể thản nhiên báo tin bệnh nhân bị ung thư",
    "Sáng nay đuợc nghỉ học vì triều cường, đường Mậu Thân ngập tới đầu gối!!!",
    "ko biết j luôn á mn ơi, 20/11 này đi đâu chơi ở Cần Thơ?",
    "Liên hệ 0909 123 456 hoặc email hotro@cantho.gov.vn, xem https://cantho.gov.vn/tin-tuc",
    "Giá xăng RON95 tăng 1.250 đồng/lít từ 15h chiều nay (ngày 3-12-2026).",
    "Thuý Kiều và Hoà Bình, thúy kiều và hòa bình",
    "Đội tuyển Việt Nam thắng 2-0, quá đã 😂😂",
    "",
    "   ",
    "Ủy ban nhân dân thành phố Cần Thơ thông báo lịch tiếp công dân tháng 12.",
]


@pytest.fixture(scope="module")
def segmenter():
    return Segmenter()


def test_segmenter_takes_the_direct_path_here(segmenter):
    assert segmenter._fast is not None  # the installed underthesea is the one it was checked on


@pytest.mark.parametrize("text", TEXTS)
def test_segmenter_words_equal_word_tokenize(segmenter, text):
    assert segmenter(text) == word_tokenize(text)


def test_segmenter_normalises_spelling_like_word_tokenize(segmenter):
    assert "được" in segmenter("hôm nay đuợc nghỉ")


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aăâbcdđeêghiklmnoôơpqrstuưvxy àáảãạằắẳẵặầấẩẫậ"
                                              "èéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
                                              "ĐÁÀ0123456789.,!?-/:@#😀\n")), max_size=80))
def test_segmenter_equals_word_tokenize_on_any_text(segmenter, text):
    assert segmenter(text) == word_tokenize(text)


def test_segmenter_falls_back_when_underthesea_changes(segmenter, monkeypatch, caplog):
    import sys

    tn = sys.modules["underthesea.pipeline.text_normalize.token_normalize"]
    # another version whose pieces no longer add up to word_tokenize
    monkeypatch.setattr(tn, "token_normalize", lambda token, **_: token.upper())
    other = Segmenter()
    assert other._fast is None and "falls back" in caplog.text
    assert other("Cần Thơ mưa to") == word_tokenize("Cần Thơ mưa to")


# ---- the Python decoder of the CRF (nlp/crf.py) --------------------------------------------

def _tagger_tags(segmenter, tokens: list[str]) -> list[str]:
    parts = segmenter._fast
    return parts["tag"](parts["featurize"]([[[t] for t in tokens]])[0])


def test_segmenter_decodes_the_crf_in_python_here(segmenter):
    assert segmenter._fast["decode"] is not None


def test_crf_decoder_gives_the_taggers_tags_on_real_sentences(segmenter):
    """Against underthesea's featurizer and tagger on 1,123 sentences of news (the UD
    Vietnamese VTB dev split, read from ../shared), the shipped corpus and edge cases; a
    tie (None) is rare and left to the tagger."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    texts = list(TEXTS)
    vtb = root.parent / "shared" / "datasets" / "ud_vietnamese_vtb" / "dev.raw.txt"
    if vtb.is_file():
        texts += vtb.read_text(encoding="utf-8").splitlines()
    for path in sorted((root / "nlp" / "data" / "corpus").glob("*.jsonl"))[:4]:
        with path.open(encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh][:400]
    texts += ["12 HÀ nội Đẹp", "-5 +5 2147483648 2147483647 ½ ² ǅ İ ß ΣΑΣ", "A", "a b", "x y z",
              "🌱❤️💕🌲🇻🇳🌍: Trần Dần.", "e-mail TP.HCM Th.S v.v... 3x4 °C ==> --"]
    decode = segmenter._fast["decode"]
    checked = ties = 0
    for text in texts:
        tokens = segmenter._tokens(text, segmenter._fast)
        if not tokens:
            continue
        tags = decode(tokens)
        if tags is None:
            ties += 1
            continue
        assert tags == _tagger_tags(segmenter, tokens), text
        checked += 1
    assert checked > 1000 and ties <= checked // 200


def test_crf_decoder_feature_values_match_the_featurizer(segmenter):
    """is_int32 and is_title say what the featurizer's isdigit and istitle say."""
    from nlp.crf import is_int32, is_title

    tokens = ["12", "-5", "+5", "05", "2147483647", "2147483648", "-2147483648", "-2147483649",
              "½", "²", "١٢", "1_000", "-", "HÀ", "Hà", "hà", "!", "ǅ", "ʚöɞ", "ß", "İ", "Đẹp"]
    rows = segmenter._fast["featurize"]([[[t] for t in tokens]])[0]
    for token, row in zip(tokens, rows, strict=True):
        assert f"T[0].isdigit={is_int32(token)}" in row, token
        assert f"T[0].istitle={is_title(token)}" in row, token


def test_crf_decoder_refused_on_a_damaged_model(segmenter, tmp_path, caplog):
    """A damaged model file: a clear NlpError from the reader, and the segmenter keeps
    underthesea's featurizer and tagger (same words)."""
    import shutil
    from pathlib import Path

    import underthesea.pipeline.word_tokenize as wt

    from core.errors import NlpError
    from nlp.crf import read_crfsuite

    source = next(d for d in (Path(wt.__file__).parent / "models").iterdir() if (d / "models.bin").is_file())
    models = tmp_path / "models"
    shutil.copytree(source, models / source.name)
    (models / source.name / "models.bin").write_bytes((source / "models.bin").read_bytes()[:5000])
    with pytest.raises(NlpError, match="shorter"):
        read_crfsuite(models / source.name / "models.bin")
    (models / source.name / "models.bin").write_bytes(b"not a model at all" * 10)
    with pytest.raises(NlpError, match="not a CRFsuite"):
        read_crfsuite(models / source.name / "models.bin")
    assert segmenter._decoder(models, segmenter._fast) is None
    assert "uses underthesea's featurizer and tagger" in caplog.text
    parts = {**segmenter._fast, "decode": None}
    text = "Cầu Rạch Miễu 2 thông xe, người dân phấn khởi"
    assert segmenter._segment(text, parts) == word_tokenize(text)
