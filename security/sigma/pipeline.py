"""Which Sigma log sources the product parses, and the field mapping to its ECS names as a pySigma pipeline.

:func:`kind_of` says which event kind (:data:`security.sigma.events.KINDS`) a rule's
``logsource`` covers, or ``None`` when the product does not parse that source (the rule
is then skipped, not refused). :func:`ecs_pipeline` maps the field names of the Sigma
taxonomy (``c-ip``, ``cs-uri-query``, ``query``, ``id.orig_h``, ``pam_user``...) to the
ECS names of the product's events; names that are already ECS pass unchanged. The same
pipeline serves evaluation and the Elasticsearch export, so both see the same fields.
"""

from __future__ import annotations

from typing import Any

# logsource of the product's kinds: (category, product, service); None = any
LINUX_SERVICES = {None, "auth", "sshd", "sudo", "syslog", "su", "cron", "useradd"}
# a service narrower than the whole auth log: the syslog program names it covers
SERVICE_PROGRAMS = {"sshd": ("sshd",), "sudo": ("sudo",), "su": ("su",), "cron": ("cron", "CRON"),
                    "useradd": ("useradd", "adduser", "usermod", "groupadd", "gpasswd")}

MAPPINGS: dict[str, dict[str, str]] = {
    "linux": {
        "User": "user.name", "user": "user.name", "username": "user.name", "pam_user": "user.name",
        "SubjectUserName": "user.name", "TargetUserName": "user.target.name", "target_user": "user.target.name",
        "pam_rhost": "source.ip", "rhost": "source.ip", "src_ip": "source.ip", "SourceIp": "source.ip",
        "IpAddress": "source.ip", "Hostname": "host.name", "hostname": "host.name", "host": "host.name",
        "program": "process.name", "service": "process.name", "ProcessName": "process.name",
        "pid": "process.pid", "CommandLine": "process.command_line", "command": "process.command_line",
        "CurrentDirectory": "process.working_directory", "Message": "message", "msg": "message",
        "group": "group.name", "outcome": "event.outcome",
    },
    "webserver": {
        "c-ip": "source.ip", "clientip": "source.ip", "src_ip": "source.ip", "cs-method": "http.request.method",
        "method": "http.request.method",
        # the query part of most web rules also means the path (traversal, injections in the path)
        "cs-uri-query": "url.original", "c-uri": "url.original", "cs-uri": "url.original", "uri": "url.original",
        "c-uri-query": "url.query", "cs-uri-stem": "url.path", "c-uri-stem": "url.path",
        "sc-status": "http.response.status_code", "status": "http.response.status_code",
        "c-useragent": "user_agent.original", "cs-user-agent": "user_agent.original",
        "cs-useragent": "user_agent.original", "useragent": "user_agent.original",
        "cs-referer": "http.request.referrer", "cs-referrer": "http.request.referrer",
        "referer": "http.request.referrer", "cs-host": "url.domain", "sc-bytes": "http.response.body.bytes",
    },
    "dns": {
        "query": "dns.question.name", "QueryName": "dns.question.name", "c-dns": "dns.question.name",
        "parent_domain": "dns.question.registered_domain", "record_type": "dns.question.type",
        "qtype_name": "dns.question.type", "QueryType": "dns.question.type", "rcode_name": "dns.response_code",
        "rcode": "dns.response_code", "id.orig_h": "source.ip", "id.resp_h": "destination.ip",
        "src_ip": "source.ip", "dst_ip": "destination.ip", "SourceIp": "source.ip", "DestinationIp": "destination.ip",
    },
    "conn": {
        "id.orig_h": "source.ip", "id.orig_p": "source.port", "id.resp_h": "destination.ip",
        "id.resp_p": "destination.port", "proto": "network.transport", "service": "network.protocol",
        "duration": "event.duration", "orig_bytes": "source.bytes", "resp_bytes": "destination.bytes",
        "orig_pkts": "source.packets", "resp_pkts": "destination.packets", "conn_state": "zeek.connection.state",
        "src_ip": "source.ip", "dst_ip": "destination.ip", "src_port": "source.port", "dst_port": "destination.port",
        "SourceIp": "source.ip", "DestinationIp": "destination.ip", "SourcePort": "source.port",
        "DestinationPort": "destination.port", "Protocol": "network.transport",
    },
}

# logsource conditions of each kind: (category, product, service)
LOGSOURCES: dict[str, list[tuple[str | None, str | None, str | None]]] = {
    "linux": [(None, "linux", None)],
    "webserver": [("webserver", None, None), (None, "apache", None), (None, "nginx", None)],
    "dns": [("dns", None, None), (None, "zeek", "dns")],
    "conn": [(None, "zeek", "conn"), ("network_connection", None, None), ("firewall", None, None)],
}


def kind_of(logsource: Any) -> str | None:
    """The event kind a rule's logsource (``category``/``product``/``service``) covers, or ``None``."""
    cat, prod, svc = logsource.category, logsource.product, logsource.service
    if cat == "webserver" or (cat is None and prod in ("apache", "nginx")):
        return "webserver"
    if cat == "dns" or (prod == "zeek" and svc == "dns"):
        return "dns"
    if (prod == "zeek" and svc == "conn") or cat in ("network_connection", "firewall"):
        return "conn" if prod in (None, "zeek", "linux", "windows") else None
    if prod == "linux" and cat is None and svc in LINUX_SERVICES:
        return "linux"
    return None


def ecs_pipeline():
    """A pySigma :class:`ProcessingPipeline` mapping Sigma field names to the product's ECS names per log source."""
    from sigma.processing.conditions import LogsourceCondition
    from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
    from sigma.processing.transformations import FieldMappingTransformation

    items = []
    for kind, mapping in MAPPINGS.items():
        items.append(ProcessingItem(
            identifier=f"iocwatch_{kind}_fields",
            transformation=FieldMappingTransformation(dict(mapping)),
            rule_condition_linking=any,
            rule_conditions=[LogsourceCondition(category=c, product=p, service=s) for c, p, s in LOGSOURCES[kind]],
        ))
    return ProcessingPipeline(name="iocwatch ECS field mapping", priority=20, items=items)
