"""Property tests of the pcap reader: random and mutated captures never raise, and every frame is
either a packet or a counted skip."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from security import pcap
from security.records import ParseStats

DATA = Path(__file__).parents[1] / "data" / "security"
CAPTURES = [DATA / "small.pcap", DATA / "small.pcapng", DATA / "truncated.pcap", DATA / "corrupt.pcap"]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
LINKTYPES = [pcap.LINK_ETHERNET, pcap.LINK_SLL, *pcap.LINK_RAW, 0, 12345]


def _dropped(stats: ParseStats) -> int:
    """Frames skipped; ``fragment`` is a note on packets that are still returned (first fragments)."""
    return stats.bad - stats.skipped["fragment"]


@FAST
@given(frame=st.binary(max_size=200), linktype=st.sampled_from(LINKTYPES),
       wirelen=st.one_of(st.none(), st.integers(0, 70000)))
def test_fuzz_pcap_parse_of_random_frames_never_raises_and_counts_once(frame, linktype, wirelen):
    stats = ParseStats("fuzz")
    pkt = pcap.parse(frame, 1.0, linktype, stats, wirelen)
    assert (pkt is None) == (_dropped(stats) == 1)
    assert _dropped(stats) <= 1


@FAST
@given(data=st.data())
def test_fuzz_pcap_parse_of_mutated_real_frames_never_raises(data):
    stats = ParseStats("seed")
    frames: list[bytes] = []
    from scapy.utils import RawPcapReader

    for raw, _meta in RawPcapReader(str(DATA / "small.pcap")):
        frames.append(bytes(raw))
    frame = bytearray(data.draw(st.sampled_from(frames)))
    for pos, byte in data.draw(st.lists(st.tuples(st.integers(0, max(len(frame) - 1, 0)), st.integers(0, 255)),
                                        max_size=8)):
        if frame:
            frame[pos] = byte
    cut = data.draw(st.integers(0, len(frame)))
    pkt = pcap.parse(bytes(frame[:cut]), 2.0, pcap.LINK_ETHERNET, stats)
    assert (pkt is None) == (_dropped(stats) == 1)


@FAST
@given(data=st.data())
def test_fuzz_pcap_read_of_mutated_captures_never_raises(tmp_path_factory, data):
    source = data.draw(st.sampled_from(CAPTURES))
    raw = source.read_bytes()
    mode = data.draw(st.sampled_from(["flip", "truncate", "insert", "random"]))
    if mode == "random":
        raw = data.draw(st.binary(max_size=600))
    elif mode == "truncate":
        raw = raw[:data.draw(st.integers(0, len(raw)))]
    else:
        for pos, chunk in data.draw(st.lists(st.tuples(st.integers(0, len(raw)), st.binary(min_size=1, max_size=8)),
                                             min_size=1, max_size=6)):
            raw = raw[:pos] + chunk + raw[pos + (len(chunk) if mode == "flip" else 0):]
    path = tmp_path_factory.mktemp("fz") / f"mutated{source.suffix}"
    path.write_bytes(raw)
    stats = ParseStats(str(path))
    packets = list(pcap.read(path, stats))
    assert len(packets) == stats.records
    if stats.errors:
        assert not packets  # a file that is not a capture yields nothing
