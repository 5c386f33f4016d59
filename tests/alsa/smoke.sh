#!/usr/bin/env bash
# Runs inside the ALSA test VM (scripts/alsa-vm/run tests/alsa/smoke.sh): proves the VM's
# kernel sequencer and snd-virmidi cards are real and that alsa-utils can drive them, so the
# ALSA driver's tests can use them as independent peers. One line per check; exit 0 only if
# every check passed. Expects at least 2 virmidi cards (the VM's default, 2:4).
set -uo pipefail

if [[ ${UMPD_VM:-} != 1 ]]; then
  echo "smoke.sh runs inside the ALSA test VM: scripts/alsa-vm/run $0" >&2
  exit 2
fi

passed=0 failed=0
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

# Polls until FILE's contents match the extended regex PATTERN; generous, since the VM is
# emulated (the limit only keeps a broken kernel from hanging the run).
wait_for() {
  local file=$1 pattern=$2 tries=${3:-200}
  while ((tries-- > 0)); do
    grep -Eq -- "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# Starts aseqdump on a port, line-buffered into a file, and waits until it is subscribed.
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

# 1. The sequencer core and snd-seq-dummy.
clients=/proc/asound/seq/clients
if grep -q 'Client   0 : "System"' "$clients" && grep -q '"Midi Through"' "$clients"; then
  pass "/proc/asound/seq/clients lists System and Midi Through"
else
  fail "/proc/asound/seq/clients lists System and Midi Through" "$(head -c 300 "$clients" 2>&1)"
fi

# 2. aconnect sees the dummy client and the virmidi cards' ports.
aconnect -l >"$work/list" 2>&1
virmidi_cards=$(sed -n "s/^client [0-9]*: 'Virtual Raw MIDI .*card=\([0-9]*\)\].*/\1/p" "$work/list" | sort -u | wc -l)
if grep -q "^client 14: 'Midi Through'" "$work/list" && ((virmidi_cards >= 2)); then
  pass "aconnect -l shows Midi Through and $virmidi_cards virmidi cards"
else
  fail "aconnect -l shows Midi Through and 2 virmidi cards" "$virmidi_cards cards: $(tr '\n' '|' <"$work/list")"
fi

# The sequencer client of virmidi card C device D (its rawmidi device is hw:C,D).
client_of() {
  sed -n "s/^client \([0-9]*\): 'Virtual Raw MIDI $1-$2'.*/\1/p" "$work/list"
}
a=$(client_of 0 0) b=$(client_of 1 0)

# Whether aconnect -l shows a route from client $1 port 0 to port $2.
routed() {
  aconnect -l | awk -v c="client $1:" '/^client / { on = index($0, c) == 1 } on' \
    | grep -Eq "Connecting To:.*(^|[ ,])$2([, ]|\$)"
}
if [[ -z $a || -z $b ]]; then
  fail "virmidi clients 0-0 and 1-0 exist" "aconnect -l: $(tr '\n' '|' <"$work/list")"
  echo "$passed passed, $failed failed"
  exit 1
fi

# 3. amidi writes to the rawmidi side, aseqdump receives on the sequencer side.
start_dump "$a:0" "$work/dump" || fail "aseqdump subscribes to $a:0" "$(cat "$work/dump")"
amidi -p hw:0,0 -S '90 3C 64'
if wait_for "$work/dump" "^ *$a:0 +Note on +0, note 60, velocity 100"; then
  pass "note on written with amidi to hw:0,0 arrives at aseqdump on $a:0"
else
  fail "note on written with amidi to hw:0,0 arrives at aseqdump on $a:0" "$(tr '\n' '|' <"$work/dump")"
fi

# 4. A SysEx of 300 bytes: more than the kernel's 256-byte event buffer, so it arrives split
# into several events that must add up to the bytes sent.
sysex="F0 7D"
for ((i = 0; i < 297; i++)); do sysex+=$(printf ' %02X' $((i % 128))); done
sysex+=" F7"
amidi -p hw:0,0 -S "$sysex"
want=$(tr -d ' ' <<<"$sysex")
tries=200
while ((tries-- > 0)) && [[ $(sysex_bytes "$work/dump") != "$want" ]]; do sleep 0.05; done
got=$(sysex_bytes "$work/dump")
events=$(grep -c 'System exclusive' "$work/dump")
if [[ $got == "$want" ]] && ((events >= 2)); then
  pass "300-byte SysEx arrives whole, in $events events"
else
  fail "300-byte SysEx arrives whole in 2 or more events" "$events events, $((${#got} / 2)) bytes"
fi

# 5. A route made with aconnect shows in aconnect -l and carries data: amidi hw:0,0 ->
# sequencer port a:0 -> route -> port b:0 -> rawmidi input of hw:1,0, read by amidi.
if aconnect "$a:0" "$b:0" && routed "$a" "$b:0"; then
  pass "aconnect $a:0 $b:0 shows in aconnect -l"
else
  fail "aconnect $a:0 $b:0 shows in aconnect -l" "$(aconnect -l 2>&1 | tr '\n' '|')"
fi
stdbuf -oL amidi -p hw:1,0 -d -t 30 >"$work/raw" 2>&1 &
pids+=($!)
# Ready once the rawmidi input has an owner.
wait_for /proc/asound/card1/midi0 'Owner PID' || fail "amidi opens hw:1,0 for input" "no owner"
amidi -p hw:0,0 -S '90 40 7F'
tries=200
while ((tries-- > 0)) && [[ $(tr -d ' \n' <"$work/raw") != *90407F* ]]; do sleep 0.05; done
if [[ $(tr -d ' \n' <"$work/raw") == *90407F* ]]; then
  pass "note on travels hw:0,0 -> $a:0 -> route -> $b:0 -> hw:1,0"
else
  fail "note on travels hw:0,0 -> $a:0 -> route -> $b:0 -> hw:1,0" "amidi read: $(cat "$work/raw")"
fi

# 6. And the route goes away again.
if aconnect -d "$a:0" "$b:0" && ! routed "$a" "$b:0"; then
  pass "aconnect -d $a:0 $b:0 removes the route"
else
  fail "aconnect -d $a:0 $b:0 removes the route" "$(aconnect -l 2>&1 | tr '\n' '|')"
fi

echo "$passed passed, $failed failed"
((failed == 0))
