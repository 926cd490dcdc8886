"""The linear backend: hashed features, calibrated probabilities, persistence."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core.errors import NlpError
from nlp.features import FeatureConfig, HashedFeaturizer
from nlp.linear import LinearTextClassifier

DATA = Path(__file__).parent.parent / "data" / "nlp"


def _rows(name):
    rows = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]
    return [r["text"] for r in rows], [r["label"] for r in rows]


def test_features_are_deterministic_and_fold_diacritics():
    a = HashedFeaturizer(FeatureConfig(word_bits=16, char_bits=16))
    b = HashedFeaturizer(FeatureConfig(word_bits=16, char_bits=16))
    wa, ca = a.transform(["Không biết nữa", "", "kẹt xe kẹt xe"])
    wb, cb = b.transform(["Không biết nữa", "", "kẹt xe kẹt xe"])
    assert (wa != wb).nnz == 0 and (ca != cb).nnz == 0
    assert wa[1].nnz == 0 and ca[1].nnz == 0  # empty text: empty row
    # "kẹt" counts as itself and as "ket", "xe" only as itself; plus 3 bigrams
    assert wa[2].sum() == 2 * 2 + 2 + 3
    plain, _ = a.transform(["khong"])
    accented, _ = a.transform(["không"])
    assert set(plain.indices) & set(accented.indices)  # the undiacritised copy is shared


def test_linear_fit_predict_save_load(tmp_path):
    texts, labels = _rows("tiny_sentiment.jsonl")
    model = LinearTextClassifier(FeatureConfig(word_bits=16, char_bits=16)).fit(texts, labels)
    assert model.labels_ == ["negative", "neutral", "positive"]
    proba = model.predict_proba(["kẹt xe quá mệt mỏi", "cảm ơn, rất hài lòng"])
    assert proba.shape == (2, 3)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert model.predict(texts) == labels or np.mean(
        [p == y for p, y in zip(model.predict(texts), labels, strict=True)]) > 0.9
    model.save(tmp_path)
    again = LinearTextClassifier.load(tmp_path)
    assert np.allclose(again.predict_proba(texts[:5]), model.predict_proba(texts[:5]))


def test_linear_refuses_single_class_and_missing_model(tmp_path):
    with pytest.raises(NlpError, match="only one label"):
        LinearTextClassifier().fit(["a", "b"], ["x", "x"])
    with pytest.raises(NlpError, match="no linear model"):
        LinearTextClassifier.load(tmp_path)


def test_linear_long_documents_use_syllable_ngrams_only():
    config = LinearTextClassifier.choose_features(["chữ " * 600])
    assert config.char_max < config.char_min and config.word_bits == 22
    assert LinearTextClassifier.choose_features(["ngắn thôi"]) == FeatureConfig(lexicon=True)


def test_idf_min_df_drops_rare_columns():
    from scipy import sparse

    from nlp.features import fit_idf, tfidf

    counts = sparse.csr_matrix(np.array([[2, 1, 0, 0], [1, 0, 3, 0], [0, 0, 0, 1]], dtype=np.float32))
    assert np.array_equal(fit_idf(counts), fit_idf(counts, min_df=1))
    idf = fit_idf(counts, min_df=2)
    assert idf[0] > 0 and idf[1] == idf[2] == idf[3] == 0  # only column 0 is in two documents
    x = tfidf(counts, idf).toarray()
    assert np.allclose(x[:2, 0], 1.0) and np.allclose(x[:, 1:], 0.0)  # renormalised over kept columns
    assert np.allclose(x[2], 0.0)  # nothing left: an empty row, not a division by zero


def test_linear_long_documents_drop_singletons_and_pick_c():
    rng = np.random.default_rng(0)
    vocab = {"sport": "bóng đá cầu thủ trận đấu bàn thắng huấn luyện viên",
             "money": "ngân hàng lãi suất cổ phiếu thị trường doanh nghiệp",
             "health": "bệnh viện bác sĩ thuốc điều trị bệnh nhân"}
    texts, labels = [], []
    for label, words in vocab.items():
        words = words.split()
        for i in range(6):
            body = " ".join(rng.choice(words, size=400))
            texts.append(f"{body} riêng{label}{i}")  # a token of this document only
            labels.append(label)
    model = LinearTextClassifier(C=0.5).fit(texts, labels)
    assert model.features.char_max < model.features.char_min  # the long-document path
    assert model.C_ in (1.0, 4.0)
    own, _ = model.counts(["riêngsport0"])
    assert np.all(model.idf_word_[own.indices] == 0)  # seen in one training document: dropped
    shared, _ = model.counts(["bóng đá"])
    assert np.all(model.idf_word_[shared.indices] > 0)
    assert model.predict(["cầu thủ ghi bàn thắng trong trận đấu " * 40]) == ["sport"]


def test_linear_short_texts_choose_the_lexicon_out_of_fold(tmp_path):
    import yaml

    from nlp.lexicon import _TOKEN

    words = yaml.safe_load((Path(__file__).parents[2] / "nlp" / "data" / "lexicon.yaml")
                           .read_text(encoding="utf-8"))
    # one-syllable polarity words, each used once: n-grams cannot generalise, the cue
    # tokens of the lexicon can
    good = [w for w in words["positive"] if len(_TOKEN.findall(w)) == 1][:18]
    bad = [w for w in words["negative"] if len(_TOKEN.findall(w)) == 1][:18]
    texts = [f"hôm nay ở khu phố thấy {w}" for w in good + bad]
    labels = ["positive"] * len(good) + ["negative"] * len(bad)
    model = LinearTextClassifier().fit(texts, labels)
    assert model.features.lexicon is True and model.cv_macro_f1_ > 0.8
    model.save(tmp_path)
    again = LinearTextClassifier.load(tmp_path)
    assert again.features == model.features
    assert np.allclose(again.predict_proba(texts[:4]), model.predict_proba(texts[:4]))
    fixed = LinearTextClassifier(FeatureConfig()).fit(texts, labels)
    assert fixed.features.lexicon is False  # given features are kept as they are


def test_linear_training_is_reproducible():
    texts = [f"cầu mới thông xe {i}" for i in range(12)] + [f"đường ngập sâu {i}" for i in range(12)]
    labels = ["positive"] * 12 + ["negative"] * 12
    a = LinearTextClassifier().fit(texts, labels)
    b = LinearTextClassifier().fit(texts, labels)
    assert (a.coef_ != b.coef_).nnz == 0 and np.array_equal(a.intercept_, b.intercept_)
    assert a.C_ == b.C_ and a.features == b.features and a.unsure_below_ == b.unsure_below_


def test_linear_sample_weight_lets_heavy_rows_outweigh_the_rest():
    texts, labels = _rows("tiny_sentiment.jsonl")
    # a phrase the tiny corpus would call positive, labelled negative by an operator: the
    # heavier the row, the further the SVM's negative score is ahead of the positive one
    extra = ["cảm ơn thành phố, đường mới làm đẹp quá"]
    config = FeatureConfig(word_bits=16, char_bits=16)
    margin = {}
    for weight in (1.0, 50.0):
        model = LinearTextClassifier(config, c_factors=(1,))
        model.fit(texts + extra, labels + ["negative"], sample_weight=[1.0] * len(texts) + [weight])
        assert model.C_ == model.C  # one C factor: no choice made
        scores = model.scores_from_counts(model.counts(extra))[0]
        margin[weight] = scores[model.labels_.index("negative")] - scores[model.labels_.index("positive")]
    assert margin[50.0] > margin[1.0] + 0.5
    with pytest.raises(NlpError, match="one positive finite weight per text"):
        LinearTextClassifier(config).fit(texts, labels, sample_weight=[1.0] * (len(texts) - 1))
    with pytest.raises(NlpError, match="one positive finite weight per text"):
        LinearTextClassifier(config).fit(texts, labels, sample_weight=[0.0] * len(texts))


def test_linear_fit_with_precomputed_counts_is_the_same_model():
    texts, labels = _rows("tiny_sentiment.jsonl")
    unlabelled = ["xe buýt chạy đúng giờ", "mưa lớn ở quận 7", "không biết nữa"]
    config = FeatureConfig(word_bits=16, char_bits=16, lexicon=True)
    weight = [1.0] * (len(texts) - 5) + [4.0] * 5
    plain = LinearTextClassifier(config).fit(texts, labels, idf_texts=unlabelled, sample_weight=weight)
    counts = LinearTextClassifier(config).counts(texts + unlabelled)  # e.g. computed for another fit
    reused = LinearTextClassifier(config).fit(texts, labels, idf_texts=unlabelled, sample_weight=weight,
                                              counts=counts)
    assert reused.labels_ == plain.labels_ and reused.C_ == plain.C_
    assert (reused.coef_ != plain.coef_).nnz == 0 and np.array_equal(reused.intercept_, plain.intercept_)
    for name in ("idf_word_", "idf_char_", "calib_coef_", "calib_intercept_", "offsets_"):
        assert np.array_equal(getattr(reused, name), getattr(plain, name)), name
    assert reused.unsure_below_ == plain.unsure_below_ and reused.cv_macro_f1_ == plain.cv_macro_f1_
    assert reused.predict(texts) == plain.predict(texts)

    # counts of other texts (here: without the unlabelled ones, or in another order) are refused
    with pytest.raises(NlpError, match="precomputed counts are not those"):
        LinearTextClassifier(config).fit(texts, labels, idf_texts=unlabelled,
                                         counts=LinearTextClassifier(config).counts(texts))
    with pytest.raises(NlpError, match="precomputed counts are not those"):
        LinearTextClassifier(config).fit(texts, labels, idf_texts=unlabelled,
                                         counts=LinearTextClassifier(config).counts(unlabelled + texts))
    with pytest.raises(NlpError, match="precomputed counts are not those"):  # another width
        LinearTextClassifier(config).fit(texts, labels, idf_texts=unlabelled,
                                         counts=LinearTextClassifier(FeatureConfig()).counts(texts + unlabelled))
    with pytest.raises(NlpError, match="need the features"):  # features chosen in fit: counts unknown
        LinearTextClassifier().fit(texts, labels, idf_texts=unlabelled, counts=counts)


def test_linear_designs_are_the_matrices_fit_trains_on():
    texts, labels = _rows("tiny_sentiment.jsonl")
    unlabelled = ["xe buýt chạy đúng giờ", "mưa lớn ở quận zorbala"]
    config = FeatureConfig(word_bits=16, char_bits=16)
    probe = LinearTextClassifier(config)
    counts = probe.counts(texts + unlabelled)
    designs = probe.designs(counts, len(texts), [False, True])
    assert set(designs) == {False, True}
    assert designs[False].x.shape == (len(texts), 2 * 2 ** 16)
    assert designs[False].idf_char is designs[True].idf_char  # the character block is weighted once
    # the cue tokens change the syllable block only
    assert (designs[False].x[:, 2 ** 16:] != designs[True].x[:, 2 ** 16:]).nnz == 0
    assert (designs[False].x[:, :2 ** 16] != designs[True].x[:, :2 ** 16]).nnz > 0
    # the IDF counts the unlabelled rows: a syllable found in one of them only has df 1 of n
    assert not any("zorbala" in t for t in texts)
    only, _ = probe.counts(["zorbala"])
    n = len(texts) + len(unlabelled)
    assert np.allclose(designs[False].idf_word[only.indices], np.log((1 + n) / 2) + 1)
    assert list(probe.designs(counts, len(texts))) == [False]  # default: the model's own setting
    for lexicon in (False, True):
        model = LinearTextClassifier(replace(config, lexicon=lexicon), c_factors=(1,))
        model.fit(texts, labels, idf_texts=unlabelled)
        assert np.array_equal(model.idf_word_, designs[lexicon].idf_word)
        assert np.array_equal(model.idf_char_, designs[lexicon].idf_char)


def test_linear_used_columns_train_the_same_svm():
    from scipy import sparse
    from sklearn.svm import LinearSVC

    from nlp.linear import used_columns

    texts, labels = _rows("tiny_sentiment.jsonl")
    probe = LinearTextClassifier(FeatureConfig(word_bits=16, char_bits=16))
    x = probe.designs(probe.counts(texts), len(texts))[False].x
    cols, narrow = used_columns(x)
    assert narrow.shape == (len(texts), len(cols)) and len(cols) < x.shape[1] and narrow.nnz == x.nnz
    weight = np.linspace(1.0, 3.0, len(texts))

    def svm():
        return LinearSVC(C=0.5, class_weight="balanced", max_iter=5000, random_state=13)

    full = svm().fit(x, labels, sample_weight=weight)
    small = svm().fit(narrow, labels, sample_weight=weight)
    assert np.array_equal(full.coef_[:, cols], small.coef_)  # bit for bit
    assert not full.coef_[:, np.setdiff1d(np.arange(x.shape[1]), cols)].any()  # unused: weight 0
    assert np.array_equal(full.intercept_, small.intercept_)
    empty_cols, empty = used_columns(sparse.csr_matrix((3, 8), dtype=np.float32))
    assert list(empty_cols) == [0] and empty.shape == (3, 1)  # liblinear needs a column
