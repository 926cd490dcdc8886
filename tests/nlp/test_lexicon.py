"""The civic sentiment lexicon: polarity, negation, remedies, contrast, undiacritised text."""

from __future__ import annotations

import numpy as np

from nlp.features import FeatureConfig, HashedFeaturizer
from nlp.lexicon import Lexicon, analyse, load_lexicon


def test_lexicon_good_and_bad_civic_news():
    assert analyse("Cầu mới đã thông xe, người dân phấn khởi.").score > 0
    assert analyse("Mưa lớn khiến nhiều tuyến đường ngập sâu, dân bức xúc.").score < 0
    neutral = analyse("UBND phường thông báo lịch tiếp nhận hồ sơ từ ngày 5/1.")
    assert neutral.score == 0 and "neutral" in neutral.cues and "post_none" in neutral.cues


def test_lexicon_negation_turns_polarity_around():
    assert analyse("Dự án vẫn chưa hoàn thành.").score < 0
    assert "negated_pos" in analyse("Dự án vẫn chưa hoàn thành.").cues
    assert analyse("Đường Trần Phú không còn ngập nữa.").score > 0
    assert analyse("Dịch vụ chẳng hề tốt.").score < 0
    # "không khí" is the air, not a negation of what follows
    assert analyse("Không khí ô nhiễm nặng.").score < 0


def test_lexicon_remedies_and_contrast():
    assert analyse("Lực lượng chức năng đã khắc phục sạt lở.").score > 0
    mixed = analyse("Mưa lớn gây ngập nhưng nước đã rút, giao thông thông suốt trở lại.")
    assert mixed.score > 0 and "contrast" in mixed.cues and "after_contrast_pos" in mixed.cues
    turned = analyse("Cầu đã thông xe, tuy nhiên mặt đường xuống cấp, ổ gà khắp nơi.")
    assert turned.score < 0 and "after_contrast_neg" in turned.cues


def test_lexicon_scores_each_sentence_and_reads_undiacritised_text():
    result = analyse("Cầu mới thông xe. Nhưng đường dẫn vẫn ngập. Dân bức xúc.")
    assert len(result.sentences) == 3 and result.sentences[0] > 0 > result.sentences[2]
    assert "sentences_mixed" in result.cues
    assert analyse("duong khong con ngap nua, ba con vui lam").score > 0
    assert analyse("ket xe qua, ngap het roi").score < 0


def test_lexicon_from_lists_matches_longest_phrase_first():
    lex = Lexicon.from_lists({"positive": ["thông xe"], "negative": ["xe"], "negators": ["không"]})
    assert analyse("cầu thông xe", lex).score == 1.0
    assert analyse("không có xe", lex).score == 1.0
    assert load_lexicon().sizes["positive"] > 100 and load_lexicon().sizes["negative"] > 100


def test_lexicon_cues_are_a_separate_matrix_in_the_syllable_columns():
    text = ["Cầu mới đã thông xe, người dân phấn khởi."]
    featurizer = HashedFeaturizer(FeatureConfig(lexicon=True))
    counts = featurizer.transform(text)
    # the same counts with and without the lexicon: one featurisation serves every model
    assert FeatureConfig(lexicon=True).key() == FeatureConfig().key()
    plain = HashedFeaturizer(FeatureConfig()).transform(text)
    assert np.array_equal(counts[0].toarray(), plain[0].toarray())
    cues = counts.cues(featurizer)
    assert cues.shape == counts[0].shape and cues.sum() == len(analyse(text[0]).cues)
    assert counts.cues(featurizer) is cues  # computed once per batch
