#!/usr/bin/env bash
# The ALSA sequencer driver against the real kernel sequencer, inside the ALSA test VM
# (scripts/alsa-vm/run tests/alsa/driver.sh): umpd's ports and their names, data both
# ways (import and export), SysEx bigger than one event, timestamps, ports following
# the endpoints, virmidi cards appearing and disappearing, exclusion patterns.
# One line per check; exit 0 only if every check passed. Expects the VM's default 2
# virmidi cards of 4 devices (clients 16-23).
set -uo pipefail
source "$(dirname "$0")/lib/common.bash"

cat >"$work/umpd.toml" <<'TOML'
[[devices]]
name = "Studio"
ports = [ { name = "Keys", protocol = "midi2" } ]

[alsa]
client_name = "umpd-vm"
exclude = ["Virtual Raw MIDI 1-3:*"]
TOML
start_umpd "$work/umpd.toml"
ep=virtual/studio/1

# ---- the client and its ports --------------------------------------------------------

wait_until grep -q '"umpd-vm"' /proc/asound/seq/clients
me=$(client_number umpd-vm)
status=$(umpctl status | grep -E '^driver +alsa ')
check "umpd's sequencer client is 'umpd-vm' (client $me) and says so in umpctl status" "$status" \
  grep -Eq "running +client $me 'umpd-vm'" <<<"$status"

# Every MIDI 1.0 port of the virtual endpoint, as the name table names it: a source
# ("in" to applications) is readable and subscribable, a destination writable.
ports_named_as_table() {
  local ok=0 line dir name
  umpctl ports --json | jq -r '.[] | select(.endpoint | startswith("virtual/")) | "\(.direction)\t\(.name)"' \
    >"$work/table"
  [[ -s $work/table ]] || return 1
  client_ports "$me" >"$work/alsa_ports"
  while IFS=$'\t' read -r dir name; do
    if [[ $dir == in ]]; then
      grep -Fq "\"$name\" (R-e-)" "$work/alsa_ports" || ok=1
    else
      grep -Fq "\"$name\" (-We-)" "$work/alsa_ports" || ok=1
    fi
  done <"$work/table"
  return $ok
}
check "umpd-vm's ports are named as the name table says (source R, destination W)" \
  "alsa: $(client_ports "$me" | tr '\n' '|')" ports_named_as_table
keys_out=$(client_ports "$me" | awk '/"Keys" \(R/ { print $1 }')
keys_in=$(client_ports "$me" | awk '/"Keys" \(-W/ { print $1 }')
aseqdump -l >"$work/list" 2>&1
check "aseqdump -l lists $me:$keys_out 'Keys' among the ports to read from" "$(cat "$work/list")" \
  grep -Eq "^ *$me:$keys_out +umpd-vm +Keys *$" "$work/list"

# ---- import ----------------------------------------------------------------------------

umpctl list >"$work/devices"
check "virmidi clients are imported as devices (umpctl list)" "$(cat "$work/devices")" \
  grep -q '^alsa/virtual-raw-midi-0-0 *"Virtual Raw MIDI 0-0" *driver alsa' "$work/devices"
check "Midi Through is imported" "$(cat "$work/devices")" grep -q '^alsa/midi-through ' "$work/devices"
check "the exclusion pattern 'Virtual Raw MIDI 1-3:*' is honoured" "$(cat "$work/devices")" \
  bash -c "! grep -q 'virtual-raw-midi-1-3' '$work/devices'"
check "umpd never imports its own client" "$(cat "$work/devices")" bash -c "! grep -q 'umpd-vm' '$work/devices'"
imported=$(umpctl ports --json | jq -r '.[] | select(.endpoint == "alsa/virtual-raw-midi-0-0/1")
  | "\(.direction) \(.legacy) / \(.new_style) / \(.name)"' | sort | tr '\n' '|')
check "an imported port has legacy and new-style names from client and port" "$imported" \
  test "$imported" == "in Virtual Raw MIDI 0-0 / VirMIDI 0-0 / VirMIDI 0-0|out Virtual Raw MIDI 0-0 / VirMIDI 0-0 / VirMIDI 0-0|"
no_imported_exported() { ! client_ports "$me" | grep -Eq 'VirMIDI|Midi Through'; }
check "umpd's exported ports leave the imported endpoints out" "$(client_ports "$me" | tr '\n' '|')" \
  no_imported_exported

# ALSA → umpd through an import: bytes into hw:0,0 come out of alsa/virtual-raw-midi-0-0/1.
stdbuf -oL "$umpctl_bin" monitor alsa/virtual-raw-midi-0-0/1 --count 1 --timeout 60 --runtime-dir "$rt" \
  >"$work/mon_import" 2>&1 &
pids+=($!)
wait_for "$work/mon_import" '^monitoring'
amidi -p hw:0,0 -S '90 3C 64'
check "amidi -> hw:0,0 -> virmidi 0-0 -> umpd: umpctl monitor sees the note on" "$(cat "$work/mon_import")" \
  wait_for "$work/mon_import" 'Note On +note=60 velocity=100'

# umpd → ALSA through an import: what a client sends to the endpoint reaches hw:0,1.
stdbuf -oL amidi -p hw:0,1 -d -t 60 >"$work/raw_import" 2>&1 &
pids+=($!)
wait_for /proc/asound/card0/midi1 'Owner PID' || fail "amidi opens hw:0,1 for input" "no owner"
umpctl send alsa/virtual-raw-midi-0-1/1 note-on --note 62 --velocity 90 >/dev/null
raw_has() { [[ $(tr -d ' \n' <"$work/raw_import") == *"$1"* ]]; }
check "umpctl send -> umpd -> virmidi 0-1 -> amidi reads 90 3E 5A from hw:0,1" "$(cat "$work/raw_import")" \
  wait_until raw_has 903E5A

# ---- export: through the Studio endpoint (its destination loops to its source) --------

v02=$(client_number "Virtual Raw MIDI 0-2")
aconnect "$v02:0" "$me:$keys_in"
start_dump "$me:$keys_out" "$work/dump" || fail "aseqdump subscribes to $me:$keys_out" "$(cat "$work/dump")"
stdbuf -oL "$umpctl_bin" monitor "$ep" --timeout 120 --runtime-dir "$rt" >"$work/mon_export" 2>&1 &
pids+=($!)
wait_for "$work/mon_export" '^monitoring'
amidi -p hw:0,2 -S '90 40 7F'
check "amidi -> virmidi 0-2 -> umpd-vm:Keys: umpctl monitor $ep sees the note on" "$(cat "$work/mon_export")" \
  wait_for "$work/mon_export" 'Note On +note=64'
check "... and it comes back out of umpd-vm:Keys to aseqdump" "$(cat "$work/dump")" \
  wait_for "$work/dump" "^ *$me:$keys_out +Note on +0, note 64, velocity 127"

umpctl send "$ep" note-on --note 61 --velocity 99 >/dev/null
check "umpctl send (MIDI 2.0 note on) -> umpd-vm:Keys -> aseqdump: note 61" "$(cat "$work/dump")" \
  wait_for "$work/dump" "^ *$me:$keys_out +Note on +0, note 61, velocity 99"

# SysEx far bigger than one sequencer event (the kernel cuts rawmidi SysEx into events of
# 256 bytes; umpd reassembles them into UMP and cuts them again on the way out).
sysex=$(make_sysex 10000)
want=$(tr -d ' ' <<<"$sysex")
amidi -p hw:0,2 -S "$sysex"
end=$((SECONDS + 60))
while ((SECONDS < end)) && [[ $(sysex_bytes "$work/dump") != "$want" ]]; do sleep 0.5; done
got=$(sysex_bytes "$work/dump")
events=$(grep -c 'System exclusive' "$work/dump")
check "a 10000-byte SysEx travels virmidi -> umpd -> aseqdump whole ($events events)" \
  "$events events, $((${#got} / 2)) of $((${#want} / 2)) bytes, equal: $([[ $got == "$want" ]] && echo yes || echo no)" \
  test "$got" == "$want" -a "$events" -ge 40

# A message stamped 800 ms ahead arrives no earlier than due.
t0=$(date +%s%N)
umpctl send "$ep" note-on --note 70 --velocity 1 --at +800 >/dev/null
wait_for "$work/dump" "note 70, velocity 1" 60
t1=$(date +%s%N)
elapsed=$(((t1 - t0) / 1000000))
on_time() { grep -q 'note 70, velocity 1' "$work/dump" && ((elapsed >= 800)); }
check "a note sent with --at +800 reaches aseqdump no earlier than 800 ms later (${elapsed} ms)" \
  "$(tail -3 "$work/dump" | tr '\n' '|')" \
  on_time

# ---- ports follow the endpoints ---------------------------------------------------------

has_port() { client_ports "$me" | grep -Fq "\"$1\" ($2)"; }
no_port() { ! client_ports "$me" | grep -Fq "\"$1\""; }
new_ep=$(umpctl device add-port virtual/studio --name Pads --protocol midi1)
pads_added() { has_port Pads R-e- && has_port Pads -We-; }
check "add-port: 'Pads' appears as a source and a destination" "$(client_ports "$me" | tr '\n' '|')" \
  wait_until pads_added
umpctl device rename "$new_ep" Drums >/dev/null
renamed() { has_port Drums R-e- && has_port Drums -We- && no_port Pads; }
check "rename: 'Pads' becomes 'Drums'" "$(client_ports "$me" | tr '\n' '|')" wait_until renamed
umpctl device offline virtual/studio on >/dev/null
gone_offline() { no_port Drums && no_port Keys; }
check "offline: the device's ports leave the sequencer" "$(client_ports "$me" | tr '\n' '|')" wait_until gone_offline
umpctl device offline virtual/studio off >/dev/null
back_online() { has_port Drums R-e- && has_port Keys -We-; }
check "online again: they come back" "$(client_ports "$me" | tr '\n' '|')" wait_until back_online
umpctl device remove-port "$new_ep" >/dev/null
removed() { no_port Drums && has_port Keys R-e-; }
check "remove-port: 'Drums' goes" "$(client_ports "$me" | tr '\n' '|')" wait_until removed

# ---- virmidi cards appearing and disappearing while umpd runs ---------------------------

# How many devices alsa/virtual-raw-midi-PREFIX* umpd lists is N.
listed() { [[ $(umpctl list | grep -c "^alsa/virtual-raw-midi-$1") == "$2" ]]; }
# Unbinding the platform device is what a hot-unplug does: the card, its clients and
# every subscription go. (rmmod alone is refused while anyone is subscribed to a card.)
echo snd_virmidi.1 >/sys/bus/platform/drivers/snd_virmidi/unbind
check "card 1 unplugged (unbind): its devices leave umpd" "$(umpctl list | grep alsa/ | tr '\n' '|')" \
  wait_until listed 1- 0
echo snd_virmidi.1 >/sys/bus/platform/drivers/snd_virmidi/bind
check "card 1 back (bind): 3 devices again, 1-3 still excluded" "$(umpctl list | grep alsa/ | tr '\n' '|')" \
  wait_until listed 1- 3
echo snd_virmidi.0 >/sys/bus/platform/drivers/snd_virmidi/unbind
echo snd_virmidi.1 >/sys/bus/platform/drivers/snd_virmidi/unbind
wait_until listed "" 0
check "rmmod snd_virmidi once its cards are gone" "$(lsmod 2>&1 | grep virmidi)" modprobe -r snd_virmidi
modprobe snd-virmidi enable=1 midi_devs=2
check "modprobe snd-virmidi (1 card, 2 devices): both appear in umpctl list" \
  "$(umpctl list | grep alsa/ | tr '\n' '|')" wait_until listed 0- 2

# ---- an application renaming itself (the kernel announces no renames: umpd re-lists) ----

mkdir -p "$work/peer"
UMPD_ALSA_PEER=$work/peer "$build/tests/alsa_sequencer_test" --gtest_filter=Peer.* >"$work/peer.log" 2>&1 &
pids+=($!)
device_line() { umpctl list | grep -Eq "^alsa/peer-before +\"$1\" +driver alsa"; }
check "an application client (peer-before) is imported" "$(umpctl list | grep alsa/ | tr '\n' '|')" \
  wait_until device_line peer-before
touch "$work/peer/rename-client"
check "the client renamed to peer-after: the device follows, same id" "$(umpctl list | grep alsa/ | tr '\n' '|')" \
  wait_until device_line peer-after
touch "$work/peer/rename-port"
# New-style names join a short port name to the client's: "peer-after q".
port_named_q() {
  [[ $(umpctl ports --json | jq -r '.[] | select(.endpoint | startswith("alsa/peer")) | .new_style' | sort -u) == "peer-after q" ]]
}
check "its port renamed to q: the MIDI 1.0 port names follow" "$(umpctl ports --json | jq -c '.[] | select(.endpoint | startswith("alsa/peer"))' | tr '\n' '|')" \
  wait_until port_named_q
touch "$work/peer/quit"
peer_gone() { ! umpctl list | grep -q '^alsa/peer'; }
check "the application quits: its device goes" "$(umpctl list | grep alsa/ | tr '\n' '|')" wait_until peer_gone

# ---- the config: kept when umpd rewrites it, applied on reload ---------------------------

# add-port and rename above made umpd rewrite its config file: [alsa] must have survived.
check "umpd's rewritten config keeps [alsa]" "$(cat "$work/umpd.toml")" \
  grep -q 'client_name = "umpd-vm"' "$work/umpd.toml"
sed -i 's/^exclude = \[/exclude = ["Virtual Raw MIDI 0-1:*", /' "$work/umpd.toml"
kill -HUP "$umpd_pid"
check "a reload with one more exclusion pattern withdraws that device" "$(umpctl list | grep alsa/ | tr '\n' '|')" \
  wait_until listed 0-1 0
check "... and keeps the others" "$(umpctl list | grep alsa/ | tr '\n' '|')" listed 0-0 1

sed -i 's/^import = true/import = false/' "$work/umpd.toml"
kill -HUP "$umpd_pid"
no_alsa_devices() { ! umpctl list | grep -q '^alsa/'; }
check "a reload with import = false withdraws every imported device" "$(umpctl list | grep alsa/ | tr '\n' '|')" \
  wait_until no_alsa_devices
keys_back() { client_ports "$(client_number umpd-vm)" | grep -Fq '"Keys" (R-e-)'; }
check "... and exports umpd's ports again" "$(cat /proc/asound/seq/clients | tr '\n' '|')" wait_until keys_back

status=$(umpctl status | grep -E '^driver +alsa ')
check "umpd runs on, its driver still running" "$status" grep -q running <<<"$status"
driver_complaints() { grep 'alsa:' "$rt/log" | grep -Ev 'imported client|gone|sequencer client'; }
no_complaints() { [[ -z $(driver_complaints) ]]; }
check "umpd's log has no complaint of the driver" "$(driver_complaints | tr '\n' '|')" no_complaints
check "umpd stops cleanly on SIGTERM (exit 0, no sanitizer report)" "$(tail -5 "$rt/log" | tr '\n' '|')" stop_umpd

finish
