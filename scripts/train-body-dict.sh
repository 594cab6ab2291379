#!/usr/bin/env bash
# Trains the zstd dictionary the SQLite store compresses record bodies with
# (crates/store/dict/record-body-1.zdict). Its data: records of every category generated with a seed
# the benchmarks do not use, imported so that the bodies are exactly what the store writes. A
# dictionary, once shipped, is never changed: stored bodies name it by id. A better one is trained
# under a new id and file, and added beside it (DICTIONARIES in body.rs). Dictionary 1 was trained
# this way (32 KiB, from a store that still wrote its bodies as JSON text).
set -euo pipefail
cd "$(dirname "$0")/.."
id=${1:-1}
out=crates/store/dict/record-body-$id.zdict
[ -e "$out" ] && { echo "$out exists: a shipped dictionary never changes; give a new id" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v zstd >/dev/null || apt-get install -y -qq zstd >/dev/null
cargo build --release -q -p creditloop-cli
bin=target/release/creditloop
"$bin" generate --subjects 20000 --records 200000 --seed 97 --out "$work/data" --today 2026-06-30 >/dev/null
for f in "$work"/data/*.csv; do
  case "$f" in */agencies.csv) continue ;; esac
  "$bin" import --db "sqlite://$work/train.db" "$f" --json --today 2026-06-30 >/dev/null
done
# Every 7th record, one JSON file each (zstd trains on samples as files), decoded by the store.
cargo run --release -q -p creditloop-store --example body_samples -- "$work/train.db" "$work/bodies" 7
zstd -q --train "$work"/bodies/* --maxdict=32768 --dictID=$((32768 + id)) -o "$out"
ls -l "$out"
