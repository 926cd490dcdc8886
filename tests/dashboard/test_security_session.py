"""Browser sessions: signed, expiring, server-checked tokens; the secret; logout and idle time.
(The real browser's reload, new tab, bookmark and logout are in ``test_browser_session.py``.)"""

from __future__ import annotations

import multiprocessing
import time

import pytest

from dashboard import auth


@pytest.fixture
def lan(settings):
    return auth.add_user(settings, "lan", "analyst", "mat-khau-dai-1", rounds=4)


def test_security_session_token_is_signed_expiring_and_checked_on_the_server(settings, lan):
    now = time.time()
    sid, token = auth.open_session(settings, lan, now=now)
    found = auth.check_token(settings, token, now=now + 1)
    assert found is not None and found[0] == sid and found[1]["name"] == "lan"
    body, expires, sig = token.split(".")
    assert int(expires) == int(now + settings.dashboard.session_max_s)
    forged = [f"{body}.{int(expires) + 3600}.{sig}",  # a longer life, same signature
              f"{body}.{expires}.{'0' * len(sig)}",  # a made-up signature
              f"{body[:-1]}A.{expires}.{sig}",  # another id
              "", "a.b", "..", f"{body}.{expires}", f"ä.{expires}.{sig}"]
    for bad in forged:
        assert auth.check_token(settings, bad, now=now + 1) is None, bad
    assert auth.check_token(settings, token, now=now + settings.dashboard.session_max_s + 1) is None
    # a token signed with the right secret but no record on the server (e.g. after logout)
    auth.close_session(settings, sid)
    assert auth.session_id(settings, token, now=now + 1) == sid
    assert auth.check_token(settings, token, now=now + 1) is None


def test_security_session_idle_time_ends_it_and_use_keeps_it(settings, lan):
    idle = settings.dashboard.session_idle_s
    now = time.time()
    sid, token = auth.open_session(settings, lan, now=now)
    for step in range(1, 4):  # used every 0.9 × idle: still alive after 2.7 × idle
        assert auth.check_token(settings, token, now=now + step * 0.9 * idle) is not None
    assert auth.check_token(settings, token, now=now + 2.7 * idle + idle + 1) is None
    # an untouched check (the HTTP guard's) does not keep it alive
    sid, token = auth.open_session(settings, lan, now=now)
    assert auth.check_token(settings, token, now=now + 0.9 * idle, touch=False) is not None
    assert auth.check_token(settings, token, now=now + 1.1 * idle) is None


def test_security_session_store_keeps_hashes_not_ids_and_is_private(settings, lan):
    sid, token = auth.open_session(settings, lan)
    path = settings.path("dashboard") / "sessions.json"
    text = path.read_text()
    assert sid not in text and token not in text and auth._session_key(sid) in text
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    secret = settings.path("dashboard") / "session_secret"
    assert oct(secret.stat().st_mode & 0o777) == "0o600" and len(secret.read_text().strip()) == 64
    assert auth.revoke_user_sessions(settings, "lan") == 1
    assert auth.check_token(settings, token) is None


def _secret_in_child(data_dir: str, start, queue) -> None:
    from core.settings import load_settings

    start.wait()
    queue.put(auth._secret(load_settings(data_dir=data_dir)))


def test_security_session_secret_created_once_under_races(settings):
    """Eight processes that all find no secret create it at once: all end with the same one."""
    ctx = multiprocessing.get_context("fork")
    start, queue = ctx.Barrier(8), ctx.Queue()
    procs = [ctx.Process(target=_secret_in_child, args=(str(settings.data_dir), start, queue)) for _ in range(8)]
    for proc in procs:
        proc.start()
    secrets = {queue.get(timeout=60) for _ in procs}
    for proc in procs:
        proc.join(timeout=60)
    assert len(secrets) == 1 and secrets == {auth._secret(settings)}
    leftovers = [p.name for p in settings.path("dashboard").iterdir() if p.name.startswith(".session_secret")]
    assert leftovers == []


def test_security_session_handoff_codes_work_once(settings, lan):
    _, token = auth.open_session(settings, lan)
    code = auth._REGISTRY.handoff(token)
    assert auth.claim_handoff(code) == token
    assert auth.claim_handoff(code) is None and auth.claim_handoff("made-up") is None


def test_security_session_exports_belong_to_the_session_that_prepared_them():
    payload = b"id,title\n1,x\n"
    path = auth.offer_export("sid-a", "posts.csv", payload, "posts.csv", "text/csv")
    export_id = path.rsplit("/", 1)[-1]
    assert path.startswith(auth.ROUTE_EXPORT) and len(export_id) >= 32
    assert auth.export_for(export_id, "sid-a")["data"] is payload
    assert auth.export_for(export_id, "sid-b") is None
    assert auth.offer_export("sid-a", "posts.csv", payload, "posts.csv", "text/csv") == path  # stable
    newer = auth.offer_export("sid-a", "posts.csv", b"id\n2\n", "posts.csv", "text/csv")
    assert newer != path and auth.export_for(export_id, "sid-a") is None  # the slot's old file goes
    auth._REGISTRY.drop_session("sid-a")
    assert auth.export_for(newer.rsplit("/", 1)[-1], "sid-a") is None


def test_security_session_old_exports_are_dropped():
    kept = auth.offer_export("sid-c", "a.csv", b"1", "a.csv", "text/csv")
    later = auth.offer_export("sid-d", "b.csv", b"2", "b.csv", "text/csv", keep_s=0)  # drops every older one
    assert auth.export_for(kept.rsplit("/", 1)[-1], "sid-c") is None
    assert auth.export_for(later.rsplit("/", 1)[-1], "sid-d") is not None
