#!/bin/sh
# Benchmark: Mist's TCP on a TAP device against the Linux kernel's TCP on a
# veth pair, in the same invocation.
#
#  (a) bulk throughput, Linux -> Mist: bench/net/tcp_bulk (send) from the
#      kernel side of mtap0 into build/posix-tap/bulk --no-hash (sink);
#      figure taken by the sender, from connect until the sink has closed
#      after reading everything;
#  (b) bulk throughput, Mist -> Linux: bulk --mode=source --peer=... into
#      tcp_bulk (sink) on the kernel side; figure taken by the sink, from
#      accept until the FIN;
#      reference for both: tcp_bulk send -> tcp_bulk sink over the veth
#      pair, each end's figure for the matching direction;
#  (c) 1-byte request/response transactions per second with RR_CONNS
#      connections: bench/net/tcp_rr (rr mode) against build/posix-tap/echo,
#      and against bench/net/tcp_echo_ref (epoll echo) for the reference;
#      skipped while those two files are not in the tree;
#  (d) memory per idle established connection: bench/net/tcp_hold opens
#      IDLE_CONNS connections to echo, each echoing one byte, and holds
#      them. Two figures: the growth of echo's resident set (VmRSS) per
#      connection, measured live, which includes each handler fiber's stack
#      pages; and the growth of Mist's heap per connection (control blocks,
#      queues, no fiber stacks), from the heap.bytes_in_use line echo logs
#      at SIGTERM while the connections are still open, against a run of
#      echo without connections.
#
# Mist runs in namespace mist-tb-m on a persistent TAP mtap0 (10.77.0.2;
# the namespace's kernel is 10.77.0.1), so that each Mist program started
# finds the kernel side already addressed; mist-tb-a (10.78.0.1) and
# mist-tb-b (10.78.0.2) are joined by a veth pair. All are created here and
# deleted on exit; the root namespace is not touched. Needs root, ip, ping,
# ss, cc.
#
# Environment: BULK_BYTES (256M; k, M, G suffixes), RR_CONNS ("1 32"),
# RR_SECS (5), IDLE_CONNS (10000), ROUNDS (3; each throughput and rate is
# the best of the rounds).
#
# Last line:
# bench: tcp to_mist_mbps=<a> from_mist_mbps=<b> kernel_mbps=<ref, as sent>
#        to_mist_ratio=<a/ref> from_mist_ratio=<b/ref> rr<C>_tps=<mist>
#        rr<C>_tps_kernel=<kernel> rr<C>_ratio=<m/k> ... idle_conns=<n>
#        idle_heap_bytes=<heap/conn> idle_rss_bytes=<rss/conn>
set -eu

cd "$(dirname "$0")/.."

BULK_BYTES=${BULK_BYTES:-256M}
RR_CONNS=${RR_CONNS:-1 32}
RR_SECS=${RR_SECS:-5}
IDLE_CONNS=${IDLE_CONNS:-10000}
ROUNDS=${ROUNDS:-3}
BULK_TIMEOUT=120 # seconds a bulk transfer may take before the run fails
IDLE_SECS=60     # seconds the idle connections may take to be set up

ECHO_PORT=8081
SINK_PORT=8082   # bulk's default
KERNEL_PORT=8083 # tcp_bulk's sink

NS_M=mist-tb-m
NS_KA=mist-tb-a
NS_KB=mist-tb-b
MIST_ADDR=10.77.0.2
MIST_PEER=10.77.0.1
MIST_MAC=02:4d:49:53:54:02
K_A=10.78.0.1
K_B=10.78.0.2

if [ "$(id -u)" != 0 ]; then
	echo "tcp_bench.sh: needs root (namespaces, TAP)" >&2
	exit 1
fi

# --- build ------------------------------------------------------------------
make -s build/posix-tap/echo build/posix-tap/bulk
mkdir -p build/bench
for tool in tcp_bulk tcp_hold; do
	cc -O2 -Wall -Wextra -o build/bench/$tool bench/net/$tool.c
done
# tcp_rr and tcp_echo_ref come with the posix-socket work; (c) waits for them.
RR=1
for tool in tcp_rr tcp_echo_ref; do
	if [ -f bench/net/$tool.c ]; then
		cc -O2 -Wall -Wextra -o build/bench/$tool bench/net/$tool.c
	else
		RR=0
	fi
done

# --- setup and cleanup --------------------------------------------------------
MIST_PID=
BG_PIDS=
LOG=$(mktemp -d /tmp/mist-tcp-bench.XXXXXX)

cleanup() {
	set +e
	for p in $MIST_PID $BG_PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $MIST_PID $BG_PIDS; do
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

fail() {
	echo "tcp_bench.sh: $*" >&2
	exit 1
}

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
for ns in $NS_KA $NS_KB; do
	ip -n $ns link set lo up
done
ip -n $NS_KA link set veth-a up
ip -n $NS_KB link set veth-b up

# Mist's side: a persistent TAP, addressed once; each Mist program attaches to it.
ip netns add $NS_M
ip -n $NS_M link set lo up
ip -n $NS_M tuntap add dev mtap0 mode tap
ip -n $NS_M addr add $MIST_PEER/24 dev mtap0
ip -n $NS_M link set mtap0 up

# mist_start LOGNAME PROGRAM ARGS...: starts a Mist program on mtap0 and
# waits until it answers ping.
mist_start() {
	name=$1
	shift
	ip netns exec $NS_M "$@" --tap=mtap0 --ipv4=$MIST_ADDR/24 --mac=$MIST_MAC \
		>"$LOG/$name.log" 2>&1 &
	MIST_PID=$!
	i=0
	until ip netns exec $NS_M ping -c 1 -W 1 -q $MIST_ADDR >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 10 ] || ! kill -0 $MIST_PID 2>/dev/null; then
			cat "$LOG/$name.log" >&2
			fail "$* does not answer ping"
		fi
	done
}

# mist_stop: SIGTERM, after which the program logs its counters and exits 0.
mist_stop() {
	kill -TERM $MIST_PID
	wait $MIST_PID || fail "Mist program exited $? on SIGTERM"
	MIST_PID=
}

# wait_listen NS PORT: until something listens on PORT in NS.
wait_listen() {
	i=0
	until ip netns exec "$1" ss -ltnH | grep -q ":$2 "; do
		i=$((i + 1))
		[ $i -le 100 ] || fail "nothing listens on port $2 in $1"
		sleep 0.05
	done
}

# field NAME LINE: the value of NAME=value in LINE.
field() {
	printf '%s\n' "$2" | sed -n "s/.*[ ]$1=\([0-9.]*\).*/\1/p"
}

max() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 >= b + 0) ? a : b }'; }
ratio() { awk -v m="$1" -v k="$2" 'BEGIN { if (k > 0) printf "%.2f", m / k; else print "0.00" }'; }

# kernel_sink NS: starts tcp_bulk sink on KERNEL_PORT in NS, output in $LOG/ksink.
kernel_sink() {
	ip netns exec "$1" build/bench/tcp_bulk sink $KERNEL_PORT >"$LOG/ksink" 2>&1 &
	SINK_PID=$!
	BG_PIDS="$BG_PIDS $SINK_PID"
	wait_listen "$1" $KERNEL_PORT
}

# kernel_sink_wait: waits for the sink to finish and sets SINK_LINE to its output.
kernel_sink_wait() {
	wait $SINK_PID || { cat "$LOG/ksink" >&2; fail "tcp_bulk sink failed"; }
	SINK_LINE=$(cat "$LOG/ksink")
}

echo "tcp-bench: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), Linux $(uname -r)"

# --- (a), (b): bulk -------------------------------------------------------------
k_send=0 k_sink=0 to_mist=0 from_mist=0
r=1
while [ $r -le $ROUNDS ]; do
	echo "round $r/$ROUNDS: bulk, $BULK_BYTES bytes over one connection"

	kernel_sink $NS_KB
	out=$(timeout $BULK_TIMEOUT ip netns exec $NS_KA build/bench/tcp_bulk send $K_B $KERNEL_PORT \
		"$BULK_BYTES") || fail "tcp_bulk send to the kernel failed"
	kernel_sink_wait
	echo "  kernel veth ($NS_KA -> $K_B): $out"
	echo "                                $SINK_LINE"
	k_send=$(max $k_send "$(field mbps "$out")")
	k_sink=$(max $k_sink "$(field mbps "$SINK_LINE")")

	mist_start sink build/posix-tap/bulk --no-hash
	out=$(timeout $BULK_TIMEOUT ip netns exec $NS_M build/bench/tcp_bulk send $MIST_ADDR \
		$SINK_PORT "$BULK_BYTES") || fail "tcp_bulk send to Mist failed"
	mist_stop
	echo "  Linux -> Mist ($MIST_ADDR:$SINK_PORT, bulk sink): $out"
	grep -h "bulk: sink:" "$LOG/sink.log" | sed 's/^/    /'
	to_mist=$(max $to_mist "$(field mbps "$out")")

	kernel_sink $NS_M
	timeout $BULK_TIMEOUT ip netns exec $NS_M build/posix-tap/bulk --tap=mtap0 \
		--ipv4=$MIST_ADDR/24 --mac=$MIST_MAC --mode=source --no-hash \
		--peer=$MIST_PEER:$KERNEL_PORT --bytes="$BULK_BYTES" >"$LOG/source.log" 2>&1 ||
		{ cat "$LOG/source.log" >&2; fail "bulk source failed"; }
	kernel_sink_wait
	echo "  Mist -> Linux ($MIST_PEER:$KERNEL_PORT, tcp_bulk sink): $SINK_LINE"
	grep -h "bulk: source:" "$LOG/source.log" | sed 's/^/    /'
	from_mist=$(max $from_mist "$(field mbps "$SINK_LINE")")
	r=$((r + 1))
done

# --- (c): request/response ----------------------------------------------------------
rr_line=
if [ $RR = 1 ]; then
	ip netns exec $NS_KB build/bench/tcp_echo_ref -a $K_B -p $ECHO_PORT >"$LOG/echo_ref.log" 2>&1 &
	BG_PIDS="$BG_PIDS $!"
	wait_listen $NS_KB $ECHO_PORT
	mist_start echo build/posix-tap/echo
	for c in $RR_CONNS; do
		tps_k=0 tps_m=0
		r=1
		while [ $r -le $ROUNDS ]; do
			echo "round $r/$ROUNDS: 1-byte request/response, $c connection(s), ${RR_SECS}s"
			out=$(ip netns exec $NS_KA build/bench/tcp_rr -a $K_B -p $ECHO_PORT -m rr -c $c \
				-s 1 -t $RR_SECS) || fail "tcp_rr against the kernel failed"
			echo "  kernel veth ($NS_KA -> $K_B, tcp_echo_ref): $out"
			tps_k=$(max $tps_k "$(field tps "$out")")
			out=$(ip netns exec $NS_M build/bench/tcp_rr -a $MIST_ADDR -p $ECHO_PORT -m rr \
				-c $c -s 1 -t $RR_SECS) || fail "tcp_rr against Mist failed"
			echo "  Mist on TAP ($MIST_ADDR, echo): $out"
			tps_m=$(max $tps_m "$(field tps "$out")")
			r=$((r + 1))
		done
		rr_line="$rr_line rr${c}_tps=$tps_m rr${c}_tps_kernel=$tps_k rr${c}_ratio=$(ratio $tps_m $tps_k)"
	done
	mist_stop
else
	echo "request/response: skipped (bench/net/tcp_rr.c and tcp_echo_ref.c not in the tree)"
fi

# --- (d): memory per idle connection ---------------------------------------------------
rss() { awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$1/status"; }
heap_in_use() { sed -n 's/.*stats: heap.bytes_in_use=\([0-9]*\).*/\1/p' "$1" | tail -n 1; }

echo "idle connections: $IDLE_CONNS to echo, each echoing one byte, then held"
mist_start idle0 build/posix-tap/echo
mist_stop
heap0=$(heap_in_use "$LOG/idle0.log")

mist_start idle build/posix-tap/echo
rss0=$(rss $MIST_PID)
ip netns exec $NS_M build/bench/tcp_hold $MIST_ADDR $ECHO_PORT $IDLE_CONNS $IDLE_SECS \
	>"$LOG/hold" 2>&1 &
HOLD_PID=$!
BG_PIDS="$BG_PIDS $HOLD_PID"
until grep -q established= "$LOG/hold"; do
	kill -0 $HOLD_PID 2>/dev/null || { cat "$LOG/hold" >&2; fail "tcp_hold failed"; }
	sleep 0.2
done
sleep 1 # let the last handlers settle into their reads
rss1=$(rss $MIST_PID)
mist_stop # the counters and the heap are logged with the connections still open
kill -TERM $HOLD_PID
wait $HOLD_PID || true
heap1=$(heap_in_use "$LOG/idle.log")
if [ -z "$heap0" ] || [ -z "$heap1" ]; then
	fail "echo logged no heap.bytes_in_use line"
fi
heap_per=$(( (heap1 - heap0) / IDLE_CONNS ))
rss_per=$(( (rss1 - rss0) / IDLE_CONNS ))
echo "  $(cat "$LOG/hold")"
echo "  heap in use: $heap0 bytes without connections, $heap1 with $IDLE_CONNS: $heap_per per connection"
echo "  echo's VmRSS: $rss0 bytes before, $rss1 with $IDLE_CONNS: $rss_per per connection"

echo "best of $ROUNDS:"
echo "  bulk Mbit/s: kernel veth $k_send (as sent) / $k_sink (as received)," \
	"Linux -> Mist $to_mist, Mist -> Linux $from_mist"

echo "bench: tcp to_mist_mbps=$to_mist from_mist_mbps=$from_mist kernel_mbps=$k_send" \
	"to_mist_ratio=$(ratio $to_mist $k_send) from_mist_ratio=$(ratio $from_mist $k_sink)$rr_line" \
	"idle_conns=$IDLE_CONNS idle_heap_bytes=$heap_per idle_rss_bytes=$rss_per"
