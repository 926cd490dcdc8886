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
Every login, failure and refusal is appended to ``<data_dir>/dashboard/auth_events.jsonl``
and logged.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import logging
import os
import re
import tempfile
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
}
PAGES = tuple(PAGE_ROLES)
SESSION_KEY = "auth_user"
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
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".users.", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


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
        users[name] = user
        _save_users(settings, users)
    log.info("dashboard user %s saved with role %s", name, role)
    return user


def remove_user(settings: Settings, name: str) -> None:
    name = name.strip().lower()
    with _locked(settings, "users"):
        users = load_users(settings)
        if name not in users:
            raise DashboardError(f"no user {name!r}", hint="list users with `iocwatch users list`")
        del users[name]
        _save_users(settings, users)
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
    path = _failures_path(settings)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".failures.", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)


def lock_remaining(settings: Settings, name: str, *, now: float | None = None) -> int:
    """Seconds until ``name`` may try again (0 = not locked)."""
    now = time.time() if now is None else now
    stamps = _read_failures(settings, now).get(name.strip().lower(), [])
    if len(stamps) < settings.dashboard.max_login_failures:
        return 0
    return max(1, int(sorted(stamps)[-settings.dashboard.max_login_failures]
                      + settings.dashboard.login_lock_s - now + 0.999))


def audit(settings: Settings, event: str, user: str, **extra: Any) -> None:
    """Append one authentication event to ``auth_events.jsonl``."""
    record = {"at": datetime.now(UTC).isoformat(), "event": event, "user": user, **extra}
    with open(_state_dir(settings) / "auth_events.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")


_DUMMY_HASH: str | None = None


def authenticate(settings: Settings, name: str, password: str, *, now: float | None = None) -> User:
    """Check a password login. Raises :class:`LoginLocked` or :class:`LoginFailed`."""
    global _DUMMY_HASH
    name = name.strip().lower()
    now = time.time() if now is None else now
    with _locked(settings, "failures"):
        remaining = lock_remaining(settings, name, now=now)
    if remaining:
        log.warning("login refused for %r: locked for another %d s", name, remaining)
        audit(settings, "locked", name, retry_in_s=remaining)
        raise LoginLocked(name, remaining)
    user = load_users(settings).get(name)
    if user is not None and user.password_hash:
        ok = check_password(password, user.password_hash)
    else:  # spend the same time on unknown users so timing does not reveal names
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password("not-a-real-password")
        check_password(password, _DUMMY_HASH)
        ok = False
    if not ok:
        with _locked(settings, "failures"):
            data = _read_failures(settings, now)
            data.setdefault(name, []).append(now)
            _write_failures(settings, data)
            count = len(data[name])
        log.warning("failed dashboard login for %r (%d within %d s)", name, count,
                    settings.dashboard.login_lock_s)
        audit(settings, "failure", name, failures=count)
        raise LoginFailed("wrong user name or password")
    with _locked(settings, "failures"):
        data = _read_failures(settings, now)
        if data.pop(name, None) is not None:
            _write_failures(settings, data)
    log.info("dashboard login: %s (%s)", name, user.role)
    audit(settings, "login", name, role=user.role, via="password")
    return user


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

def current_user(settings: Settings) -> dict[str, Any] | None:
    """The signed-in user of this session, re-checked against the users file on every run.

    A user removed from the file, or whose role changed, loses the old session at once.
    """
    import streamlit as st

    session = st.session_state.get(SESSION_KEY)
    if settings.dashboard.oidc and session is None:
        session = _oidc_session(settings)
    if session is None:
        return None
    user = load_users(settings).get(session["name"])
    if user is None or user.role != session["role"]:
        log.warning("session of %r dropped: user removed or role changed", session["name"])
        st.session_state.pop(SESSION_KEY, None)
        return None
    return session


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
    session = user.session("oidc")
    st.session_state[SESSION_KEY] = session
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
        st.session_state[SESSION_KEY] = user.session("password")
        st.session_state.pop("login_password", None)
        st.rerun()


def logout(settings: Settings) -> None:
    import streamlit as st

    session = st.session_state.pop(SESSION_KEY, None)
    if session:
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
