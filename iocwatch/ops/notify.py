"""Notifications for spikes and security alerts: JSON webhook, Telegram bot and SMTP e-mail sinks.

Detections are data; delivery is a separate sink. A :class:`Notifier` holds the sinks
configured in ``settings.notify`` and sends each :class:`Notification` to all of them,
retrying each sink with exponential back-off (``backoff_s``, doubling, ``retries``
times). Secrets (the bot token, the SMTP password, credentials in a webhook URL) never
appear in log records or error messages: every text that leaves a sink goes through
:func:`redact`.

Which alerts are sent (:meth:`Notifier.notify_alerts`): security alerts at or above
``notify.min_severity`` and listening alerts (spikes) when ``notify.spikes`` is on.
Each alert id is sent once; the ids already sent are kept in
``<data_dir>/notify/sent.json`` so a monitor cycle that updates an alert does not page
people again. :func:`build_digest` makes the daily digest for communications staff.
"""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

from core.documents import Alert, Severity
from core.errors import OperationsError
from core.settings import Settings
from core.state import atomic_write_json, atomic_write_text

log = logging.getLogger(__name__)

SEVERITY_VI = {"low": "THẤP", "medium": "TRUNG BÌNH", "high": "CAO", "critical": "NGHIÊM TRỌNG"}


class NotifyError(OperationsError):
    """A notification could not be delivered (after the retries)."""


@dataclass
class Notification:
    """One message for people: a title, a plain-text body and the data behind it."""

    kind: str  # "alert" | "spike" | "digest" | "test"
    title: str
    text: str
    severity: str | None = None
    data: dict[str, Any] = field(default_factory=dict)  # the alert or digest as JSON
    to: list[str] | None = None  # e-mail recipients instead of notify.email_to

    @classmethod
    def from_alert(cls, alert: Alert) -> Notification:
        sev = alert.severity.value
        if alert.module == "listening":
            kind, head = "spike", "Đột biến thảo luận"
        else:
            kind, head = "alert", "Cảnh báo an ninh mạng"
        lines = [alert.title or alert.rule_name]
        if alert.entity:
            lines.append(f"Đối tượng: {alert.entity}")
        lines.append(f"Quy tắc: {alert.rule_name} · điểm rủi ro {alert.risk_score:.0f}/100")
        if alert.source_ip:
            lines.append(f"Nguồn: {alert.source_ip}"
                         + (f" → {alert.destination_ip}:{alert.destination_port or ''}"
                            if alert.destination_ip else ""))
        for ex in alert.explanation[:3]:
            base = f" (nền {ex.baseline:g})" if ex.baseline is not None else ""
            lines.append(f"- {ex.feature}: {ex.observed:g}{base}")
        for ev in alert.evidence[:3]:
            lines.append(f"- {ev}")
        if alert.related_ids:
            lines.append(f"Bài viết liên quan: {len(alert.related_ids)}")
        when = (alert.last_seen or alert.timestamp).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines.append(f"Thời điểm: {when} · mã cảnh báo {alert.id}")
        return cls(kind=kind, title=f"[{SEVERITY_VI.get(sev, sev)}] {head}: "
                                    f"{alert.title or alert.rule_name}",
                   text="\n".join(lines), severity=sev, data=alert.to_doc())


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def safe_url(url: str) -> str:
    """A URL without user:password (for logs)."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return urlunsplit((parts.scheme, f"***@{host}", parts.path, "", ""))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class Sink(Protocol):
    """Delivers one notification or raises :class:`NotifyError` (the notifier retries)."""

    name: str
    secrets: list[str]

    def send(self, note: Notification) -> None: ...


def _split_credentials(url: str) -> tuple[str, str | None]:
    """``url`` without its ``user:password@`` and the matching ``Authorization`` value.

    urllib refuses a URL with credentials in it (it reads them as part of the host), so a
    webhook given as ``https://user:pass@host/path`` is sent to ``https://host/path`` with
    HTTP basic auth instead.
    """
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    if parts.port:
        host += f":{parts.port}"
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment)), f"Basic {token}"


def _post_json(url: str, body: dict[str, Any], timeout: float, shown: str) -> dict[str, Any]:
    data = json.dumps(body, ensure_ascii=False, default=str).encode("utf-8")
    url, authorization = _split_credentials(url)
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "iocwatch-notify/0.1"}
    if authorization:
        headers["Authorization"] = authorization
    req = urllib.request.Request(url, data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (configured URL)
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        raise NotifyError(f"HTTP {exc.code} from {shown}", hint="check the receiver") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NotifyError(f"cannot reach {shown}: {reason}", hint="check the URL and network"
                          ) from None
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        return {}


class WebhookSink:
    """POSTs the notification as JSON: ``{kind, title, text, severity, data, sent_at}``."""

    name = "webhook"

    def __init__(self, url: str, timeout_s: float = 10.0):
        self.url = url
        self.timeout_s = timeout_s
        parts = urlsplit(url)
        self.secrets = [s for s in (parts.password, parts.query) if s]

    def send(self, note: Notification) -> None:
        body = {"kind": note.kind, "title": note.title, "text": note.text,
                "severity": note.severity, "data": note.data,
                "sent_at": datetime.now(UTC).isoformat(), "source": "iocwatch"}
        _post_json(self.url, body, self.timeout_s, safe_url(self.url))


class TelegramSink:
    """Bot API ``sendMessage`` to one chat (plain text, at most 4096 characters)."""

    name = "telegram"

    def __init__(self, token: str, chat_id: str, api_base: str, timeout_s: float = 10.0):
        self.token = token
        self.chat_id = chat_id
        self.api_base = api_base.rstrip("/")
        self.timeout_s = timeout_s
        self.secrets = [token]

    def send(self, note: Notification) -> None:
        text = f"{note.title}\n\n{note.text}"
        if len(text) > 4096:
            text = text[:4090] + "\n…"
        url = f"{self.api_base}/bot{self.token}/sendMessage"
        reply = _post_json(url, {"chat_id": self.chat_id, "text": text,
                                 "disable_web_page_preview": True},
                           self.timeout_s, f"{self.api_base}/bot***/sendMessage")
        if reply and reply.get("ok") is False:
            raise NotifyError(f"Telegram refused the message: {reply.get('description')}",
                              hint="check notify.telegram_chat_id and that the bot is in the chat")


class EmailSink:
    """SMTP e-mail (STARTTLS when offered, or implicit TLS), plain-text body."""

    name = "email"

    def __init__(self, host: str, port: int, sender: str, to: list[str], *, user: str | None,
                 password: str | None, starttls: bool = True, use_ssl: bool = False,
                 timeout_s: float = 10.0):
        self.host, self.port, self.sender, self.to = host, port, sender, to
        self.user, self.password = user, password
        self.starttls, self.use_ssl, self.timeout_s = starttls, use_ssl, timeout_s
        self.secrets = [password] if password else []

    def send(self, note: Notification) -> None:
        to = note.to or self.to
        if not to:
            raise NotifyError("no e-mail recipient", hint="set notify.email_to")
        msg = EmailMessage()
        msg["Subject"] = note.title
        msg["From"] = self.sender
        msg["To"] = ", ".join(to)
        msg.set_content(note.text)
        if note.data and note.kind != "digest":
            msg.add_attachment(json.dumps(note.data, ensure_ascii=False, indent=1, default=str),
                               subtype="json", filename=f"{note.kind}.json")
        try:
            if self.use_ssl:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s,
                                                      context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
            with smtp:
                smtp.ehlo()
                if not self.use_ssl and self.starttls and smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if self.user and self.password:
                    smtp.login(self.user, self.password)
                smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            raise NotifyError(f"SMTP {self.host}:{self.port}: {type(exc).__name__}: "
                              f"{redact(str(exc), self.secrets)}",
                              hint="check notify.smtp_* settings") from None


def sinks_from_settings(settings: Settings) -> list[Sink]:
    """Every sink whose settings are filled in."""
    cfg = settings.notify
    sinks: list[Sink] = []
    if cfg.webhook_url:
        sinks.append(WebhookSink(cfg.webhook_url, cfg.timeout_s))
    token = cfg.telegram_bot_token.get_secret_value() if cfg.telegram_bot_token else ""
    if token and cfg.telegram_chat_id:
        sinks.append(TelegramSink(token, cfg.telegram_chat_id, cfg.telegram_api_base,
                                  cfg.timeout_s))
    if cfg.smtp_host and (cfg.email_to or cfg.digest_to):
        sinks.append(EmailSink(cfg.smtp_host, cfg.smtp_port,
                               cfg.smtp_from or f"iocwatch@{cfg.smtp_host}", list(cfg.email_to),
                               user=cfg.smtp_user,
                               password=(cfg.smtp_password.get_secret_value()
                                         if cfg.smtp_password else None),
                               starttls=cfg.smtp_starttls, use_ssl=cfg.smtp_ssl,
                               timeout_s=cfg.timeout_s))
    return sinks


@dataclass
class NotifyReport:
    """What a round of notifications did."""

    considered: int = 0
    sent: int = 0  # notifications delivered by at least one sink
    skipped_severity: int = 0
    already_sent: int = 0
    failed: int = 0  # notifications no sink delivered
    per_sink: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


class Notifier:
    """Sends notifications to every configured sink, with retries and back-off."""

    def __init__(self, settings: Settings, sinks: list[Sink] | None = None, *,
                 sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.sinks = sinks if sinks is not None else sinks_from_settings(settings)
        self.retries = settings.notify.retries
        self.backoff_s = settings.notify.backoff_s
        self._sleep = sleep
        try:
            self.min_severity = Severity(settings.notify.min_severity.lower())
        except ValueError:
            from core.errors import ConfigError

            raise ConfigError(f"notify.min_severity {settings.notify.min_severity!r} is not one of "
                              f"{[s.value for s in Severity]}", where="notify.min_severity",
                              hint="use low, medium, high or critical") from None
        self._secrets = [s for sink in self.sinks for s in getattr(sink, "secrets", [])]

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def send(self, note: Notification, report: NotifyReport | None = None) -> dict[str, str]:
        """Deliver to every sink; returns ``{sink: "ok" | error}``. Never raises for one sink."""
        outcome: dict[str, str] = {}
        for sink in self.sinks:
            stats = (report.per_sink.setdefault(sink.name, {"ok": 0, "failed": 0, "retries": 0})
                     if report else None)
            delay = self.backoff_s
            for attempt in range(self.retries + 1):
                try:
                    sink.send(note)
                    outcome[sink.name] = "ok"
                    if stats is not None:
                        stats["ok"] += 1
                    break
                except NotifyError as exc:
                    msg = self._redact(str(exc))
                    if attempt < self.retries:
                        log.warning("%s: attempt %d failed (%s); retrying in %.1fs", sink.name,
                                    attempt + 1, msg, delay)
                        if stats is not None:
                            stats["retries"] += 1
                        self._sleep(delay)
                        delay *= 2
                        continue
                    log.error("%s: giving up on %r after %d attempts: %s", sink.name,
                              self._redact(note.title), attempt + 1, msg)
                    outcome[sink.name] = msg
                    if stats is not None:
                        stats["failed"] += 1
                    if report is not None:
                        report.errors.append(f"{sink.name}: {msg}")
        return outcome

    def wants(self, alert: Alert) -> bool:
        """Whether an alert deserves a notification (severity floor; spikes if enabled)."""
        if alert.module == "listening":
            return self.settings.notify.spikes and alert.severity.rank >= Severity.MEDIUM.rank
        return alert.severity.rank >= self.min_severity.rank

    def notify_alerts(self, alerts: Iterable[Alert | dict[str, Any]]) -> NotifyReport:
        """Send each wanted alert once (ids already sent are remembered on disk)."""
        report = NotifyReport()
        if not self.sinks:
            return report
        ledger = SentLedger(self.settings.path("notify", "sent.json"))
        for item in alerts:
            alert = item if isinstance(item, Alert) else Alert.from_doc(item)
            report.considered += 1
            if not self.wants(alert):
                report.skipped_severity += 1
                continue
            if ledger.seen(alert.id):
                report.already_sent += 1
                continue
            outcome = self.send(Notification.from_alert(alert), report)
            if any(v == "ok" for v in outcome.values()):
                report.sent += 1
                ledger.add(alert.id)
            else:
                report.failed += 1
        ledger.save()
        return report


class SentLedger:
    """Alert ids already notified, with when; entries older than ``keep_days`` are dropped."""

    def __init__(self, path: Path, keep_days: int = 14):
        self.path = path
        self.keep = timedelta(days=keep_days)
        self.entries: dict[str, str] = {}
        if path.exists():
            try:
                self.entries = json.loads(path.read_text(encoding="utf-8"))
            except ValueError as exc:
                log.error("notification ledger %s unreadable (%s); starting a new one", path, exc)
                path.rename(path.with_suffix(".corrupt.json"))
        self._dirty = False

    def seen(self, alert_id: str) -> bool:
        return alert_id in self.entries

    def add(self, alert_id: str) -> None:
        self.entries[alert_id] = datetime.now(UTC).isoformat()
        self._dirty = True

    def save(self) -> None:
        if not self._dirty:
            return
        cutoff = datetime.now(UTC) - self.keep
        self.entries = {k: v for k, v in self.entries.items()
                        if datetime.fromisoformat(v) >= cutoff}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(self.path.with_suffix(".lock")):
            atomic_write_json(self.path, self.entries)
        self._dirty = False


@contextmanager
def _locked(path: Path):
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# -- the daily digest -------------------------------------------------------------------------
SENTIMENT_VI = {"negative": "tiêu cực", "neutral": "trung lập", "positive": "tích cực"}


def digest_data(store: Any, *, now: datetime | None = None, hours: int = 24) -> dict[str, Any]:
    """Figures for the digest: posts, sentiment, topics, watchlists, spikes and security alerts."""
    now = now or datetime.now(UTC)
    since = (now - timedelta(hours=hours)).isoformat()
    until = now.isoformat()
    window = {"range": {"published_at": {"gte": since, "lt": until}}}
    aggs = {"sentiment": {"terms": {"field": "sentiment", "size": 3}},
            "topics": {"terms": {"field": "topics", "size": 5}},
            "watchlists": {"terms": {"field": "watchlists", "size": 5}},
            "places": {"terms": {"field": "places", "size": 5}}}
    posts = store.count("posts", window)
    agg = store.aggregate("posts", window, aggs) if posts else {}

    def buckets(name: str) -> list[tuple[str, int]]:
        return [(b["key"], b["doc_count"]) for b in agg.get(name, {}).get("buckets", [])]

    alert_window = {"range": {"@timestamp": {"gte": since, "lt": until}}}
    spikes = store.search("alerts", {"bool": {"filter": [alert_window,
                                                        {"term": {"module": "listening"}}]}},
                          size=10, sort=[{"risk_score": {"order": "desc"}}])
    security = store.aggregate("alerts", {"bool": {"filter": [alert_window,
                                                             {"term": {"module": "security"}}]}},
                               {"severity": {"terms": {"field": "severity", "size": 4}}})
    return {
        "since": since, "until": until, "posts": posts,
        "sentiment": dict(buckets("sentiment")), "topics": buckets("topics"),
        "watchlists": buckets("watchlists"), "places": buckets("places"),
        "spikes": [{"id": h.id, "title": h.source.get("title"),
                    "severity": h.source.get("severity"), "entity": h.source.get("entity"),
                    "posts": len(h.source.get("related_ids") or [])} for h in spikes.hits],
        "security": {b["key"]: b["doc_count"]
                     for b in security.get("severity", {}).get("buckets", [])},
    }


def build_digest(store: Any, settings: Settings, *, now: datetime | None = None) -> Notification:
    """The daily digest for communications staff, in Vietnamese."""
    from zoneinfo import ZoneInfo

    data = digest_data(store, now=now)
    tz = ZoneInfo(settings.dashboard.timezone)
    day = datetime.fromisoformat(data["until"]).astimezone(tz).strftime("%d/%m/%Y")
    lines = [f"Tóm tắt 24 giờ qua (đến {day}).", "",
             f"Số bài viết và bình luận thu thập: {data['posts']}"]
    if data["posts"]:
        total = max(data["posts"], 1)
        parts = [f"{SENTIMENT_VI.get(k, k)} {v} ({100 * v / total:.0f}%)"
                 for k, v in sorted(data["sentiment"].items())]
        if parts:
            lines.append("Sắc thái: " + ", ".join(parts))
        if data["topics"]:
            lines.append("Chủ đề nổi bật: " + ", ".join(f"{k} ({v})" for k, v in data["topics"]))
        if data["watchlists"]:
            lines.append("Danh sách theo dõi: "
                         + ", ".join(f"{k} ({v})" for k, v in data["watchlists"]))
        if data["places"]:
            lines.append("Địa danh được nhắc nhiều: "
                         + ", ".join(f"{k} ({v})" for k, v in data["places"]))
    lines.append("")
    if data["spikes"]:
        lines.append(f"Đột biến thảo luận ({len(data['spikes'])}):")
        for s in data["spikes"]:
            sev = SEVERITY_VI.get(s["severity"] or "", s["severity"])
            lines.append(f"- [{sev}] {s['title']} · {s['posts']} bài viết")
    else:
        lines.append("Không có đột biến thảo luận nào.")
    if data["security"]:
        sec = ", ".join(f"{SEVERITY_VI.get(k, k).lower()} {v}"
                        for k, v in sorted(data["security"].items(),
                                           key=lambda kv: -Severity(kv[0]).rank))
        lines.append(f"Cảnh báo an ninh mạng: {sec}.")
    cfg = settings.notify
    return Notification(kind="digest", title=f"[iocwatch] Tóm tắt hằng ngày {day}",
                        text="\n".join(lines), data=data,
                        to=list(cfg.digest_to or cfg.email_to) or None)


def digest_due(settings: Settings, *, now: datetime | None = None) -> bool:
    """Whether today's digest should go out now: past ``digest_hour`` local time and not yet sent."""
    from zoneinfo import ZoneInfo

    now = now or datetime.now(UTC)
    local = now.astimezone(ZoneInfo(settings.dashboard.timezone))
    if local.hour < settings.notify.digest_hour:
        return False
    marker = settings.path("notify", "digest_last.txt")
    return not (marker.exists() and marker.read_text().strip() == local.date().isoformat())


def mark_digest_sent(settings: Settings, *, now: datetime | None = None) -> None:
    from zoneinfo import ZoneInfo

    now = now or datetime.now(UTC)
    marker = settings.path("notify", "digest_last.txt")
    atomic_write_text(marker, now.astimezone(ZoneInfo(settings.dashboard.timezone)).date().isoformat())


def send_digest(store: Any, settings: Settings, notifier: Notifier | None = None, *,
                now: datetime | None = None, force: bool = False) -> dict[str, Any] | None:
    """Build and send the digest when due (or ``force``); returns the outcome per sink."""
    if not force and not digest_due(settings, now=now):
        return None
    notifier = notifier or Notifier(settings)
    if not notifier.sinks:
        return None
    note = build_digest(store, settings, now=now)
    report = NotifyReport()
    outcome = notifier.send(note, report)
    if any(v == "ok" for v in outcome.values()):
        mark_digest_sent(settings, now=now)
    return {"outcome": outcome, "posts": note.data["posts"], "spikes": len(note.data["spikes"])}
