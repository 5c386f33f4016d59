#!/usr/bin/env bash
# The ALSA round trip through umpd next to a direct sequencer route, inside the ALSA test
# VM (scripts/bench runs: scripts/alsa-vm/run bench/alsa_roundtrip.sh [N]).
#   direct  client -> Midi Through (snd-seq-dummy echoes) -> client
#   umpd    client -> umpd's port "Loop" (destination) -> umpd's loopback endpoint ->
#           umpd's port "Loop" (source) -> client
# Emulated (TCG) times: compare the two, not the absolute figures.
set -uo pipefail
if [[ ${UMPD_VM:-} != 1 ]]; then
  echo "alsa_roundtrip.sh runs inside the ALSA test VM: scripts/alsa-vm/run $0" >&2
  exit 2
fi
n=${1:-2000}
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${UMPD_BUILD_DIR:-$repo/build/release}
work=$(mktemp -d)
cat >"$work/umpd.toml" <<'TOML'
[[devices]]
name = "Bench"
ports = [ { name = "Loop", protocol = "midi1" } ]

[alsa]
exclude = ["Midi Through:*", "alsa-bench*:*"]
TOML
"$build/tools/umpd/umpd" --runtime-dir "$work/run" --config "$work/umpd.toml" >"$work/log" 2>&1 &
umpd_pid=$!
trap 'kill $umpd_pid 2>/dev/null; wait; rm -rf "$work"' EXIT
for ((i = 0; i < 300; i++)); do
  grep -q '"Loop" (-We-)' /proc/asound/seq/clients 2>/dev/null && break
  sleep 0.1
done
ports=$(awk '/^Client/ { on = ($4 == "\"umpd\"") ; c = $2 } on && /^  Port/ { print c, $2, $0 }' /proc/asound/seq/clients)
me=$(awk '/"Loop" \(R/ { print $1 }' <<<"$ports")
src=$(awk '/"Loop" \(R/ { print $2 }' <<<"$ports")
dst=$(awk '/"Loop" \(-W/ { print $2 }' <<<"$ports")
if [[ -z $me || -z $src || -z $dst ]]; then
  echo "umpd's Loop ports not found: $(cat /proc/asound/seq/clients) $(cat "$work/log")"
  exit 1
fi
"$build/bench/alsa_roundtrip" "$n" direct=14:0/14:0 "umpd=$me:$dst/$me:$src"
