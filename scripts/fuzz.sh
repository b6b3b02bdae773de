#!/usr/bin/env bash
# Fuzzes tessera for a bounded time, both targets in turn, the time split between them:
#   chain  the chain language's parser and resolver (fuzz/fuzz_targets/chain.rs)
#   image  image reading: recognition, header, decoding (fuzz/fuzz_targets/image.rs)
# `bash scripts/fuzz.sh [SECONDS] [TARGET…]`: 120 seconds by default, both targets.
#
# Not part of every CI run: cargo-fuzz needs the nightly toolchain (`cargo install cargo-fuzz`,
# `rustup toolchain install nightly`), and a useful run takes minutes, not seconds. What it
# finds stays fixed through `cargo test`: tests/fuzz_regressions.rs replays fuzz/corpus/TARGET
# and fuzz/regressions/TARGET with the same checks, without libFuzzer.
#
# A crash (panic, stack overflow, an input slower than 1 s, more than 2 GB) lands in
# fuzz/artifacts/TARGET/ as crash-*, timeout-* or oom-*. Minimise it, then keep it:
#     cargo +nightly fuzz tmin chain fuzz/artifacts/chain/crash-…
#     cp fuzz/artifacts/chain/minimized-from-… fuzz/regressions/chain/<what-it-shows>.chain
# (an image regression keeps the extension of its format: fuzz/regressions/image/<what>.png).
#
# The inputs a run finds interesting go to fuzz/target/corpus/TARGET (ignored, a cache kept
# between runs); the seeds in fuzz/corpus/TARGET are only read, so they stay small.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
seconds="${1:-120}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(chain image)
each=$(( seconds / ${#targets[@]} ))
[ "$each" -lt 1 ] && each=1
for target in "${targets[@]}"; do
    echo "fuzzing $target for ${each}s" >&2
    mkdir -p "fuzz/target/corpus/$target"
    cargo +nightly fuzz run "$target" "fuzz/target/corpus/$target" "fuzz/corpus/$target" -- \
        -max_total_time="$each" -timeout=1 -rss_limit_mb=2048 -print_final_stats=1
done
