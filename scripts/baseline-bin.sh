#!/usr/bin/env bash
# Builds the command line as it was before the `Book` engine (commit af2b17d), for the batch
# bench's side-by-side runs, and prints the binary's path:
#
#   BATCH_BASELINE_BIN=$(scripts/baseline-bin.sh) cargo bench --bench batch --features cli
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-af2b17d}
tree=${TMPDIR:-/tmp}/cybrid-identity-baseline-$rev
if [ ! -d "$tree" ]; then
  git worktree add --force --detach "$tree" "$rev" >&2
fi
CARGO_TARGET_DIR="$tree/target" cargo build --release --features cli --manifest-path "$tree/Cargo.toml" >&2
echo "$tree/target/release/cybrid-identity"
