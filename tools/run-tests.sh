#!/usr/bin/env bash
# Runs every test file (in parallel where independent) and closes with one summary line per file
# and "N passed, N failed" counted over test files.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
node_modules/.bin/tap --jobs="${JOBS:-4}" "$@" 2>&1 | tee "$log" | grep -E '^(not )?ok [0-9]+ - |^# (Subtest|failed)' >/dev/null
status=${PIPESTATUS[0]}
# The full TAP stream only for failures; one line per file otherwise.
grep -E '^(not )?ok [0-9]+ - ' "$log" | sed -E 's/^ok [0-9]+ - /  pass  /; s/^not ok [0-9]+ - /  FAIL  /'
if [ "$status" -ne 0 ]; then
  echo
  echo "---- failures (full TAP output in $log) ----"
  grep -n -B2 -A25 -E '^\s*not ok ' "$log" | head -400
fi
passed=$(grep -cE '^ok [0-9]+ - ' "$log")
failed=$(grep -cE '^not ok [0-9]+ - ' "$log")
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo
echo "$passed passed, $failed failed"
exit "$status"
