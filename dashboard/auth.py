"""Login and roles for the dashboard: users with bcrypt hashes in a YAML file, optional OIDC
through ``st.login``, a server-side guard on every page, and rate-limited, logged failures.

The users file (``dashboard.users_file``, default ``<data_dir>/users.yaml``)::

    users:
      comms:                      # the login name
        role: comms               # comms | security | analyst | admin
        display_name: Cán bộ truyền thông
        password_hash: $2b$12$... # bcrypt; never a plain password
      lan.nguyen@example.org:     # an OIDC user: no hash, matched by e-mail
        role: analyst
        email: lan.nguyen@example.org

Failed logins are counted per user in ``<data_dir>/dashboard/login_failures.json``; after
``max_login_failures`` within ``login_lock_s`` the user is locked until the window passes.
Attempts for one user are serialised by a lock held across the password check, and a failure
is written before the answer is given, so parallel attempts cannot check more passwords than
the limit allows. Every login, failure and refusal is appended to
``<data_dir>/dashboard/auth_events.jsonl`` and logged.

A password login also opens a *browser session* that survives reloads and new tabs: a random
session id recorded server-side in ``<data_dir>/dashboard/sessions.json`` (by its SHA-256,
with the user, when it was issued and last used) and handed to the browser as the cookie
``iocwatch_session`` = ``<id>.<expiry>.<HMAC-SHA256>``, signed with the secret in
``<data_dir>/dashboard/session_secret`` (created once, mode 0600). A token is accepted only
when its signature, its expiry (``dashboard.session_max_s``) and its server-side record hold
and it was used within ``dashboard.session_idle_s``; logging out, a password reset, a role
change or the user's removal deletes the record. The cookie is set and cleared by the routes
of :mod:`dashboard.server` (HttpOnly, SameSite=Strict), which also serve exports only to the
session that prepared them.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import importlib.util
import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from core.errors import ConfigError, DashboardError
from core.settings import Settings
from core.state import atomic_write_json, atomic_write_text
from core.yamlfile import read_yaml

log = logging.getLogger(__name__)

ROLES = ("comms", "security", "analyst", "admin")
# Which roles may open each page; the router shows only these and every page checks again.
PAGE_ROLES: dict[str, frozenset[str]] = {
    "overview": frozenset({"comms", "security", "analyst", "admin"}),
    "listening": frozenset({"comms", "analyst", "admin"}),
    "search": frozenset({"comms", "security", "analyst", "admin"}),
    "security": frozenset({"security", "admin"}),
    "sources": frozenset({"admin"}),
    "users": frozenset({"admin"}),
}
PAGES = tuple(PAGE_ROLES)
SESSION_KEY = "auth_user"
COOKIE = "iocwatch_session"  # the browser session's cookie (HttpOnly, SameSite=Strict)
ROUTE_SESSION = "/api/iocwatch/session"  # POST {"code"}: set the cookie; DELETE: clear it
ROUTE_EXPORT = "/api/iocwatch/export/"  # GET <id>: an export, to the session that prepared it
LOGIN_LOCK_STRIPES = 64  # login attempts serialise on one of this many lock files (by user name)
HANDOFF_S = 120  # a one-time code that carries a new session to the cookie route lives this long
EXPORTS_PER_SESSION = 4  # prepared exports kept in memory per session (the oldest goes first)
BCRYPT_ROUNDS = 12  # ~0.25 s per check here: slow enough against guessing, fast enough to log in
MIN_PASSWORD = 8
_NAME = re.compile(r"^[a-z0-9][a-z0-9._@+-]{1,63}$")

# Fixed demo accounts created by `make demo` (documented in docs/dashboard.md and the README).
DEMO_USERS: dict[str, tuple[str, str, str]] = {
    # name: (role, password, display name)
    "comms": ("comms", "truyenthong-demo", "Cán bộ truyền thông (demo)"),
    "security": ("security", "anninh-demo", "Cán bộ an ninh mạng (demo)"),
    "analyst": ("analyst", "phantich-demo", "Chuyên viên phân tích (demo)"),
    "admin": ("admin", "quantri-demo", "Quản trị viên (demo)"),
}


class LoginFailed(DashboardError):
    """Unknown user or wrong password (the message never says which)."""


class LoginLocked(DashboardError):
    """Too many failures for this user within the lock window."""

    def __init__(self, user: str, retry_in_s: int):
        self.retry_in_s = retry_in_s
        super().__init__(f"user {user!r} is locked after repeated failed logins",
                         hint=f"try again in {retry_in_s} s")


@dataclass(frozen=True)
class User:
    """A dashboard user as stored in the users file (the hash stays out of the session)."""

    name: str
    role: str
    display_name: str = ""
    email: str | None = None
    password_hash: str | None = None

    def session(self, via: str) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "display_name": self.display_name or self.name,
                "via": via}


# ---------------------------------------------------------------- users file

def users_path(settings: Settings) -> Path:
    named = settings.dashboard.users_file
    return Path(named) if named else settings.path("users.yaml")


def _state_dir(settings: Settings) -> Path:
    path = settings.path("dashboard")
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_users(settings: Settings) -> dict[str, User]:
    """Every user in the users file (empty when the file does not exist)."""
    path = users_path(settings)
    if not path.exists():
        return {}
    raw = read_yaml(path, what="users file is not valid YAML",
                    hint="fix the file or recreate users with `iocwatch users add`")
    entries = raw.get("users") if isinstance(raw, dict) else None
    if not isinstance(entries, dict):
        raise ConfigError("users file needs a top-level 'users:' mapping", where=str(path),
                          hint="see docs/dashboard.md for the format")
    users: dict[str, User] = {}
    for name, entry in entries.items():
        if not isinstance(entry, dict):
            raise ConfigError(f"user {name!r} must be a mapping", where=str(path))
        role = entry.get("role")
        if role not in ROLES:
            raise ConfigError(f"user {name!r} has role {role!r}", where=str(path),
                              hint=f"use one of {', '.join(ROLES)}")
        pw_hash = entry.get("password_hash")
        if pw_hash is not None and not str(pw_hash).startswith("$2"):
            raise ConfigError(f"user {name!r}: password_hash is not a bcrypt hash", where=str(path),
                              hint="never store plain passwords; set it with `iocwatch users add`")
        if "password" in entry:
            raise ConfigError(f"user {name!r} has a plain 'password' field", where=str(path),
                              hint="remove it and set the password with `iocwatch users add`")
        users[str(name).lower()] = User(name=str(name).lower(), role=role,
                                        display_name=str(entry.get("display_name") or ""),
                                        email=entry.get("email"),
                                        password_hash=str(pw_hash) if pw_hash else None)
    return users


def _save_users(settings: Settings, users: dict[str, User]) -> None:
    path = users_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    body: dict[str, Any] = {}
    for user in sorted(users.values(), key=lambda u: u.name):
        entry: dict[str, Any] = {"role": user.role}
        if user.display_name:
            entry["display_name"] = user.display_name
        if user.email:
            entry["email"] = user.email
        if user.password_hash:
            entry["password_hash"] = user.password_hash
        body[user.name] = entry
    text = ("# iocwatch dashboard users: bcrypt hashes only, managed with `iocwatch users`.\n"
            + yaml.safe_dump({"users": body}, allow_unicode=True, sort_keys=False))
    atomic_write_text(path, text, mode=0o600)


def hash_password(password: str, *, rounds: int = BCRYPT_ROUNDS) -> str:
    import bcrypt

    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def check_password(password: str, password_hash: str) -> bool:
    import bcrypt

    try:
        return bcrypt.checkpw(password.encode("utf-8"), password_hash.encode("ascii"))
    except ValueError:  # a malformed hash never matches
        log.warning("malformed bcrypt hash in the users file")
        return False


def add_user(settings: Settings, name: str, role: str, password: str | None = None, *,
             email: str | None = None, display_name: str = "", rounds: int = BCRYPT_ROUNDS) -> User:
    """Create or replace a user. Password users need ``password``; OIDC users need ``email``."""
    name = name.strip().lower()
    if not _NAME.match(name):
        raise DashboardError(f"invalid user name {name!r}",
                             hint="use 2-64 characters: lower-case letters, digits, . _ @ + -")
    if role not in ROLES:
        raise DashboardError(f"unknown role {role!r}", hint=f"use one of {', '.join(ROLES)}")
    if password is None and not email:
        raise DashboardError(f"user {name!r} needs a password or an OIDC e-mail",
                             hint="give a password, or --email for a single sign-on user")
    if password is not None and len(password) < MIN_PASSWORD:
        raise DashboardError(f"password too short ({len(password)} characters)",
                             hint=f"use at least {MIN_PASSWORD} characters")
    with _locked(settings, "users"):
        users = load_users(settings)
        user = User(name=name, role=role, display_name=display_name, email=email,
                    password_hash=hash_password(password, rounds=rounds) if password is not None else None)
        replaced = name in users
        users[name] = user
        _save_users(settings, users)
    if replaced:  # a new password or role: sessions opened with the old ones end
        revoke_user_sessions(settings, name)
    log.info("dashboard user %s saved with role %s", name, role)
    return user


def update_user(settings: Settings, name: str, *, role: str | None = None, password: str | None = None,
                display_name: str | None = None, rounds: int = BCRYPT_ROUNDS) -> User:
    """Change a user's role, password or display name (what is not given stays).

    A new role or password ends the user's open sessions.
    """
    name = name.strip().lower()
    if role is not None and role not in ROLES:
        raise DashboardError(f"unknown role {role!r}", hint=f"use one of {', '.join(ROLES)}")
    if password is not None and len(password) < MIN_PASSWORD:
        raise DashboardError(f"password too short ({len(password)} characters)",
                             hint=f"use at least {MIN_PASSWORD} characters")
    with _locked(settings, "users"):
        users = load_users(settings)
        old = users.get(name)
        if old is None:
            raise DashboardError(f"no user {name!r}", hint="list users with `iocwatch users list`")
        if old.role == "admin" and role not in (None, "admin") and \
                not any(u.role == "admin" for u in users.values() if u.name != name):
            raise DashboardError(f"{name!r} is the last administrator",
                                 hint="give another user the admin role first")
        user = User(name=name, role=role or old.role,
                    display_name=old.display_name if display_name is None else display_name,
                    email=old.email,
                    password_hash=hash_password(password, rounds=rounds) if password is not None
                    else old.password_hash)
        users[name] = user
        _save_users(settings, users)
    if user.role != old.role or password is not None:
        revoke_user_sessions(settings, name)
    log.info("dashboard user %s updated (role %s%s)", name, user.role, ", new password" if password else "")
    return user


def remove_user(settings: Settings, name: str) -> None:
    name = name.strip().lower()
    with _locked(settings, "users"):
        users = load_users(settings)
        if name not in users:
            raise DashboardError(f"no user {name!r}", hint="list users with `iocwatch users list`")
        del users[name]
        _save_users(settings, users)
    revoke_user_sessions(settings, name)
    log.info("dashboard user %s removed", name)


def list_users(settings: Settings) -> list[dict[str, Any]]:
    """Users without their hashes, for listings."""
    return [{"name": u.name, "role": u.role, "display_name": u.display_name, "email": u.email,
             "login": "password" if u.password_hash else "oidc"}
            for u in sorted(load_users(settings).values(), key=lambda u: u.name)]


# ---------------------------------------------------------------- rate limiting and audit

@contextmanager
def _locked(settings: Settings, what: str) -> Iterator[None]:
    with open(_state_dir(settings) / f".{what}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _failures_path(settings: Settings) -> Path:
    return _state_dir(settings) / "login_failures.json"


def _read_failures(settings: Settings, now: float) -> dict[str, list[float]]:
    path = _failures_path(settings)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        log.error("login failure file %s is corrupt; starting a new one", path)
        return {}
    window = settings.dashboard.login_lock_s
    return {user: [t for t in stamps if now - t < window] for user, stamps in data.items()
            if any(now - t < window for t in stamps)}


def _write_failures(settings: Settings, data: dict[str, list[float]]) -> None:
    atomic_write_json(_failures_path(settings), data, mode=0o600)


def lock_remaining(settings: Settings, name: str, *, now: float | None = None) -> int:
    """Seconds until ``name`` may try again (0 = not locked)."""
    now = time.time() if now is None else now
    stamps = _read_failures(settings, now).get(name.strip().lower(), [])
    limit = settings.dashboard.max_login_failures
    if len(stamps) < limit:
        return 0
    return max(1, int(sorted(stamps)[-limit] + settings.dashboard.login_lock_s - now + 0.999))


def failures(settings: Settings, *, now: float | None = None) -> dict[str, int]:
    """Failed logins per user within the lock window (for the users page)."""
    now = time.time() if now is None else now
    return {name: len(stamps) for name, stamps in _read_failures(settings, now).items()}


def unlock(settings: Settings, name: str, *, by: str) -> bool:
    """Forget ``name``'s failed logins (an administrator's decision); True when there were any."""
    name = name.strip().lower()
    with _locked(settings, "failures"):
        data = _read_failures(settings, time.time())
        had = data.pop(name, None) is not None
        if had:
            _write_failures(settings, data)
    log.info("dashboard user %s unlocked by %s", name, by)
    audit(settings, "unlock", name, by=by)
    return had


def audit(settings: Settings, event: str, user: str, **extra: Any) -> None:
    """Append one authentication event to ``auth_events.jsonl``."""
    record = {"at": datetime.now(UTC).isoformat(), "event": event, "user": user, **extra}
    with open(_state_dir(settings) / "auth_events.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")


_DUMMY_HASH: str | None = None


def _stripe(name: str) -> str:
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return f"login-{int.from_bytes(digest[:4], 'big') % LOGIN_LOCK_STRIPES:02d}"


def _password_matches(settings: Settings, name: str, password: str) -> User | None:
    """The user when ``password`` is theirs (bcrypt); unknown users cost the same time."""
    global _DUMMY_HASH
    user = load_users(settings).get(name)
    if user is not None and user.password_hash:
        return user if check_password(password, user.password_hash) else None
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("not-a-real-password")
    check_password(password, _DUMMY_HASH)
    return None


def authenticate(settings: Settings, name: str, password: str, *, now: float | None = None) -> User:
    """Check a password login. Raises :class:`LoginLocked` or :class:`LoginFailed`.

    The user's lock is held from the lock-out check to the recorded result, so attempts for
    one user (from threads or processes) are checked one at a time: once
    ``max_login_failures`` failures are on file, every further attempt, the right password
    included, is refused without a check until the window passes.
    """
    name = name.strip().lower()
    with _locked(settings, _stripe(name)):
        at = time.time() if now is None else now
        remaining = lock_remaining(settings, name, now=at)
        if remaining:
            log.warning("login refused for %r: locked for another %d s", name, remaining)
            audit(settings, "locked", name, retry_in_s=remaining)
            raise LoginLocked(name, remaining)
        user = _password_matches(settings, name, password)
        with _locked(settings, "failures"):
            data = _read_failures(settings, at)
            if user is None:  # recorded before the answer
                data.setdefault(name, []).append(at)
                _write_failures(settings, data)
                count = len(data[name])
            elif data.pop(name, None) is not None:
                _write_failures(settings, data)
        if user is None:
            log.warning("failed dashboard login for %r (%d within %d s)", name, count,
                        settings.dashboard.login_lock_s)
            audit(settings, "failure", name, failures=count)
            raise LoginFailed("wrong user name or password")
        log.info("dashboard login: %s (%s)", name, user.role)
        audit(settings, "login", name, role=user.role, via="password")
    return user


# ---------------------------------------------------------------- browser sessions

def _secret(settings: Settings) -> bytes:
    """The HMAC key of session tokens, created on first use (atomically, mode 0600)."""
    path = _state_dir(settings) / "session_secret"
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".session_secret.")  # mkstemp: mode 0600
        try:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32))
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)  # fails if another process created it meanwhile: theirs wins
            except FileExistsError:
                log.debug("session secret created by another process")
        finally:
            os.unlink(tmp)
        log.info("created the dashboard session secret %s", path)
    if path.stat().st_mode & 0o077:
        log.warning("session secret %s is readable by others; making it 0600", path)
        os.chmod(path, 0o600)
    return path.read_text(encoding="ascii").strip().encode("ascii")


def _sessions_path(settings: Settings) -> Path:
    return _state_dir(settings) / "sessions.json"


def _session_key(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _read_sessions(settings: Settings) -> dict[str, dict[str, Any]]:
    path = _sessions_path(settings)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        log.error("session file %s is corrupt; every browser must sign in again", path)
        return {}
    return data if isinstance(data, dict) else {}


def _live(settings: Settings, record: dict[str, Any], now: float) -> bool:
    d = settings.dashboard
    return now - record["issued"] < d.session_max_s and now - record["seen"] < d.session_idle_s


def _sign(settings: Settings, sid: str, expires: int) -> str:
    return hmac.new(_secret(settings), f"{sid}.{expires}".encode(), hashlib.sha256).hexdigest()


def open_session(settings: Settings, user: User, *, now: float | None = None) -> tuple[str, str]:
    """Record a new browser session for ``user``; returns ``(session id, cookie token)``."""
    now = time.time() if now is None else now
    sid = secrets.token_urlsafe(24)
    with _locked(settings, "sessions"):
        data = {k: v for k, v in _read_sessions(settings).items() if _live(settings, v, now)}
        data[_session_key(sid)] = {"name": user.name, "role": user.role, "issued": now, "seen": now}
        atomic_write_json(_sessions_path(settings), data, mode=0o600)
    expires = int(now + settings.dashboard.session_max_s)
    return sid, f"{sid}.{expires}.{_sign(settings, sid, expires)}"


def session_id(settings: Settings, token: str | None, *, now: float | None = None) -> str | None:
    """The session id a cookie token carries, when its signature and expiry hold (no store check)."""
    if not token or token.count(".") != 2:
        return None
    sid, expires, sig = token.split(".")
    if not expires.isdigit() or not hmac.compare_digest(sig.encode("utf-8"),
                                                        _sign(settings, sid, int(expires)).encode("ascii")):
        return None
    now = time.time() if now is None else now
    return sid if int(expires) > now else None


def check_session(settings: Settings, sid: str | None, *, now: float | None = None,
                  touch: bool = True) -> dict[str, Any] | None:
    """The server-side record of session ``sid`` (``name``, ``role``) while it is live, else None.

    ``touch`` records the use, which keeps the session from going idle (written at most
    every tenth of the idle time, so clicks do not rewrite the file each time).
    """
    if not sid:
        return None
    now = time.time() if now is None else now
    key = _session_key(sid)
    record = _read_sessions(settings).get(key)
    if record is None or not _live(settings, record, now):
        return None
    if touch and now - record["seen"] >= settings.dashboard.session_idle_s / 10:
        with _locked(settings, "sessions"):
            data = _read_sessions(settings)
            if key in data:
                data[key]["seen"] = now
                atomic_write_json(_sessions_path(settings), data, mode=0o600)
    return record


def check_token(settings: Settings, token: str | None, *, now: float | None = None,
                touch: bool = True) -> tuple[str, dict[str, Any]] | None:
    """``(session id, record)`` for a cookie token that is signed, unexpired and live on the server."""
    sid = session_id(settings, token, now=now)
    record = check_session(settings, sid, now=now, touch=touch)
    return (sid, record) if sid and record else None


def close_session(settings: Settings, sid: str | None) -> None:
    """Forget session ``sid`` (logout): its cookie is refused from now on."""
    if not sid:
        return
    with _locked(settings, "sessions"):
        data = _read_sessions(settings)
        if data.pop(_session_key(sid), None) is not None:
            atomic_write_json(_sessions_path(settings), data, mode=0o600)
    _REGISTRY.drop_session(sid)


def revoke_user_sessions(settings: Settings, name: str) -> int:
    """End every session of ``name`` (password reset, role change, removal); returns how many."""
    path = _sessions_path(settings)
    if not path.exists():
        return 0
    with _locked(settings, "sessions"):
        data = _read_sessions(settings)
        kept = {k: v for k, v in data.items() if v.get("name") != name}
        if len(kept) != len(data):
            atomic_write_json(path, kept, mode=0o600)
    if len(kept) != len(data):
        log.info("ended %d session(s) of %s", len(data) - len(kept), name)
    return len(data) - len(kept)


class _Registry:
    """What this server process holds for browser sessions between the app and the HTTP routes:
    one-time codes that carry a new session's token to the cookie route, and prepared exports
    bound to the session that asked for them. Shared by the app's script threads and the
    server's event loop, hence the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._codes: dict[str, tuple[str, float]] = {}
        self._exports: dict[str, dict[str, Any]] = {}

    def handoff(self, token: str) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            now = time.monotonic()
            self._codes = {c: v for c, v in self._codes.items() if v[1] > now}
            self._codes[code] = (token, now + HANDOFF_S)
        return code

    def claim(self, code: str) -> str | None:
        with self._lock:
            token, deadline = self._codes.pop(code, ("", 0.0))
        return token if token and deadline > time.monotonic() else None

    def add_export(self, sid: str, slot: str, data: bytes, file_name: str, mime: str, *,
                   keep_s: float = float("inf")) -> str:
        """Keep ``data`` for ``sid`` in ``slot`` (replacing what the slot held); the same bytes
        offered again keep their id, so a page that reruns keeps a stable link. Exports older
        than ``keep_s`` (of any session) are dropped."""
        with self._lock:
            now = time.monotonic()
            self._exports = {k: v for k, v in self._exports.items() if now - v["at"] < keep_s}
            for export_id, entry in list(self._exports.items()):
                if entry["sid"] == sid and entry["slot"] == slot:
                    if entry["data"] is data and entry["file_name"] == file_name:
                        return export_id
                    del self._exports[export_id]
            mine = [k for k, v in self._exports.items() if v["sid"] == sid]
            for old in mine[:max(0, len(mine) - EXPORTS_PER_SESSION + 1)]:
                del self._exports[old]
            export_id = secrets.token_urlsafe(24)
            self._exports[export_id] = {"sid": sid, "slot": slot, "data": data, "file_name": file_name,
                                        "mime": mime, "at": now}
        return export_id

    def export_for(self, export_id: str, sid: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._exports.get(export_id)
        return entry if entry is not None and hmac.compare_digest(entry["sid"].encode(), sid.encode()) else None

    def drop_session(self, sid: str) -> None:
        with self._lock:
            self._exports = {k: v for k, v in self._exports.items() if v["sid"] != sid}


_REGISTRY = _Registry()
_SERVED = False  # set by dashboard.server: the HTTP routes that go with the registry exist


def claim_handoff(code: str) -> str | None:
    """The cookie token a one-time code stands for (once; None when unknown or expired)."""
    return _REGISTRY.claim(code)


def offer_export(sid: str, slot: str, data: bytes, file_name: str, mime: str, *,
                 keep_s: float = float("inf")) -> str:
    """Keep a prepared export for session ``sid`` in ``slot`` (at most ``keep_s`` seconds);
    returns the path the browser downloads it from (served by :mod:`dashboard.server` to
    that session only)."""
    return ROUTE_EXPORT + _REGISTRY.add_export(sid, slot, data, file_name, mime, keep_s=keep_s)


def export_for(export_id: str, sid: str) -> dict[str, Any] | None:
    """The export ``export_id`` if session ``sid`` prepared it (``data``, ``file_name``, ``mime``)."""
    return _REGISTRY.export_for(export_id, sid)


def user_for_email(settings: Settings, email: str | None) -> User | None:
    """The users-file entry an OIDC identity maps to (by ``email``, or a name equal to it)."""
    if not email:
        return None
    email = email.strip().lower()
    for user in load_users(settings).values():
        if (user.email or "").strip().lower() == email or user.name == email:
            return user
    return None


# ---------------------------------------------------------------- Streamlit side

_SET_COOKIE = "auth_cookie_code"  # session_state: a one-time code to turn into the cookie
_CLEAR_COOKIE = "auth_cookie_clear"  # session_state: the browser's cookie should go
_STALE = "auth_cookie_stale"  # session_state: a cookie token already found dead
_FLASH = "auth_flash"  # session_state: a message key for the login page


def current_user(settings: Settings) -> dict[str, Any] | None:
    """The signed-in user of this session, re-checked on every run.

    A Streamlit session without a user takes one from a live ``iocwatch_session`` cookie (a
    reload, a new tab, a bookmarked address). A user removed from the file, whose role changed,
    who logged out elsewhere or whose session went idle or expired loses it at once.
    """
    import streamlit as st

    session = st.session_state.get(SESSION_KEY)
    if session is None:
        session = _cookie_session(settings)
    if settings.dashboard.oidc and session is None:
        session = _oidc_session(settings)
    if session is None:
        return None
    if session.get("sid") and check_session(settings, session["sid"]) is None:
        log.info("browser session of %s ended (logged out, idle or expired)", session["name"])
        audit(settings, "session_end", session["name"])
        _drop(expired=True)
        return None
    user = load_users(settings).get(session["name"])
    if user is None or user.role != session["role"]:
        log.warning("session of %r dropped: user removed or role changed", session["name"])
        close_session(settings, session.get("sid"))
        _drop(expired=False)
        return None
    return session


def _drop(*, expired: bool) -> None:
    import streamlit as st

    st.session_state.pop(SESSION_KEY, None)
    st.session_state[_CLEAR_COOKIE] = True
    if expired:
        st.session_state[_FLASH] = "login.expired"


def _cookie_token() -> str | None:
    import streamlit as st

    return st.context.cookies.get(COOKIE)


def _cookie_session(settings: Settings) -> dict[str, Any] | None:
    """Resume the session a live cookie names (None when there is none)."""
    import streamlit as st

    token = _cookie_token()
    if not token or st.session_state.get(_STALE) == token:
        return None
    found = check_token(settings, token)
    user = load_users(settings).get(found[1]["name"]) if found else None
    if found is None or user is None or user.role != found[1]["role"]:
        if found is not None:
            close_session(settings, found[0])
        st.session_state[_STALE] = token
        st.session_state[_CLEAR_COOKIE] = True
        return None
    session = {**user.session("cookie"), "sid": found[0]}
    st.session_state[SESSION_KEY] = session
    audit(settings, "resume", user.name, role=user.role)
    return session


def sync_cookie() -> None:
    """Carry a cookie change of this session to the browser: set it after a login, clear it
    after a logout or when it was found dead. Call once per run, before the page runs.

    The browser posts a one-time code to the server's cookie route, which answers with an
    HttpOnly cookie; the token itself never reaches the page's JavaScript.
    """
    import streamlit as st

    code = st.session_state.pop(_SET_COOKIE, None)
    clear = st.session_state.pop(_CLEAR_COOKIE, False)
    if not _SERVED:  # bare `streamlit run dashboard/app.py` (or a test): no cookie route
        return
    if code:
        call = {"method": "POST", "credentials": "same-origin", "headers": {"Content-Type": "application/json"},
                "body": json.dumps({"code": code})}
    elif clear:
        call = {"method": "DELETE", "credentials": "same-origin"}
    else:
        return
    script = (f"<script>fetch({json.dumps(ROUTE_SESSION)}, {json.dumps(call)})"
              ".catch((e) => console.error('iocwatch session cookie', e));</script>")
    st.sidebar.html(script, unsafe_allow_javascript=True)


def session_export(slot: str, data: bytes, file_name: str, mime: str) -> str | None:
    """The download path of an export bound to this browser session; None when this process
    does not serve the export route (not started through :mod:`dashboard.server`) or the
    session has no server-side record."""
    import streamlit as st

    from core.settings import get_settings

    session = st.session_state.get(SESSION_KEY) or {}
    sid = session.get("sid")
    if not sid or not _SERVED:
        return None
    return offer_export(sid, slot, data, file_name, mime, keep_s=get_settings().dashboard.session_max_s)


def mark_served() -> None:
    """Called by :mod:`dashboard.server`: this process serves the cookie and export routes."""
    global _SERVED
    _SERVED = True


def served() -> bool:
    """Whether this process serves the cookie and export routes (see :func:`mark_served`)."""
    return _SERVED


def _oidc_logged_in() -> bool:
    """Whether the browser carries a signed-in OIDC identity (False when auth is not configured)."""
    import streamlit as st

    return bool(st.user.get("is_logged_in", False))


def _oidc_session(settings: Settings) -> dict[str, Any] | None:
    import streamlit as st

    if not _oidc_logged_in():
        return None
    email = st.user.get("email")
    user = user_for_email(settings, email)
    if user is None:
        return None
    sid, token = open_session(settings, user)
    session = {**user.session("oidc"), "sid": sid}
    st.session_state[SESSION_KEY] = session
    st.session_state[_SET_COOKIE] = _REGISTRY.handoff(token)
    audit(settings, "login", user.name, role=user.role, via="oidc")
    return session


def require(page: str, settings: Settings) -> dict[str, Any]:
    """The guard at the top of every page: stop unless a user with a permitted role is signed in."""
    import streamlit as st

    from dashboard.i18n import t

    user = current_user(settings)
    if user is None:
        st.warning(t("login.required"))
        st.stop()
    if user["role"] not in PAGE_ROLES[page]:
        log.warning("user %s (%s) refused page %s", user["name"], user["role"], page)
        audit(settings, "forbidden", user["name"], role=user["role"], page=page)
        st.error(t("guard.forbidden", role=t(f"role.{user['role']}")))
        st.stop()
    return user


def login_page(settings: Settings) -> None:
    """The only page shown before login: the password form, and SSO when OIDC is configured."""
    import streamlit as st

    from dashboard.i18n import t

    st.title(t("login.heading"))
    flash = st.session_state.pop(_FLASH, None)
    if flash:
        st.info(t(flash))
    if settings.dashboard.oidc and importlib.util.find_spec("authlib") is None:
        log.error("dashboard.oidc is set but Authlib is not installed; single sign-on is off")
        st.warning(t("login.oidc_missing"))
    elif settings.dashboard.oidc:
        if _oidc_logged_in():
            email = st.user.get("email")
            if user_for_email(settings, email) is None:
                audit(settings, "forbidden", str(email), via="oidc")
                st.error(t("login.oidc_unknown", email=email))
                if st.button(t("sidebar.logout")):
                    st.logout()
        elif st.button(t("login.sso"), type="primary"):
            st.login()
    if not users_path(settings).exists():
        st.info(t("login.no_users"))
    with st.form("login", clear_on_submit=False):
        name = st.text_input(t("login.username"), key="login_name")
        password = st.text_input(t("login.password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("login.submit"), type="primary")
    if submitted:
        try:
            user = authenticate(settings, name, password)
        except LoginLocked as exc:
            st.error(t("login.locked", seconds=exc.retry_in_s))
            return
        except LoginFailed:
            st.error(t("login.failed"))
            return
        sid, token = open_session(settings, user)
        st.session_state[SESSION_KEY] = {**user.session("password"), "sid": sid}
        st.session_state[_SET_COOKIE] = _REGISTRY.handoff(token)
        st.session_state.pop("login_password", None)
        st.rerun()


def logout(settings: Settings) -> None:
    """End this browser session: its server record goes, so the cookie is refused everywhere."""
    import streamlit as st

    session = st.session_state.pop(SESSION_KEY, None)
    if session:
        close_session(settings, session.get("sid"))
        st.session_state[_CLEAR_COOKIE] = True
        audit(settings, "logout", session["name"])
        if session.get("via") == "oidc":
            st.logout()


# ---------------------------------------------------------------- demo

def demo_step(settings: Settings, report: dict[str, Any]) -> None:
    """Create one demo user per role with the fixed demo passwords (see docs/dashboard.md)."""
    for name, (role, password, display) in DEMO_USERS.items():
        add_user(settings, name, role, password, display_name=display)
    report["users"] = len(DEMO_USERS)
    report["file"] = str(users_path(settings))
    report["logins"] = ", ".join(f"{name}/{pw}" for name, (_, pw, _) in DEMO_USERS.items())
