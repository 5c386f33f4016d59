#!/usr/bin/env bash
# umpd::alsa::client against the real kernel sequencer (tests/alsa/sequencer_test.cpp,
# a GoogleTest binary whose tests skip where there is no /dev/snd/seq), inside the VM.
set -uo pipefail
source "$(dirname "$0")/lib/common.bash"
bin=$build/tests/alsa_sequencer_test
[[ -x $bin ]] || { echo "FAIL $bin not built"; exit 1; }
"$bin" --gtest_brief=1 --gtest_filter="Sequencer.*" >"$work/out" 2>&1
rc=$?
cat "$work/out"
# Skipped tests would mean the VM has no sequencer: that is a failure here.
if grep -q '\[  SKIPPED \]' "$work/out"; then
  echo "FAIL tests were skipped inside the VM"
  exit 1
fi
exit $rc
