"""The transformers backend, offline, with a tiny BERT built here from a config."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.documents import SENTIMENTS, Post
from core.errors import NlpError

DATA = Path(__file__).parent.parent / "data" / "nlp"


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    """A 1-layer BERT with a WordPiece vocabulary trained on the fixture sentences."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    texts = [json.loads(line)["text"] for line in
             (DATA / "tiny_sentiment.jsonl").read_text(encoding="utf-8").splitlines()]
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=400, special_tokens=specials))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", tok.token_to_id("[CLS]")),
                                                 ("[SEP]", tok.token_to_id("[SEP]"))])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                                   model_max_length=512)
    config = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=512,
                        num_labels=2)
    directory = tmp_path_factory.mktemp("tiny-bert")
    BertForSequenceClassification(config).save_pretrained(directory)
    fast.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def tuned(tiny_bert, tmp_path_factory):
    from nlp.train import train

    out = tmp_path_factory.mktemp("tuned")
    meta = train("sentiment", DATA / "tiny_sentiment.jsonl", out, backend="transformers",
                 base=str(tiny_bert), epochs=2)
    return out, meta


def test_transformer_train_saves_model_labels_and_meta(tuned):
    out, meta = tuned
    assert meta["backend"] == "transformers" and meta["labels"] == ["negative", "neutral", "positive"]
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert sorted(config["id2label"].values()) == ["negative", "neutral", "positive"]
    assert (out / "meta.json").is_file()


def test_transformer_predicts_batched_probabilities(tuned):
    from nlp.models import load_classifier

    model = load_classifier(tuned[0])
    labels, proba = model.predict(["kẹt xe quá", "", "cảm ơn " * 400], {})
    assert proba.shape == (3, 3) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert set(labels) <= set(SENTIMENTS)


def test_transformer_backend_in_the_pipeline(tuned):
    from core.settings import NlpSettings
    from nlp.pipeline import load_pipeline
    from nlp.train import evaluate

    settings = NlpSettings(stages=["normalize", "language", "sentiment"],
                           sentiment_backend="transformers", sentiment_model=str(tuned[0]))
    post = load_pipeline(settings)(Post(id="t1", source="test", text="thầy dạy dễ hiểu"))
    assert post.sentiment in SENTIMENTS and post.analysis_errors == []
    result = evaluate(str(tuned[0]), DATA / "tiny_sentiment.jsonl")
    assert result["n"] == 45 and 0 <= result["macro_f1"] <= 1


def test_transformer_missing_model_and_base_are_explained(tmp_path):
    from nlp.models import load_classifier
    from nlp.train import train

    with pytest.raises(NlpError, match="cannot load transformers model"):
        load_classifier("no-such-org/no-such-model", backend="transformers")
    with pytest.raises(NlpError, match="needs a base model"):
        train("sentiment", DATA / "tiny_sentiment.jsonl", tmp_path / "x", backend="transformers")
