"""The login lock-out under parallel attempts, its settings, the users file, and the admin's
users page over the same store as ``iocwatch users``."""

from __future__ import annotations

import json
import multiprocessing
import threading
import time

import pytest

from core.errors import ConfigError, DashboardError
from dashboard import auth
from tests.dashboard.conftest import PASSWORDS, fill_data_dir, login, new_app, use_data_dir

RIGHT = "truyenthong-demo"


def _events(settings) -> list[dict]:
    path = settings.path("dashboard") / "auth_events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _attempt(settings, password: str, start: threading.Barrier | None = None) -> str:
    if start is not None:
        start.wait()
    try:
        auth.authenticate(settings, "comms", password)
    except auth.LoginLocked:
        return "locked"
    except auth.LoginFailed:
        return "failed"
    return "ok"


def _check_order(settings) -> None:
    """In the order checks happened (the audit log is written under the user's lock): no
    password was checked while ``max_login_failures`` failures were on file."""
    limit = settings.dashboard.max_login_failures
    run = 0
    for event in _events(settings):
        if event["user"] != "comms":
            continue
        if event["event"] == "failure":
            assert run < limit, "a wrong password was checked while locked"
            run += 1
        elif event["event"] == "login":
            assert run < limit, "the right password was accepted while locked"
            run = 0
        elif event["event"] == "locked":
            assert run >= limit, "refused as locked below the limit"


def test_security_login_20_parallel_wrong_attempts_check_at_most_the_limit(settings):
    auth.add_user(settings, "comms", "comms", RIGHT, rounds=4)
    limit = settings.dashboard.max_login_failures
    start = threading.Barrier(20)
    results: list[str] = []
    threads = [threading.Thread(target=lambda n=n: results.append(_attempt(settings, f"sai-{n}", start)))
               for n in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results.count("failed") == limit and results.count("locked") == 20 - limit
    events = [e["event"] for e in _events(settings)]
    assert events.count("failure") == limit  # exactly `limit` passwords were checked
    stored = json.loads((settings.path("dashboard") / "login_failures.json").read_text())
    assert len(stored["comms"]) == limit
    _check_order(settings)


def test_security_login_right_password_refused_once_parallel_failures_lock(settings):
    """19 wrong and 1 right attempt in parallel; the right one comes once the lock is on while
    the wrong ones are still running: it is refused, and only `limit` passwords were checked."""
    auth.add_user(settings, "comms", "comms", RIGHT, rounds=4)
    limit = settings.dashboard.max_login_failures
    start = threading.Barrier(20)
    results: list[str] = []

    def right() -> None:
        start.wait()
        while not auth.lock_remaining(settings, "comms"):
            time.sleep(0.001)
        results.append("right:" + _attempt(settings, RIGHT))

    threads = [threading.Thread(target=lambda n=n: results.append(_attempt(settings, f"sai-{n}", start)))
               for n in range(19)] + [threading.Thread(target=right)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert "right:locked" in results
    assert results.count("failed") == limit
    events = [e["event"] for e in _events(settings)]
    assert events.count("failure") == limit and "login" not in events
    _check_order(settings)


def _process_attempt(data_dir: str, password: str, start, results) -> None:
    from core.settings import load_settings

    start.wait()
    results.put(_attempt(load_settings(data_dir=data_dir), password))


def test_security_login_parallel_processes_never_check_while_locked(settings):
    """20 processes (19 wrong, 1 right, in a random order): whatever the order, no password is
    checked once `limit` failures are on file, and the right one passes only before that."""
    auth.add_user(settings, "comms", "comms", RIGHT, rounds=4)
    ctx = multiprocessing.get_context("fork")
    start, queue = ctx.Barrier(20), ctx.Queue()
    procs = [ctx.Process(target=_process_attempt, args=(str(settings.data_dir), pw, start, queue))
             for pw in [f"sai-{n}" for n in range(19)] + [RIGHT]]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    _check_order(settings)
    events = [e["event"] for e in _events(settings)]
    checked = events.count("failure") + events.count("login")
    assert checked == results.count("failed") + results.count("ok")
    assert results.count("ok") <= 1
    limit = settings.dashboard.max_login_failures
    if "ok" not in results:
        assert events.count("failure") == limit
    else:  # the right one came before the lock, which a success resets
        assert events.count("failure") <= 2 * limit


@pytest.mark.parametrize("key,value,reason", [("max_login_failures", 0, "greater than or equal to 1"),
                                              ("login_lock_s", -10, "greater than or equal to 0"),
                                              ("session_idle_s", 5, "greater than or equal to 60")])
def test_security_login_settings_refuse_values_that_turn_the_lock_off(tmp_path, key, value, reason):
    from core.settings import load_settings

    with pytest.raises(ConfigError, match=f"dashboard.{key}.*{reason}"):
        load_settings(data_dir=tmp_path, dashboard={key: value})
    assert load_settings(data_dir=tmp_path, dashboard={"max_login_failures": 1}).dashboard.max_login_failures == 1


def _add_past_the_file_size_limit(data_dir: str, queue) -> None:
    """In a child process whose files may not grow past 4 kB: adding a user with a long display
    name fails in the middle of writing the new users file (EFBIG, as on a full disk)."""
    import resource
    import signal

    from core.settings import load_settings

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write then fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    try:
        auth.add_user(load_settings(data_dir=data_dir), "hoa", "security", "mat-khau-dai-2",
                      display_name="Hoa " * 5000, rounds=4)
    except Exception as exc:  # noqa: BLE001 - the child reports what it met
        queue.put(f"{type(exc).__name__}: {exc}")
        return
    queue.put("written")


def test_security_login_users_file_written_atomically_and_private(settings):
    auth.add_user(settings, "lan", "analyst", "mat-khau-dai-1", rounds=4)
    path = auth.users_path(settings)
    before = path.read_bytes()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_add_past_the_file_size_limit, args=(str(settings.data_dir), queue))
    child.start()
    outcome = queue.get(timeout=60)
    child.join(timeout=60)
    assert outcome.startswith("StateWriteError") and "cannot write users.yaml: File too large" in outcome, outcome
    assert path.read_bytes() == before  # the old file is whole and still loads
    assert list(auth.load_users(settings)) == ["lan"]
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".users.yaml.")] == []
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_security_login_admin_operations_end_sessions_and_keep_an_admin(settings):
    auth.add_user(settings, "boss", "admin", "mat-khau-quan-tri", rounds=4)
    user = auth.add_user(settings, "lan", "analyst", "mat-khau-dai-1", rounds=4)
    sid, token = auth.open_session(settings, user)
    assert auth.check_token(settings, token) is not None
    auth.update_user(settings, "lan", role="security", rounds=4)
    assert auth.check_token(settings, token) is None  # a new role ends the old session
    sid, token = auth.open_session(settings, auth.load_users(settings)["lan"])
    auth.update_user(settings, "lan", password="mat-khau-moi-2", rounds=4)
    assert auth.check_token(settings, token) is None  # so does a new password
    assert auth.authenticate(settings, "lan", "mat-khau-moi-2").role == "security"
    with pytest.raises(DashboardError, match="last administrator"):
        auth.update_user(settings, "boss", role="analyst")
    for n in range(settings.dashboard.max_login_failures):
        with pytest.raises(auth.LoginFailed):
            auth.authenticate(settings, "lan", f"sai-{n}")
    assert auth.lock_remaining(settings, "lan") > 0
    assert auth.unlock(settings, "lan", by="boss") and auth.lock_remaining(settings, "lan") == 0
    assert auth.authenticate(settings, "lan", "mat-khau-moi-2").name == "lan"
    assert [e["by"] for e in _events(settings) if e["event"] == "unlock"] == ["boss"]


# ---------------------------------------------------------------- the users page

@pytest.fixture
def users_env(tmp_path, monkeypatch):
    from core.settings import get_settings

    data_dir = tmp_path / "data"
    fill_data_dir(data_dir)
    use_data_dir(monkeypatch, data_dir)
    yield get_settings()
    get_settings.cache_clear()


def _users_page(name: str = "admin"):
    at = login(new_app(), name)
    at.switch_page("pages/users.py").run()
    assert not at.exception, at.exception
    return at


def test_security_users_page_is_for_admins_only(users_env):
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.conftest import APP

    for role in ("comms", "security", "analyst"):
        at = login(new_app(), role)  # the router does not offer the page ...
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page("pages/users.py")
        page = AppTest.from_file(str(APP.parent / "pages" / "users.py"), default_timeout=60)
        page.session_state[auth.SESSION_KEY] = auth.load_users(users_env)[role].session("password")
        page.run()  # ... and the page itself refuses the role
        assert not page.exception and not page.dataframe
        assert page.error and "không được phép" in page.error[0].value


def test_security_users_page_adds_changes_resets_and_unlocks_like_the_cli(users_env):
    from click.testing import CliRunner

    from iocwatch.cli import cli

    at = _users_page()
    names = list(at.dataframe[0].value["Tên đăng nhập"])
    assert names == sorted(PASSWORDS)
    # add
    at.text_input(key="users_new_name").input("Hoa.Tran")
    at.text_input(key="users_new_display").input("Trần Hoa")
    at.selectbox(key="users_new_role").set_value("security")
    at.text_input(key="users_new_password").input("mat-khau-cua-hoa")
    next(b for b in at.button if b.label == "Thêm").click().run()
    assert not at.exception and at.success and "hoa.tran" in at.success[0].value
    out = CliRunner().invoke(cli, ["users", "list", "--json"])  # the CLI reads the same store
    assert {"name": "hoa.tran", "role": "security", "display_name": "Trần Hoa", "email": None,
            "login": "password"} in json.loads(out.output)
    # a duplicate name is refused, a short password too
    at.text_input(key="users_new_name").input("comms")
    at.text_input(key="users_new_password").input("mat-khau-dai-du")
    next(b for b in at.button if b.label == "Thêm").click().run()
    assert at.error and "comms" in at.error[0].value
    # change the role
    at.selectbox(key="users_pick").set_value("hoa.tran").run()
    at.selectbox(key="users_role_hoa.tran").set_value("analyst").run()
    at.button(key="users_role_go").click().run()
    assert auth.load_users(users_env)["hoa.tran"].role == "analyst"
    # reset the password
    at.selectbox(key="users_pick").set_value("hoa.tran").run()
    at.text_input(key="users_pw_hoa.tran").input("mat-khau-moi-cua-hoa").run()
    at.button(key="users_pw_go").click().run()
    assert auth.authenticate(users_env, "hoa.tran", "mat-khau-moi-cua-hoa").role == "analyst"
    # lock someone out, then unlock from the page
    for n in range(users_env.dashboard.max_login_failures):
        with pytest.raises(auth.LoginFailed):
            auth.authenticate(users_env, "analyst", f"sai-{n}")
    at = _users_page()
    row = at.dataframe[0].value.set_index("Tên đăng nhập").loc["analyst"]
    assert row["Lần đăng nhập sai"] == users_env.dashboard.max_login_failures and row["Tạm khoá"]
    at.selectbox(key="users_pick").set_value("analyst").run()
    at.button(key="users_unlock_go").click().run()
    assert auth.lock_remaining(users_env, "analyst") == 0
    events = [(e["event"], e.get("by")) for e in _events(users_env)]
    for event in ("user_added", "role_changed", "password_reset", "unlock"):
        assert (event, "admin") in events


def test_security_users_page_english_labels(users_env):
    at = login(new_app(), "admin")
    at.session_state["lang"] = "en"
    at.switch_page("pages/users.py").run()
    assert at.title[0].value == "User management"
    assert "Username" in at.dataframe[0].value.columns
