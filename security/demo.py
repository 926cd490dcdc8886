"""Writes the demo's captures and logs: a city network's benign traffic, and an attack period.

:func:`write_demo` writes, under a folder:

* ``baseline.pcap``, ``baseline-auth.log``, ``baseline-access.log``: one hour of benign
  traffic (clients browsing city portals, DNS, SSH logins by admins, citizens on the
  portal);
* ``attack.pcap``, ``attack-auth.log``, ``attack-access.log``: the same benign mix an
  hour later, with five injected attacks, listed in :data:`INJECTED`.

Everything is seeded, so the files are the same on every run. Frames are built with
``struct`` and written with scapy's ``RawPcapWriter``; nothing is sent on any network.
"""

from __future__ import annotations

import random
import socket
import string
import struct
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BASE_TIME = datetime(2026, 11, 20, 8, 0, tzinfo=UTC).timestamp()  # baseline hour
ATTACK_TIME = BASE_TIME + 2 * 3600  # attack hour (10:00 UTC, 17:00 in Vietnam)

NET = "10.10"
WEB_SERVER = "10.10.0.80"
DNS_SERVER = "10.10.0.53"
SSH_SERVER = "10.10.0.22"
EXTERNAL_HTTPS = ["14.225.10.20", "103.56.158.30", "113.160.200.5", "125.212.220.9"]

# attacker -> rule it must raise (exactly one alert each)
INJECTED: dict[str, dict[str, str]] = {
    "port_scan": {"entity": "203.0.113.66", "technique": "T1046"},
    "ssh_brute_force": {"entity": "198.51.100.23", "technique": "T1110.001"},
    "web_attack": {"entity": "192.0.2.45", "technique": "T1190"},
    "dns_tunnel": {"entity": "10.10.1.23", "technique": "T1071.004"},
    "beaconing": {"entity": "10.10.1.31", "technique": "T1071"},
}

DOMAINS = ["vnexpress.net", "tuoitre.vn", "dichvucong.gov.vn", "cantho.gov.vn", "thanhnien.vn",
           "baochinhphu.vn", "zalo.me", "mail.cantho.gov.vn", "portal.cantho.gov.vn", "danang.gov.vn"]
SUBS = ["www", "api", "static", "img", "m", "cdn"]
PAGES = [
    "/", "/tin-tuc", "/tin-tuc/ngap-ung-quan-ninh-kieu-sau-mua-lon", "/thong-bao/lich-cat-dien-tuan-nay",
    "/dich-vu-cong/dang-ky-tam-tru", "/dich-vu-cong/cap-doi-can-cuoc", "/lien-he", "/gop-y/phan-anh-hien-truong",
    "/tra-cuu/ho-so?ma=HS2026", "/giao-thong/ket-xe-cau-can-tho", "/su-kien/le-hoi-banh-dan-gian-nam-bo",
    "/static/css/main.css", "/static/js/app.js", "/images/logo.png", "/tim-kiem?q=hoc+phi+nam+hoc+moi",
    "/tim-kiem?q=gio+mo+cua+bo+phan+mot+cua", "/van-ban/quyet-dinh-ve-quy-hoach-do-thi",
]
UAS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1)"
       " Safari/604.1", "Mozilla/5.0 (Linux; Android 14; SM-A546E) Chrome/130.0", "Zalo/24.11 (Android)"]
ADMINS = ["quantri", "ngoc.tran", "minh.le", "vanhanh"]
CITIZEN_NETS = ["14.161.", "27.72.", "113.161.", "116.110.", "171.244.", "42.113."]

ATTACK_REQUESTS = [
    "/tra-cuu/ho-so?ma=HS2026'%20OR%20'1'='1",
    "/tim-kiem?q=1%20UNION%20SELECT%20username,password%20FROM%20users--",
    "/tim-kiem?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E",
    "/static/../../../../etc/passwd",
    "/gop-y?ten=a;cat%20/etc/shadow",
    "/tra-cuu/ho-so?ma=1%20AND%20SLEEP(5)",
    "/lien-he?email=x%22%3E%3Csvg%20onload=alert(1)%3E",
    "/download?file=..%2F..%2F..%2Fboot.ini",
]


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


_FLAGS = {"S": 0x02, "A": 0x10, "F": 0x01, "R": 0x04, "P": 0x08}
_MAC_A, _MAC_B = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")


def frame(src: str, dst: str, proto: int, l4: bytes) -> bytes:
    """An Ethernet + IPv4 frame around a transport header and payload (valid IP checksum)."""
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0x4000, 64, proto, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    return _MAC_A + _MAC_B + b"\x08\x00" + ip + l4


def tcp(sport: int, dport: int, flags: str, payload: bytes = b"", seq: int = 0, ack: int = 0) -> bytes:
    bits = sum(_FLAGS[f] for f in flags)
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, bits, 64240, 0, 0) + payload


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def dns_message(qid: int, name: str, response: bool = False) -> bytes:
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"
    flags = 0x8180 if response else 0x0100
    header = struct.pack("!HHHHHH", qid, flags, 1, 1 if response else 0, 0, 0)
    body = qname + struct.pack("!HH", 1, 1)
    if response:
        body += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + socket.inet_aton("14.225.10.20")
    return header + body


class _Writer:
    """Collects (time, frame) pairs for one capture; scapy's ``RawPcapWriter`` writes them."""

    def __init__(self) -> None:
        self.packets: list[tuple[float, bytes]] = []

    def _add(self, data: bytes, ts: float) -> None:
        self.packets.append((ts, data))

    def tcp_session(self, ts: float, src: str, dst: str, sport: int, dport: int, *, request: bytes = b"",
                    response_bytes: int = 600, data_packets: int = 2) -> None:
        self._add(frame(src, dst, 6, tcp(sport, dport, "S", seq=1000)), ts)
        self._add(frame(dst, src, 6, tcp(dport, sport, "SA", seq=5000, ack=1001)), ts + 0.01)
        self._add(frame(src, dst, 6, tcp(sport, dport, "A", seq=1001, ack=5001)), ts + 0.02)
        t = ts + 0.03
        if request:
            self._add(frame(src, dst, 6, tcp(sport, dport, "PA", request)), t)
            t += 0.02
        for _ in range(data_packets):
            self._add(frame(dst, src, 6, tcp(dport, sport, "PA", b"x" * response_bytes)), t)
            t += 0.02
        self._add(frame(src, dst, 6, tcp(sport, dport, "FA")), t + 0.05)
        self._add(frame(dst, src, 6, tcp(dport, sport, "FA")), t + 0.06)

    def dns(self, ts: float, src: str, name: str, sport: int) -> None:
        qid = sport & 0xFFFF
        self._add(frame(src, DNS_SERVER, 17, udp(sport, 53, dns_message(qid, name))), ts)
        self._add(frame(DNS_SERVER, src, 17, udp(53, sport, dns_message(qid, name, True))), ts + 0.005)

    def syn_probe(self, ts: float, src: str, dst: str, sport: int, dport: int, open_port: bool) -> None:
        self._add(frame(src, dst, 6, tcp(sport, dport, "S")), ts)
        self._add(frame(dst, src, 6, tcp(dport, sport, "SA" if open_port else "RA")), ts + 0.002)
        if open_port:
            self._add(frame(src, dst, 6, tcp(sport, dport, "R")), ts + 0.004)

    def write(self, path: Path) -> int:
        from scapy.utils import RawPcapWriter

        self.packets.sort(key=lambda p: p[0])
        with RawPcapWriter(str(path), linktype=1, sync=False) as out:
            out.write_header(None)
            for ts, data in self.packets:
                sec = int(ts)
                out.write_packet(data, sec=sec, usec=int(round((ts - sec) * 1e6)), caplen=len(data),
                                 wirelen=len(data))
        return len(self.packets)


def _benign_network(w: _Writer, rng: random.Random, start: float, duration: float, clients: int,
                    mean_gap: float) -> None:
    for c in range(clients):
        src = f"{NET}.1.{10 + c}"
        t = start + rng.uniform(0, mean_gap)
        while t < start + duration:
            sport = rng.randint(20000, 60000)
            name = f"{rng.choice(SUBS)}.{rng.choice(DOMAINS)}"
            w.dns(t, src, name, sport)
            if rng.random() < 0.3:
                page = rng.choice(PAGES)
                w.tcp_session(t + 0.05, src, WEB_SERVER, sport + 1, 80,
                              request=f"GET {page} HTTP/1.1\r\nHost: portal.cantho.gov.vn\r\n\r\n".encode(),
                              response_bytes=rng.randint(300, 1400), data_packets=rng.randint(1, 4))
            else:
                w.tcp_session(t + 0.05, src, rng.choice(EXTERNAL_HTTPS), sport + 1, 443,
                              response_bytes=rng.randint(200, 1400), data_packets=rng.randint(1, 5))
            t += rng.expovariate(1.0 / mean_gap)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+00:00"


def _clf(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def _benign_auth(rng: random.Random, start: float, duration: float) -> list[tuple[float, str]]:
    lines = []
    t = start + rng.uniform(0, 120)
    pid = 4100
    while t < start + duration:
        user = rng.choice(ADMINS)
        src = f"{NET}.2.{rng.randint(5, 12)}"
        pid += rng.randint(1, 40)
        port = rng.randint(40000, 60000)
        if rng.random() < 0.15:  # a mistyped password first
            lines.append((t, f"{_iso(t)} srv-ssh sshd[{pid}]: Failed password for {user} from {src} port {port} ssh2"))
            t += rng.uniform(3, 10)
        lines.append((t, f"{_iso(t)} srv-ssh sshd[{pid}]: Accepted password for {user} from {src} port {port} ssh2"))
        lines.append((t + 0.1, f"{_iso(t + 0.1)} srv-ssh sshd[{pid}]: pam_unix(sshd:session): session opened for "
                               f"user {user}(uid=1001) by (uid=0)"))
        end = t + rng.uniform(60, 900)
        lines.append((end, f"{_iso(end)} srv-ssh sshd[{pid}]: pam_unix(sshd:session): session closed for user {user}"))
        if rng.random() < 0.5:
            lines.append((t + 30, f"{_iso(t + 30)} srv-ssh CRON[{pid + 7}]: pam_unix(cron:session): session opened"
                                  f" for user root(uid=0) by (uid=0)"))
        t += rng.expovariate(1 / 240)
    return lines


def _benign_access(rng: random.Random, start: float, duration: float, visitors: int) -> list[tuple[float, str]]:
    lines = []
    for _ in range(visitors):
        src = f"{rng.choice(CITIZEN_NETS)}{rng.randint(1, 254)}.{rng.randint(1, 254)}"
        ua = rng.choice(UAS)
        t = start + rng.uniform(0, duration)
        for _ in range(rng.randint(2, 12)):
            page = rng.choice(PAGES)
            status = 200 if rng.random() > 0.05 else rng.choice([304, 404])
            lines.append((t, f'{src} - - [{_clf(t)}] "GET {page} HTTP/1.1" {status} {rng.randint(400, 40000)} '
                             f'"https://portal.cantho.gov.vn/" "{ua}"'))
            t += rng.expovariate(1 / 20)
    return lines


def _write_lines(path: Path, lines: list[tuple[float, str]]) -> int:
    lines.sort(key=lambda x: x[0])
    path.write_text("".join(line + "\n" for _, line in lines), encoding="utf-8")
    return len(lines)


def write_demo(folder: str | Path, *, clients: int = 20, mean_gap: float = 30.0, seed: int = 7,
               visitors: int = 120) -> dict[str, Any]:
    """Write the baseline and attack files; returns their paths and packet/line counts."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    out: dict[str, Any] = {"files": {}, "injected": INJECTED}

    # baseline hour
    w = _Writer()
    _benign_network(w, rng, BASE_TIME, 3600, clients, mean_gap)
    out["files"]["baseline.pcap"] = w.write(folder / "baseline.pcap")
    out["files"]["baseline-auth.log"] = _write_lines(folder / "baseline-auth.log",
                                                     _benign_auth(rng, BASE_TIME, 3600))
    out["files"]["baseline-access.log"] = _write_lines(folder / "baseline-access.log",
                                                       _benign_access(rng, BASE_TIME, 3600, visitors))

    # attack hour: benign mix + injected attacks
    w = _Writer()
    _benign_network(w, rng, ATTACK_TIME, 3000, clients, mean_gap)
    # 1. port scan: SYN probes over 300 ports of the web server in ~30 s
    scanner = INJECTED["port_scan"]["entity"]
    t0 = ATTACK_TIME + 600
    for i, port in enumerate(range(1, 301)):
        w.syn_probe(t0 + i * 0.1, scanner, WEB_SERVER, 40000 + i, port, open_port=port in (22, 80, 443))
    # 4. DNS tunnel: 60 long random labels under one domain, in bursts
    tunnel = INJECTED["dns_tunnel"]["entity"]
    t0 = ATTACK_TIME + 1200
    alphabet = string.ascii_lowercase + "234567"
    for i in range(60):
        label = "".join(rng.choice(alphabet) for _ in range(48))
        w.dns(t0 + i * rng.uniform(0.5, 3), tunnel, f"{label}.{i:03d}.t.exfil-sync.net", 30000 + i)
    # 5. beacon: one short HTTPS session every 60 s (+-1 s) to an external host for 40 minutes
    beacon = INJECTED["beaconing"]["entity"]
    t0 = ATTACK_TIME + 300
    for i in range(40):
        w.tcp_session(t0 + i * 60 + rng.uniform(-1, 1), beacon, "185.220.101.9", 51000 + i, 8443,
                      response_bytes=120, data_packets=1)
    out["files"]["attack.pcap"] = w.write(folder / "attack.pcap")

    # 2. SSH brute force against root from one address, 2 minutes
    auth = _benign_auth(rng, ATTACK_TIME, 3000)
    brute = INJECTED["ssh_brute_force"]["entity"]
    t0 = ATTACK_TIME + 900
    for i in range(45):
        t = t0 + i * 2.5
        user = "root" if i % 9 else "admin"
        prefix = "invalid user " if user == "admin" else ""
        auth.append((t, f"{_iso(t)} srv-ssh sshd[{7000 + i}]: Failed password for {prefix}{user} from {brute} "
                        f"port {50000 + i} ssh2"))
    out["files"]["attack-auth.log"] = _write_lines(folder / "attack-auth.log", auth)

    # 3. web attack: probing requests among normal ones from one address
    access = _benign_access(rng, ATTACK_TIME, 3000, visitors)
    web = INJECTED["web_attack"]["entity"]
    t0 = ATTACK_TIME + 1500
    for i, target in enumerate(ATTACK_REQUESTS):
        t = t0 + i * 4
        status = rng.choice([400, 403, 404, 500])
        access.append((t, f'{web} - - [{_clf(t)}] "GET {target} HTTP/1.1" {status} 312 "-" "sqlmap/1.8"'))
        access.append((t + 1, f'{web} - - [{_clf(t + 1)}] "GET / HTTP/1.1" 200 15320 "-" "sqlmap/1.8"'))
    out["files"]["attack-access.log"] = _write_lines(folder / "attack-access.log", access)
    return out


def demo_inputs(folder: str | Path) -> dict[str, list[Path]]:
    folder = Path(folder)
    return {
        "baseline_pcaps": [folder / "baseline.pcap"],
        "baseline_logs": [folder / "baseline-auth.log", folder / "baseline-access.log"],
        "attack_pcaps": [folder / "attack.pcap"],
        "attack_logs": [folder / "attack-auth.log", folder / "attack-access.log"],
    }
