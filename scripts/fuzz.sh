#!/usr/bin/env bash
# Fuzzes the chain language's parser and resolver (fuzz/fuzz_targets/chain.rs) for a bounded
# time: `bash scripts/fuzz.sh [SECONDS]`, 60 by default.
#
# Not part of every CI run: cargo-fuzz needs the nightly toolchain (`cargo install cargo-fuzz`,
# `rustup toolchain install nightly`), and a useful run takes minutes, not seconds. What it
# finds stays fixed through `cargo test`: tests/fuzz_regressions.rs replays fuzz/corpus/chain
# and fuzz/regressions/chain with the same checks, without libFuzzer.
#
# A crash (panic, stack overflow, an input slower than 1 s, more than 2 GB) lands in
# fuzz/artifacts/chain/ as crash-*, timeout-* or oom-*. Minimise it, then keep it:
#     cargo +nightly fuzz tmin chain fuzz/artifacts/chain/crash-…
#     cp fuzz/artifacts/chain/minimized-from-… fuzz/regressions/chain/<what-it-shows>.chain
#
# The inputs the run finds interesting go to fuzz/target/corpus/chain (ignored, a cache kept
# between runs); the seeds in fuzz/corpus/chain are only read, so they stay small.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
seconds="${1:-60}"
mkdir -p fuzz/target/corpus/chain
cargo +nightly fuzz run chain fuzz/target/corpus/chain fuzz/corpus/chain -- \
    -max_total_time="$seconds" -timeout=1 -print_final_stats=1
