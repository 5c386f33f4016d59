#!/usr/bin/python3
"""Sends MIDI 1.0 messages into a JACK input port through python3-rtmidi's JACK API,
as an independent JACK application would. Used by tests/jack/client_test.cpp.

usage: rtmidi_send.py CLIENT_NAME DEST_PORT HEX_MESSAGE...
  DEST_PORT    the full JACK name of the port to send to ("client:port")
  HEX_MESSAGE  one message as hex bytes without spaces, e.g. 903c64 or f07d0102f7
Prints "sent BEFORE_NS AFTER_NS": CLOCK_MONOTONIC (time.monotonic_ns) around the sends.
"""
import sys
import time

import rtmidi


def main() -> int:
    client, dest, messages = sys.argv[1], sys.argv[2], sys.argv[3:]
    out = rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK, name=client)
    ports = out.get_ports()
    if dest not in ports:
        print(f"no port {dest!r} among {ports!r}", file=sys.stderr)
        return 2
    out.open_port(ports.index(dest), "out")  # rtmidi connects its port to dest
    time.sleep(0.3)  # let the connection reach the graph
    before = time.monotonic_ns()
    for m in messages:
        out.send_message(list(bytes.fromhex(m)))
    after = time.monotonic_ns()
    time.sleep(0.3)  # let JACK run a few cycles before the port goes away
    out.close_port()
    del out
    print(f"sent {before} {after}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
