"""Path MTU discovery (RFC 1191) through a real router: the Linux kernel of
Mist's namespace forwards between the TAP device and a veth link to a client
namespace whose router end has MTU 1280. The client's own end keeps 1500, so
it offers MSS 1460 and Mist's full-sized segments, sent with DF, reach a hop
they do not fit: the kernel drops them and answers with ICMP "fragmentation
needed", next-hop MTU 1280. Without path MTU discovery the download stalls
until the user timeout; with it, Mist shrinks its segments and the whole
stream arrives, checked by SHA-256.
"""
import subprocess

from conftest import BUILD, MIST_IP, PEER_IP, Netns, PosixTap
from test_tcp import BULK_PORT, file_sha256, pattern_sha256, wait_line

BULK = BUILD / "posix-tap" / "bulk"

DOWNLOAD_BYTES = 4 << 20
ROUTER_IP = "10.78.0.1"   # the router's end of the small link
CLIENT_IP = "10.78.0.2"
SMALL_MTU = 1280
BOUND = 30                # seconds: far below the 120 s a black hole would take


def test_download_across_a_smaller_mtu_hop(tmp_path):
    with Netns() as client, PosixTap(BULK, tmp_path,
                                     ["--mode=source", f"--bytes={DOWNLOAD_BYTES}",
                                      f"--ipv4-gateway={PEER_IP}"]) as app:
        router = app.ns
        router.run(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        router.run(["ip", "link", "add", "mist-r", "mtu", str(SMALL_MTU), "type", "veth",
                    "peer", "name", "mist-c", "netns", client.name])
        router.run(["ip", "addr", "add", f"{ROUTER_IP}/24", "dev", "mist-r"])
        router.run(["ip", "link", "set", "mist-r", "up"])
        client.run(["ip", "addr", "add", f"{CLIENT_IP}/24", "dev", "mist-c"])
        client.run(["ip", "link", "set", "mist-c", "up"])
        client.run(["ip", "route", "add", "default", "via", ROUTER_IP])

        out = tmp_path / "download"
        with open(out, "wb") as f:
            r = subprocess.run(client.cmd(["nc", "-d", "-w", str(BOUND), MIST_IP,
                                           str(BULK_PORT)]),
                               timeout=BOUND + 5, stdout=f, stderr=subprocess.PIPE, text=True)
        assert r.returncode == 0, r.stderr
        sha = pattern_sha256(DOWNLOAD_BYTES)
        assert out.stat().st_size == DOWNLOAD_BYTES
        assert file_sha256(out) == sha
        line = wait_line(app, lambda m: m[1] == "source" and m[2] == CLIENT_IP, 10)
        assert line[7] == sha

        # The router did send "fragmentation needed", and Mist's TCP took it.
        snmp = router.run(["cat", "/proc/net/snmp"]).stdout.splitlines()
        icmp = dict(zip(*(l.split()[1:] for l in snmp if l.startswith("Icmp:"))))
        assert int(icmp["OutDestUnreachs"]) > 0, icmp
        stats = app.stop()
        assert stats.get("tcp.icmp_errors", 0) > 0, stats
