#!/bin/sh
# apps/hello on the sim target: three "hello" lines at exactly 0, 100 and
# 200 ms of virtual time, and exit status 0. Then a bad argument: status 2
# and a message naming the flag.
set -u
prog=${BUILD:-build}/sim/hello
out=$("$prog" 2>&1)
status=$?
expected="[    0.000000] app: hello
[    0.100000] app: hello
[    0.200000] app: hello"
if [ $status -ne 0 ] || [ "$out" != "$expected" ]; then
	echo "FAIL hello: status $status, output:"
	printf '%s\n' "$out"
	exit 1
fi
out=$("$prog" --mtu=12 2>&1)
status=$?
case "$out" in
*"--mtu=12: expected a number in 68..65535"*usage:*) ;;
*) status=99 ;;
esac
if [ $status -ne 2 ]; then
	echo "FAIL hello --mtu=12: status $status, output:"
	printf '%s\n' "$out"
	exit 1
fi
