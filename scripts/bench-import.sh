#!/usr/bin/env bash
# Import benchmark of BENCHMARKS.md: the generated Tianjin-scale penalty CSV imported end to end (read,
# validate, write) into SQLite and PostgreSQL, with `sqlite3 .import` and PostgreSQL `COPY` of the same
# file as yardsticks. Usage: scripts/bench-import.sh [RECORDS]   (default: the Tianjin preset's
# 12,670,000 records, of which 3,801,000 are penalties).
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-12670000}
dir=${BENCH_DIR:-/tmp/creditloop-bench}
pg=${CREDITLOOP_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
mkdir -p "$dir"
chmod 755 "$dir"
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
# BIN: an already built binary (e.g. of another commit); otherwise the release build of this tree.
bin=${BIN:-}
if [ -z "$bin" ]; then
  cargo build --release -q -p creditloop-cli
  bin=target/release/creditloop
fi
csv="$dir/data-$records/penalties.csv"
if [ ! -f "$csv" ]; then
  "$bin" generate --preset tianjin --records "$records" --categories penalty \
    --out "$dir/data-$records" --today 2026-06-30 --bad-share 0.01
fi
chmod 644 "$csv"
rows=$(($(wc -l < "$csv") - 1))
echo "file: $csv ($rows data rows, $(du -h "$csv" | cut -f1))"

measure() { # name, command…
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$dir/$name.time" "$@" > "$dir/$name.out" 2> "$dir/$name.err"
  read -r secs kib < "$dir/$name.time"
  printf '%-28s %8.1f s %10.0f rows/s %8d MiB max RSS\n' "$name" "$secs" \
    "$(echo "$rows / $secs" | bc -l)" "$((kib / 1024))"
}

rm -f "$dir"/bench.db*
measure "creditloop → SQLite" "$bin" import --db "sqlite://$dir/bench.db" "$csv" --json --today 2026-06-30
head -c 300 "$dir/creditloop → SQLite.out"; echo

rm -f "$dir"/raw.db*
measure "sqlite3 .import (raw)" sqlite3 "$dir/raw.db" -cmd "PRAGMA journal_mode=WAL;" ".mode csv" ".import '$csv' penalties"

if pg_isready -h 127.0.0.1 -p 5432 -q; then
  psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS creditloop_bench" -qc "CREATE DATABASE creditloop_bench" >/dev/null
  measure "creditloop → PostgreSQL" "$bin" import --db "$pg/creditloop_bench" "$csv" --json --today 2026-06-30
  head -c 300 "$dir/creditloop → PostgreSQL.out"; echo
  cols=$(head -1 "$csv" | tr -d '\r\357\273\277' | awk -F, '{for(i=1;i<=NF;i++) printf "%sc%d text", (i>1?",":""), i}')
  psql "$pg/creditloop_bench" -qc "DROP TABLE IF EXISTS raw_penalties" -qc "CREATE TABLE raw_penalties ($cols)" >/dev/null
  measure "PostgreSQL COPY (raw)" psql "$pg/creditloop_bench" -qc "COPY raw_penalties FROM '$csv' CSV HEADER"
else
  echo "PostgreSQL not reachable at 127.0.0.1:5432: PostgreSQL rows skipped"
fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r)"
