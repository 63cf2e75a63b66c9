"""The pvh unikernel under QEMU, through scripts/mist-run: hello boots and
exits 0; faults (a NULL write, a stack overflow into a guard page, a smashed
stack canary, an invalid opcode) print a crash report and exit non-zero;
bad boot arguments, the common parser's and the platform's own, exit with
status 2 after saying what was wrong; exit statuses get through the
isa-debug-exit device unchanged; the clocks keep time; the boot time is
reported at debug level.

The accelerator is mist-run's choice (KVM when usable, else TCG);
MIST_QEMU_ACCEL=tcg or =kvm forces one. No network: these images run
without a network card.
"""
import re
import tempfile
import time

import pytest

from conftest import BUILD, Pvh

TIMEOUT = 60

# Status of a crash report (platform/pvh/pvh_internal.h: PVH_EXIT_CRASH).
EXIT_CRASH = 70


def boot(image, *boot_args, machine="microvm"):
    """Boots build/pvh/<image> until it exits; returns (exit status, console
    output and the runner's messages)."""
    with tempfile.TemporaryDirectory() as workdir, \
            Pvh(BUILD / "pvh" / image, workdir, [f"--machine={machine}", f"--timeout={TIMEOUT}"],
                boot_args) as vm:
        vm.wait_exit(TIMEOUT + 10)
        return vm.returncode, vm.log()


@pytest.mark.parametrize("machine", ["microvm", "q35"])
def test_hello_prints_and_exits_0(machine):
    status, out = boot("hello", machine=machine)
    assert status == 0, out
    # Not anchored at the start: on q35, SeaBIOS's banner ends without a newline.
    assert len(re.findall(r"\[ *\d+\.\d{6}\] app: hello$", out, re.M)) == 3, out


def test_null_write_reports_a_page_fault_at_address_0():
    status, out = boot("test-crash", "--crash=null")
    assert status == EXIT_CRASH, out
    assert "pvh: crash: vector 14 (page fault), error code 0x2" in out, out
    assert re.search(r"cr2 0x0{16}\b", out), out
    assert "NULL pointer dereference" in out, out
    assert re.search(r"backtrace: 0x[0-9a-f]+( 0x[0-9a-f]+)+", out), out


def test_stack_overflow_hits_the_guard_page():
    status, out = boot("test-crash", "--crash=stack")
    assert status == EXIT_CRASH, out
    assert "pvh: crash: vector 14 (page fault)" in out, out
    m = re.search(r"stack overflow: 0x([0-9a-f]+) is in the guard page under a stack", out)
    assert m, out
    cr2 = re.search(r"cr2 0x([0-9a-f]{16})", out)
    assert cr2 and int(cr2.group(1), 16) == int(m.group(1), 16), out


def test_smashed_canary_is_caught_by_the_stack_protector():
    status, out = boot("test-crash", "--crash=smash")
    assert status == EXIT_CRASH, out
    assert "pvh: crash: stack smashing detected" in out, out
    assert "backtrace:" in out, out


def test_invalid_opcode_is_reported():
    status, out = boot("test-crash", "--crash=ud2")
    assert status == EXIT_CRASH, out
    assert "pvh: crash: vector 6 (invalid opcode)" in out, out


def test_unknown_flag_exits_2_with_usage():
    status, out = boot("hello", "--bogus=1")
    assert status == 2, out
    assert "args: error: --bogus: unknown flag" in out, out
    assert "usage: mist [--name=value ...]" in out, out
    assert "app: hello" not in out, out


def test_bad_value_exits_2_naming_the_word():
    status, out = boot("hello", "--ipv4=10.0.0.300/24")
    assert status == 2, out
    assert "--ipv4=10.0.0.300/24: expected ADDR/PREFIX" in out, out


def test_malformed_platform_word_exits_2():
    status, out = boot("hello", "virtio_mmio.device=oops")
    assert status == 2, out
    assert ("pvh: error: virtio_mmio.device=oops: expected "
            "virtio_mmio.device=<size>@<base>:<irq>") in out, out


@pytest.mark.parametrize("status", [0, 1, 42, 126])
def test_exit_status_gets_through(status):
    got, out = boot("test-crash", f"--exit={status}")
    assert got == status, out
    assert f"exiting with status {status}" in out, out


def test_statuses_above_126_arrive_as_126():
    got, out = boot("test-crash", "--exit=200")
    assert got == 126, out


def test_clocks_keep_time():
    start = time.monotonic()
    status, out = boot("test-idle", "--seconds=2")
    elapsed = time.monotonic() - start
    assert status == 0, out
    slept = re.search(r"app: slept (\d+) ms", out)
    assert slept, out
    assert 2000 <= int(slept.group(1)) < 2500, out
    assert elapsed >= 2.0, out
    wall = re.search(r"app: wallclock (\d+)", out)
    assert wall, out
    assert abs(int(wall.group(1)) - time.time()) < 60, out


def test_boot_time_is_reported_at_debug_level():
    status, out = boot("hello", "--log=info,pvh=debug")
    assert status == 0, out
    m = re.search(r"pvh: boot: PVH entry to mist_boot (\d+) us, to first idle "
                  r"\(mist_main done\) (\d+) us", out)
    assert m, out
    assert 0 < int(m.group(1)) <= int(m.group(2)), out
    assert re.search(r"pvh: TSC \d+ kHz \(.+\), LAPIC timer (TSC-deadline|one-shot)", out), out
