#!/bin/sh
# Benchmark: TCP throughput of the pvh unikernel (QEMU, virtio-net on a TAP
# device) against the same application as a Linux process on a TAP device
# (posix-tap), in the same invocation, with the namespace's kernel as the
# peer in both:
#
#  (a) kernel -> Mist: bench/net/tcp_bulk send into bulk --no-hash (sink);
#      the figure is the sender's, from connect until bulk has closed after
#      reading everything;
#  (b) Mist -> kernel: bulk --mode=source --peer=... --bytes=BULK_BYTES
#      --no-hash into tcp_bulk sink; the figure is the sink's, from accept
#      until the FIN;
#  (c) echo: tcp_bulk echo sends ECHO_BYTES to echo and reads them back at
#      the same time, checking each byte; the figure is ECHO_BYTES over the
#      whole exchange (one direction's worth).
#
# The pvh images run in namespace mist-bptv, the posix-tap programs in
# mist-bptp; each holds a persistent TAP mtap0 whose kernel side is
# 10.81.0.1/24, Mist being 10.81.0.2. The sink and echo servers boot once
# per part; bulk source boots once per round (it exits after its
# transfer), its boot not being timed. Each round measures pvh and
# posix-tap back to back; each figure is the best of the rounds, and the
# ratios are pvh / posix-tap. Under TCG the pvh figures say more about
# QEMU's instruction translation than about Mist.
#
# Everything runs in the namespaces made here and deleted on exit; the
# root namespace gets no addresses or routes. Needs root, ip, ping, ss,
# qemu-system-x86_64, cc. scripts/mist-run boots the images: KVM when it is
# usable, else TCG (MIST_QEMU_ACCEL=kvm|tcg overrides); the accelerator is
# in the last line.
#
# Environment: BULK_BYTES (256M; k, M, G suffixes), ECHO_BYTES (128M),
# ROUNDS (3), MACHINE (microvm, or q35), BUILD (build).
#
# Last line:
# bench: pvh-tcp accel=<kvm|tcg> machine=<m> to_mist_mbps=<pvh> to_mist_mbps_posix=<p>
#        to_mist_ratio=<pvh/p> from_mist_mbps=... from_mist_mbps_posix=... from_mist_ratio=...
#        echo_mbps=... echo_mbps_posix=... echo_ratio=...
set -eu

cd "$(dirname "$0")/.."

BULK_BYTES=${BULK_BYTES:-256M}
ECHO_BYTES=${ECHO_BYTES:-128M}
ROUNDS=${ROUNDS:-3}
MACHINE=${MACHINE:-microvm}
BUILD=${BUILD:-build}
TRANSFER_TIMEOUT=60 # seconds one transfer may take before the run fails
BOOT_TIMEOUT=60     # seconds a server may take to answer ping

ECHO_PORT=8081 # echo's default
SINK_PORT=8082 # bulk's default
KERNEL_PORT=8083
TAP=mtap0

NS_V=mist-bptv
NS_P=mist-bptp
MIST_ADDR=10.81.0.2
KERNEL_ADDR=10.81.0.1
POSIX_MAC=02:4d:49:53:54:02

if [ "$(id -u)" != 0 ]; then
	echo "pvh_tcp.sh: needs root (namespaces, TAP devices)" >&2
	exit 1
fi

# --- build ------------------------------------------------------------------
make -s BUILD="$BUILD" "$BUILD/pvh/bulk" "$BUILD/pvh/echo" "$BUILD/posix-tap/bulk" \
	"$BUILD/posix-tap/echo"
mkdir -p "$BUILD/bench"
cc -O2 -Wall -Wextra -o "$BUILD/bench/tcp_bulk" bench/net/tcp_bulk.c
TCP_BULK=$BUILD/bench/tcp_bulk

# --- setup and cleanup --------------------------------------------------------
# The servers running (one per namespace at most), and the kernel sink.
PVH_PID=
POSIX_PID=
SINK_PID=
LOG=$(mktemp -d /tmp/mist-pvh-tcp.XXXXXX)

cleanup() {
	set +e
	for p in $PVH_PID $POSIX_PID $SINK_PID; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $PVH_PID $POSIX_PID $SINK_PID; do
		wait "$p" 2>/dev/null
	done
	for ns in $NS_V $NS_P; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$LOG"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "pvh_tcp.sh: $*" >&2
	exit 1
}

# Leftovers of an interrupted earlier run (only our own names).
for ns in $NS_V $NS_P; do
	ip netns del "$ns" 2>/dev/null || true
done

# Both namespaces alike: lo up and a persistent TAP, addressed once, that
# QEMU or the posix-tap program attaches to in turn.
for ns in $NS_V $NS_P; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip -n "$ns" tuntap add dev $TAP mode tap
	ip -n "$ns" addr add $KERNEL_ADDR/24 dev $TAP
	ip -n "$ns" link set $TAP up
done

# wait_ping NS LOGNAME PID: until Mist answers ping in NS, BOOT_TIMEOUT s at most.
wait_ping() {
	deadline=$(($(date +%s) + BOOT_TIMEOUT))
	until ip netns exec "$1" ping -c 1 -W 1 -q $MIST_ADDR >/dev/null 2>&1; do
		if [ "$(date +%s)" -ge $deadline ] || ! kill -0 "$3" 2>/dev/null; then
			cat "$LOG/$2.log" >&2
			fail "$2 does not answer ping in $1"
		fi
	done
}

# start_pvh APP ARGS...: boots build/pvh/APP in NS_V, logs in $LOG/pvh-APP.log.
start_pvh() {
	app=$1
	shift
	ip netns exec $NS_V scripts/mist-run --machine="$MACHINE" --tap=$TAP "$BUILD/pvh/$app" \
		-- --ipv4=$MIST_ADDR/24 "$@" >"$LOG/pvh-$app.log" 2>&1 </dev/null &
	PVH_PID=$!
	wait_ping $NS_V "pvh-$app" $PVH_PID
}

# start_posix APP ARGS...: runs build/posix-tap/APP in NS_P, logs in $LOG/posix-APP.log.
start_posix() {
	app=$1
	shift
	ip netns exec $NS_P "$BUILD/posix-tap/$app" --tap=$TAP --ipv4=$MIST_ADDR/24 \
		--mac=$POSIX_MAC "$@" >"$LOG/posix-$app.log" 2>&1 </dev/null &
	POSIX_PID=$!
	wait_ping $NS_P "posix-$app" $POSIX_PID
}

# stop_servers: SIGTERM to both (mist-run passes it on to QEMU), then waits.
stop_servers() {
	kill -TERM $PVH_PID $POSIX_PID
	wait $PVH_PID $POSIX_PID || true
	PVH_PID=
	POSIX_PID=
}

# field NAME LINE: the value of NAME=value in LINE.
field() {
	printf '%s\n' "$2" | sed -n "s/.*[ ]$1=\([0-9.]*\).*/\1/p"
}

max() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 >= b + 0) ? a : b }'; }
ratio() { awk -v m="$1" -v k="$2" 'BEGIN { if (k > 0) printf "%.2f", m / k; else print "0.00" }'; }

# client NS ARGS...: runs tcp_bulk ARGS in NS, sets OUT to its line, echoes it.
client() {
	ns=$1
	shift
	OUT=$(timeout $TRANSFER_TIMEOUT ip netns exec "$ns" "$TCP_BULK" "$@") ||
		fail "tcp_bulk $* in $ns failed"
	echo "    $OUT"
}

# kernel_sink NS: starts tcp_bulk sink on KERNEL_PORT in NS, output in $LOG/ksink.
kernel_sink() {
	ip netns exec "$1" "$TCP_BULK" sink $KERNEL_PORT >"$LOG/ksink" 2>&1 &
	SINK_PID=$!
	i=0
	until ip netns exec "$1" ss -ltnH | grep -q ":$KERNEL_PORT "; do
		i=$((i + 1))
		[ $i -le 100 ] || fail "tcp_bulk sink does not listen in $1"
		sleep 0.05
	done
}

# source_round NS LOGNAME COMMAND...: runs bulk source COMMAND in NS into a
# kernel sink there; sets OUT to the sink's line and echoes it and the source's.
source_round() {
	ns=$1
	name=$2
	shift 2
	kernel_sink "$ns"
	status=0
	timeout $TRANSFER_TIMEOUT ip netns exec "$ns" "$@" --ipv4=$MIST_ADDR/24 --mode=source \
		--no-hash --peer=$KERNEL_ADDR:$KERNEL_PORT --bytes="$BULK_BYTES" \
		>"$LOG/$name.log" 2>&1 </dev/null || status=$?
	if [ $status != 0 ]; then
		cat "$LOG/$name.log" >&2
		fail "$name exited $status"
	fi
	wait $SINK_PID || fail "tcp_bulk sink failed: $(cat "$LOG/ksink")"
	SINK_PID=
	OUT=$(cat "$LOG/ksink")
	echo "    $OUT"
	grep -h "bulk: source:" "$LOG/$name.log" | sed 's/^/      /'
}

ACCEL=$(scripts/mist-run --dry-run "$BUILD/pvh/bulk" | sed -n 's/.*-accel \([a-z]*\).*/\1/p')
echo "pvh-tcp: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
	"Linux $(uname -r), QEMU accel $ACCEL, machine $MACHINE"

# --- (a) kernel -> Mist ----------------------------------------------------------
to_v=0 to_p=0
start_pvh bulk --no-hash
start_posix bulk --no-hash
r=1
while [ $r -le "$ROUNDS" ]; do
	echo "round $r/$ROUNDS: kernel -> Mist, $BULK_BYTES bytes into bulk (sink)"
	echo "  posix-tap:"
	client $NS_P send $MIST_ADDR $SINK_PORT "$BULK_BYTES"
	to_p=$(max "$to_p" "$(field mbps "$OUT")")
	echo "  pvh $MACHINE:"
	client $NS_V send $MIST_ADDR $SINK_PORT "$BULK_BYTES"
	to_v=$(max "$to_v" "$(field mbps "$OUT")")
	r=$((r + 1))
done
stop_servers
for app in pvh-bulk posix-bulk; do
	echo "  $app's own lines:"
	grep -h "bulk: sink: from" "$LOG/$app.log" | sed 's/^/    /'
done

# --- (b) Mist -> kernel ----------------------------------------------------------
from_v=0 from_p=0
r=1
while [ $r -le "$ROUNDS" ]; do
	echo "round $r/$ROUNDS: Mist -> kernel, $BULK_BYTES bytes from bulk (source) into tcp_bulk sink"
	echo "  posix-tap:"
	source_round $NS_P posix-source "$BUILD/posix-tap/bulk" --tap=$TAP --mac=$POSIX_MAC
	from_p=$(max "$from_p" "$(field mbps "$OUT")")
	echo "  pvh $MACHINE:"
	source_round $NS_V pvh-source scripts/mist-run --machine="$MACHINE" --tap=$TAP \
		"$BUILD/pvh/bulk" --
	from_v=$(max "$from_v" "$(field mbps "$OUT")")
	r=$((r + 1))
done

# --- (c) echo -----------------------------------------------------------------------
echo_v=0 echo_p=0
start_pvh echo
start_posix echo
r=1
while [ $r -le "$ROUNDS" ]; do
	echo "round $r/$ROUNDS: echo, $ECHO_BYTES bytes sent and read back at once"
	echo "  posix-tap:"
	client $NS_P echo $MIST_ADDR $ECHO_PORT "$ECHO_BYTES"
	echo_p=$(max "$echo_p" "$(field mbps "$OUT")")
	echo "  pvh $MACHINE:"
	client $NS_V echo $MIST_ADDR $ECHO_PORT "$ECHO_BYTES"
	echo_v=$(max "$echo_v" "$(field mbps "$OUT")")
	r=$((r + 1))
done
stop_servers

echo "best of $ROUNDS, Mbit/s (pvh $MACHINE / posix-tap):" \
	"kernel -> Mist $to_v / $to_p, Mist -> kernel $from_v / $from_p, echo $echo_v / $echo_p"
echo "bench: pvh-tcp accel=$ACCEL machine=$MACHINE" \
	"to_mist_mbps=$to_v to_mist_mbps_posix=$to_p to_mist_ratio=$(ratio "$to_v" "$to_p")" \
	"from_mist_mbps=$from_v from_mist_mbps_posix=$from_p from_mist_ratio=$(ratio "$from_v" "$from_p")" \
	"echo_mbps=$echo_v echo_mbps_posix=$echo_p echo_ratio=$(ratio "$echo_v" "$echo_p")"
