#!/bin/sh
# Benchmark: Mist's network stack on a TAP device (build/posix-tap/udp-echo)
# against the Linux kernel's stack on a veth pair, in the same invocation.
#
#  (a) ping round trips/s: `ping -f` (flood: as root it sends the next echo
#      as soon as the reply comes) from a namespace's kernel to
#        - Mist:   10.77.0.2 behind mtap0 in namespace mist-bm
#        - kernel: 10.78.0.2 in mist-bk-b, over a veth pair from mist-bk-a
#  (b) UDP echo datagrams/s: bench/net/udp_pingpong (one 64-byte datagram in
#      flight; send, wait for the echo, repeat) against
#        - Mist:   udp-echo on 10.77.0.2:8081
#        - kernel: bench/net/udp_echo_ref (blocking recvfrom/sendto loop) on
#                  10.78.0.2:8081 in mist-bk-b
#
# Everything runs in namespaces made here and deleted on exit; the root
# namespace gets no addresses or routes. Loads are bounded in count and time.
# Needs root, ip, ping (iputils), cc.
#
# Environment: PING_COUNT (20000), UDP_COUNT (50000), UDP_SECS (5),
# ROUNDS (3; each figure is the best of the rounds).
#
# Last line:
# bench: net-echo ping_rps=<mist> ping_rps_kernel=<kernel> ping_ratio=<m/k> \
#        udp_dps=<mist> udp_dps_kernel=<kernel> udp_ratio=<m/k>
set -eu

cd "$(dirname "$0")/.."

PING_COUNT=${PING_COUNT:-20000}
PING_DEADLINE=20
UDP_COUNT=${UDP_COUNT:-50000}
UDP_SECS=${UDP_SECS:-5}
ROUNDS=${ROUNDS:-3}
PORT=8081

NS_M=mist-bm
NS_KA=mist-bk-a
NS_KB=mist-bk-b
MIST_ADDR=10.77.0.2
MIST_PEER=10.77.0.1
K_A=10.78.0.1
K_B=10.78.0.2

if [ "$(id -u)" != 0 ]; then
	echo "net_echo.sh: needs root (namespaces, TAP, flood ping)" >&2
	exit 1
fi

# --- build ------------------------------------------------------------------
make -s build/posix-tap/udp-echo
mkdir -p build/bench
cc -O2 -Wall -Wextra -o build/bench/udp_echo_ref bench/net/udp_echo_ref.c
cc -O2 -Wall -Wextra -o build/bench/udp_pingpong bench/net/udp_pingpong.c

# --- setup and cleanup --------------------------------------------------------
MIST_PID=
REF_PID=
LOG=$(mktemp -d /tmp/mist-net-echo.XXXXXX)

cleanup() {
	set +e
	for p in $MIST_PID $REF_PID; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $MIST_PID $REF_PID; do
		wait "$p" 2>/dev/null
	done
	for ns in $NS_M $NS_KA $NS_KB; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$LOG"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Leftovers of an interrupted earlier run (only our own names).
for ns in $NS_M $NS_KA $NS_KB; do
	ip netns del "$ns" 2>/dev/null || true
done

# Kernel reference: two namespaces joined by a veth pair.
ip netns add $NS_KA
ip netns add $NS_KB
ip -n $NS_KA link add veth-a type veth peer name veth-b netns $NS_KB
ip -n $NS_KA addr add $K_A/24 dev veth-a
ip -n $NS_KB addr add $K_B/24 dev veth-b
ip -n $NS_KA link set lo up
ip -n $NS_KB link set lo up
ip -n $NS_KA link set veth-a up
ip -n $NS_KB link set veth-b up
ip netns exec $NS_KB build/bench/udp_echo_ref $PORT >"$LOG/ref.log" 2>&1 &
REF_PID=$!

# Mist: udp-echo owns mtap0 inside mist-bm; the namespace's kernel is the peer.
ip netns add $NS_M
ip netns exec $NS_M build/posix-tap/udp-echo --tap=mtap0 \
	--ipv4=$MIST_ADDR/24 --port=$PORT >"$LOG/mist.log" 2>&1 &
MIST_PID=$!
i=0
until ip -n $NS_M link show mtap0 >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 50 ] || ! kill -0 $MIST_PID 2>/dev/null; then
		echo "net_echo.sh: mtap0 did not appear" >&2
		cat "$LOG/mist.log" >&2
		exit 1
	fi
	sleep 0.1
done
ip -n $NS_M link set lo up
ip -n $NS_M addr add $MIST_PEER/24 dev mtap0
ip -n $NS_M link set mtap0 up

# Both peers answer before we measure (ARP resolved, processes up).
ip netns exec $NS_KA ping -c 3 -i 0.2 -W 1 -q $K_B >/dev/null ||
	{ echo "net_echo.sh: kernel peer does not answer ping" >&2; exit 1; }
ip netns exec $NS_M ping -c 3 -i 0.2 -W 1 -q $MIST_ADDR >/dev/null ||
	{ echo "net_echo.sh: Mist does not answer ping" >&2; exit 1; }
ip netns exec $NS_KA build/bench/udp_pingpong $K_B $PORT 100 2 >/dev/null ||
	{ echo "net_echo.sh: kernel UDP echo does not answer" >&2; exit 1; }
ip netns exec $NS_M build/bench/udp_pingpong $MIST_ADDR $PORT 100 2 >/dev/null ||
	{ echo "net_echo.sh: Mist UDP echo does not answer" >&2; exit 1; }

echo "net-echo: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), Linux $(uname -r)"

# --- measurements --------------------------------------------------------------
# Each figure is the best of $ROUNDS rounds; within a round the kernel and
# Mist run back to back, so a slow moment of the machine hits both alike.

# flood NS ADDR: sets RPS to round trips/s = replies received / ping's own
# elapsed time (its "time Nms"), and prints ping's summary.
flood() {
	out=$(ip netns exec "$1" ping -f -q -c $PING_COUNT -w $PING_DEADLINE "$2" 2>&1) || true
	stats=$(printf '%s\n' "$out" | grep 'packets transmitted' || true)
	rtt=$(printf '%s\n' "$out" | grep '^rtt' || true)
	RPS=$(printf '%s\n' "$stats" | awk '{
		for (i = 1; i <= NF; i++) {
			if ($(i + 1) == "received,") rx = $i
			if ($i == "time") { t = $(i + 1); sub("ms", "", t) }
		}
		if (t > 0) printf "%.0f\n", rx / (t / 1000); else print 0
	}')
	echo "    $stats; $RPS/s"
	echo "    $rtt"
}

# pingpong NS ADDR: sets DPS to UDP echoes/s and prints the client's line.
pingpong() {
	out=$(ip netns exec "$1" build/bench/udp_pingpong "$2" $PORT $UDP_COUNT $UDP_SECS 64 2>&1) || true
	echo "    $out"
	DPS=$(printf '%s\n' "$out" | sed -n 's/.*dps=\([0-9]*\).*/\1/p' | tail -n 1)
	DPS=${DPS:-0}
}

max() { [ "$1" -ge "$2" ] && echo "$1" || echo "$2"; }

ping_k=0 ping_m=0 udp_k=0 udp_m=0
r=1
while [ $r -le $ROUNDS ]; do
	echo "round $r/$ROUNDS: ping -f -c $PING_COUNT -w $PING_DEADLINE"
	echo "  kernel veth ($NS_KA -> $K_B):"
	flood $NS_KA $K_B;      ping_k=$(max $ping_k $RPS)
	echo "  Mist on TAP ($NS_M -> $MIST_ADDR):"
	flood $NS_M $MIST_ADDR; ping_m=$(max $ping_m $RPS)
	echo "round $r/$ROUNDS: UDP echo, 64-byte datagrams, one in flight, up to $UDP_COUNT or ${UDP_SECS}s"
	echo "  kernel veth ($NS_KA -> $K_B:$PORT, udp_echo_ref):"
	pingpong $NS_KA $K_B;      udp_k=$(max $udp_k $DPS)
	echo "  Mist on TAP ($NS_M -> $MIST_ADDR:$PORT, udp-echo):"
	pingpong $NS_M $MIST_ADDR; udp_m=$(max $udp_m $DPS)
	r=$((r + 1))
done

echo "best of $ROUNDS:"
echo "  ping round trips/s: kernel veth $ping_k, Mist on TAP $ping_m"
echo "  UDP echoes/s:       kernel veth $udp_k, Mist on TAP $udp_m"

ratio() { awk -v m="$1" -v k="$2" 'BEGIN { if (k > 0) printf "%.2f", m / k; else print "0.00" }'; }

# The Mist process must still be alive (a crash would show as timeouts).
if ! kill -0 $MIST_PID 2>/dev/null; then
	echo "net_echo.sh: Mist udp-echo exited during the run:" >&2
	tail -n 20 "$LOG/mist.log" >&2
	exit 1
fi

echo "bench: net-echo ping_rps=$ping_m ping_rps_kernel=$ping_k ping_ratio=$(ratio "$ping_m" "$ping_k") udp_dps=$udp_m udp_dps_kernel=$udp_k udp_ratio=$(ratio "$udp_m" "$udp_k")"
