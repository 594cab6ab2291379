#!/usr/bin/env bash
# Schemathesis against the server's own OpenAPI document (docs/fuzzing.md): installs schemathesis
# from PyPI into a venv, starts `creditloop demo` (demo data in a fresh SQLite file) on a free
# loopback port, runs `schemathesis run …/api/v1/openapi.json --checks not_a_server_error`, and stops
# the server. Exit status: schemathesis's (0 = no 5xx, no crash).
#
# Usage: scripts/schemathesis.sh [extra schemathesis options…]
# Environment:
#   MAX_EXAMPLES   test cases per operation (100: about a minute)
#   CHECKS         schemathesis checks (not_a_server_error)
#   SEED           random seed, for a reproducible run (1)
#   ST_DIR         work folder: venv, database, server log, reports (/tmp/creditloop-schemathesis)
#   ST_VERSION     schemathesis version to install (4.32.5; "latest" for the newest)
#   BIN            an already built creditloop binary; otherwise the release build of this tree
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${ST_DIR:-/tmp/creditloop-schemathesis}
max_examples=${MAX_EXAMPLES:-100}
checks=${CHECKS:-not_a_server_error}
seed=${SEED:-1}
version=${ST_VERSION:-4.32.5}
mkdir -p "$dir"

# 1. schemathesis in a venv of its own.
venv="$dir/venv"
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  if [ "$version" = latest ]; then
    "$venv/bin/pip" install -q schemathesis
  else
    "$venv/bin/pip" install -q "schemathesis==$version"
  fi
fi
"$venv/bin/schemathesis" --version

# 2. The server: demo data in a fresh database, on a free loopback port.
bin=${BIN:-}
if [ -z "$bin" ]; then
  cargo build --release -q -p creditloop-cli
  target=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  bin="$target/release/creditloop"
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
db="$dir/st-demo.db"
rm -f "$db" "$db"-* "$dir"/st-demo.audit.db*
"$bin" demo --db "sqlite://$db" --listen "127.0.0.1:$port" >"$dir/server.log" 2>&1 &
server=$!
stop() {
  if kill -0 "$server" 2>/dev/null; then
    kill "$server"
    wait "$server" 2>/dev/null || true
  fi
}
trap stop EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 300); do
  if curl -fsS "$base/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then
    echo "the server stopped; its log:" >&2
    cat "$dir/server.log" >&2
    exit 1
  fi
  sleep 1
done
curl -fsS "$base/healthz" >/dev/null
echo "server at $base (log: $dir/server.log)"

# 3. Real identifiers from the demo data for the operations that read one resource (else they only
#    ever answer 404): a subject's code, the receipt of a check made now, a batch id.
code=$(curl -fsS "$base/api/v1/subjects?q=%E5%85%AC%E5%8F%B8&limit=1" |
  python3 -c 'import json,sys; print(next(iter(json.load(sys.stdin)["subjects"][0]["codes"].values())))')
receipt=$(curl -fsS -X POST "$base/api/v1/checks" -H 'content-type: application/json' \
  -d "{\"subject\":\"$code\",\"scenario\":\"public_bidding\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["receipt"])')
batch=$(curl -fsS "$base/api/v1/batches?limit=1" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["batches"][0]["id"])')
config="$dir/schemathesis.toml"
cat >"$config" <<TOML
# Written by scripts/schemathesis.sh from the demo data of this run.
[[operations]]
include-path = "/api/v1/subjects/{code}"
parameters = { code = "$code" }

[[operations]]
include-path-regex = "^/api/v1/checks/\\\\{id\\\\}"
parameters = { id = "$receipt" }

[[operations]]
include-path-regex = "^/api/v1/batches/\\\\{id\\\\}"
parameters = { id = "$batch" }
TOML
echo "test data: subject $code, check $receipt, batch $batch"

# 4. The run. Reports (JUnit, and a HAR file with every request and answer) go to $dir/report.
#    From $dir, where schemathesis keeps its state (.hypothesis/, .schemathesis/), not the tree.
status=0
(cd "$dir" && "$venv/bin/schemathesis" --config-file "$config" run "$base/api/v1/openapi.json" \
  --checks "$checks" \
  --max-examples "$max_examples" \
  --seed "$seed" \
  --workers 1 \
  --request-timeout 30 \
  --report junit,har --report-dir "$dir/report" \
  "$@") || status=$?

# 5. Anything the server said about a panic.
if grep -n "panicked" "$dir/server.log"; then
  echo "the server log shows a panic (above)" >&2
  if [ "$status" = 0 ]; then status=1; fi
fi
echo "schemathesis exit status: $status (reports in $dir/report)"
exit "$status"
