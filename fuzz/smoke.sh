#!/bin/sh
# A short run of every fuzz target (30 s each; FUZZ_SECONDS changes it), for
# CI: exits non-zero if any target crashes, naming each one that did.
# New inputs go to a scratch directory, so the committed seeds stay as they are;
# a crashing input is kept in fuzz/artifacts/<target>/.
set -eu
cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-30}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

cargo +nightly fuzz build
failed=""
for target in $(cargo +nightly fuzz list); do
    mkdir -p "$scratch/$target"
    echo "== fuzz $target for ${seconds}s"
    if ! cargo +nightly fuzz run "$target" "$scratch/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1; then
        failed="$failed $target"
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz: crashed:$failed (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz: every target ran ${seconds}s without a crash"
