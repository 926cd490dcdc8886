"""Dashboard entry point: login gate, language switch and the role's pages (routing only).

Run with ``iocwatch dashboard`` or ``streamlit run dashboard/app.py``.
"""

from __future__ import annotations

import logging
import sys

import streamlit as st

from dashboard import auth, data, ui
from dashboard.i18n import LANGUAGES, t


def _configure_logging(level: str) -> None:
    root = logging.getLogger()
    if not any(getattr(h, "_iocwatch", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
        handler._iocwatch = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    logging.getLogger("dashboard").setLevel(level.upper())


def _login() -> None:
    auth.login_page(data.settings())


@st.cache_resource(show_spinner=False)
def _warn_unguarded() -> None:
    logging.getLogger("dashboard.app").warning(
        "dashboard started without dashboard/server.py: sessions do not survive a reload, downloads are off "
        "and /_stcore/metrics is served; start it with `iocwatch dashboard`")


settings = data.settings()
_configure_logging(settings.log_level)
st.set_page_config(page_title="iocwatch", page_icon=":material/satellite_alt:", layout="wide")

if "lang" not in st.session_state:
    st.session_state["lang"] = settings.dashboard.language
st.sidebar.radio(t("lang.label"), list(LANGUAGES), format_func=LANGUAGES.get, key="lang", horizontal=True)

if not auth.served():
    _warn_unguarded()
user = auth.current_user(settings)
if user is None:
    # Whatever page the address asks for, an anonymous session gets the login form only. Every
    # page's address leads to the form, so a bookmarked page stays in the address bar and opens
    # after login (a page is known by its address).
    st.navigation([st.Page(_login, title=t("nav.login"), icon=":material/login:", default=True)]
                  + [st.Page(_login, title=t("nav.login"), url_path=key) for key in auth.PAGES], position="hidden")
    auth.sync_cookie()
    _login()
    st.stop()

icons = {"overview": ":material/dashboard:", "listening": ":material/hearing:", "search": ":material/search:",
         "security": ":material/security:", "sources": ":material/rss_feed:", "users": ":material/manage_accounts:"}
pages = {key: st.Page(f"pages/{key}.py", title=t(f"nav.{key}"), icon=icons[key], url_path=key,
                      default=key == "overview")
         for key in auth.PAGES if user["role"] in auth.PAGE_ROLES[key]}
st.sidebar.markdown(t("sidebar.user", name=ui.safe(user["display_name"]), role=t(f"role.{user['role']}")))
if st.sidebar.button(t("sidebar.refresh")):
    data.clear_caches()
if st.sidebar.button(t("sidebar.logout")):
    auth.logout(settings)
    st.rerun()

page = st.navigation(list(pages.values()))
auth.sync_cookie()
page.run()
