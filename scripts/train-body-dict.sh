#!/usr/bin/env bash
# Trains the zstd dictionary the SQLite store compresses record bodies with
# (crates/store/dict/record-body-1.zdict). Its data: records of every category generated with a seed
# the benchmarks do not use, imported so that the bodies are exactly what the store writes. A
# dictionary, once shipped, is never changed: stored bodies name it by id. A better one is trained
# under a new id and file, and added beside it (DICTIONARIES in body.rs). Dictionary 1 was trained
# this way (32 KiB, from a store that still wrote its bodies as JSON text).
id=${1:-1}
source "$(dirname "$0")/train-dict-start.sh" record-body "$id" 20000 200000
# Every 7th record, one JSON file each (zstd trains on samples as files), decoded by the store.
cargo run --release -q -p creditloop-store --example body_samples -- "$work/train.db" "$work/bodies" 7
zstd -q --train "$work"/bodies/* --maxdict=32768 --dictID=$((32768 + id)) -o "$out"
ls -l "$out"
