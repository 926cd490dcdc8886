# ruff: noqa: E501 - log and request lines are fixture data, kept whole
"""Regenerates the small capture and log fixtures in this folder (run from the repo root).

    .venv/bin/python tests/data/security/make_fixtures.py
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from security.demo import dns_message, frame, tcp, udp

HERE = Path(__file__).parent
T0 = 1_763_600_000.0  # 2025-11-20 00:53:20 UTC


def frames() -> list[tuple[float, bytes]]:
    from scapy.layers.inet import IP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import ARP, Ether

    out = [
        (T0, frame("10.0.0.5", "10.0.0.80", 6, tcp(40000, 80, "S"))),
        (T0 + 0.01, frame("10.0.0.80", "10.0.0.5", 6, tcp(80, 40000, "SA"))),
        (T0 + 0.02, frame("10.0.0.5", "10.0.0.80", 6, tcp(40000, 80, "A"))),
        (T0 + 0.03, frame("10.0.0.5", "10.0.0.80", 6,
                          tcp(40000, 80, "PA", b"GET /tin-tuc?id=1%27%20OR%20%271%27=%271 HTTP/1.1\r\nHost: a\r\n\r\n"))),
        (T0 + 0.05, frame("10.0.0.80", "10.0.0.5", 6, tcp(80, 40000, "FA"))),
        (T0 + 0.06, frame("10.0.0.5", "10.0.0.80", 6, tcp(40000, 80, "FA"))),
        (T0 + 1, frame("10.0.0.5", "10.0.0.53", 17, udp(5353 + 1, 53, dns_message(7, "portal.cantho.gov.vn")))),
        (T0 + 1.01, frame("10.0.0.53", "10.0.0.5", 17, udp(53, 5354, dns_message(7, "portal.cantho.gov.vn", True)))),
        (T0 + 2, bytes(Ether() / ARP(psrc="10.0.0.5", pdst="10.0.0.1"))),  # not IP
        (T0 + 3, bytes(Ether() / IP(src="10.0.0.6", dst="10.0.0.7", flags="MF", frag=0) / UDP(sport=1, dport=2)
                       / (b"a" * 40))),  # first fragment
        (T0 + 3.01, bytes(Ether() / IP(src="10.0.0.6", dst="10.0.0.7", frag=6, proto=17) / (b"b" * 20))),
        (T0 + 4, bytes(Ether() / IPv6(src="fd00::5", dst="fd00::53") / UDP(sport=5000, dport=53)
                       / dns_message(9, "dichvucong.gov.vn"))),
        (T0 + 5, frame("10.0.0.5", "10.0.0.80", 6, tcp(40001, 80, "S"))[:30]),  # cut inside the IP header
    ]
    return out


def write_pcap(path: Path, items: list[tuple[float, bytes]]) -> None:
    from scapy.utils import RawPcapWriter

    with RawPcapWriter(str(path), linktype=1, sync=False) as w:
        w.write_header(None)
        for ts, data in items:
            sec = int(ts)
            w.write_packet(data, sec=sec, usec=int((ts - sec) * 1e6), caplen=len(data), wirelen=len(data))


def main() -> None:
    from scapy.layers.l2 import Ether
    from scapy.utils import PcapNgWriter

    items = frames()
    write_pcap(HERE / "small.pcap", items)
    with PcapNgWriter(str(HERE / "small.pcapng")) as w:
        for ts, data in items:
            pkt = Ether(data)
            pkt.time = ts
            w.write(pkt)
    whole = (HERE / "small.pcap").read_bytes()
    (HERE / "truncated.pcap").write_bytes(whole[:-40])  # last record header cut short
    corrupt = bytearray(whole)
    # make the 5th record header claim an absurd length: the reader must stop, not crash
    off = 24
    for _ in range(4):
        caplen = struct.unpack_from("<I", corrupt, off + 8)[0]
        off += 16 + caplen
    struct.pack_into("<I", corrupt, off + 8, 0x7FFFFFF0)
    (HERE / "corrupt.pcap").write_bytes(bytes(corrupt))
    (HERE / "wrong_magic.pcap").write_bytes(b"GIF89a" + whole[6:200])

    auth = [
        "2025-11-20T07:00:01.120+07:00 srv-ssh sshd[811]: Accepted password for quantri from 10.0.2.5 port 50122 ssh2",
        "2025-11-20T07:00:02.000+07:00 srv-ssh sshd[812]: Failed password for root from 203.0.113.9 port 4022 ssh2",
        "2025-11-20T07:00:03.000+07:00 srv-ssh sshd[812]: Failed password for invalid user admin from 203.0.113.9 port 4023 ssh2",
        "2025-11-20T07:00:04.000+07:00 srv-ssh sshd[813]: Invalid user oracle from 203.0.113.9 port 4024",
        "Nov 20 07:00:05 srv-ssh sshd[814]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9  user=root",
        "Nov 20 07:00:06 srv-ssh CRON[900]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
        "Nov 20 07:00:07 srv-ssh kernel: [12345.678] eth0: link up, 1000 Mbps",
        "this line is not syslog at all",
        "\x00\x01\x02binary\x00junk\xff\xfe",
        "",
    ]
    (HERE / "auth.log").write_text("\n".join(auth) + "\n", encoding="utf-8", errors="surrogateescape")
    access = [
        '14.161.5.20 - - [20/Nov/2025:07:01:00 +0700] "GET /tin-tuc/ngap-ung-quan-ninh-kieu HTTP/1.1" 200 5120 "-" "Mozilla/5.0"',
        '192.0.2.45 - - [20/Nov/2025:07:01:02 +0700] "GET /tim-kiem?q=1%20UNION%20SELECT%20pass%20FROM%20users HTTP/1.1" 500 312 "-" "sqlmap/1.8"',
        '192.0.2.45 - - [20/Nov/2025:07:01:03 +0700] "GET /static/../../../etc/passwd HTTP/1.1" 404 0 "-" "sqlmap/1.8"',
        '27.72.1.2 - - [20/Nov/2025:07:01:04 +0700] "POST /gop-y/phan-anh-hien-truong HTTP/2.0" 201 - "https://portal.cantho.gov.vn/" "Zalo/24.11"',
        '27.72.1.2 - - [not a date] "GET / HTTP/1.1" 200 10 "-" "-"',
    ]
    (HERE / "access.log").write_text("\n".join(access) + "\n", encoding="utf-8")
    conn = [
        "#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", "#path\tconn",
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\torig_pkts\tresp_pkts",
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tcount\tcount",
        "1763600000.100000\tC1\t10.0.0.5\t40000\t10.0.0.80\t80\ttcp\thttp\t0.05\t120\t5120\tSF\t5\t4",
        "1763600001.100000\tC2\t203.0.113.9\t41000\t10.0.0.80\t22\ttcp\t-\t-\t-\t-\tS0\t1\t0",
        "1763600002.1\tC3\ttoo\tfew\tcolumns",
        "#close\t2025-11-20-01-00-00",
    ]
    (HERE / "conn.log").write_text("\n".join(conn) + "\n", encoding="utf-8")
    dns = [
        {"ts": 1763600003.5, "uid": "D1", "id.orig_h": "10.0.0.5", "id.orig_p": 5354, "id.resp_h": "10.0.0.53",
         "id.resp_p": 53, "proto": "udp", "query": "portal.cantho.gov.vn", "qtype_name": "A", "rcode_name": "NOERROR"},
        {"ts": "2025-11-20T00:53:24.000000Z", "uid": "D2", "id.orig_h": "10.0.0.9", "id.orig_p": 5400,
         "id.resp_h": "10.0.0.53", "id.resp_p": 53, "proto": "udp",
         "query": "mfrggzdfmztwq2lknnwg23tpoa.x.exfil-sync.net", "qtype_name": "TXT"},
    ]
    (HERE / "dns.log").write_text("\n".join(json.dumps(d) for d in dns) + "\n{broken json\n", encoding="utf-8")
    (HERE / "conn.csv").write_text(
        "timestamp,src_ip,src_port,dst_ip,dst_port,protocol,duration,src_bytes,dst_bytes,state\n"
        "1763600000,10.0.0.5,40000,10.0.0.80,443,tcp,1.5,800,12000,SF\n"
        "2025-11-20T00:53:21Z,10.0.0.6,40001,10.0.0.80,8080,TCP,0,60,0,S0\n"
        ",,,,,,,,,\n", encoding="utf-8")


if __name__ == "__main__":
    main()
