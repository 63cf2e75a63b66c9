"""build/posix-tap/udp-echo against the Linux kernel's stack, in a network
namespace: ping, ARP, UDP echo (also fragmented), ICMP port unreachable,
scapy-crafted bad frames and the counters that must show each drop.

The tests share one udp-echo process (module fixture) and run in file
order; the last tests stop it and check its counters and its pcap.
"""
import random
import subprocess

import pytest
from scapy.all import ARP, ICMP, IP, UDP, Dot1Q, Ether, Raw

from conftest import BUILD, MIST_IP, MIST_MAC, PEER_IP, TAP, PosixTap

UDP_ECHO = BUILD / "posix-tap" / "udp-echo"
ECHO_PORT = 8081
PCAP = "udp-echo.pcap"   # in the program's workdir


@pytest.fixture(scope="module")
def udp_echo(tmp_path_factory):
    """udp-echo on its TAP for the whole module, writing a pcap."""
    workdir = tmp_path_factory.mktemp("udp-echo")
    with PosixTap(UDP_ECHO, workdir, [f"--pcap={workdir / PCAP}"]) as echo:
        yield echo


def ping(echo, size, count=2):
    r = echo.run(["ping", "-n", "-c", str(count), "-i", "0.2", "-W", "2", "-s", str(size),
                  MIST_IP], check=False, timeout=15)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f" {count} received" in r.stdout, r.stdout
    # ping prints the ICMP length: payload + 8-byte header.
    assert f"{size + 8} bytes from {MIST_IP}" in r.stdout, r.stdout
    return r


# --- well-formed traffic ------------------------------------------------------------

@pytest.mark.parametrize("size", [56, 1472, 8000])
def test_ping(udp_echo, size):
    ping(udp_echo, size)


def test_arping_replies_with_our_mac(udp_echo):
    r = udp_echo.run(["arping", "-c", "2", "-w", "4", "-i", TAP, MIST_IP], check=False,
                     timeout=10)
    assert r.returncode == 0, r.stdout + r.stderr
    assert MIST_MAC in r.stdout.lower(), r.stdout


def test_udp_echo_line_with_socat(udp_echo):
    line = "hello from the kernel side\n"
    r = udp_echo.run(["socat", "-t", "2", "-T", "3", "-", f"UDP:{MIST_IP}:{ECHO_PORT}"],
                     input=line, check=False, timeout=10)
    assert r.returncode == 0, r.stderr
    assert r.stdout == line


UDP_BIG = r"""
import os, socket, sys
size, port, dst = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
data = os.urandom(size)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((dst, port))
for attempt in range(3):
    s.send(data)
    try:
        got = s.recv(70000)
        break
    except socket.timeout:
        continue
else:
    sys.exit("no reply")
if got != data:
    sys.exit(f"reply differs: {len(got)} bytes back for {len(data)}, "
             f"first difference at {next((i for i, (a, b) in enumerate(zip(got, data)) if a != b), min(len(got), len(data)))}")
print("ok", len(got))
"""


def test_udp_echo_20000_bytes_fragmented(udp_echo):
    r = udp_echo.python(UDP_BIG, "20000", str(ECHO_PORT), MIST_IP, check=False, timeout=15)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == "ok 20000"


UDP_CLOSED = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((sys.argv[1], int(sys.argv[2])))
s.send(b"anyone?")
try:
    s.recv(100)
    print("reply")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
"""


def test_udp_closed_port_port_unreachable(udp_echo):
    r = udp_echo.python(UDP_CLOSED, MIST_IP, "9", timeout=10)
    assert r.stdout.strip() == "refused"


# --- bad frames ---------------------------------------------------------------------

def _eth(echo, dst=MIST_MAC):
    return Ether(src=echo.peer_mac, dst=dst)


def _ip(**kw):
    kw.setdefault("src", PEER_IP)
    kw.setdefault("dst", MIST_IP)
    return IP(**kw)


def _corrupt_l4_checksum(frame, field):
    """Frame with the UDP/ICMP checksum of a correct packet changed."""
    raw = bytearray(bytes(frame))
    off = 14 + 20 + field
    good = (raw[off] << 8) | raw[off + 1]
    bad = good ^ 0x0101
    raw[off], raw[off + 1] = bad >> 8, bad & 0xff
    return bytes(raw)


def bad_frames(echo):
    """name -> (list of frames, counter it must raise)."""
    f = {}
    echo_req = ICMP(type=8, id=0x4d49, seq=1) / Raw(b"x" * 32)

    f["truncated_ether"] = (bytes(_eth(echo))[:10], "ether.drop_short")
    f["truncated_ipv4_header"] = (
        bytes(_eth(echo) / _ip() / echo_req)[:14 + 12], "ipv4.drop_truncated")
    f["ipv4_bad_header_checksum"] = (
        bytes(_eth(echo) / _ip(chksum=0x1234) / echo_req), "ipv4.drop_bad_checksum")
    f["ipv4_total_length_past_frame"] = (
        bytes(_eth(echo) / _ip(len=400) / echo_req), "ipv4.drop_truncated")
    f["udp_bad_checksum"] = (
        _corrupt_l4_checksum(_eth(echo) / _ip() / UDP(sport=40000, dport=ECHO_PORT) /
                             Raw(b"bad checksum"), 6), "udp.drop_bad_checksum")
    f["icmp_bad_checksum"] = (
        _corrupt_l4_checksum(_eth(echo) / _ip() / echo_req, 2), "icmp.drop_bad_checksum")
    f["ttl_zero"] = (bytes(_eth(echo) / _ip(ttl=0) / echo_req), "ipv4.drop_ttl_zero")
    arp = bytearray(bytes(_eth(echo, "ff:ff:ff:ff:ff:ff") /
                          ARP(op=1, hwsrc=echo.peer_mac, psrc=PEER_IP, pdst=MIST_IP)))
    arp[14 + 4] = 5  # hardware address length 5
    f["arp_bad_hardware_length"] = (bytes(arp), "arp.drop_malformed")
    # RFC 5227 2.4: another host announcing our address is a conflict, logged and counted.
    f["arp_claims_our_address"] = (
        bytes(_eth(echo, "ff:ff:ff:ff:ff:ff") /
              ARP(op=1, hwsrc="02:00:00:00:00:77", psrc=MIST_IP, pdst=MIST_IP)), "arp.conflict")
    f["vlan_tagged"] = (bytes(_eth(echo) / Dot1Q(vlan=7) / _ip() / echo_req), "ether.drop_vlan")
    f["other_mac"] = (bytes(_eth(echo, "02:00:00:00:00:99") / _ip() / echo_req),
                      "ether.drop_not_for_us")
    # Overlapping fragments of one datagram: bytes 0-15, then 8-23.
    frag_a = bytes(_eth(echo) / _ip(id=0x7001, proto=17, flags="MF", frag=0) / Raw(b"A" * 16))
    frag_b = bytes(_eth(echo) / _ip(id=0x7001, proto=17, flags="MF", frag=1) / Raw(b"B" * 16))
    f["overlapping_fragments"] = ([frag_a, frag_b], "ipv4.reass_drop_overlap")
    return {name: (v[0] if isinstance(v[0], list) else [v[0]], v[1]) for name, v in f.items()}


# Which test sent which frame, and what the kernel said, for the counter check.
SENT = {}


def test_bad_frames_are_dropped_and_stack_still_answers(udp_echo):
    frames = bad_frames(udp_echo)
    for name, (parts, counter) in frames.items():
        SENT[name] = (udp_echo.send_frames(parts), counter)
    assert udp_echo.alive, udp_echo.log()
    # The kernel refuses frames shorter than an Ethernet header on an Ethernet device
    # (dev_validate_header: EINVAL), so the short frame cannot reach the TAP this way.
    assert isinstance(SENT["truncated_ether"][0][0], str)
    for name, (results, _) in SENT.items():
        if name != "truncated_ether":
            assert all(isinstance(n, int) and n > 0 for n in results), (name, results)
    ping(udp_echo, 56)
    ping(udp_echo, 8000)


FLOOD_FRAGMENTS = 2000
FLOOD_SOURCES = [f"10.77.0.{i}" for i in range(100, 106)]


def test_fragment_flood_is_bounded(udp_echo):
    """2,000 fragments with distinct IDs from 6 sources, none ever completing
    (offset 8, more fragments set): the reassembly slots and the per-source
    limit must hold, and fresh datagrams must still get through."""
    rnd = random.Random(1234)
    frames = []
    for i in range(FLOOD_FRAGMENTS):
        src = FLOOD_SOURCES[i % len(FLOOD_SOURCES)]
        frames.append(bytes(_eth(udp_echo) /
                            _ip(src=src, id=(i * 7 + 1) & 0xffff, proto=17, flags="MF",
                                frag=1) / Raw(bytes(rnd.getrandbits(8) for _ in range(8)))))
    results = udp_echo.send_frames(frames, pause_every=50, timeout=30)
    assert sum(isinstance(n, int) for n in results) == FLOOD_FRAGMENTS
    assert udp_echo.alive, udp_echo.log()
    # A fresh fragmented datagram from the peer still gets through.
    ping(udp_echo, 8000)
    r = udp_echo.python(UDP_BIG, "20000", str(ECHO_PORT), MIST_IP, check=False, timeout=15)
    assert r.returncode == 0, r.stdout + r.stderr


# --- after the process ends -----------------------------------------------------------

def test_counters_after_sigterm(udp_echo):
    stats = udp_echo.stop()
    assert udp_echo.returncode == 0, udp_echo.log()
    assert stats, f"no counters printed:\n{udp_echo.log()}"
    # Counters every test above must have raised.
    expected = {
        "ipv4.drop_truncated", "ipv4.drop_bad_checksum", "udp.drop_bad_checksum",
        "icmp.drop_bad_checksum", "ipv4.reass_drop_overlap", "ipv4.reass_drop_limit",
        "ipv4.drop_ttl_zero", "arp.drop_malformed", "ether.drop_vlan", "ether.drop_not_for_us",
        "icmp.tx_echo_reply", "arp.tx_reply", "udp.delivered", "udp.tx", "udp.drop_no_port",
        "icmp.tx_error", "ipv4.frag_rx", "ipv4.frag_tx", "ipv4.reassembled",
    }
    low = {name: stats.get(name) for name in sorted(expected) if not stats.get(name, 0) >= 1}
    assert not low, f"counters not raised: {low}\n{udp_echo.log()}"
    # The bad frames are the only source of these drops (the kernel never sends such
    # frames), so each must be counted exactly once: not twice, not under another name.
    exact = {"ipv4.drop_truncated": 2, "ipv4.drop_bad_checksum": 1, "udp.drop_bad_checksum": 1,
             "icmp.drop_bad_checksum": 1, "ipv4.reass_drop_overlap": 1, "ipv4.drop_ttl_zero": 1,
             "arp.drop_malformed": 1, "arp.conflict": 1, "ether.drop_vlan": 1,
             "ipv4.drop_bad_header": 0,
             "ipv4.drop_bad_version": 0, "ipv4.reass_drop_invalid": 0, "udp.drop_malformed": 0,
             "icmp.drop_malformed": 0}
    wrong = {k: (stats.get(k), v) for k, v in exact.items() if stats.get(k) != v}
    assert not wrong, f"(got, expected): {wrong}\n{udp_echo.log()}"
    assert "address conflict: 02:00:00:00:00:77 claims 10.77.0.2" in udp_echo.log()
    # Fragment flood: every fragment beyond the slots is refused (per-source limit or
    # eviction), so at least FLOOD_FRAGMENTS - 16 slots were counted as limited.
    assert stats["ipv4.reass_drop_limit"] >= FLOOD_FRAGMENTS // 2, stats


def test_pcap_shows_icmp_and_udp(udp_echo):
    udp_echo.stop()
    r = subprocess.run(["tcpdump", "-r", str(udp_echo.workdir / PCAP), "-nn"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert f"{PEER_IP} > {MIST_IP}: ICMP echo request" in out
    assert f"{MIST_IP} > {PEER_IP}: ICMP echo reply" in out
    assert f"> {MIST_IP}.{ECHO_PORT}: UDP" in out
    assert f"{MIST_IP}.{ECHO_PORT} > {PEER_IP}." in out
    assert f"{MIST_IP} > {PEER_IP}: ICMP {MIST_IP} udp port 9 unreachable" in out


# --- arguments ----------------------------------------------------------------------

def test_ipv4_without_prefix_exits_2(netns):
    r = netns.run([str(UDP_ECHO), "--tap=x", "--ipv4=10.0.0.1"], check=False, timeout=10)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "--ipv4" in r.stderr, r.stderr
