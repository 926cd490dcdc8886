"""Model versions in the data directory: add, promote, roll back, and the pipeline's choice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.documents import Post
from core.errors import NlpError
from nlp.models import load_classifier
from nlp.normalize import normalize_text
from nlp.registry import POINTER, SHIPPED, ModelRegistry, with_current_models
from nlp.train import train

DATA = Path(__file__).parent.parent / "data" / "nlp"


def _tiny(directory: Path) -> dict:
    return train("sentiment", DATA / "tiny_sentiment.jsonl", directory)


def test_registry_starts_with_the_shipped_model_in_use(tmp_path: Path):
    reg = ModelRegistry(tmp_path)
    current = reg.current("sentiment")
    assert current.name == SHIPPED and current.ref == "default:sentiment"
    assert [v.name for v in reg.versions("sentiment")] == [SHIPPED]
    assert not (tmp_path / "models").exists()  # reading writes nothing
    with pytest.raises(NlpError, match="no sentiment model version 'v1'"):
        reg.version("sentiment", "v1")
    with pytest.raises(NlpError, match="unknown task"):
        reg.current("weather")


def test_registry_add_promote_and_rollback(tmp_path: Path):
    reg = ModelRegistry(tmp_path)
    v1 = reg.add("sentiment", _tiny, {"by": "admin"})
    v2 = reg.add("sentiment", _tiny)
    assert (v1.name, v2.name) == ("v1", "v2")
    assert v1.record["by"] == "admin" and v1.meta["task"] == "sentiment"
    assert reg.current("sentiment").name == SHIPPED  # added, not promoted
    reg.promote("sentiment", "v1", by="admin")
    reg.promote("sentiment", "v2", by="admin")
    pointer = json.loads((tmp_path / "models" / "sentiment" / POINTER).read_text())
    assert pointer["version"] == "v2" and pointer["history"] == [SHIPPED, "v1"]
    assert reg.rollback("sentiment").name == "v1"
    assert reg.rollback("sentiment").name == SHIPPED
    with pytest.raises(NlpError, match="no earlier version"):
        reg.rollback("sentiment")
    assert reg.current("topic").name == SHIPPED  # tasks are independent
    assert [v.name for v in reg.versions("sentiment")] == [SHIPPED, "v1", "v2"]


def test_registry_failed_build_leaves_no_version_and_no_temporary_folder(tmp_path: Path):
    reg = ModelRegistry(tmp_path)

    def broken(directory: Path) -> dict:
        (directory / "half.bin").write_bytes(b"x")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        reg.add("sentiment", broken)
    leftovers = [p.name for p in (tmp_path / "models" / "sentiment").iterdir()]
    assert leftovers == []
    assert reg.add("sentiment", _tiny).name == "v1"


def test_registry_pointer_to_a_missing_version_is_a_clear_error(tmp_path: Path):
    reg = ModelRegistry(tmp_path)
    reg.promote("sentiment", reg.add("sentiment", _tiny).name)
    import shutil

    shutil.rmtree(tmp_path / "models" / "sentiment" / "v1")
    with pytest.raises(NlpError, match="no sentiment model version 'v1'"):
        reg.current("sentiment")


def test_registry_pipeline_loads_the_promoted_version(settings):
    from nlp.pipeline import load_pipeline

    assert with_current_models(settings.nlp, settings.data_dir).sentiment_model is None
    reg = ModelRegistry(settings.data_dir)
    version = reg.promote("sentiment", reg.add("sentiment", _tiny).name)
    nlp = with_current_models(settings.nlp, settings.data_dir)
    assert nlp.sentiment_model == str(version.path) and nlp.topic_model is None
    explicit = settings.nlp.model_copy(update={"sentiment_model": "default:sentiment"})
    assert with_current_models(explicit, settings.data_dir).sentiment_model == "default:sentiment"

    text = "đường mới làm đẹp quá nhưng nhân viên phường thái độ khó chịu"
    post = load_pipeline(settings)(Post(id="p1", source="t", text=text))
    direct = load_classifier(version.path)
    normalised = normalize_text(text)[0]
    labels, proba = direct.predict([normalised], {})
    assert post.sentiment == labels[0]
    assert post.label_confidence["sentiment"] == pytest.approx(
        float(proba[0, direct.labels.index(labels[0])]), abs=1e-4)
    shipped = load_classifier("default:sentiment")
    s_labels, s_proba = shipped.predict([normalised], {})
    assert (s_labels[0], round(float(s_proba[0].max()), 4)) != (
        post.sentiment, post.label_confidence["sentiment"])  # not the shipped model's answer


def test_registry_pipeline_writes_what_the_review_queue_reads(settings):
    from core.documents import RULES_DISAGREE_FLAG
    from nlp.pipeline import load_pipeline
    from nlp.taxonomy import load_taxonomy

    nlp = load_pipeline(settings)
    stale = Post(id="p2", source="t", text="Hôm nay trời đẹp, cả nhà đi chơi vui vẻ.", flags=[RULES_DISAGREE_FLAG])
    post = nlp(stale)
    assert set(post.label_confidence) == {"topic", "sentiment", "toxicity"}
    assert all(0 < v <= 1 for v in post.label_confidence.values())
    rules = load_taxonomy(None).rule_topics(post.text_normalized)
    expected = bool(rules) and post.topics[0] not in rules
    assert (RULES_DISAGREE_FLAG in post.flags) == expected  # recomputed, a stale flag does not stay
    assert post.flags.count(RULES_DISAGREE_FLAG) <= 1


def test_registry_running_pipeline_follows_promotion_and_rollback(settings):
    """A pipeline loaded before a promotion (as `iocwatch serve` holds one) uses the new
    version from its next batch, goes back on rollback, and keeps working when a promoted
    version cannot be loaded."""
    import shutil

    from nlp.pipeline import load_pipeline

    settings.nlp.reload_check_s = 0.001
    text = "đường mới làm đẹp quá nhưng nhân viên phường thái độ khó chịu"
    normalised = normalize_text(text)[0]

    def confidence(model) -> tuple[str, float]:
        labels, proba = model.predict([normalised], {})
        return labels[0], round(float(proba[0, model.labels.index(labels[0])]), 4)

    def analysed(nlp) -> tuple[str, float]:
        post = nlp(Post(id="p1", source="t", text=text))
        return post.sentiment, round(post.label_confidence["sentiment"], 4)

    nlp = load_pipeline(settings)
    shipped = confidence(load_classifier("default:sentiment"))
    assert analysed(nlp) == shipped
    reg = ModelRegistry(settings.data_dir)
    version = reg.promote("sentiment", reg.add("sentiment", _tiny).name)
    promoted = confidence(load_classifier(version.path))
    assert promoted != shipped
    assert analysed(nlp) == promoted and nlp.stats["reloads"] == 1
    assert analysed(nlp) == promoted and nlp.stats["reloads"] == 1  # no change: no reload
    reg.rollback("sentiment")
    assert analysed(nlp) == shipped and nlp.stats["reloads"] == 2

    broken = reg.add("sentiment", _tiny)
    shutil.rmtree(broken.path)  # the pointer will name a version that is gone
    reg_pointer = settings.data_dir / "models" / "sentiment" / POINTER
    reg_pointer.write_text(json.dumps({"version": broken.name, "history": [SHIPPED]}), encoding="utf-8")
    assert analysed(nlp) == shipped  # the models in use go on
    assert nlp.stats["reload_errors"] == 1 and nlp.stats["reloads"] == 2
