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


@pytest.mark.parametrize(("var", "value", "expected"), [
    ("IOCWATCH_SECURITY__CONTAMINATION", "2.0", "security.contamination"),
    ("IOCWATCH_DASHBOARD__TIMEZONE", "Asia/Can_Tho", "unknown timezone"),
    ("IOCWATCH_LOG_LEVEL", "verbose", "unknown log level"),
    ("IOCWATCH_DASHBOARD__LOGIN_LOCK_S", "-10", "dashboard.login_lock_s"),
    ("IOCWATCH_DASHBOARD__MAX_LOGIN_FAILURES", "0", "dashboard.max_login_failures"),
    ("IOCWATCH_NOTIFY__DIGEST_HOUR", "25", "notify.digest_hour"),
])
def test_settings_out_of_range_values_are_refused_naming_key_and_variable(settings, monkeypatch,
                                                                          var, value, expected):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert expected in str(info.value) and var in str(info.value)


def test_settings_rule_override_of_wrong_type_is_refused_at_load(settings, tmp_path, monkeypatch):
    from security.rules import rule_config

    (tmp_path / "iocwatch.toml").write_text('[security.rules.port_scan]\nmin_ports = "x"\n')
    s = load_settings()
    with pytest.raises(ConfigError, match="security.rules.port_scan.min_ports"):
        rule_config(s.security.rules)
    (tmp_path / "iocwatch.toml").write_text('[security.rules.port_scan]\nmin_portz = 3\n')
    with pytest.raises(ConfigError, match="unknown key 'security.rules.port_scan.min_portz'"):
        rule_config(load_settings().security.rules)
    (tmp_path / "iocwatch.toml").write_text('[security.rules.port_scan]\nmin_ports = 40\n')
    assert rule_config(load_settings().security.rules)["port_scan"]["min_ports"] == 40


def test_settings_cli_refuses_to_start_on_a_bad_rule_override(settings, tmp_path):
    from click.testing import CliRunner

    from core.settings import get_settings
    from iocwatch.cli import cli

    (tmp_path / "iocwatch.toml").write_text('[security.rules.port_scan]\nmin_ports = "x"\n')
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["config", "show"])
    finally:
        get_settings.cache_clear()  # the cached bad settings must not reach later tests
    assert result.exit_code != 0
    assert "security.rules.port_scan.min_ports" in str(result.exception)


def test_settings_unknown_keys_warn_by_name_and_strict_refuses(settings, tmp_path, monkeypatch, caplog):
    (tmp_path / "iocwatch.toml").write_text('[nlp]\nbatchsize = 16\n[dashbord]\nlanguage = "en"\n')
    with caplog.at_level("WARNING"):
        s = load_settings()
    assert s.unknown_keys() == ["dashbord", "nlp.batchsize"]
    assert "nlp.batchsize" in caplog.text and "did you mean 'nlp.batch_size'" in caplog.text
    monkeypatch.setenv("IOCWATCH_STRICT", "true")
    with pytest.raises(ConfigError, match="unknown setting keys.*nlp.batchsize"):
        load_settings()


def test_settings_list_from_environment_as_json_or_comma_separated(settings, monkeypatch):
    monkeypatch.setenv("IOCWATCH_SERVE__MONITOR_LOGS", "/var/log/auth.log, /var/log/nginx/access.log")
    assert load_settings().serve.monitor_logs == ["/var/log/auth.log", "/var/log/nginx/access.log"]
    monkeypatch.setenv("IOCWATCH_SERVE__MONITOR_LOGS", '["/var/log/a.log"]')
    assert load_settings().serve.monitor_logs == ["/var/log/a.log"]
    monkeypatch.setenv("IOCWATCH_SERVE__MONITOR_LOGS", '["/var/log/a.log",')
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "IOCWATCH_SERVE__MONITOR_LOGS" in str(info.value) and "TOML" not in str(info.value)


def test_settings_masked_hides_credentials_inside_urls(settings, monkeypatch):
    monkeypatch.setenv("IOCWATCH_NOTIFY__WEBHOOK_URL", "https://u:HookPw1@hooks.example/x?token=T0k3n")
    monkeypatch.setenv("IOCWATCH_ES_URL", "https://elastic:EsPw2@es:9200")
    text = repr(masked(load_settings()))
    assert "HookPw1" not in text and "T0k3n" not in text and "EsPw2" not in text
