"""The dashboard as served: ``dashboard/app.py`` inside an ASGI app (``st.App``) whose HTTP guard
and routes keep what Streamlit alone would leave open.

Serve it with ``iocwatch dashboard`` (or ``streamlit run dashboard/server.py``):

- ``/_stcore/metrics`` answers 404 (it describes the server to anyone who asks);
- ``/media/...`` (files Streamlit serves by address) needs a live browser session;
- ``POST /api/iocwatch/session`` turns a one-time login code into the HttpOnly session cookie,
  ``DELETE`` clears it;
- ``GET /api/iocwatch/export/<id>`` serves a prepared export to the session that prepared it,
  and to no one else.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from streamlit.runtime.pages_manager import PagesManager

from core.settings import get_settings
from dashboard import auth

log = logging.getLogger(__name__)
BLOCKED = ("/_stcore/metrics",)  # never served (paths below the base URL)
SESSION_ONLY = ("/media/",)  # served only with a live session cookie


def _base() -> str:
    from streamlit import config

    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


def _cookie_of(headers: list[tuple[bytes, bytes]]) -> str | None:
    from http.cookies import CookieError, SimpleCookie

    for key, value in headers:
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except CookieError:
                log.warning("unreadable Cookie header refused")
                return None
            if auth.COOKIE in jar:
                return jar[auth.COOKIE].value
    return None


async def _live_session(token: str | None) -> tuple[str, dict[str, Any]] | None:
    if not token:
        return None
    return await run_in_threadpool(auth.check_token, get_settings(), token, touch=False)


class Guard:
    """ASGI middleware in front of Streamlit: refuses :data:`BLOCKED` paths and serves
    :data:`SESSION_ONLY` paths only to a live browser session."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope.get("path", "")
            base = _base()
            inner = path[len(base):] if base and path.startswith(base) else path
            if any(inner == p or inner.startswith(p + "/") for p in BLOCKED):
                await PlainTextResponse("Not found", status_code=404)(scope, receive, send)
                return
            if any(inner.startswith(p) for p in SESSION_ONLY) and \
                    await _live_session(_cookie_of(scope.get("headers", []))) is None:
                log.warning("refused %s without a live session", path)
                await PlainTextResponse("Sign in first", status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _cookie_header(request: Request, value: str, max_age: int) -> str:
    secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    return (f"{auth.COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict"
            + ("; Secure" if secure else ""))


async def session_cookie(request: Request) -> Response:
    """POST ``{"code": ...}``: set the cookie of the session the code stands for; DELETE: clear it."""
    if request.method == "DELETE":
        response = Response(status_code=204)
        response.headers["Set-Cookie"] = _cookie_header(request, "", 0)
        return response
    try:
        code = json.loads(await request.body()).get("code")
    except (json.JSONDecodeError, AttributeError, UnicodeDecodeError):
        code = None
    token = auth.claim_handoff(code) if isinstance(code, str) else None
    if token is None:
        log.warning("session cookie refused: unknown or used login code")
        return PlainTextResponse("Unknown code", status_code=403)
    response = Response(status_code=204)
    response.headers["Set-Cookie"] = _cookie_header(request, token, get_settings().dashboard.session_max_s)
    response.headers["Cache-Control"] = "no-store"
    return response


async def export_download(request: Request) -> Response:
    """GET an export: only the browser session that prepared it gets it (others: 403 or 404)."""
    found = await _live_session(request.cookies.get(auth.COOKIE))
    if found is None:
        return PlainTextResponse("Sign in first", status_code=403)
    entry = auth.export_for(request.path_params["export_id"], found[0])
    if entry is None:
        log.warning("export %s refused to a session that did not prepare it", request.path_params["export_id"])
        return PlainTextResponse("Not found", status_code=404)
    from urllib.parse import quote

    return Response(entry["data"], media_type=entry["mime"], headers={
        "Content-Disposition": f"attachment; filename*=utf-8''{quote(entry['file_name'], safe='')}",
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


auth.mark_served()
# app.py routes with st.navigation. Until a first run has called it, Streamlit treats the
# "pages" folder beside app.py as an old-style multipage app, and a fresh server's first visitor
# asking for /security would get pages/security.py run on its own, outside the router.
PagesManager.uses_pages_directory = False
app = st.App(
    Path(__file__).with_name("app.py"),
    middleware=[Middleware(Guard)],
    routes=[Route(auth.ROUTE_SESSION, session_cookie, methods=["POST", "DELETE"]),
            Route(auth.ROUTE_EXPORT + "{export_id}", export_download, methods=["GET"])],
)
