"""The product's normalised log events as flat dicts of ECS field names, the shape Sigma rules are evaluated on.

Every parsed record of :mod:`security.records` becomes one event of a *kind*:

* ``linux``: sshd logins (:class:`AuthEvent`) and other syslog lines (:class:`SyslogLine`),
  with sudo commands and account changes picked out of the message;
* ``webserver``: access-log requests (:class:`HttpRequest`, also HTTP seen in a capture);
* ``dns``: DNS questions (Zeek ``dns.log`` or a capture);
* ``conn``: connection summaries (Zeek ``conn.log``, CSV flows, flows of a capture).

:data:`FIELDS` lists the fields each kind may carry: a rule that names any other field
(after the field mapping of :mod:`security.sigma.pipeline`) is refused at load time.
Unbound Sigma keywords are searched in ``message`` (the raw line or log message).
"""

from __future__ import annotations

import re
from typing import Any

from security.records import AuthEvent, Connection, DnsQuery, HttpRequest, Record, SyslogLine

KINDS = ("linux", "webserver", "dns", "conn")

FIELDS: dict[str, frozenset[str]] = {
    "linux": frozenset({
        "@timestamp", "host.name", "process.name", "process.pid", "event.outcome", "event.action",
        "user.name", "user.target.name", "group.name", "source.ip", "source.port", "process.command_line",
        "process.working_directory", "message"}),
    "webserver": frozenset({
        "@timestamp", "source.ip", "http.request.method", "url.original", "url.path", "url.query",
        "http.response.status_code", "http.response.body.bytes", "user_agent.original",
        "http.request.referrer", "url.domain", "message"}),
    "dns": frozenset({
        "@timestamp", "source.ip", "destination.ip", "dns.question.name", "dns.question.registered_domain",
        "dns.question.type", "dns.response_code", "message"}),
    "conn": frozenset({
        "@timestamp", "source.ip", "source.port", "destination.ip", "destination.port", "network.transport",
        "network.protocol", "event.duration", "source.bytes", "destination.bytes", "source.packets",
        "destination.packets", "zeek.connection.state", "message"}),
}

_SUDO = re.compile(r"^\s*(?P<user>\S+) : (?:.*?; )?(?:TTY=(?P<tty>\S+) ; )?(?:PWD=(?P<pwd>\S+) ; )?"
                   r"USER=(?P<target>\S+) ;(?: .*?;)* COMMAND=(?P<cmd>.*)$")
_SUDO_FAIL = re.compile(r"^\s*(?P<user>\S+) : .*(?:incorrect password attempts|user NOT in sudoers)")
_NEW_USER = re.compile(r"new user: name=(?P<name>[^,\s]+)")
_ADD_GROUP = re.compile(r"add '(?P<name>[^']+)' to (?:shadow )?group '(?P<group>[^']+)'")
_SU = re.compile(r"(?:FAILED SU|Successful su|session opened) for (?P<target>\S+) by (?P<user>\S+)")


def _linux_extra(service: str, message: str, ev: dict[str, Any]) -> None:
    """Users, groups and commands named in sudo, su, useradd and usermod lines."""
    if service == "sudo":
        m = _SUDO.match(message)
        if m:
            ev["user.name"], ev["user.target.name"] = m["user"], m["target"]
            ev["process.command_line"] = m["cmd"].strip()
            if m["pwd"]:
                ev["process.working_directory"] = m["pwd"]
            ev["event.action"] = "sudo_command"
        elif (m := _SUDO_FAIL.match(message)) is not None:
            ev["user.name"] = m["user"]
            ev["event.outcome"], ev["event.action"] = "failure", "sudo_denied"
    elif service in ("useradd", "adduser", "usermod", "groupadd", "gpasswd"):
        if (m := _NEW_USER.search(message)) is not None:
            ev["user.target.name"], ev["event.action"] = m["name"], "user_created"
        elif (m := _ADD_GROUP.search(message)) is not None:
            ev["user.target.name"], ev["group.name"] = m["name"], m["group"]
            ev["event.action"] = "user_added_to_group"
    elif service == "su" and (m := _SU.search(message)) is not None:
        ev["user.name"], ev["user.target.name"] = m["user"], m["target"]


def to_event(rec: Record) -> tuple[str, dict[str, Any]] | None:
    """``(kind, event)`` for a record, ``None`` for records no Sigma log source covers (packets)."""
    if isinstance(rec, AuthEvent):
        ev: dict[str, Any] = {"@timestamp": rec.ts, "host.name": rec.host, "process.name": rec.service,
                              "event.action": rec.outcome, "message": rec.message}
        if rec.outcome in ("failure", "invalid_user"):
            ev["event.outcome"] = "failure"
        elif rec.outcome == "success":
            ev["event.outcome"] = "success"
        if rec.user:
            ev["user.name"] = rec.user
        if rec.src:
            ev["source.ip"] = rec.src
        if rec.port is not None:
            ev["source.port"] = rec.port
        return "linux", ev
    if isinstance(rec, SyslogLine):
        ev = {"@timestamp": rec.ts, "host.name": rec.host, "process.name": rec.service, "message": rec.message}
        if rec.pid is not None:
            ev["process.pid"] = rec.pid
        _linux_extra(rec.service, rec.message, ev)
        return "linux", ev
    if isinstance(rec, HttpRequest):
        path, _, query = rec.target.partition("?")
        ev = {"@timestamp": rec.ts, "source.ip": rec.src, "http.request.method": rec.method,
              "url.original": rec.target, "url.path": path, "url.query": query,
              "http.response.body.bytes": rec.size, "user_agent.original": rec.user_agent,
              "http.request.referrer": rec.referrer,
              "message": rec.raw or f"{rec.src} {rec.method} {rec.target}"}
        if rec.status is not None:
            ev["http.response.status_code"] = rec.status
        if rec.host:
            ev["url.domain"] = rec.host
        return "webserver", ev
    if isinstance(rec, DnsQuery):
        from security.features import registered_domain

        ev = {"@timestamp": rec.ts, "source.ip": rec.src, "destination.ip": rec.dst,
              "dns.question.name": rec.query, "dns.question.registered_domain": registered_domain(rec.query),
              "message": f"{rec.src} -> {rec.dst} {rec.qtype or ''} {rec.query}"}
        if rec.qtype:
            ev["dns.question.type"] = rec.qtype
        if rec.rcode:
            ev["dns.response_code"] = rec.rcode
        return "dns", ev
    if isinstance(rec, Connection):
        ev = {"@timestamp": rec.ts, "source.ip": rec.src, "source.port": rec.sport, "destination.ip": rec.dst,
              "destination.port": rec.dport, "network.transport": rec.proto, "event.duration": rec.duration,
              "source.bytes": rec.orig_bytes, "destination.bytes": rec.resp_bytes,
              "source.packets": rec.orig_pkts, "destination.packets": rec.resp_pkts,
              "message": f"{rec.proto} {rec.src}:{rec.sport} -> {rec.dst}:{rec.dport} {rec.state or ''}"}
        if rec.state:
            ev["zeek.connection.state"] = rec.state
        if rec.service:
            ev["network.protocol"] = rec.service
        return "conn", ev
    return None
