#!/usr/bin/env bash
# JACK MIDI round trip through umpd, next to the same round trip through a plain JACK
# client, in one run (issue #5): jack_midi_latency_test (Debian's jackd2) sends a
# message, waits for it to come back, and reports the latency in frames.
#
#   baseline  latency_test:out → jack_passthrough:in, jack_passthrough:out → latency_test:in
#             (a plain client copying events at the same frame in its process callback;
#             JACK drops what a client connects to itself, so the loop needs one)
#   umpd      latency_test:out → umpd:"Port 1 (in)", umpd:"Port 1" → latency_test:in
#             (umpd's default device: one loopback port)
#
# The figure: how much umpd adds to the baseline, in frames and in periods; PASS when
# the average adds less than one period. Usage: bench/jack_latency.sh [BUILD_DIR] [SAMPLES]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
samples=${2:-500}
rate=48000
period=256

for tool in jackd jack_midi_latency_test jack_wait; do
  command -v "$tool" >/dev/null || { echo "jack_latency: $tool is missing (scripts/setup installs jackd2)" >&2; exit 1; }
done
for bin in "$build/tools/umpd/umpd" "$build/bench/umpd_jack_passthrough"; do
  [[ -x $bin ]] || { echo "jack_latency: $bin is missing (build first)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/umpd-jack-bench-XXXXXX)
server="umpd-bench-$$"
export JACK_DEFAULT_SERVER=$server JACK_NO_AUDIO_RESERVATION=1 XDG_STATE_HOME=$work
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -f /dev/shm/jack_sem.*_"${server}"_* /dev/shm/jack_"${server}"_* 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# jackd2 keeps 8 registry slots and reclaims a dead server's slot only for the same
# name: free the slots of servers that died without unregistering (see
# tests/jack/jack_server.hpp), or jackd may refuse with "Too many servers already active".
/usr/bin/python3 - <<'PY' || true
import os, struct
path = "/dev/shm/jack-shm-registry"
if os.path.exists(path):
    with open(path, "r+b") as f:
        for i in range(8):
            at = 24 + i * 264
            f.seek(at)
            raw = f.read(4)
            if len(raw) < 4:
                break
            pid = struct.unpack("i", raw)[0]
            if pid > 0 and not os.path.exists(f"/proc/{pid}"):
                f.seek(at)
                f.write(bytes(264))
PY
jackd --no-realtime -n "$server" -d dummy -r "$rate" -p "$period" >"$work/jackd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do jack_wait -c -s "$server" 2>/dev/null | grep -q '^running' && break; sleep 0.1; done

cat >"$work/umpd.toml" <<TOML
[jack]
server_name = "$server"

[[devices]]
name = "umpd Virtual Device"
ports = [ { name = "Port 1", protocol = "midi2" } ]
TOML
"$build/tools/umpd/umpd" --runtime-dir "$work/run" --config "$work/umpd.toml" >"$work/umpd.log" 2>&1 &
pids+=($!)
"$build/bench/umpd_jack_passthrough" passthrough >"$work/passthrough.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  ports=$(jack_lsp 2>/dev/null || true)
  grep -qx 'umpd:Port 1 (in)' <<<"$ports" && grep -qx 'passthrough:in' <<<"$ports" && break
  sleep 0.1
done

# Prints "average lowest highest" in frames.
measure() {
  local out
  out=$(timeout 300 jack_midi_latency_test -t 20 -s "$samples" "$1" "$2" 2>&1) || true
  local avg low high
  avg=$(sed -n 's/^Average latency: .*(\([0-9.]*\) frames)/\1/p' <<<"$out")
  low=$(sed -n 's/^Lowest latency: .*(\([0-9.]*\) frames)/\1/p' <<<"$out")
  high=$(sed -n 's/^Highest latency: .*(\([0-9.]*\) frames)/\1/p' <<<"$out")
  if [[ -z $avg ]]; then
    echo "jack_latency: jack_midi_latency_test gave no figure:" >&2
    tail -5 <<<"$out" >&2
    return 1
  fi
  echo "$avg $low $high"
}

base=$(measure passthrough:in passthrough:out) || { echo "jack_latency: FAIL: the baseline did not complete" >&2; exit 1; }
through=$(measure "umpd:Port 1 (in)" "umpd:Port 1") || { echo "jack_latency: FAIL: the run through umpd did not complete" >&2; exit 1; }
read -r base_avg base_low base_high <<<"$base"
read -r umpd_avg umpd_low umpd_high <<<"$through"
xruns=$(grep -c -i xrun "$work/jackd.log" || true)

echo "JACK MIDI round trip, jackd dummy ${rate} Hz, period ${period} frames, ${samples} messages each"
printf '  %-26s average %8.1f frames  lowest %6s  highest %6s\n' "plain JACK client" "$base_avg" "$base_low" "$base_high"
printf '  %-26s average %8.1f frames  lowest %6s  highest %6s\n' "umpd loopback (Port 1)" "$umpd_avg" "$umpd_low" "$umpd_high"
awk -v b="$base_avg" -v u="$umpd_avg" -v p="$period" -v x="$xruns" 'BEGIN {
  d = u - b
  printf "  umpd adds %.1f frames = %.2f periods on average (jackd reported %d xruns)\n", d, d / p, x
  if (d < p) print "  PASS: less than one period"; else print "  FAIL: one period or more"
  exit (d < p) ? 0 : 1
}'
