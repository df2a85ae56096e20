#!/usr/bin/env bash
# Mutation testing of the modules that decide what is sent and what is adopted: each group
# of files with the test targets that exercise it (so a run fits on 2 cores), then caught /
# missed / timeout per file. Not in .ci/run (too slow); run it before resolving an issue that
# touches these files, and keep its summary in MUTANTS.md.
#
#   scripts/mutants.sh            every group
#   scripts/mutants.sh book       one group: book, coordinator, runs, signer, core, jwt
#
# Needs `cargo install cargo-mutants`.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${MUTANTS_OUT:-target/mutants}

# Mutants that cannot change behaviour, one a line with the reason (matched against the
# names `cargo mutants --list` shows).
equivalent=(
  # At `at == now` both sides give a zero wait: `>` and `>=` cannot be told apart.
  'src/retry.rs:.*replace > with >= in parse_retry_after'
  # Progress counts are taken at most every 100 ms; a report a little more or less often
  # changes no outcome and no request (at exactly 100 ms, `<` and `<=` differ by one count).
  'src/book/coordinator/progress.rs:.*replace < with <= in .*publish_progress'
  # far_future halves its step down to a second: `> 1s` and `>= 1s` end a second apart,
  # centuries past any deadline.
  'src/book/customer.rs:.*replace > with >= in far_future'
  # After a short write the rest is written; after a whole one the rest is empty: with `<=`
  # a whole write is followed by writing nothing, which changes nothing.
  'src/book/journal.rs:.*replace < with <= in write_once'
  # The arm before this guard takes 1 to 10 identification numbers: it sees 0 or 11 and
  # more, never 10, so `> 10` and `>= 10` cannot be told apart.
  'src/person/check.rs:.*replace > with >= in person_on'
  # Unlocking (F_UNLCK) never answers EAGAIN or EACCES, so the `if take` guard on that arm
  # cannot be told from `true`.
  'src/book/hold.rs:.*replace match guard take with true in lock'
  # The `lock` compiled only where there is no Unix (the second one in the file): on the
  # machines this runs on, a mutant of it changes nothing that is built.
  'src/book/hold.rs:1[0-9][0-9]:.*replace lock -> std::io::Result<bool> with Ok\(false\)'
)

group() {
  local name=$1; shift
  local files=() tests=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do files+=(-f "$1"); shift; done
  shift
  tests=("$@")
  local excludes=()
  for e in "${equivalent[@]}"; do excludes+=(-E "$e"); done
  echo "== $name: ${files[*]} with ${tests[*]}"
  cargo mutants --all-features --no-shuffle -j 1 --minimum-test-timeout 120 \
    -o "$out/$name" "${files[@]}" "${excludes[@]}" -- "${tests[@]}" >"$out/$name.log" 2>&1
  summarize "$out/$name/mutants.out"
}

summarize() {
  local dir=$1
  printf '%-32s %7s %7s %8s %10s\n' file caught missed timeout unviable
  for f in $(cat "$dir"/{caught,missed,timeout,unviable}.txt 2>/dev/null | sed 's/:.*//' | sort -u); do
    count() { grep -c "^$f:" "$dir/$1.txt" 2>/dev/null || true; }
    printf '%-32s %7s %7s %8s %10s\n' "$f" "$(count caught)" "$(count missed)" "$(count timeout)" "$(count unviable)"
  done
  if [ -s "$dir/missed.txt" ]; then
    echo "missed:"
    sed 's/^/  /' "$dir/missed.txt"
  fi
}

mkdir -p "$out"
want=${1:-all}
# The rules first (what is adopted, what is created), then the coordinator (what is sent when).
if [ "$want" = all ] || [ "$want" = book ]; then
  group book src/book/assess.rs src/book/customer.rs src/book/pace.rs src/book/journal.rs \
    src/book/ensure.rs src/book/options.rs src/book/report.rs src/book/setup.rs \
    src/book/workers.rs src/book/engine.rs src/book/group.rs -- --lib --test book --test ensure_attested
fi
if [ "$want" = all ] || [ "$want" = coordinator ]; then
  group coordinator src/book/coordinator.rs src/book/coordinator/progress.rs \
    -- --lib --test book --test ensure_attested --test new_user
fi
# Whether a signer's key is the registered one, and which errors a rerun cannot fix.
if [ "$want" = all ] || [ "$want" = signer ]; then
  group signer src/signer/registration.rs src/signer/attestations.rs src/error/kind.rs \
    src/person/check.rs -- --lib --test new_user --test kyc
fi
# Runs sharing a journal (the record locks, taking customers in) and a book stopping short.
if [ "$want" = all ] || [ "$want" = runs ]; then
  group runs src/book/hold.rs src/book/coordinator/intake.rs src/book/coordinator/stops.rs \
    -- --lib --test runs_at_once --test signer --test book
fi
if [ "$want" = all ] || [ "$want" = core ]; then
  group core src/retry.rs src/wait.rs src/pages.rs -- --lib --test client --test reliability --test ensure_attested
fi
if [ "$want" = all ] || [ "$want" = jwt ]; then
  group jwt src/attestation/mod.rs src/attestation/check.rs src/auth.rs -- --lib --test attestation --test client
fi
