"""The TAP device's offloads (IFF_VNET_HDR, TUNSETOFFLOAD): with them Mist
sends TCP super-frames that the kernel segments and receives the kernel's
unsegmented ones, with checksums left to the other side. Each transfer runs
with --tap-offload=on and =off, is checked byte for byte (SHA-256), and the
path taken is shown twice: by the kernel's own counters for the TAP (a
super-frame counts as one packet, so bytes per packet exceed the 1514-byte
Ethernet frame only with offloads) and by the device's counters that Mist
prints at exit (tap.rx_gso, tap.tx_gso). Also: the fault-injecting device
on top with bit corruption (which must turn transmit offloads off, or the
kernel would complete a checksum over corrupted data and accept it), a pcap
capture holding super-frames, and a bad --tap-offload value.
"""
import json
import struct
import subprocess

import pytest

from conftest import MIST_IP, TAP, PosixTap
from test_tcp import BULK, BULK_PORT, ECHO, MB, TRANSFER_BOUND, echo_through_socat, file_sha256, \
    pattern_sha256, run_in

ECHO_BYTES = 50 * MB
DOWNLOAD_BYTES = 50 * MB
CORRUPT_ECHO_BYTES = 20 * MB
CORRUPT_BOUND = 120
ETHER_FRAME_MAX = 1514      # a 1500-byte IP MTU plus the Ethernet header
PCAP_GLOBAL_HDR = 24
PCAP_RECORD_HDR = 16


def kernel_link_stats(app):
    """The kernel's counters for the TAP: (frames it received from Mist, bytes),
    (frames it sent to Mist, bytes)."""
    info = json.loads(app.ns.run(["ip", "-j", "-s", "link", "show", TAP]).stdout)
    s = info[0]["stats64"]
    return (s["rx"]["packets"], s["rx"]["bytes"]), (s["tx"]["packets"], s["tx"]["bytes"])


def bytes_per_frame(counts):
    packets, nbytes = counts
    assert packets > 0
    return nbytes / packets


@pytest.fixture(params=["on", "off"])
def offload(request):
    return request.param


def test_echo_50mb_byte_exact_and_offloads_used(offload, tmp_path):
    """50 MB both ways through echo: the kernel sends to Mist, Mist sends it back."""
    app = PosixTap(ECHO, tmp_path, [f"--tap-offload={offload}"])
    try:
        echo_through_socat(app, tmp_path, ECHO_BYTES, TRANSFER_BOUND)
        from_mist, to_mist = kernel_link_stats(app)
        stats = app.stop()
    finally:
        app.close()
    assert app.returncode == 0, app.log()[-3000:]
    if offload == "on":
        assert bytes_per_frame(from_mist) > 4 * ETHER_FRAME_MAX, from_mist
        assert bytes_per_frame(to_mist) > 4 * ETHER_FRAME_MAX, to_mist
        assert stats["tap.tx_gso"] > 0, stats
        assert stats["tap.rx_gso"] > 0, stats
        assert stats["tap.rx_csum_trusted"] > 0, stats
    else:
        assert bytes_per_frame(from_mist) <= ETHER_FRAME_MAX, from_mist
        assert bytes_per_frame(to_mist) <= ETHER_FRAME_MAX, to_mist
        for name in ("tap.tx_gso", "tap.rx_gso", "tap.rx_csum_trusted"):
            assert stats[name] == 0, (name, stats)
    for name in ("tap.tx_bad_offload", "tap.tx_oversized", "tap.rx_too_long",
                 "tcp.drop_bad_checksum", "ipv4.drop_bad_checksum"):
        assert stats[name] == 0, (name, stats)


def test_download_50mb_byte_exact_and_offloads_used(offload, tmp_path):
    """50 MB from bulk's source to nc: Mist sends, the kernel only ACKs."""
    app = PosixTap(BULK, tmp_path, ["--mode=source", f"--bytes={DOWNLOAD_BYTES}",
                                   f"--tap-offload={offload}"])
    out = tmp_path / "download"
    try:
        with open(out, "wb") as f:
            r = run_in(app.ns, ["nc", "-d", "-w", str(TRANSFER_BOUND), MIST_IP, str(BULK_PORT)],
                       timeout=TRANSFER_BOUND, stdout=f, stderr=subprocess.PIPE, text=True)
        from_mist, _ = kernel_link_stats(app)
        stats = app.stop()
    finally:
        app.close()
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size == DOWNLOAD_BYTES
    assert file_sha256(out) == pattern_sha256(DOWNLOAD_BYTES)
    if offload == "on":
        assert bytes_per_frame(from_mist) > 4 * ETHER_FRAME_MAX, from_mist
        # A super-frame carries whole segments: far fewer frames than 1448-byte segments.
        assert 0 < stats["tap.tx_gso"] < DOWNLOAD_BYTES // 1448 // 4, stats
    else:
        assert bytes_per_frame(from_mist) <= ETHER_FRAME_MAX, from_mist
        assert stats["tap.tx_gso"] == 0, stats


def test_corruption_with_offloads_is_caught(tmp_path):
    """With --fault corrupting frames both ways, transmit offloads are off (the
    stack computes checksums, so the kernel drops what was corrupted) and a
    corrupted received frame loses the device's checksum mark, so Mist checks
    it: the echo still comes back byte-exact, and both sides saw bad checksums."""
    app = PosixTap(ECHO, tmp_path, ["--fault=corrupt=1%", "--tap-offload=on"])
    try:
        echo_through_socat(app, tmp_path, CORRUPT_ECHO_BYTES, CORRUPT_BOUND)
        stats = app.stop()
    finally:
        app.close()
    assert app.returncode == 0, app.log()[-3000:]
    assert stats["fault.tx_corrupted"] > 0, stats
    assert stats["fault.rx_corrupted"] > 0, stats
    assert stats["tap.tx_gso"] == 0, stats   # offered no TSO to the stack
    assert stats["tap.rx_gso"] > 0, stats    # the kernel still sends super-frames
    assert stats["tcp.drop_bad_checksum"] > 0, stats


def test_pcap_holds_super_frames(tmp_path):
    """A capture records super-frames whole, within the 65535-byte snaplen."""
    pcap = tmp_path / "offload.pcap"
    app = PosixTap(BULK, tmp_path, ["--mode=source", f"--bytes={8 * MB}", f"--pcap={pcap}"])
    try:
        r = run_in(app.ns, ["nc", "-d", "-w", str(TRANSFER_BOUND), MIST_IP, str(BULK_PORT)],
                   timeout=TRANSFER_BOUND, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   text=True)
        app.stop()
    finally:
        app.close()
    assert r.returncode == 0, r.stderr
    data = pcap.read_bytes()
    snaplen = struct.unpack_from("<I", data, 16)[0]
    longest, off = 0, PCAP_GLOBAL_HDR
    while off < len(data):
        _, _, incl, orig = struct.unpack_from("<IIII", data, off)
        assert incl == orig, (incl, orig)
        longest = max(longest, orig)
        off += PCAP_RECORD_HDR + incl
    assert off == len(data)
    assert ETHER_FRAME_MAX < longest <= snaplen, longest


def test_bad_tap_offload_value_exits_2(netns):
    r = netns.run([str(ECHO), f"--tap={TAP}", f"--ipv4={MIST_IP}/24", "--tap-offload=maybe"],
                  check=False, timeout=10)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "--tap-offload=maybe: expected on or off" in r.stderr, r.stderr
