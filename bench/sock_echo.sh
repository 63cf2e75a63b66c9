#!/bin/sh
# Benchmark: Mist's echo app on the posix-socket target (build/posix-socket/
# echo: fibers over the host's TCP sockets) against a plain C epoll echo
# server (bench/net/tcp_echo_ref.c), both on the same kernel, in the same
# invocation. The load is bench/net/tcp_rr.c:
#
#  (a) transactions/s, 1-byte request/response, 1 connection (latency-bound)
#  (b) transactions/s, 1-byte request/response, RR_CONNS connections at once
#  (c) bulk echo throughput: BULK_BYTES through 1 connection, every byte
#      checked on its way back; Mbit/s of payload one way
#
# Both servers listen on the loopback of namespace mist-bs (made here,
# deleted on exit), Mist on 127.0.0.1:8081, the reference on 127.0.0.1:8082;
# the client runs in the same namespace. Nothing touches the root namespace.
# Needs root, ip, cc, taskset.
#
# The servers and the client are pinned to one CPU (CPU, default 0), so that
# the figures measure what a transaction costs. Left to the scheduler, the
# client and the server land on the same CPU or on two from one run to the
# next, and on a VM the cross-CPU wake-ups alone change the request/response
# rate three- or fourfold, whichever server runs. CPU= (empty) turns the
# pinning off.
#
# Environment: RR_SECS (2), RR_CONNS (64), BULK_BYTES (512M), ROUNDS (5;
# each figure is the best of the rounds), CPU (0).
#
# Last line:
# bench: sock-echo rr_tps=<mist> rr_tps_ref=<ref> rr_ratio=<m/r> \
#        rr<N>_tps=... rr<N>_tps_ref=... rr<N>_ratio=... \
#        bulk_mbps=... bulk_mbps_ref=... bulk_ratio=...
set -eu

cd "$(dirname "$0")/.."

RR_SECS=${RR_SECS:-2}
RR_CONNS=${RR_CONNS:-64}
BULK_BYTES=${BULK_BYTES:-512M}
ROUNDS=${ROUNDS:-5}
CPU=${CPU-0}
NS=mist-bs
ADDR=127.0.0.1
MIST_PORT=8081
REF_PORT=8082

if [ "$(id -u)" != 0 ]; then
	echo "sock_echo.sh: needs root (network namespace)" >&2
	exit 1
fi

# --- build ------------------------------------------------------------------
make -s build/posix-socket/echo
mkdir -p build/bench
cc -O2 -Wall -Wextra -o build/bench/tcp_echo_ref bench/net/tcp_echo_ref.c
cc -O2 -Wall -Wextra -o build/bench/tcp_rr bench/net/tcp_rr.c

# --- setup and cleanup --------------------------------------------------------
MIST_PID=
REF_PID=
LOG=$(mktemp -d /tmp/mist-sock-echo.XXXXXX)

cleanup() {
	set +e
	for p in $MIST_PID $REF_PID; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $MIST_PID $REF_PID; do
		wait "$p" 2>/dev/null
	done
	ip netns del $NS 2>/dev/null
	rm -rf "$LOG"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Every program runs in the namespace, on $CPU when set. `ip netns exec` and
# taskset exec the program, so $! below is the server itself.
PIN=
if [ -n "$CPU" ]; then
	PIN="taskset -c $CPU"
fi

ip netns del $NS 2>/dev/null || true
ip netns add $NS
ip -n $NS link set lo up
ip netns exec $NS $PIN build/bench/tcp_echo_ref -a $ADDR -p $REF_PORT >"$LOG/ref.log" 2>&1 &
REF_PID=$!
ip netns exec $NS $PIN build/posix-socket/echo --ipv4=$ADDR/8 --port=$MIST_PORT --log=warn \
	>"$LOG/mist.log" 2>&1 &
MIST_PID=$!

# Both answer before we measure.
for port in $REF_PORT $MIST_PORT; do
	i=0
	until ip netns exec $NS $PIN build/bench/tcp_rr -a $ADDR -p $port -t 0.1 >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 50 ]; then
			echo "sock_echo.sh: nothing echoes on port $port" >&2
			cat "$LOG/ref.log" "$LOG/mist.log" >&2
			exit 1
		fi
		sleep 0.1
	done
done

echo "sock-echo: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), Linux $(uname -r); pinned to CPU ${CPU:-none}"

# --- measurements --------------------------------------------------------------
# Within a round the reference and Mist run back to back, so a slow moment
# of the machine hits both alike.

# load PORT ARGS...: runs tcp_rr against PORT, prints its line, sets FIG to
# its tps= or mbps= figure (0 on failure).
load() {
	port=$1
	shift
	out=$(ip netns exec $NS $PIN build/bench/tcp_rr -a $ADDR -p "$port" "$@" 2>&1) || true
	echo "    $out"
	FIG=$(printf '%s\n' "$out" | sed -n 's/.* \(tps\|mbps\)=\([0-9]*\).*/\2/p' | tail -n 1)
	FIG=${FIG:-0}
}

max() { [ "$1" -ge "$2" ] && echo "$1" || echo "$2"; }

rr_m=0 rr_r=0 rrn_m=0 rrn_r=0 bulk_m=0 bulk_r=0
r=1
while [ $r -le $ROUNDS ]; do
	echo "round $r/$ROUNDS: 1-byte request/response, 1 connection, ${RR_SECS}s"
	echo "  reference:"; load $REF_PORT -c 1 -t "$RR_SECS"; rr_r=$(max $rr_r $FIG)
	echo "  Mist:";      load $MIST_PORT -c 1 -t "$RR_SECS"; rr_m=$(max $rr_m $FIG)
	echo "round $r/$ROUNDS: 1-byte request/response, $RR_CONNS connections, ${RR_SECS}s"
	echo "  reference:"; load $REF_PORT -c "$RR_CONNS" -t "$RR_SECS"; rrn_r=$(max $rrn_r $FIG)
	echo "  Mist:";      load $MIST_PORT -c "$RR_CONNS" -t "$RR_SECS"; rrn_m=$(max $rrn_m $FIG)
	echo "round $r/$ROUNDS: bulk echo of $BULK_BYTES, 1 connection"
	echo "  reference:"; load $REF_PORT -m echo -n "$BULK_BYTES"; bulk_r=$(max $bulk_r $FIG)
	echo "  Mist:";      load $MIST_PORT -m echo -n "$BULK_BYTES"; bulk_m=$(max $bulk_m $FIG)
	r=$((r + 1))
done

echo "best of $ROUNDS:"
echo "  transactions/s, 1 connection:          reference $rr_r, Mist $rr_m"
echo "  transactions/s, $RR_CONNS connections:        reference $rrn_r, Mist $rrn_m"
echo "  bulk echo Mbit/s:                      reference $bulk_r, Mist $bulk_m"

# The Mist process must still be alive (a crash would show as failed loads).
if ! kill -0 $MIST_PID 2>/dev/null; then
	echo "sock_echo.sh: Mist echo exited during the run:" >&2
	tail -n 20 "$LOG/mist.log" >&2
	exit 1
fi

ratio() { awk -v m="$1" -v k="$2" 'BEGIN { if (k > 0) printf "%.2f", m / k; else print "0.00" }'; }

echo "bench: sock-echo rr_tps=$rr_m rr_tps_ref=$rr_r rr_ratio=$(ratio "$rr_m" "$rr_r") rr${RR_CONNS}_tps=$rrn_m rr${RR_CONNS}_tps_ref=$rrn_r rr${RR_CONNS}_ratio=$(ratio "$rrn_m" "$rrn_r") bulk_mbps=$bulk_m bulk_mbps_ref=$bulk_r bulk_ratio=$(ratio "$bulk_m" "$bulk_r")"
