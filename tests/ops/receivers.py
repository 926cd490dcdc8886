"""Local receivers on 127.0.0.1 for the notification tests: an HTTP endpoint and an SMTP server."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HttpReceiver:
    """Records every POST (path and JSON body); answers the first ``fail_first`` with HTTP 503.

    ``reply`` is the JSON it answers with (the Telegram Bot API answers ``{"ok": true}``).
    """

    def __init__(self, fail_first: int = 0, reply: dict[str, Any] | None = None):
        self.requests: list[tuple[str, Any]] = []
        self.authorizations: list[str | None] = []  # the Authorization header of each request
        self.failures = 0
        self.fail_first = fail_first
        self.reply = reply or {"ok": True}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if receiver.failures < receiver.fail_first:
                    receiver.failures += 1
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.requests.append((self.path, json.loads(body or b"{}")))
                receiver.authorizations.append(self.headers.get("Authorization"))
                out = json.dumps(receiver.reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):  # keep test output quiet
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HttpReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpReceiver:
    """An aiosmtpd server on 127.0.0.1 that accepts one user/password and keeps the messages."""

    def __init__(self, user: str = "canhbao", password: str = "mat-khau-smtp-rat-bi-mat"):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.messages: list[Any] = []
        self.logins: list[str] = []
        receiver = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                from email import message_from_bytes, policy

                receiver.messages.append((envelope.rcpt_tos,
                                          message_from_bytes(envelope.content, policy=policy.default)))
                return "250 OK"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
                  and auth_data.password.decode() == password)
            if ok:
                receiver.logins.append(user)
            return AuthResult(success=ok, handled=False)

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port,
                                     authenticator=authenticator, auth_require_tls=False)

    def __enter__(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
