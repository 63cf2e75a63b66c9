#!/bin/sh
# Benchmark: UDP echo of the pvh unikernel (build/pvh/udp-echo under QEMU,
# virtio-net on a TAP device) against the same application as a Linux
# process on a TAP device (build/posix-tap/udp-echo), in the same invocation.
#
#   - pvh microvm: virtio-mmio transport, 10.79.0.2 behind mtap0 in mist-bpv
#   - pvh q35:     virtio-pci transport,  10.79.0.2 behind mtap0 in mist-bpq
#   - posix-tap:   10.77.0.2 behind mtap0 in mist-bpp
#
# The client is bench/net/udp_pingpong (one datagram in flight: send, wait
# for the echo, repeat), run by the namespace's kernel, for 64-byte and
# 1472-byte datagrams (the second fills a 1500-byte frame).
#
# Everything runs in namespaces made here and deleted on exit; the root
# namespace gets no addresses or routes. Needs root, ip, qemu-system-x86_64
# and cc. scripts/mist-run boots the images: KVM when it is usable, else TCG
# (MIST_QEMU_ACCEL=kvm|tcg overrides).
#
# Environment: UDP_COUNT (50000), UDP_SECS (5), ROUNDS (3; each figure is the
# best of the rounds), BUILD (build).
#
# Last line:
# bench: pvh-net udp64_dps_microvm=<n> udp64_dps_q35=<n> udp64_dps_posix=<n>
#        udp64_ratio_microvm=<m/p> udp1472_dps_microvm=<n> ... udp1472_ratio_microvm=<m/p>
set -eu

cd "$(dirname "$0")/.."

UDP_COUNT=${UDP_COUNT:-50000}
UDP_SECS=${UDP_SECS:-5}
ROUNDS=${ROUNDS:-3}
BUILD=${BUILD:-build}
PORT=8081
TAP=mtap0

NS_V=mist-bpv
NS_Q=mist-bpq
NS_P=mist-bpp
PVH_ADDR=10.79.0.2
PVH_PEER=10.79.0.1
POSIX_ADDR=10.77.0.2
POSIX_PEER=10.77.0.1

if [ "$(id -u)" != 0 ]; then
	echo "pvh_net.sh: needs root (namespaces, TAP devices)" >&2
	exit 1
fi

# --- build ------------------------------------------------------------------
make -s BUILD="$BUILD" "$BUILD/posix-tap/udp-echo" "$BUILD/pvh/udp-echo"
mkdir -p "$BUILD/bench"
cc -O2 -Wall -Wextra -o "$BUILD/bench/udp_pingpong" bench/net/udp_pingpong.c

# --- setup and cleanup --------------------------------------------------------
PIDS=
LOG=$(mktemp -d /tmp/mist-pvh-net.XXXXXX)

cleanup() {
	set +e
	for p in $PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null
	done
	for ns in $NS_V $NS_Q $NS_P; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$LOG"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Leftovers of an interrupted earlier run (only our own names).
for ns in $NS_V $NS_Q $NS_P; do
	ip netns del "$ns" 2>/dev/null || true
done

# tap_ns NS PEER: a namespace with lo up and a TAP whose kernel side is PEER/24.
tap_ns() {
	ip netns add "$1"
	ip -n "$1" link set lo up
	ip -n "$1" tuntap add dev $TAP mode tap
	ip -n "$1" addr add "$2/24" dev $TAP
	ip -n "$1" link set $TAP up
}

# boot_pvh NS MACHINE: udp-echo under QEMU (scripts/mist-run) in NS, on the namespace's TAP.
boot_pvh() {
	ip netns exec "$1" scripts/mist-run --machine="$2" --tap=$TAP "$BUILD/pvh/udp-echo" \
		-- --ipv4=$PVH_ADDR/24 >"$LOG/$2.log" 2>&1 </dev/null &
	PIDS="$PIDS $!"
}

tap_ns $NS_V $PVH_PEER
boot_pvh $NS_V microvm
tap_ns $NS_Q $PVH_PEER
boot_pvh $NS_Q q35

# posix-tap: udp-echo creates mtap0 itself; the kernel side is set up once it exists.
ip netns add $NS_P
ip -n $NS_P link set lo up
ip netns exec $NS_P "$BUILD/posix-tap/udp-echo" --tap=$TAP --ipv4=$POSIX_ADDR/24 \
	--port=$PORT >"$LOG/posix.log" 2>&1 &
PIDS="$PIDS $!"
i=0
until ip -n $NS_P link show $TAP >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 50 ]; then
		echo "pvh_net.sh: $TAP did not appear for posix-tap" >&2
		cat "$LOG/posix.log" >&2
		exit 1
	fi
	sleep 0.1
done
ip -n $NS_P addr add $POSIX_PEER/24 dev $TAP
ip -n $NS_P link set $TAP up

# wait_echo NS ADDR NAME: until the UDP echo answers (boot included), 60 s at most.
wait_echo() {
	i=0
	until ip netns exec "$1" "$BUILD/bench/udp_pingpong" "$2" $PORT 3 1 >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 60 ]; then
			echo "pvh_net.sh: $3 does not answer" >&2
			cat "$LOG/$3.log" >&2
			exit 1
		fi
	done
}
wait_echo $NS_V $PVH_ADDR microvm
wait_echo $NS_Q $PVH_ADDR q35
wait_echo $NS_P $POSIX_ADDR posix

ACCEL=$(scripts/mist-run --dry-run "$BUILD/pvh/udp-echo" | sed -n 's/.*-accel \([a-z]*\).*/\1/p')
echo "pvh-net: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), Linux $(uname -r), QEMU accel $ACCEL"

# --- measurements --------------------------------------------------------------
# pingpong NS ADDR SIZE: sets DPS to UDP echoes/s and prints the client's line.
pingpong() {
	out=$(ip netns exec "$1" "$BUILD/bench/udp_pingpong" "$2" $PORT $UDP_COUNT $UDP_SECS "$3" 2>&1) || true
	echo "    $out"
	DPS=$(printf '%s\n' "$out" | sed -n 's/.*dps=\([0-9]*\).*/\1/p' | tail -n 1)
	DPS=${DPS:-0}
}

max() { [ "$1" -ge "$2" ] && echo "$1" || echo "$2"; }
ratio() { awk -v m="$1" -v k="$2" 'BEGIN { if (k > 0) printf "%.2f", m / k; else print "0.00" }'; }

RESULT=
for size in 64 1472; do
	v=0 q=0 p=0
	r=1
	while [ $r -le "$ROUNDS" ]; do
		echo "round $r/$ROUNDS: UDP echo, $size-byte datagrams, one in flight, up to $UDP_COUNT or ${UDP_SECS}s"
		echo "  posix-tap ($NS_P -> $POSIX_ADDR:$PORT):"
		pingpong $NS_P $POSIX_ADDR $size; p=$(max $p "$DPS")
		echo "  pvh microvm, virtio-mmio ($NS_V -> $PVH_ADDR:$PORT):"
		pingpong $NS_V $PVH_ADDR $size; v=$(max $v "$DPS")
		echo "  pvh q35, virtio-pci ($NS_Q -> $PVH_ADDR:$PORT):"
		pingpong $NS_Q $PVH_ADDR $size; q=$(max $q "$DPS")
		r=$((r + 1))
	done
	echo "best of $ROUNDS, $size bytes: posix-tap $p/s, pvh microvm $v/s, pvh q35 $q/s"
	RESULT="$RESULT udp${size}_dps_microvm=$v udp${size}_dps_q35=$q udp${size}_dps_posix=$p"
	RESULT="$RESULT udp${size}_ratio_microvm=$(ratio "$v" "$p") udp${size}_ratio_q35=$(ratio "$q" "$p")"
done

for p in $PIDS; do
	if ! kill -0 "$p" 2>/dev/null; then
		echo "pvh_net.sh: an echo server exited during the run:" >&2
		tail -n 20 "$LOG"/*.log >&2
		exit 1
	fi
done

echo "bench: pvh-net$RESULT"
