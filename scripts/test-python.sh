#!/usr/bin/env bash
# The Python package's tests: a virtual environment in target/pyenv with maturin, numpy,
# pytest and Dask's distributed scheduler (examples/dask_batch.py runs on it in
# python/tests/test_dask.py); the package built as a wheel with the dev profile (reusing the
# library `cargo test` compiled, where `pip install ./python` would build it again for
# release) and installed into it, wheel layout, stubs and all; then pytest over python/tests,
# which compares the package with the tessera binary of the same build (target/debug/tessera).
#
# `--images-only` tests the wheel built without the `video` feature (no FFmpeg linked) instead,
# in target/pyenv-images: the video tests skip, `tessera.open` says why it cannot read. It
# compiles the library a second time (about 1.5 minutes here), so CI, which runs the default
# wheel's tests, leaves it out; run it when the package's features change.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
env=target/pyenv
wheels=target/python-wheels
features=()
if [ "${1:-}" = "--images-only" ]; then
  shift
  env=target/pyenv-images
  wheels=target/python-wheels-images
  features=(--no-default-features --features avif)
fi
if [ ! -x "$env/bin/python" ]; then
  python3 -m venv "$env"
fi
"$env/bin/python" -m pip install --quiet --disable-pip-version-check "maturin>=1.9.4,<2" numpy pytest \
  "dask[distributed]"
# The binary the tests compare with, as `cargo test` builds it (a no-op after it): `cargo build`
# would compile the library again without the dev-dependencies' features.
cargo test --locked --no-run --quiet
rm -rf "$wheels"
"$env/bin/maturin" build --locked --profile dev --quiet -m python/Cargo.toml --auditwheel skip \
  ${features[@]+"${features[@]}"} --interpreter "$env/bin/python" -o "$wheels"
"$env/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
  "$wheels"/tessera-*.whl
# From python/tests, so that `import tessera` finds the installed wheel, not the source folder.
cd python/tests
"../../$env/bin/python" -m pytest -q "$@"
