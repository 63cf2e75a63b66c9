#!/usr/bin/python3
"""Sends raw Ethernet frames on an interface, as the peer of a Mist stack.

Run inside the test's network namespace (ip netns exec NS ...):

    scapy_send.py IFACE [PAUSE_EVERY] < frames.json

stdin is a JSON list of frames as hex strings (built by the tests with
scapy). Each frame is written as is with an AF_PACKET raw socket, so bad
frames reach the stack unmodified. Every PAUSE_EVERY frames the sender
pauses for a millisecond so a bounded flood does not merely overflow the
TAP's queue. stdout is a JSON list, one entry per frame: the number of
bytes sent, or the error the kernel gave (e.g. frames shorter than an
Ethernet header are refused by the kernel with EINVAL).
"""
import json
import socket
import sys
import time


def main():
    iface = sys.argv[1]
    pause_every = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    frames = [bytes.fromhex(h) for h in json.load(sys.stdin)]
    results = []
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
        s.bind((iface, 0))
        for i, frame in enumerate(frames):
            try:
                results.append(s.send(frame))
            except OSError as e:
                results.append(f"error: {e.strerror} (errno {e.errno})")
            if pause_every and (i + 1) % pause_every == 0:
                time.sleep(0.001)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
