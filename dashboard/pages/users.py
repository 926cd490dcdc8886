"""Người dùng / Users (admins): add users, change roles, reset passwords, unlock, over the same
users file as ``iocwatch users``."""

import pandas as pd
import streamlit as st

from core.errors import IocwatchError
from dashboard import auth, data, ui
from dashboard.i18n import t

settings = data.settings()
admin = auth.require("users", settings)

st.title(t("users.title"))
flash = st.session_state.pop("users_flash", None)
if flash:
    st.success(flash)


def done(message: str) -> None:
    st.session_state["users_flash"] = message
    st.rerun()


def failed(exc: IocwatchError) -> None:
    st.error(t("users.failed", error=ui.safe(exc)))


users = ui.load(auth.list_users, settings)
fails = auth.failures(settings)
st.dataframe(pd.DataFrame([{
    t("users.name"): u["name"], t("users.display_name"): u["display_name"] or "",
    t("users.role"): t(f"role.{u['role']}"), t("users.login"): t(f"users.login.{u['login']}"),
    t("users.failures"): fails.get(u["name"], 0),
    t("users.locked"): t("users.locked_for", seconds=auth.lock_remaining(settings, u["name"]))
    if auth.lock_remaining(settings, u["name"]) else "",
} for u in users]), hide_index=True, width="stretch")

st.subheader(t("users.add"))
with st.form("users_add", clear_on_submit=True):
    c1, c2, c3 = st.columns(3)
    name = c1.text_input(t("users.name"), key="users_new_name")
    display = c2.text_input(t("users.display_name"), key="users_new_display")
    role = c3.selectbox(t("users.role"), auth.ROLES, format_func=lambda r: t(f"role.{r}"), key="users_new_role")
    password = st.text_input(t("users.password"), type="password", key="users_new_password",
                             help=t("users.password_help", n=auth.MIN_PASSWORD))
    if st.form_submit_button(t("users.add_submit"), type="primary"):
        if name.strip().lower() in {u["name"] for u in users}:
            st.error(t("users.exists", name=ui.safe(name.strip().lower())))
        else:
            try:
                user = auth.add_user(settings, name, role, password, display_name=display.strip())
            except IocwatchError as exc:
                failed(exc)
            else:
                auth.audit(settings, "user_added", user.name, role=user.role, by=admin["name"])
                done(t("users.added", name=user.name, role=t(f"role.{user.role}")))

if users:
    st.subheader(t("users.edit"))
    names = [u["name"] for u in users]
    picked = st.selectbox(t("users.pick"), names, key="users_pick")
    current = next(u for u in users if u["name"] == picked)
    left, middle, right = st.columns(3)
    with left:
        new_role = st.selectbox(t("users.role"), auth.ROLES, index=auth.ROLES.index(current["role"]),
                                format_func=lambda r: t(f"role.{r}"), key=f"users_role_{picked}")
        if st.button(t("users.change_role"), disabled=new_role == current["role"], key="users_role_go"):
            try:
                auth.update_user(settings, picked, role=new_role)
            except IocwatchError as exc:
                failed(exc)
            else:
                auth.audit(settings, "role_changed", picked, role=new_role, by=admin["name"])
                done(t("users.role_changed", name=picked, role=t(f"role.{new_role}")))
    with middle:
        new_password = st.text_input(t("users.new_password"), type="password", key=f"users_pw_{picked}",
                                     help=t("users.password_help", n=auth.MIN_PASSWORD))
        if st.button(t("users.reset_password"), disabled=not new_password, key="users_pw_go"):
            try:
                auth.update_user(settings, picked, password=new_password)
            except IocwatchError as exc:
                failed(exc)
            else:
                auth.audit(settings, "password_reset", picked, by=admin["name"])
                done(t("users.password_reset", name=picked))
    with right:
        remaining = auth.lock_remaining(settings, picked)
        st.caption(t("users.locked_for", seconds=remaining) if remaining else t("users.not_locked"))
        if st.button(t("users.unlock"), disabled=not fails.get(picked), key="users_unlock_go"):
            auth.unlock(settings, picked, by=admin["name"])
            done(t("users.unlocked", name=picked))
