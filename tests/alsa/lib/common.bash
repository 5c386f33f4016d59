# Shared by the ALSA VM tests (tests/alsa/*.sh): checks, polling, a umpd to test.
# Sourced, not run: scripts/alsa-vm/test runs only tests/alsa/*.sh.

if [[ ${UMPD_VM:-} != 1 ]]; then
  echo "$(basename "$0") runs inside the ALSA test VM: scripts/alsa-vm/run $0" >&2
  exit 2
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
build=${UMPD_BUILD_DIR:-$repo/build/release}
umpd_bin=$build/tools/umpd/umpd
umpctl_bin=$build/tools/umpctl/umpctl

passed=0 failed=0
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
# check NAME DETAIL COMMAND...: pass when the command succeeds.
check() {
  local name=$1 detail=$2
  shift 2
  if "$@"; then pass "$name"; else fail "$name" "$detail"; fi
}
finish() {
  echo "$passed passed, $failed failed"
  ((failed == 0))
}

# Polls until FILE's contents match the extended regex PATTERN, for at most SECONDS
# (default 30): generous, the VM is emulated and slow; the limit only keeps a broken
# run from hanging.
wait_for() {
  local file=$1 pattern=$2 end=$((SECONDS + ${3:-30}))
  while ((SECONDS < end)); do
    grep -Eq -- "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  grep -Eq -- "$pattern" "$file" 2>/dev/null
}
# Polls until COMMAND succeeds, for at most 30 s.
wait_until() {
  local end=$((SECONDS + 30))
  while ((SECONDS < end)); do
    "$@" && return 0
    sleep 0.1
  done
  "$@"
}

# aseqdump on a port, line-buffered into a file, once it is subscribed.
start_dump() {
  local port=$1 file=$2
  stdbuf -oL aseqdump -p "$port" >"$file" 2>&1 &
  pids+=($!)
  wait_for "$file" 'Waiting for data'
}

# The bytes of every "System exclusive" event in an aseqdump log, concatenated, no spaces.
sysex_bytes() {
  sed -n 's/.*System exclusive *//p' "$1" | tr -d ' \n'
}

# A SysEx of N data bytes, as hex pairs with spaces (F0 7D ... F7).
make_sysex() {
  local n=$1 i out="F0 7D"
  for ((i = 0; i < n - 1; i++)); do out+=$(printf ' %02X' $((i % 128))); done
  echo "$out F7"
}

# umpd with a config file CONFIG (a path), its runtime dir in $rt, its log in $rt/log.
start_umpd() {
  rt=$work/run
  mkdir -p "$rt"
  "$umpd_bin" --runtime-dir "$rt" --config "$1" >"$rt/log" 2>&1 &
  umpd_pid=$!
  pids+=($umpd_pid)
  wait_until test -S "$rt/control" || { echo "umpd did not start: $(cat "$rt/log")"; exit 1; }
}
umpctl() { "$umpctl_bin" "$@" --runtime-dir "$rt"; }
# Stops umpd with SIGTERM: true when it exits 0 and its log has no sanitizer report
# (an ASan build: UMPD_BUILD_DIR=build/asan).
stop_umpd() {
  kill -TERM "$umpd_pid" 2>/dev/null
  wait "$umpd_pid"
  local rc=$?
  ((rc == 0)) && ! grep -Eq 'ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:' "$rt/log"
}
# stdbuf preloads a library, which an ASan build would refuse to run after.
export ASAN_OPTIONS=${ASAN_OPTIONS:-verify_asan_link_order=0}

# The sequencer client number of the client named NAME (exactly), from /proc.
client_number() {
  sed -n "s/^Client *\([0-9]*\) : \"$1\" .*/\1/p" /proc/asound/seq/clients | head -1
}
# The port lines of client NUMBER in /proc/asound/seq/clients: 'NUMBER "NAME" (CAPS)'.
client_ports() {
  awk -v c="$1" '
    /^Client/ { on = ($2 == c) }
    on && /^  Port/ { line = $0; sub(/^  Port +/, "", line); sub(/ : /, " ", line); print line }' \
    /proc/asound/seq/clients
}
