"""Operators correct labels: the one-click correction widget, the review queue "Cần xem lại" and
the administrators' retrain button.

Corrections are written with :func:`index.corrections.correct_post` (``Store.update``), so
every chart and count uses the corrected label as soon as the caches are cleared, which
happens right after each correction. A correction made by mistake is undone ("Hoàn tác") with
:func:`index.corrections.withdraw_correction`: the label goes back to the model's, at once
and for good (re-crawls do not bring it back). Security officers see the labels but cannot
correct or undo.
The retrain button runs ``iocwatch nlp retrain`` in a child process: the dashboard never
imports the NLP package.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Any

import streamlit as st

from core.documents import SENTIMENTS, TOXICITIES, Post
from core.errors import IocwatchError
from core.settings import Settings
from dashboard import auth, data, ui
from dashboard.i18n import TEXTS, t
from index.corrections import CORRECTION_ROLES, correct_post, review_queue, withdraw_correction

log = logging.getLogger(__name__)

RETRAIN_TIMEOUT_S = 1800  # the retrain button gives up on a child process after this long
TASKS = ("topic", "sentiment", "toxicity")

TEXTS.update({
    "corr.task.topic": {"vi": "Chủ đề", "en": "Topic"},
    "corr.task.sentiment": {"vi": "Cảm xúc", "en": "Sentiment"},
    "corr.task.toxicity": {"vi": "Mức độc hại", "en": "Toxicity"},
    "corr.corrected": {"vi": "✎ đã sửa", "en": "✎ corrected"},
    "corr.by": {"vi": "{task}: {before} → {label}, do {by} sửa lúc {at}",
                "en": "{task}: {before} → {label}, corrected by {by} at {at}"},
    "corr.model": {"vi": "mô hình: {label} ({confidence})", "en": "model: {label} ({confidence})"},
    "corr.fix": {"vi": "Sửa nhãn (một lần bấm):", "en": "Correct a label (one click):"},
    "corr.read_only": {"vi": "Vai trò {role} chỉ xem nhãn, không sửa được.",
                       "en": "The {role} role can see labels but not correct them."},
    "corr.done": {"vi": "Đã sửa {task} thành «{label}».", "en": "{task} corrected to “{label}”."},
    "corr.failed": {"vi": "Không sửa được: {error}", "en": "Correction failed: {error}"},
    "corr.pick": {"vi": "Sửa nhãn một bài trong các bảng trên", "en": "Correct a post from the tables above"},
    "corr.queue": {"vi": "Cần xem lại", "en": "To review"},
    "corr.queue_help": {
        "vi": "Các bài mô hình ít chắc chắn nhất, hoặc từ khóa chủ đề và mô hình không khớp; "
              "sửa vài bài ở đây giúp mô hình học nhiều nhất.",
        "en": "Posts the models are least sure of, or where topic keywords and the classifier "
              "disagree; a few corrections here teach the models most."},
    "corr.queue_empty": {"vi": "Không còn bài nào cần xem lại.", "en": "Nothing left to review."},
    "corr.reason.unsure": {"vi": "mô hình chưa chắc về {task}", "en": "model unsure about {task}"},
    "corr.reason.audit": {"vi": "mẫu kiểm tra: chọn ngẫu nhiên để đo mô hình cho công bằng",
                          "en": "audit sample: picked at random to measure the models fairly"},
    "corr.reason.rules_disagree": {"vi": "từ khóa và mô hình khác chủ đề",
                                   "en": "keywords and classifier disagree on the topic"},
    "corr.retrain": {"vi": "Huấn luyện lại mô hình", "en": "Retrain a model"},
    "corr.retrain_task": {"vi": "Mô hình", "en": "Model"},
    "corr.retrain_go": {"vi": "Huấn luyện lại", "en": "Retrain"},
    "corr.retrain_running": {"vi": "Đang huấn luyện lại…", "en": "Retraining…"},
    "corr.retrain_done": {
        "vi": "{candidate}: {verdict}. Trên phần giữ lại: mô hình đang dùng {current:.3f}, mô hình mới {new:.3f}.",
        "en": "{candidate}: {verdict}. Held-back part: model in use {current:.3f}, new model {new:.3f}."},
    "corr.promoted": {"vi": "đã đưa vào sử dụng", "en": "now in use"},
    "corr.not_promoted": {"vi": "không tốt hơn nên chưa dùng", "en": "not better, kept aside"},
    "corr.retrain_failed": {"vi": "Không huấn luyện lại được: {error}", "en": "Retraining failed: {error}"},
    "corr.undo_intro": {"vi": "Sửa nhầm? Hoàn tác để trả nhãn về nhãn của mô hình:",
                        "en": "Corrected by mistake? Undo to give the label back to the model:"},
    "corr.undo": {"vi": "↶ Hoàn tác {task} (về «{label}»)", "en": "↶ Undo {task} (back to “{label}”)"},
    "corr.undo_help": {
        "vi": "Rút lại mọi lần sửa {task} của bài này; nhãn trở về «{label}» của mô hình, mọi biểu đồ "
              "và số đếm đổi ngay, và lần thu thập lại sau không đưa nhãn đã sửa trở lại.",
        "en": "Withdraws every {task} correction of this post; the label goes back to the model's "
              "“{label}”, every chart and count changes at once, and later crawls do not bring the "
              "correction back."},
    "corr.undone": {"vi": "Đã hoàn tác {task}: nhãn trở về «{label}».",
                    "en": "{task} correction undone: the label is back to “{label}”."},
    "corr.undo_failed": {"vi": "Không hoàn tác được: {error}", "en": "Undo failed: {error}"},
})


def can_correct(user: dict[str, Any] | None) -> bool:
    """Whether this user's role may correct labels (comms, analyst, admin)."""
    return bool(user) and user.get("role") in CORRECTION_ROLES


def plain(text: Any) -> str:
    """Stored text shown as literal markdown (no links, emphasis or HTML from the post): the
    dashboard's one helper for collected text, :func:`dashboard.ui.safe`."""
    return ui.safe(text or "")


def _label_text(task: str, label: str | None) -> str:
    if not label:
        return "–"
    if task == "topic":
        return ui.topic_label(label)
    return t(f"{task}.{label}")


def _apply(post_id: str, task: str, label: str | None, user: dict[str, Any]) -> None:
    """Write one correction (a button's or select box's callback)."""
    if not label:
        return
    settings = data.settings()
    try:
        correct_post(data.store(), post_id, task, label, by=user["name"], role=user["role"])
    except IocwatchError as exc:
        log.warning("correction of %s by %s refused: %s", post_id, user.get("name"), exc)
        st.session_state["corr_message"] = ("error", t("corr.failed", error=ui.safe(exc)))
        return
    auth.audit(settings, "correct", user["name"], post=post_id, task=task, label=label)
    data.clear_caches()
    st.session_state["corr_message"] = ("success", t("corr.done", task=t(f"corr.task.{task}"),
                                                       label=_label_text(task, label)))


def _withdraw(post_id: str, task: str, user: dict[str, Any], picker_key: str) -> None:
    """Withdraw the post's corrections of ``task`` (an undo button's callback); the topic picker
    (``picker_key``) forgets the corrected topic it holds, so it shows the model's again."""
    settings = data.settings()
    try:
        post = withdraw_correction(data.store(), post_id, task, by=user["name"], role=user["role"])
    except IocwatchError as exc:
        log.warning("withdrawal of %s %s by %s refused: %s", post_id, task, user.get("name"), exc)
        st.session_state["corr_message"] = ("error", t("corr.undo_failed", error=ui.safe(exc)))
        return
    auth.audit(settings, "withdraw_correction", user["name"], post=post_id, task=task)
    data.clear_caches()
    st.session_state.pop(picker_key, None)
    label = post.label_of(task) if post is not None else None
    st.session_state["corr_message"] = ("success", t("corr.undone", task=t(f"corr.task.{task}"),
                                                       label=_label_text(task, label)))


def undo_buttons(post: Post, user: dict[str, Any], *, key: str) -> None:
    """For roles that may correct: one "Hoàn tác" button per corrected task, naming the label it
    gives back (the model's)."""
    human = post.human_labels()
    if not human or not can_correct(user):
        return
    st.caption(t("corr.undo_intro"))
    tasks = [task for task in TASKS if task in human]
    for col, task in zip(st.columns(len(tasks)), tasks, strict=True):
        back = _label_text(task, post.label_without_corrections(task))
        name = t(f"corr.task.{task}")
        col.button(t("corr.undo", task=name, label=back), key=f"{key}_{post.id}_{task}_undo",
                   help=t("corr.undo_help", task=name.lower(), label=back),
                   on_click=_withdraw, args=(post.id, task, user, f"{key}_{post.id}_topic"))


def show_message() -> None:
    """Show (once) what the last correction did."""
    message = st.session_state.pop("corr_message", None)
    if message:
        getattr(st, message[0])(message[1])


def labels_caption(post: Post, tz: str) -> str:
    """One line of the post's labels, corrected ones marked, then who corrected what."""
    human = post.human_labels()
    parts = []
    for task in TASKS:
        text = f"{t(f'corr.task.{task}')}: **{_label_text(task, post.label_of(task))}**"
        if task in human:
            text += f" {t('corr.corrected')}"
        elif post.label_confidence.get(task) is not None:
            text += f" ({post.label_confidence[task]:.0%})"
        parts.append(text)
    lines = [" · ".join(parts)]
    for c in post.corrections:
        lines.append(t("corr.by", task=t(f"corr.task.{c.task}"), before=plain(_label_text(c.task, c.before)),
                       label=plain(_label_text(c.task, c.label)), by=plain(c.by), at=ui.local(c.at, tz)))
    return "  \n".join(lines)


def widget(doc: dict[str, Any], user: dict[str, Any], *, key: str) -> None:
    """A post's labels (corrected ones marked) and, for roles that may, one-click corrections:
    a "Hoàn tác" button per corrected task, a button per sentiment and toxicity label, a topic
    picker that applies on choice."""
    post = Post.from_doc(doc)
    tz = data.settings().dashboard.timezone
    st.markdown(labels_caption(post, tz))
    if not can_correct(user):
        st.caption(t("corr.read_only", role=t(f"role.{user['role']}")))
        return
    undo_buttons(post, user, key=key)
    st.caption(t("corr.fix"))
    cols = st.columns([3, 3, 3])
    for col, task, options in ((cols[0], "sentiment", SENTIMENTS), (cols[1], "toxicity", TOXICITIES)):
        current = post.label_of(task)
        buttons = col.columns(len(options))
        for button, label in zip(buttons, options, strict=True):
            button.button(_label_text(task, label), key=f"{key}_{post.id}_{task}_{label}",
                          type="primary" if label == current else "secondary",
                          disabled=label == current and task in post.human_labels(),
                          on_click=_apply, args=(post.id, task, label, user))
    topics = list(data.topic_names()) or ([post.label_of("topic")] if post.label_of("topic") else [])
    current = post.label_of("topic")
    topic_key = f"{key}_{post.id}_topic"
    cols[2].selectbox(t("corr.task.topic"), topics, index=topics.index(current) if current in topics else None,
                      format_func=ui.topic_label, key=topic_key, label_visibility="collapsed",
                      placeholder=t("common.choose"),
                      on_change=lambda: _apply(post.id, "topic", st.session_state.get(topic_key), user))


@data.cached
def review_rows(range_key: str, topics: tuple[str, ...] = (), sources: tuple[str, ...] = (),
                platforms: tuple[str, ...] = (), watchlists: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The review queue for the page's filters (cached; cleared by every correction)."""
    learn = data.settings().learn
    query = data.posts_query(range_key, topics=topics, sources=sources, platforms=platforms,
                             watchlists=watchlists)
    return review_queue(data.store(), query, limit=learn.review_size, candidates=learn.review_candidates,
                        disagree_bonus=learn.review_disagree_bonus, audit_share=learn.holdout)


def _reasons(row: dict[str, Any]) -> str:
    out = []
    for reason in row["reasons"]:
        if reason.startswith("unsure:"):
            out.append(t("corr.reason.unsure", task=t(f"corr.task.{reason.split(':', 1)[1]}").lower()))
        else:
            out.append(t(f"corr.reason.{reason}"))
    return "; ".join(out)


def review_section(user: dict[str, Any], range_key: str, **filters: tuple[str, ...]) -> None:
    """The "Cần xem lại" queue: each post with its labels, why it is asked, and the widget."""
    tz = data.settings().dashboard.timezone
    st.subheader(t("corr.queue"))
    st.caption(t("corr.queue_help"))
    rows = ui.load(review_rows, range_key, *(tuple(filters.get(k, ())) for k in
                                             ("topics", "sources", "platforms", "watchlists")))
    if not rows:
        st.info(t("corr.queue_empty"))
    for i, row in enumerate(rows):
        doc = row["post"]
        with st.container(border=True):
            title = doc.get("title") or (doc.get("text") or "")[:120]
            st.markdown(f"**{plain(title)}**")
            st.caption(" · ".join(plain(x) for x in (ui.local(doc.get("published_at"), tz), doc.get("source"),
                                                     _reasons(row)) if x))
            if doc.get("title") and doc.get("text"):
                st.caption(plain((doc["text"] or "")[:400]))
            widget(doc, user, key=f"rq{i}")


def pick_and_correct(user: dict[str, Any], rows: list[dict[str, Any]], *, key: str) -> None:
    """A picker over posts already listed on the page, then the widget for the one picked."""
    ids = list(dict.fromkeys(r["id"] for r in rows if r.get("id")))
    if not ids:
        return
    titles = {r["id"]: (r.get("title") or r.get("text") or r["id"])[:120] for r in rows if r.get("id")}
    st.subheader(t("corr.pick"))
    picked = st.selectbox(t("corr.pick"), ids, format_func=titles.get, key=key, index=None,
                          placeholder=t("common.choose"), label_visibility="collapsed")
    if picked:
        doc = ui.load(data.get_post, picked)
        if doc:
            widget(doc, user, key=f"{key}_w")


def retrain_command(task: str) -> list[str]:
    """The child process the retrain button runs."""
    return [sys.executable, "-m", "iocwatch", "-q", "nlp", "retrain", "--task", task, "--json"]


def run_retrain(settings: Settings, task: str, user: dict[str, Any]) -> tuple[bool, str]:
    """Run ``iocwatch nlp retrain`` for ``task``; ``(ok, message to show)``."""
    import os

    env = dict(os.environ, IOCWATCH_DATA_DIR=str(settings.data_dir))
    auth.audit(settings, "retrain", user["name"], task=task)
    try:
        proc = subprocess.run(retrain_command(task), capture_output=True, text=True, env=env,
                              timeout=RETRAIN_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.error("retrain %s failed to run: %s", task, exc)
        return False, t("corr.retrain_failed", error=exc)
    if proc.returncode != 0:
        error = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        log.warning("retrain %s refused: %s", task, error)
        return False, t("corr.retrain_failed", error=ui.safe(error.removeprefix("error: ")))
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    held = report["evaluations"].get("heldout") or next(iter(report["evaluations"].values()))
    data.clear_caches()
    return True, t("corr.retrain_done", candidate=report["candidate"],
                   verdict=t("corr.promoted" if report["promoted"] else "corr.not_promoted"),
                   current=held["current"]["macro_f1"], new=held["candidate"]["macro_f1"])


def retrain_section(user: dict[str, Any]) -> None:
    """Administrators only: pick a task and retrain it on the corrections."""
    if user.get("role") != "admin":
        return
    settings = data.settings()
    st.subheader(t("corr.retrain"))
    c1, c2 = st.columns([2, 1])
    task = c1.selectbox(t("corr.retrain_task"), TASKS, format_func=lambda k: t(f"corr.task.{k}"),
                        key="corr_retrain_task")
    if c2.button(t("corr.retrain_go"), key="corr_retrain_go"):
        with st.spinner(t("corr.retrain_running")):
            ok, message = run_retrain(settings, task, user)
        (st.success if ok else st.error)(message)
