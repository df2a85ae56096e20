#!/usr/bin/env bash
# Builds the command line with only the `ring` engine (no `rsa` crate) into a target folder
# of its own and prints the binary's path, for the batch bench's side-by-side run:
#
#   BATCH_BASELINE_BIN=$(scripts/ring-bin.sh) cargo bench --bench batch --features cli
#
# The bench's own binary (`--features cli`) signs with the `rsa` crate; its "baseline" rows
# are then the `ring` build, on a fresh emulator, in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${TMPDIR:-/tmp}/cybrid-identity-ring-target
CARGO_TARGET_DIR="$target" cargo build --release --no-default-features --features ring,cli >&2
echo "$target/release/cybrid-identity"
