"""The served dashboard over real HTTP: what answers without a session and what does not.

The server is ``iocwatch dashboard``'s command (``dashboard/server.py``, the ASGI launcher).
"""

from __future__ import annotations

import pytest

from dashboard import auth
from tests.dashboard.conftest import fill_data_dir
from tests.dashboard.hostile import http, plant, serve


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from core.settings import load_settings

    root = tmp_path_factory.mktemp("http")
    data_dir = root / "data"
    fill_data_dir(data_dir)
    plant(data_dir)
    with serve(data_dir, root) as url:
        yield url, load_settings(data_dir=data_dir)


def _cookie(settings, name: str = "analyst") -> str:
    _, token = auth.open_session(settings, auth.load_users(settings)[name])
    return f"{auth.COOKIE}={token}"


def test_security_http_metrics_are_not_served(site):
    url, settings = site
    assert http(f"{url}/_stcore/health")[0] == 200  # the server is up
    for path in ("/_stcore/metrics", "/_stcore/metrics?families=session_state_memory_bytes",
                 "/_stcore/metrics/"):
        status, body, _ = http(url + path)
        assert status == 404 and b"session" not in body, path
    assert http(f"{url}/_stcore/metrics", cookie=_cookie(settings))[0] == 404  # not even signed in


def test_security_http_media_needs_a_live_session(site):
    url, settings = site
    assert http(f"{url}/media/0123456789abcdef.csv")[0] == 403
    assert http(f"{url}/media/0123456789abcdef.csv", cookie=f"{auth.COOKIE}=forged.1.abc")[0] == 403
    cookie = _cookie(settings)
    assert http(f"{url}/media/0123456789abcdef.csv", cookie=cookie)[0] == 404  # past the guard: no such file
    auth.close_session(settings, auth.session_id(settings, cookie.split("=", 1)[1]))
    assert http(f"{url}/media/0123456789abcdef.csv", cookie=cookie)[0] == 403  # logged out: refused again


def test_security_http_exports_need_the_session_that_prepared_them(site):
    url, settings = site
    assert http(f"{url}{auth.ROUTE_EXPORT}made-up-id")[0] == 403
    assert http(f"{url}{auth.ROUTE_EXPORT}made-up-id", cookie=_cookie(settings))[0] == 404


def test_security_http_session_cookie_route_takes_only_a_live_one_time_code(site):
    url, _ = site
    status, _, headers = http(f"{url}{auth.ROUTE_SESSION}", method="POST", body=b'{"code": "made-up"}')
    assert status == 403 and headers["Set-Cookie"] is None
    status, _, headers = http(f"{url}{auth.ROUTE_SESSION}", method="DELETE")
    assert status == 204 and "Max-Age=0" in headers["Set-Cookie"] and "HttpOnly" in headers["Set-Cookie"]
