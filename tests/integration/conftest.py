"""Fixtures for the integration tests: a Mist program on a TAP device in a
network namespace of its own, with the Linux kernel's stack as its peer.

Everything happens inside namespaces named mist-it-<pid>-<n>, which are
always deleted afterwards. The root namespace gets no addresses or routes;
traffic goes only to the program's address inside its namespace.
"""
import ctypes
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The build directory: make passes its BUILD as MIST_BUILD.
UDP_ECHO = ROOT / os.environ.get("MIST_BUILD", "build") / "posix-tap" / "udp-echo"
HERE = Path(__file__).resolve().parent

TAP = "mtap0"
MIST_IP = "10.77.0.2"
PEER_IP = "10.77.0.1"
PREFIX = 24
MIST_MAC = "02:4d:49:53:54:02"

NS_PREFIX = f"mist-it-{os.getpid()}-"
_ns_counter = 0

STAT_RE = re.compile(r"stats: ([a-z0-9_]+\.[a-z0-9_]+)=(\d+)\s*$")


def _die_with_parent():
    """preexec_fn: SIGTERM the child if pytest dies (PR_SET_PDEATHSIG)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)


def _skip_reason():
    if os.geteuid() != 0:
        return "integration tests need root (network namespaces, TAP devices)"
    if not os.path.exists("/dev/net/tun"):
        return "integration tests need /dev/net/tun"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _skip_reason()
    if reason is None:
        return
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.skip(reason=reason))


def _netns_list():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def cleanup_stale_namespaces():
    """Deletes every namespace this process made (mist-it-<our pid>-*), and
    those left by an earlier run whose process is gone (killed pytest)."""
    for ns in _netns_list():
        m = re.fullmatch(r"mist-it-(\d+)-\d+", ns)
        if ns.startswith(NS_PREFIX) or (m and not os.path.exists(f"/proc/{m.group(1)}")):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def parse_stats(text):
    stats = {}
    for line in text.splitlines():
        m = STAT_RE.search(line)
        if m:
            stats[m.group(1)] = int(m.group(2))
    return stats


class Netns:
    """A fresh network namespace; run() executes a command inside it."""

    def __init__(self):
        global _ns_counter
        _ns_counter += 1
        self.name = f"{NS_PREFIX}{_ns_counter}"
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        # No IPv6 in the namespace: the kernel's router solicitations and MLD
        # reports would only add noise to the counters.
        self.run(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                  "net.ipv6.conf.default.disable_ipv6=1"], check=False)
        self.run(["ip", "link", "set", "lo", "up"])

    def cmd(self, argv):
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, argv, timeout=20, check=True, **kw):
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        r = subprocess.run(self.cmd(argv), timeout=timeout, **kw)
        if check and r.returncode != 0:
            raise AssertionError(
                f"{argv} exited {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def python(self, code, *args, timeout=20, check=True, input=None):
        """Runs Debian's python3 with `code` inside the namespace."""
        return self.run(["/usr/bin/python3", "-c", code, *args], timeout=timeout,
                        check=check, input=input)

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


class UdpEcho:
    """build/posix-tap/udp-echo on TAP mtap0 in its own namespace, the kernel
    side addressed PEER_IP. stop() ends it with SIGTERM and returns its
    counters as a dict {"layer.name": value}."""

    def __init__(self, workdir):
        if not UDP_ECHO.exists():
            pytest.fail(f"{UDP_ECHO} missing: run `make build/posix-tap/udp-echo` first")
        self.workdir = Path(workdir)
        self.pcap = self.workdir / "udp-echo.pcap"
        self.stderr_path = self.workdir / "udp-echo.stderr"
        self.ns = Netns()
        self.proc = None
        self.stats = None
        self.stderr = ""
        self.returncode = None
        self.peer_mac = None
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self):
        self._stderr_file = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(
            self.ns.cmd([str(UDP_ECHO), f"--tap={TAP}", f"--ipv4={MIST_IP}/{PREFIX}",
                         f"--mac={MIST_MAC}", f"--pcap={self.pcap}"]),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr_file,
            preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 5
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"udp-echo exited {self.proc.returncode} at start:\n"
                    f"{self.stderr_path.read_text()}")
            if self.ns.run(["ip", "link", "show", TAP], check=False).returncode == 0:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"TAP {TAP} did not appear within 5 s")
            time.sleep(0.02)
        self.ns.run(["ip", "addr", "add", f"{PEER_IP}/{PREFIX}", "dev", TAP])
        self.ns.run(["ip", "link", "set", TAP, "up"])
        info = json.loads(self.ns.run(["ip", "-j", "link", "show", TAP]).stdout)
        self.peer_mac = info[0]["address"]

    def run(self, argv, **kw):
        return self.ns.run(argv, **kw)

    def python(self, code, *args, **kw):
        return self.ns.python(code, *args, **kw)

    def send_frames(self, frames, pause_every=0, timeout=20):
        """Sends raw frames (bytes) on the kernel side of the TAP; returns, per
        frame, the bytes sent or the kernel's error."""
        r = self.ns.run(["/usr/bin/python3", str(HERE / "scapy_send.py"), TAP,
                         str(pause_every)],
                        input=json.dumps([f.hex() for f in frames]), timeout=timeout)
        return json.loads(r.stdout)

    @property
    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10):
        """SIGTERM, wait, parse the counters. Idempotent."""
        if self.stats is not None:
            return self.stats
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.returncode = self.proc.returncode
            self._stderr_file.close()
            self.stderr = self.stderr_path.read_text()
        self.stats = parse_stats(self.stderr)
        return self.stats

    def close(self):
        try:
            self.stop()
        finally:
            self.ns.delete()


@pytest.fixture(scope="session", autouse=True)
def _clean_namespaces():
    cleanup_stale_namespaces()
    try:
        yield
    finally:
        cleanup_stale_namespaces()


@pytest.fixture(scope="module")
def udp_echo(tmp_path_factory):
    """udp-echo running in its namespace for the whole module."""
    echo = UdpEcho(tmp_path_factory.mktemp("udp-echo"))
    try:
        yield echo
    finally:
        echo.close()


@pytest.fixture
def netns():
    """A fresh, empty namespace (lo up) for one test."""
    ns = Netns()
    try:
        yield ns
    finally:
        ns.delete()
