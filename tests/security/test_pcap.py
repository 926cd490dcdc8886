"""pcap/pcapng fast path: real fixture captures, corrupt ones, and fuzzed frames."""

from __future__ import annotations

import struct
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from security import pcap
from security.demo import dns_message, frame, tcp, udp
from security.records import ParseStats

DATA = Path(__file__).parent.parent / "data" / "security"


def test_pcap_reads_classic_and_pcapng_alike():
    for name in ("small.pcap", "small.pcapng"):
        stats = ParseStats(name)
        pkts = list(pcap.read(DATA / name, stats))
        assert stats.records == len(pkts) == 11
        assert stats.skipped["non_ip"] == 1  # the ARP frame
        assert stats.skipped["fragment"] == 2
        assert stats.skipped["truncated"] == 1  # frame cut inside its IP header
        http = [p.http for p in pkts if p.http]
        assert http == [("GET", "/tin-tuc?id=1%27%20OR%20%271%27=%271")]
        assert [p.dns_query for p in pkts if p.dns_query] == ["portal.cantho.gov.vn", "dichvucong.gov.vn"]
        assert pkts[-1].src == "fd00::5" and pkts[-1].dport == 53
        assert abs(pkts[0].ts - 1_763_600_000.0) < 1e-3


def test_pcap_truncated_and_corrupt_files_are_counted_not_raised():
    stats = ParseStats("t")
    assert len(list(pcap.read(DATA / "truncated.pcap", stats))) == 11
    assert stats.skipped["truncated"] >= 1
    stats = ParseStats("c")
    pkts = list(pcap.read(DATA / "corrupt.pcap", stats))
    assert len(pkts) == 4 and stats.bad >= 1


def test_pcap_wrong_magic_is_an_error_in_stats():
    stats = ParseStats("w")
    assert list(pcap.read(DATA / "wrong_magic.pcap", stats)) == []
    assert stats.errors and "not a readable pcap" in stats.errors[0]


def test_pcap_parses_tcp_flags_ports_and_lengths():
    data = frame("10.1.1.1", "10.1.1.2", 6, tcp(1234, 22, "SA"))
    p = pcap.parse(data, 5.0)
    assert (p.src, p.dst, p.sport, p.dport, p.flags & 0x12, p.length) == ("10.1.1.1", "10.1.1.2", 1234, 22, 0x12,
                                                                           len(data))


def test_pcap_dns_qname_ignores_responses():
    q = dns_message(1, "a.b.vn")
    assert pcap.dns_qname(q) == "a.b.vn"
    assert pcap.dns_qname(dns_message(1, "a.b.vn", response=True)) is None
    assert pcap.parse(frame("1.1.1.1", "2.2.2.2", 17, udp(999, 53, q))).dns_query == "a.b.vn"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200), st.sampled_from([0, 1, 101, 113, 276, 228, 229, 999]))
def test_pcap_parse_never_raises_on_random_frames(data, linktype):
    stats = ParseStats("fuzz")
    out = pcap.parse(data, 0.0, linktype, stats)
    assert out is None or isinstance(out, pcap.Packet)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=60), st.integers(0, 60))
def test_pcap_parse_never_raises_on_mangled_real_frames(noise, cut):
    base = frame("10.0.0.1", "10.0.0.2", 17, udp(5000, 53, dns_message(3, "x.y.vn")))
    data = base[:14 + cut] + noise
    pcap.parse(data, 0.0, 1, ParseStats("fuzz"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=0, max_size=400))
def test_pcap_read_never_raises_on_garbage_after_a_valid_header(tmp_path, body):
    path = tmp_path / "g.pcap"
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) + body)
    stats = ParseStats("g")
    for p in pcap.read(path, stats):
        assert isinstance(p, pcap.Packet)
