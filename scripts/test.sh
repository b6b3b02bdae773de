#!/usr/bin/env bash
# The whole test suite: unit, integration (CLI, parity, reference, video, bad input), a check
# that the benches still build, and the Python package's tests. GPU tests run on any adapter
# wgpu finds (Mesa's lavapipe without a GPU); set TESSERA_REQUIRE_GPU=1 to make a missing
# adapter a failure, as CI does.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
cargo test --locked
cargo check --locked --benches --quiet
bash scripts/test-python.sh
