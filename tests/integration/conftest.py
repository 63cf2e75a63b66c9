"""Fixtures and launchers for the integration tests: Mist programs with the
Linux kernel's stack as their peer, each in a network namespace of its own.

Program starts a Mist program in the background, logs its output to a
file, waits for a log line or any other condition, stops it with SIGTERM
and reads the counters it prints then ("stats: layer.name=value"). Its
subclasses are the ways of placing one on a network: PosixTap (the program
owns a TAP device, the namespace's kernel addresses the other side),
PosixSocket (the program uses the namespace's kernel sockets on a veth
pair) and Pvh (the unikernel under scripts/mist-run, on a TAP device or on
QEMU's user networking).

Everything happens inside namespaces named mist-it-<pid>-<n>, which are
always deleted afterwards. The root namespace gets no addresses or routes;
traffic goes only to the program's address inside its namespace (QEMU's
user networking forwards a port of 127.0.0.1 only).
"""
import contextlib
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
BUILD = ROOT / os.environ.get("MIST_BUILD", "build")
MIST_RUN = ROOT / "scripts" / "mist-run"
HERE = Path(__file__).resolve().parent

TAP = "mtap0"
MIST_IP = "10.77.0.2"
PEER_IP = "10.77.0.1"
PREFIX = 24
MIST_MAC = "02:4d:49:53:54:02"

NS_PREFIX = f"mist-it-{os.getpid()}-"
_ns_counter = 0

STAT_RE = re.compile(r"stats: ([a-z0-9_]+\.[a-z0-9_]+)=(\d+)\s*$")


def die_with_parent():
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


def built(path):
    """`path`, failing the test if make has not built it."""
    if not path.exists():
        pytest.fail(f"{path} missing: run `make check-integration` or "
                    f"`make {path.relative_to(ROOT)}` first")
    return path


class Netns:
    """A fresh network namespace; run() executes a command inside it. Used
    as a context manager, leaving the block deletes it."""

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

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.delete()

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


def add_veth_pair(ns):
    """Gives `ns` a veth pair, PEER_IP/PREFIX on one end and MIST_IP/PREFIX
    on the other, both up: a posix-socket program binds MIST_IP and its
    peers connect from PEER_IP, over the namespace's loopback."""
    ns.run(["ip", "link", "add", "mist-peer", "type", "veth", "peer", "name", "mist-app"])
    ns.run(["ip", "addr", "add", f"{PEER_IP}/{PREFIX}", "dev", "mist-peer"])
    ns.run(["ip", "addr", "add", f"{MIST_IP}/{PREFIX}", "dev", "mist-app"])
    for dev in ("mist-peer", "mist-app"):
        ns.run(["ip", "link", "set", dev, "up"])


class Program:
    """A Mist program running in the background, its stdout and stderr in
    <workdir>/<name>.log. It runs in the namespace self.ns (None: the root
    namespace), which the subclass that places it sets; run() and python()
    start clients there. Used as a context manager, leaving the block
    stops the program and deletes the namespace if it was made for it."""

    start_timeout = 5   # seconds to come up: the TAP device, the ready line

    def __init__(self, path, workdir):
        self.name = built(path).name
        self.workdir = Path(workdir)
        self.log_path = self.workdir / f"{self.name}.log"
        self.ns = None
        self._owns_ns = False
        self.proc = None
        self.returncode = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _own_ns(self, ns):
        """Runs the program in `ns`, made for it: close() deletes it."""
        self.ns, self._owns_ns = ns, True

    @contextlib.contextmanager
    def _closed_on_error(self):
        """For a subclass's constructor: a half-started program is closed."""
        try:
            yield
        except BaseException:
            self.close()
            raise

    def _start(self, argv):
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                self.ns.cmd(argv) if self.ns is not None else argv,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent)

    def log(self):
        """All the program has written so far (a serial console's \\r\\n as \\n)."""
        return self.log_path.read_text(errors="replace").replace("\r\n", "\n")

    @property
    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_for(self, cond, what, timeout):
        """Polls cond() until it returns something true, and returns that;
        fails if the program exits or `timeout` seconds pass first."""
        deadline = time.monotonic() + timeout
        while True:
            # Whether it had exited before cond() looked: then the log is whole.
            exited = self.proc.poll() is not None
            found = cond()
            if found:
                return found
            if exited:
                raise AssertionError(f"{self.name} exited {self.proc.returncode} before "
                                     f"{what}:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} after {timeout} s:\n{self.log()[-3000:]}")
            time.sleep(0.02)

    def wait_log(self, pattern, count=1, timeout=10):
        """Waits until `pattern` (a regex) matches `count` log lines; returns
        the matches, as re.findall() gives them."""
        def enough():
            found = re.findall(pattern, self.log(), re.MULTILINE)
            return found if len(found) >= count else None
        return self.wait_for(enough, f"{count} line(s) matching {pattern!r} in "
                             f"{self.name}'s log", timeout)

    def wait_exit(self, timeout):
        """Waits for the program to end by itself; returns its counters."""
        self.proc.wait(timeout=timeout)
        return self.stop()

    def stop(self, timeout=10):
        """SIGTERM (SIGKILL after `timeout` s) unless it has exited; sets
        returncode and returns the counters as a dict {"layer.name": value}.
        Idempotent."""
        if self.proc is None:
            return {}
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.returncode = self.proc.returncode
        return parse_stats(self.log())

    def close(self):
        try:
            self.stop()
        finally:
            if self._owns_ns:
                self.ns.delete()

    def run(self, argv, **kw):
        return self.ns.run(argv, **kw)

    def python(self, code, *args, **kw):
        return self.ns.python(code, *args, **kw)


class PosixTap(Program):
    """build/posix-tap/<program> with `args`, in `ns` or a fresh namespace
    of its own. It owns TAP mtap0 at MIST_IP/PREFIX and MIST_MAC; once the
    TAP appears, the kernel's side of it gets PEER_IP/PREFIX (its MAC is
    peer_mac) and is brought up. With `ready`, the constructor also waits for a
    log line matching that regex."""

    def __init__(self, path, workdir, args=(), ns=None, ready=None):
        super().__init__(path, workdir)
        with self._closed_on_error():
            if ns is None:
                self._own_ns(Netns())
            else:
                self.ns = ns
            self._start([str(path), f"--tap={TAP}", f"--ipv4={MIST_IP}/{PREFIX}",
                         f"--mac={MIST_MAC}", *args])
            self.wait_for(lambda: self.run(["ip", "link", "show", TAP],
                                           check=False).returncode == 0,
                          f"TAP {TAP}", self.start_timeout)
            self.run(["ip", "addr", "add", f"{PEER_IP}/{PREFIX}", "dev", TAP])
            self.run(["ip", "link", "set", TAP, "up"])
            link = json.loads(self.run(["ip", "-j", "link", "show", TAP]).stdout)
            self.peer_mac = link[0]["address"]
            if ready is not None:
                self.wait_log(ready, timeout=self.start_timeout)

    def send_frames(self, frames, pause_every=0, timeout=20):
        """Sends raw frames (bytes) on the kernel side of the TAP; returns, per
        frame, the bytes sent or the kernel's error."""
        r = self.run(["/usr/bin/python3", str(HERE / "scapy_send.py"), TAP, str(pause_every)],
                     input=json.dumps([f.hex() for f in frames]), timeout=timeout)
        return json.loads(r.stdout)


class PosixSocket(Program):
    """build/posix-socket/<program> with `args`, bound to MIST_IP/PREFIX, in
    a fresh namespace of its own given add_veth_pair(). With `ready`, the
    constructor also waits for a log line matching that regex."""

    def __init__(self, path, workdir, args=(), ready=None):
        super().__init__(path, workdir)
        with self._closed_on_error():
            self._own_ns(Netns())
            add_veth_pair(self.ns)
            self._start([str(path), f"--ipv4={MIST_IP}/{PREFIX}", *args])
            if ready is not None:
                self.wait_log(ready, timeout=self.start_timeout)


class Pvh(Program):
    """build/pvh/<image> under scripts/mist-run, which takes `runner_args`
    (machine, MAC, forwarded ports, ...) and boots the image with
    `boot_args`. With tap_peer="ADDR/PREFIX" it runs in a fresh namespace
    whose TAP mtap0, made beforehand with that address and up, QEMU opens
    (--tap); without, in the root namespace (user networking, or no network
    card). With `ready`, the constructor also waits for a console line
    matching that regex. The runner picks KVM or TCG (MIST_QEMU_ACCEL=tcg
    forces TCG)."""

    start_timeout = 60  # TCG on a loaded machine is slow

    def __init__(self, path, workdir, runner_args=(), boot_args=(), tap_peer=None, ready=None):
        super().__init__(path, workdir)
        with self._closed_on_error():
            runner_args = list(runner_args)
            if tap_peer is not None:
                self._own_ns(Netns())
                self.run(["ip", "tuntap", "add", "dev", TAP, "mode", "tap"])
                self.run(["ip", "addr", "add", tap_peer, "dev", TAP])
                self.run(["ip", "link", "set", TAP, "up"])
                runner_args.append(f"--tap={TAP}")
            self._start([str(MIST_RUN), *runner_args, str(path), "--", *boot_args])
            if ready is not None:
                self.wait_log(ready, timeout=self.start_timeout)


@pytest.fixture(scope="session", autouse=True)
def _clean_namespaces():
    cleanup_stale_namespaces()
    try:
        yield
    finally:
        cleanup_stale_namespaces()


@pytest.fixture
def netns():
    """A fresh, empty namespace (lo up) for one test."""
    with Netns() as ns:
        yield ns
