"""Alert triage written back to the store, with who, when and why kept in the alert's history."""

from __future__ import annotations

from typing import Any

from core.documents import CLOSE_REASONS, TRIAGE_MOVES, Alert, AlertStatus, HistoryEntry
from core.errors import StoreError, ValidationFailed
from index.base import Store


def triage(store: Store, alert_id: str, *, status: str | None = None, assignee: str | None = None,
           reason: str | None = None, by: str = "system", note: str | None = None) -> Alert:
    """Move an alert along open → acknowledged → in_progress → closed, or assign it.

    Closing needs a ``reason`` (true_positive, false_positive, benign). Every change
    appends a :class:`HistoryEntry` (a close with its ``reason``, an assignment with its
    ``assignee``) carrying ``note`` when one was given, so a note stays with the action it went
    with; a note alone is a "comment". Nothing earlier in the history is rewritten.
    Raises :class:`StoreError` for an unknown id and :class:`ValidationFailed` for a
    move the state machine does not allow.
    """
    doc = store.get("alerts", alert_id)
    if doc is None:
        raise StoreError(f"no alert with id {alert_id}", hint="list alerts with `iocwatch alerts list`")
    alert = Alert.from_doc(doc)
    fields: dict[str, Any] = {}
    history = list(alert.history)
    if status is not None:
        try:
            target = AlertStatus(status)
        except ValueError:
            raise ValidationFailed(alert_id, "status",
                                   f"{status!r} is not one of {[s.value for s in AlertStatus]}") from None
        if target != alert.status:
            if target.value not in TRIAGE_MOVES[alert.status.value]:
                raise ValidationFailed(alert_id, "status",
                                       f"cannot move from {alert.status.value} to {target.value}")
            if target == AlertStatus.CLOSED:
                if reason not in CLOSE_REASONS:
                    raise ValidationFailed(alert_id, "close_reason",
                                           f"closing needs a reason, one of {list(CLOSE_REASONS)}")
                fields["close_reason"] = reason
            elif alert.status == AlertStatus.CLOSED:
                fields["close_reason"] = None
            fields["status"] = target.value
            history.append(HistoryEntry(by=by, action="status", from_status=alert.status.value,
                                        to_status=target.value, note=note or None,
                                        reason=reason if target == AlertStatus.CLOSED else None))
            note = None  # said once, with the action it went with
    if assignee is not None and assignee != alert.assignee:
        fields["assignee"] = assignee or None
        history.append(HistoryEntry(by=by, action="assign", assignee=assignee or "", note=note or None))
        note = None
    if note:
        history.append(HistoryEntry(by=by, action="comment", note=note))
    if len(history) == len(alert.history):
        return alert
    fields["history"] = [h.model_dump(mode="json") for h in history]
    return Alert.from_doc(store.update("alerts", alert_id, fields))
