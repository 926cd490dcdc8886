"""Users file, password checks, rate limiting, audit log and the login flow in the app."""

from __future__ import annotations

import json
import time

import pytest
import yaml
from click.testing import CliRunner

from core.errors import ConfigError, DashboardError
from dashboard import auth
from tests.dashboard.conftest import login, new_app, use_data_dir


def test_auth_users_file_keeps_only_bcrypt_hashes(settings):
    auth.add_user(settings, "Lan.Nguyen", "analyst", "mat-khau-rat-dai", rounds=4)
    text = auth.users_path(settings).read_text(encoding="utf-8")
    assert "mat-khau-rat-dai" not in text
    entry = yaml.safe_load(text)["users"]["lan.nguyen"]
    assert entry["role"] == "analyst" and entry["password_hash"].startswith("$2b$04$")
    assert auth.authenticate(settings, "LAN.NGUYEN", "mat-khau-rat-dai").role == "analyst"
    assert oct(auth.users_path(settings).stat().st_mode & 0o777) == "0o600"


def test_auth_rejects_plain_passwords_and_unknown_roles(settings):
    path = auth.users_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("users:\n  lan:\n    role: analyst\n    password: hunter22\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="plain 'password'"):
        auth.load_users(settings)
    path.write_text("users:\n  lan:\n    role: boss\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="role 'boss'"):
        auth.load_users(settings)
    with pytest.raises(DashboardError, match="too short"):
        auth.add_user(settings, "lan", "analyst", "ngan")
    with pytest.raises(DashboardError, match="unknown role"):
        auth.add_user(settings, "lan", "boss", "du-dai-roi-nhe")


def test_auth_locks_a_user_after_repeated_failures_and_persists_it(settings):
    auth.add_user(settings, "comms", "comms", "truyenthong-demo", rounds=4)
    limit = settings.dashboard.max_login_failures
    now = time.time()
    for n in range(limit):
        with pytest.raises(auth.LoginFailed):
            auth.authenticate(settings, "comms", f"sai-{n}", now=now + n)
    with pytest.raises(auth.LoginLocked) as locked:  # even the right password is refused now
        auth.authenticate(settings, "comms", "truyenthong-demo", now=now + limit)
    assert 0 < locked.value.retry_in_s <= settings.dashboard.login_lock_s
    stored = json.loads((settings.path("dashboard") / "login_failures.json").read_text())
    assert len(stored["comms"]) == limit
    # another user is not affected; after the window the right password works and clears the count
    auth.add_user(settings, "analyst", "analyst", "phantich-demo", rounds=4)
    assert auth.authenticate(settings, "analyst", "phantich-demo", now=now + limit).name == "analyst"
    later = now + limit + settings.dashboard.login_lock_s + 1
    assert auth.authenticate(settings, "comms", "truyenthong-demo", now=later).name == "comms"
    assert auth.lock_remaining(settings, "comms", now=later) == 0
    events = [json.loads(line)["event"] for line in
              (settings.path("dashboard") / "auth_events.jsonl").read_text().splitlines()]
    assert events.count("failure") == limit and events.count("locked") == 1 and events.count("login") == 2


def test_auth_unknown_user_fails_like_a_wrong_password(settings):
    with pytest.raises(auth.LoginFailed, match="wrong user name or password"):
        auth.authenticate(settings, "khong-co", "bat-ky-mat-khau")


def test_auth_login_form_refuses_wrong_password_then_locks(dash_env, tmp_path, monkeypatch):
    from tests.dashboard.conftest import fill_data_dir

    data_dir = tmp_path / "data"
    fill_data_dir(data_dir)
    use_data_dir(monkeypatch, data_dir)
    monkeypatch.setenv("IOCWATCH_DASHBOARD__MAX_LOGIN_FAILURES", "2")
    at = login(new_app(), "security", "sai-mat-khau")
    assert [e.value for e in at.error] == ["Sai tên đăng nhập hoặc mật khẩu."]
    assert "auth_user" not in at.session_state and not at.metric
    at = login(new_app(), "security", "sai-nua")
    at = login(new_app(), "security")  # the right password, but locked (state survives sessions)
    assert at.error[0].value.startswith("Tài khoản tạm khoá")
    assert "auth_user" not in at.session_state


def test_auth_session_ends_when_the_user_is_removed(dash_env, tmp_path, monkeypatch):
    from core.settings import get_settings
    from tests.dashboard.conftest import fill_data_dir

    data_dir = tmp_path / "data"
    fill_data_dir(data_dir)
    use_data_dir(monkeypatch, data_dir)
    at = login(new_app(), "analyst")
    assert at.metric
    auth.remove_user(get_settings(), "analyst")
    at.run()
    assert not at.metric and not at.dataframe
    shown = [t.value for t in at.title] + [w.value for w in at.warning]
    assert shown in (["Đăng nhập hệ thống giám sát"], ["Vui lòng đăng nhập."])


def test_auth_demo_step_creates_one_user_per_role(settings):
    report: dict = {}
    auth.demo_step(settings, report)
    assert report["users"] == 4
    users = auth.load_users(settings)
    assert {u.role for u in users.values()} == set(auth.ROLES)
    for name, (_role, password, _display) in auth.DEMO_USERS.items():
        assert name in report["logins"] and password in report["logins"]


def test_users_cli_add_list_remove(settings, monkeypatch):
    from core.settings import get_settings
    from iocwatch.cli import cli

    monkeypatch.setenv("IOCWATCH_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    runner = CliRunner()
    out = runner.invoke(cli, ["users", "add", "hoa", "--role", "security"], input="mot-mat-khau-dai\n")
    assert out.exit_code == 0, out.output
    assert "user hoa saved with role security" in out.output
    out = runner.invoke(cli, ["users", "list", "--json"])
    assert json.loads(out.output) == [{"name": "hoa", "role": "security", "display_name": "", "email": None,
                                       "login": "password"}]
    assert auth.authenticate(get_settings(), "hoa", "mot-mat-khau-dai").role == "security"
    out = runner.invoke(cli, ["users", "remove", "hoa"])
    assert out.exit_code == 0 and auth.load_users(get_settings()) == {}
    get_settings.cache_clear()


def test_dashboard_command_serves_the_app_on_localhost():
    from iocwatch.commands.dashboard import app_path, streamlit_command

    cmd = streamlit_command(8765)
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4] == str(app_path())
    assert app_path().is_file()
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--server.port") + 1] == "8765"


def test_auth_oidc_without_authlib_keeps_the_password_form(dash_env, monkeypatch):
    import importlib.util

    from core.settings import get_settings

    if importlib.util.find_spec("authlib") is not None:
        pytest.skip("Authlib is installed here; this checks the message shown without it")
    monkeypatch.setenv("IOCWATCH_DASHBOARD__OIDC", "true")
    get_settings.cache_clear()
    at = new_app().run()
    assert not at.exception
    assert "Authlib" in at.warning[0].value
    at = login(at, "comms")
    assert at.session_state["auth_user"]["role"] == "comms"


def test_auth_oidc_identity_maps_to_a_listed_user_only(settings):
    auth.add_user(settings, "lan", "analyst", email="Lan.Nguyen@CanTho.gov.vn")
    assert auth.user_for_email(settings, "lan.nguyen@cantho.gov.vn").name == "lan"
    assert auth.user_for_email(settings, "ai.do@example.org") is None
    assert auth.user_for_email(settings, None) is None
    with pytest.raises(auth.LoginFailed):  # an OIDC-only user has no password to guess
        auth.authenticate(settings, "lan", "")
