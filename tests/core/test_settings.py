"""Settings: environment, TOML, nesting, masking and errors that name the key."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from core.settings import load_settings, masked


def test_settings_environment_overrides_toml(settings, tmp_path, monkeypatch):
    (tmp_path / "iocwatch.toml").write_text('store = "elasticsearch"\nes_url = "http://es:9200"\n'
                                            '[nlp]\nbatch_size = 16\n[security]\ndetector = "iforest"\n')
    monkeypatch.setenv("IOCWATCH_NLP__BATCH_SIZE", "128")
    s = load_settings()
    assert s.store == "elasticsearch" and s.es_url == "http://es:9200"
    assert s.nlp.batch_size == 128  # the environment wins
    assert s.security.detector == "iforest"


def test_settings_data_dir_from_environment(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("IOCWATCH_DATA_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("IOCWATCH_STORE", "embedded")
    s = load_settings()
    assert s.data_dir == tmp_path / "state"
    assert s.path("index") == tmp_path / "state" / "index"


def test_settings_malformed_value_names_the_key(settings, monkeypatch):
    monkeypatch.setenv("IOCWATCH_NLP__BATCH_SIZE", "many")
    with pytest.raises(ConfigError, match="nlp.batch_size"):
        load_settings()


def test_settings_bad_toml_names_the_file(settings, tmp_path, monkeypatch):
    path = tmp_path / "custom.toml"
    path.write_text("store = \n")
    monkeypatch.setenv("IOCWATCH_CONFIG", str(path))
    with pytest.raises(ConfigError, match="custom.toml"):
        load_settings()
    monkeypatch.setenv("IOCWATCH_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings()


def test_settings_masked_hides_every_secret(settings, monkeypatch):
    monkeypatch.setenv("IOCWATCH_NOTIFY__TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("IOCWATCH_INDEX__ES_API_KEY", "key-xyz")
    text = repr(masked(load_settings()))
    assert "123:abc" not in text and "key-xyz" not in text
    assert text.count("********") >= 2
