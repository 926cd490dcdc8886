"""Authentication analytics on crafted login events: slow and distributed brute force, spraying, stuffing, T1078."""

from __future__ import annotations

from security.records import AuthEvent, HttpRequest
from tests.security._analytics_helpers import T0, engine, run


def fail(ts, src, user, service="sshd", host="srv-ssh"):
    return AuthEvent(ts, host, service, "failure", user, src, 50000, f"Failed password for {user} from {src}")


def ok(ts, src, user, service="sshd", host="srv-ssh"):
    return AuthEvent(ts, host, service, "success", user, src, 50000, f"Accepted password for {user} from {src}")


def test_analytics_slow_brute_force_one_try_every_five_minutes():
    found = run(engine(), [fail(T0 + i * 300, "45.6.7.8", "root") for i in range(30)])
    assert [(f.rule, f.entity, f.technique) for f in found] == [("brute_force_slow", "45.6.7.8", "T1110.001")]
    assert found[0].observed["failed_logins"] == 30 and found[0].baselines["failed_logins"] == 0.0


def test_analytics_slow_spraying_many_accounts():
    users = [f"u{i}" for i in range(12)]
    found = run(engine(), [fail(T0 + i * 600, "45.6.7.9", u) for i, u in enumerate(users)])
    assert [(f.entity, f.technique) for f in found] == [("45.6.7.9", "T1110.003")]


def test_analytics_distributed_brute_force_on_one_account():
    recs = [fail(T0 + i * 400, f"91.0.{i}.1", "admin") for i in range(12)]
    found = run(engine(), recs)
    assert [(f.entity, f.technique, f.user_name) for f in found] == [("user:admin", "T1110.001", "admin")]
    assert found[0].observed["distinct_sources"] == 12


def test_analytics_admin_typos_raise_nothing():
    recs = []
    for day in range(3):
        for i in range(6):
            t = T0 + day * 86400 + i * 3600
            recs += [fail(t, "10.1.2.5", "quantri"), ok(t + 5, "10.1.2.5", "quantri")]
    assert run(engine(), recs) == []


def test_analytics_login_after_failures_is_raised_above_brute_force():
    recs = [fail(T0 + i * 120, "45.9.9.9", "deploy") for i in range(12)] + [ok(T0 + 1500, "45.9.9.9", "deploy")]
    found = run(engine(), recs)
    t1078 = [f for f in found if f.technique == "T1078"]
    assert len(t1078) == 1 and t1078[0].entity == "45.9.9.9" and t1078[0].risk >= 86
    assert t1078[0].user_name == "deploy" and t1078[0].observed["failed_same_user"] == 12


def _login(ts, src, status, user, outcome):
    return [HttpRequest(ts, src, "POST", "/dang-nhap", status, 300),
            AuthEvent(ts, "srv-web", "portal", outcome, user, src, None, "login")]


def test_analytics_credential_stuffing_but_not_a_shared_nat_address():
    stuffing = [r for i in range(40) for r in _login(T0 + i * 60, "185.1.1.1", 401, f"user{i}", "failure")]
    found = [f for f in run(engine(), stuffing) if f.rule == "credential_stuffing"]
    assert [(f.entity, f.technique) for f in found] == [("185.1.1.1", "T1110.004")]
    assert found[0].observed["distinct_users"] == 40
    nat = []  # a carrier NAT: 30 citizens, a third mistype once, all log in
    for i in range(30):
        t = T0 + i * 900
        if i % 3 == 0:
            nat += _login(t, "116.110.40.1", 401, f"cd{i}", "failure")
        nat += _login(t + 20, "116.110.40.1", 302, f"cd{i}", "success")
    assert run(engine(), nat) == []


def test_analytics_credential_stuffing_from_access_log_alone():
    recs = [HttpRequest(T0 + i * 10, "185.1.1.2", "POST", "/api/login", 403, 120) for i in range(35)]
    found = run(engine(), recs)
    assert [(f.rule, f.observed["distinct_users"]) for f in found] == [("credential_stuffing", 0)]
