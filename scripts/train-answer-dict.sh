#!/usr/bin/env bash
# Trains the zstd dictionary both stores compress check answers with
# (crates/store/dict/check-answer-ID.zdict). Its data: the answers of single checks over HTTP, every
# scenario, over demo data generated with a seed the benchmarks do not use (97); organisations only,
# so each answer is the text the store keeps (no masking). A dictionary, once shipped, is never
# changed: stored answers name it by id. A better one (a catalogue that changed much, say) is trained
# under a new id and added beside it (DICTIONARIES in crates/store/src/body.rs).
id=${1:-1}
source "$(dirname "$0")/train-dict-start.sh" check-answer "$id" 5000 50000
# The subjects' unified codes, from the generated files' subject code columns (not the agencies').
python3 - "$work/data" "$work/codes.csv" <<'PY'
import csv, glob, sys
codes = set()
for f in glob.glob(sys.argv[1] + "/*.csv"):
    with open(f, encoding="utf-8-sig") as h:
        for row in csv.DictReader(h):
            for k, v in row.items():
                if k and "统一社会信用代码" in k and "数据来源" not in k and "机关" not in k and v:
                    codes.add(v.strip())
with open(sys.argv[2], "w", encoding="utf-8") as h:
    h.write("subject\n")
    for c in sorted(codes)[:3000]:
        h.write(c + "\n")
PY
# Single checks (a batch stores a shorter answer) over HTTP, every scenario, against the same store.
port=18093
"$bin" serve --db "$db" --listen "127.0.0.1:$port" --open-access --public-rate-limit 0 \
  >/dev/null 2>>"$work/log" &
server=$!
trap 'kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
# Every 2nd answer, one file each (zstd trains on samples as files).
python3 - "$work/codes.csv" "$port" "$work/answers" <<'PY'
import json, os, sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[2]}"
os.makedirs(sys.argv[3])
for _ in range(300):
    try:
        urllib.request.urlopen(base + "/healthz", timeout=2)
        break
    except OSError:
        time.sleep(0.2)
codes = [l.strip() for l in open(sys.argv[1], encoding="utf-8").readlines()[1:] if l.strip()]
scenarios = ["government_procurement", "public_bidding", "administrative_licence", "market_access",
             "honours", "fiscal_subsidy", "financing", "qualification"]
for i, code in enumerate(codes):
    body = {"subject": code, "scenario": scenarios[i % len(scenarios)],
            "agency": "11120000MB19674671", "case_ref": f"TRAIN-{i:05d}" if i % 2 else None}
    req = urllib.request.Request(base + "/api/v1/checks", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    answer = urllib.request.urlopen(req, timeout=10).read()
    if i % 2 == 0:
        with open(f"{sys.argv[3]}/{i}.json", "wb") as h:
            h.write(answer)
print(f"{(len(codes) + 1) // 2} answers", file=sys.stderr)
PY
kill "$server"; wait "$server" 2>/dev/null || true
zstd -q --train "$work"/answers/* --maxdict=16384 --dictID=$((49152 + id)) -o "$out"
ls -l "$out"
