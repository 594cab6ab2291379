#!/usr/bin/env bash
# Runs the fuzz targets for a while each, one at a time (docs/fuzzing.md).
# Usage: fuzz/run.sh [SECONDS] [TARGET…]    default: 60 seconds, every target.
# New inputs go to fuzz/corpus/TARGET (not committed); fuzz/seeds/TARGET is read, never written.
# A crash leaves its input in fuzz/artifacts/TARGET/ and stops the script (exit 1); reproduce it with
#   cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/crash-…
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(ids trigger dates serial csv jsonl xlsx)
fi
for t in "${targets[@]}"; do
  cargo +nightly fuzz build -O "$t"
  mkdir -p "corpus/$t"
  # Workbooks are zip files of a few KiB: allow larger inputs for them.
  max_len=4096
  case $t in xlsx) max_len=65536 ;; csv | jsonl) max_len=16384 ;; esac
  log="artifacts/$t.log"
  mkdir -p artifacts
  echo "== $t: ${secs}s"
  if ! cargo +nightly fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$secs" -max_len="$max_len" -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log"
    echo "== $t: CRASH (log: fuzz/$log)"
    exit 1
  fi
  { grep -E "stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)" "$log" || true; } |
    sed "s/^/   /"
  { grep -E "^#[0-9]+[[:space:]]+DONE" "$log" || true; } | tail -1 | sed "s/^/   /"
done
