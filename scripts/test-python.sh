#!/usr/bin/env bash
# The Python package's tests: a virtual environment in target/pyenv with maturin, numpy,
# pytest and Dask's distributed scheduler (examples/dask_batch.py runs on it in
# python/tests/test_dask.py); the package built as a wheel with the dev profile (reusing the
# library `cargo test` compiled, where `pip install ./python` would build it again for
# release) and installed into it, wheel layout, stubs and all; then pytest over python/tests,
# which compares the package with the tessera binary of the same build (target/debug/tessera).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
env=target/pyenv
if [ ! -x "$env/bin/python" ]; then
  python3 -m venv "$env"
fi
"$env/bin/python" -m pip install --quiet --disable-pip-version-check "maturin>=1.9.4,<2" numpy pytest \
  "dask[distributed]"
# The binary the tests compare with, as `cargo test` builds it (a no-op after it): `cargo build`
# would compile the library again without the dev-dependencies' features.
cargo test --locked --no-run --quiet
rm -rf target/python-wheels
"$env/bin/maturin" build --locked --profile dev --quiet -m python/Cargo.toml --auditwheel skip \
  --interpreter "$env/bin/python" -o target/python-wheels
"$env/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
  target/python-wheels/tessera-*.whl
# From python/tests, so that `import tessera` finds the installed wheel, not the source folder.
cd python/tests
"../../$env/bin/python" -m pytest -q "$@"
