"""build/posix-socket/sock_api (tests/sock/sock_api.c): the flow and UDP API
over the host's sockets, exercised by a Mist program against itself, in a
namespace made for it: the program at MIST_IP on a veth pair whose other
end holds PEER_IP, so that another address of the subnet is on-link but
absent (connect past its deadline) and 10.99.0.0/16 has no route
(unreachable). The program prints one line per scenario; each becomes a
test here, and a last one checks the exit and the teardown.
"""
import re
import subprocess

import pytest

from conftest import BUILD, MIST_IP, PREFIX, Netns, add_veth_pair, built

PROGRAM = BUILD / "posix-socket" / "sock_api"
SCENARIOS = [
    "listen_checks_its_arguments",
    "write_writev_write_buf_echo_intact",
    "shutdown_write_gives_eof_and_reading_goes_on",
    "abort_reaches_peer_as_reset",
    "read_deadline_passes_and_the_flow_goes_on",
    "connect_refused_unreachable_and_late",
    "unlisten_refuses_new_connections",
    "options_reach_the_socket",
    "udp_ports_echo_errors_and_deadline",
]


@pytest.fixture(scope="module")
def sock_api_run():
    """Runs the program once for the module; returns (stdout, stderr, status),
    the status "hung" when it had not ended after 30 s."""
    built(PROGRAM)
    with Netns() as ns:
        add_veth_pair(ns)
        try:
            r = ns.run([str(PROGRAM), f"--ipv4={MIST_IP}/{PREFIX}"], check=False, timeout=30)
            yield r.stdout, r.stderr, r.returncode
        except subprocess.TimeoutExpired as e:
            out, err = (x.decode() if isinstance(x, bytes) else x or "" for x in (e.stdout, e.stderr))
            yield out, err, "hung"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(sock_api_run, scenario):
    out, err, _ = sock_api_run
    line = next((l for l in out.splitlines() if l.split(" ", 2)[1:2] == [f"{scenario}:"]
                 or l == f"ok {scenario}"), None)
    assert line is not None, f"no line for {scenario}:\n{out}\n{err[-2000:]}"
    assert line == f"ok {scenario}", line


def test_every_scenario_ran_and_teardown_found_every_buffer(sock_api_run):
    out, err, status = sock_api_run
    ran = [m.group(1) for m in re.finditer(r"^(?:ok|FAIL) ([a-z_0-9]+)", out, re.MULTILINE)]
    assert ran == SCENARIOS, out
    assert status == 0, f"exit status {status}\n{err[-2000:]}"
    # The program closed everything: the loop ended by itself and the
    # stack's teardown printed the counters with every buffer back.
    assert "stats: sock.accepted=" in err, err[-2000:]
    assert "buffers still in use" not in err, err[-2000:]
