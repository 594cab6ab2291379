# The start both dictionary training scripts share (sourced, not run): `source
# scripts/train-dict-start.sh NAME ID SUBJECTS RECORDS` refuses an id already shipped (a shipped
# dictionary never changes), builds the binary, generates demo data with a seed the benchmarks do not
# use (97) and imports it into a fresh SQLite store. It sets `out` (the dictionary to write), `work`
# (removed on exit), `bin` and `db` (the store, `$work/train.db`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=crates/store/dict/$1-$2.zdict
[ -e "$out" ] && { echo "$out exists: a shipped dictionary never changes; give a new id" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v zstd >/dev/null || apt-get install -y -qq zstd >/dev/null
cargo build --release -q -p creditloop-cli
bin=target/release/creditloop
db="sqlite://$work/train.db"
"$bin" generate --subjects "$3" --records "$4" --seed 97 --out "$work/data" --today 2026-06-30 >/dev/null
for f in "$work"/data/*.csv; do
  case "$f" in */agencies.csv) continue ;; esac
  "$bin" import --db "$db" "$f" --json --today 2026-06-30 >/dev/null 2>>"$work/log"
done
