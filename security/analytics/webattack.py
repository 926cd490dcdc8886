"""Web exploitation in access logs, with every common encoding undone, and web-shell access.

Each request's target, User-Agent and Referer are decoded until stable (URL and double
URL, ``%uXXXX``, ``\\uXXXX`` and ``\\xXX`` escapes, HTML entities), lower-cased and
stripped of SQL comments, then matched for SQL injection, XSS, path traversal, command
injection, Log4Shell (``${jndi:`` after undoing nested lookups such as ``${lower:j}``),
Shellshock and SSRF to cloud metadata addresses (T1190). A script file (``.php``,
``.jsp``, ``.aspx`` ...) never served in the baseline, answered 2xx, in an upload or
static folder or called with a command parameter, is web-shell access (T1505.003).
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import unquote_plus

from security.analytics.base import Analytic, Finding, prune_list, register
from security.records import HttpRequest

_PCT_U = re.compile(r"%u([0-9a-fA-F]{4})")
_BS_U = re.compile(r"\\u([0-9a-fA-F]{4})")
_BS_X = re.compile(r"\\x([0-9a-fA-F]{2})")
_COMMENT = re.compile(r"/\*.*?\*/")
_LOOKUP = re.compile(r"\$\{(?:lower:|upper:|::-|env:[^:}]*:-|sys:[^:}]*:-|date:)?([^${}]*)\}")
_SUSPECT_TARGET = re.compile(r"[%&\\$<>'\"(){};|`]|\.\.|169\.254|metadata|100\.100\.100|/etc/|/proc/")
_SUSPECT_HEADER = re.compile(r"\$\{|\(\)\s*\{|%[0-9a-fA-F]{2}|<|\\[ux]|&#|jndi|169\.254", re.I)

PATTERNS: dict[str, re.Pattern[str]] = {
    "sql_injection": re.compile(
        r"\bunion\b[\s(]+(?:all\s+)?select\b|\bor\b\s+['\"]?\w+['\"]?\s*=\s*['\"]?\w+|'\s*(?:or|and)\s+'"
        r"|\bsleep\s*\(\s*\d+\s*\)|\bbenchmark\s*\(|information_schema|\bdrop\s+table\b|'\s*;?\s*--"
        r"|;\s*--|\bwaitfor\s+delay\b|\bextractvalue\s*\(|\bupdatexml\s*\(|\bload_file\s*\(|\binto\s+outfile\b"),
    "xss": re.compile(r"<\s*script\b|javascript\s*:|\bon(?:error|load|mouseover|focus|click)\s*=|<\s*svg\b"
                      r"|<\s*iframe\b|document\.cookie|\balert\s*\(|<\s*img\b[^>]*\bsrc\s*="),
    "path_traversal": re.compile(r"\.\./|\.\.\\|/etc/(?:passwd|shadow|hosts)|\bboot\.ini\b|win\.ini|/proc/self/"),
    "command_injection": re.compile(r"(?:^|[;|`&]|\$\()\s*(?:cat|ls|id|whoami|uname|wget|curl|nc|bash|sh|ping"
                                    r"|powershell)\b(?!\s*=)|\$\([^)]*\)|`[^`]+`|/bin/(?:ba)?sh\b|\bcmd\.exe\b"),
    "shellshock": re.compile(r"\(\)\s*\{[^}]*;\s*\}\s*;"),
    "ssrf": re.compile(r"169\.254\.169\.254|169\.254\.170\.2|metadata\.google\.internal|100\.100\.100\.200"
                       r"|\[::ffff:a9fe:a9fe\]|0xa9fea9fe|\b2852039166\b"),
}
_SCRIPT = re.compile(r"\.(?:php\d?|phtml|jsp|jspx|asp|aspx|ashx|cgi|pl)$")
_WRITABLE = re.compile(r"/(?:uploads?|images?|img|static|files?|media|tmp|temp|assets|attachments?)/")
_CMD_PARAM = re.compile(r"[?&](?:cmd|exec|command|c|e|q|run)=([^&]*)")
_SHELL_WORD = re.compile(r"\b(?:whoami|id|uname|ls|cat|ps|wget|curl|nc|bash|sh|dir|net\s+user|ipconfig|ifconfig)\b")


def normalise(text: str, rounds: int = 4) -> str:
    """Undo URL (any depth), ``%u``/``\\u``/``\\x`` escapes and HTML entities; lower-case; drop SQL comments."""
    s = text
    for _ in range(rounds):
        prev = s
        if "%u" in s or "%U" in s:
            s = _PCT_U.sub(lambda m: chr(int(m[1], 16)), s)
        if "%" in s or "+" in s:
            s = unquote_plus(s)
        if "\\" in s:
            s = _BS_X.sub(lambda m: chr(int(m[1], 16)), _BS_U.sub(lambda m: chr(int(m[1], 16)), s))
        if "&" in s:
            s = html.unescape(s)
        if s == prev:
            break
    s = s.lower()
    if "/*" in s:
        s = _COMMENT.sub(" ", s)
    return s


def attack_kinds(text: str) -> list[str]:
    """Which attack patterns a (raw) request field matches once normalised."""
    s = normalise(text)
    kinds = [k for k, p in PATTERNS.items() if p.search(s)]
    if "${" in s:
        t = s
        for _ in range(8):
            u = _LOOKUP.sub(r"\1", t)
            if u == t:
                break
            t = u
        if "jndi:" in t:
            kinds.append("log4shell")
    return kinds


@register
class WebExploitation(Analytic):
    name = "web_exploit"
    technique = "T1190"
    technique_name = "Exploit Public-Facing Application"
    records = (HttpRequest,)
    DEFAULTS: dict[str, Any] = {
        "enabled": True,
        "risk": 78,  # high
        "shell_risk": 85,  # web-shell access: the server already runs the attacker's code
        "horizon_s": 6 * 3600,  # requests of one source grouped over 6 h
        "min_hits": 1,  # one decoded attack request is enough
    }

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.hits: dict[str, list] = {}  # src -> [[ts, kind, sample], ...]
        self.scripts: set[str] = set()  # script paths served in the baseline

    def learn(self, r: HttpRequest) -> None:
        path = r.target.split("?", 1)[0].lower()
        if _SCRIPT.search(path) and r.status is not None and r.status < 400:
            self.scripts.add(path)

    def _shell(self, r: HttpRequest) -> bool:
        path, _, query = r.target.partition("?")
        path = path.lower()
        if not _SCRIPT.search(path) or path in self.scripts or r.status is None or not 200 <= r.status < 300:
            return False
        if _WRITABLE.search(path):
            return True
        m = _CMD_PARAM.search("?" + normalise(query)) if query else None
        return bool(m and _SHELL_WORD.search(m[1]))

    def observe(self, r: HttpRequest) -> None:
        kinds: list[str] = []
        if _SUSPECT_TARGET.search(r.target):
            kinds += attack_kinds(r.target)
        for header in (r.user_agent, r.referrer):
            if header and _SUSPECT_HEADER.search(header):
                kinds += [f"{k} (header)" for k in attack_kinds(header)]
        if self._shell(r):
            kinds.append("web_shell")
        if not kinds:
            return
        sample = (r.raw or f"{r.src} {r.method} {r.target} {r.status} {r.user_agent}")[:400]
        lst = self.hits.setdefault(r.src, [])
        for k in dict.fromkeys(kinds):
            lst.append([r.ts, k, sample])
        if len(lst) > 2000:  # a flood of attack requests: the newest are enough
            del lst[: len(lst) - 2000]
        self.dirty.add(r.src)

    def detect(self, now: float) -> list[Finding]:
        cutoff = now - self.cfg["horizon_s"]
        for src in list(self.hits):
            self.hits[src] = prune_list(self.hits[src], cutoff)
            if not self.hits[src]:
                del self.hits[src]
        out = []
        for src in self.dirty:
            lst = self.hits.get(src)
            if not lst or len(lst) < self.cfg["min_hits"]:
                continue
            shell = [h for h in lst if h[1] == "web_shell"]
            other = [h for h in lst if h[1] != "web_shell"]
            for group, is_shell in ((shell, True), (other, False)):
                if not group:
                    continue
                kinds = sorted({h[1] for h in group})
                samples = list(dict.fromkeys(h[2] for h in group))[: self.max_evidence]
                out.append(self.finding(
                    entity=src, key=f"{src}:{'shell' if is_shell else 'exploit'}", first=group[0][0],
                    last=group[-1][0], count=len(group),
                    risk=self.cfg["shell_risk"] if is_shell else None,
                    technique="T1505.003" if is_shell else None,
                    technique_name="Server Software Component: Web Shell" if is_shell else None,
                    title=(f"Web shell accessed from {src}: {len(group)} request(s) to a script never served before"
                           if is_shell else f"Web exploitation from {src}: {', '.join(kinds)} "
                                            f"({len(group)} decoded request field(s))"),
                    observed={f"{k}_requests": sum(1 for h in group if h[1] == k) for k in kinds},
                    baselines={f"{k}_requests": 0.0 for k in kinds},
                    thresholds={"min_hits": self.cfg["min_hits"]}, evidence=samples, source_ip=src,
                    categories=["web"]))
        self.dirty.clear()
        return out

    def state(self) -> dict[str, Any]:
        return {"hits": self.hits, "scripts": sorted(self.scripts)}

    def load(self, state: dict[str, Any]) -> None:
        self.hits = {k: [list(x) for x in v] for k, v in state.get("hits", {}).items()}
        self.scripts = set(state.get("scripts", []))
