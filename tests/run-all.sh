#!/usr/bin/env bash
# The project's whole test suite: formatting, lints, Rust unit + integration
# tests (with the OpenConfig conformance test, which needs yanglint: .ci/run
# installs it), and the pygnmi and aiognmi interop checks against a running
# simulator. Installs what it needs (Rust components, Python venvs).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain components"
rustup component add rustfmt clippy >/dev/null 2>&1 || true

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cargo build (the strata binary used by interop tests)"
cargo build --quiet --bin strata

step "python venv with pygnmi (interop), networkx (bench pathcomp peer) and gnpy (optical oracle)"
VENV="${STRATA_VENV:-target/venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check 'pygnmi==0.8.15' 'grpcio-tools>=1.60' 'networkx>=3.2' 'gnpy==3.0.1' 'grpcio-reflection>=1.60'

step "python venv with aiognmi (a second, independent gNMI client; it pins grpcio 1.59, hence its own venv)"
AIO_VENV="${STRATA_AIOGNMI_VENV:-target/venv-aiognmi}"
if [ ! -x "$AIO_VENV/bin/python" ]; then
  python3 -m venv "$AIO_VENV"
fi
"$AIO_VENV/bin/pip" install --quiet --disable-pip-version-check 'aiognmi==0.1.1'

step "cargo test --workspace"
cargo test --workspace --quiet 2>&1 | tee target/cargo-test.log
# cargo prints one 'test result' line per test binary
grep -q "test result: ok" target/cargo-test.log

step "pygnmi interop"
STRATA_BIN="$PWD/target/debug/strata" "$VENV/bin/python" tests/interop/pygnmi_interop.py | tee target/pygnmi.log

step "aiognmi interop"
STRATA_BIN="$PWD/target/debug/strata" "$AIO_VENV/bin/python" tests/interop/aiognmi_interop.py | tee target/aiognmi.log

step "grpcio orchestrator interop (stubs generated from proto/strata/v1)"
STRATA_BIN="$PWD/target/debug/strata" "$VENV/bin/python" tests/interop/grpcio_orchestrator.py | tee target/grpcio.log

step "strata lab smoke run (example topology, 8 s)"
# Its own credentials directory: the default one may be a running lab's.
timeout 120 ./target/debug/strata lab --duration 8 --listen 127.0.0.1:0 --ephemeral-ports \
  --credentials target/smoke-credentials | tail -4

step "web view in headless Chromium (selenium; screenshot in target/web-view.png)"
"$VENV/bin/pip" install --quiet --disable-pip-version-check 'selenium>=4.20'
STRATA_BIN="$PWD/target/debug/strata" timeout 300 "$VENV/bin/python" tests/web/web_view.py | tee target/web-view.log

# One closing line over every suite: Rust tests plus the interop checks.
awk '
  /^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
  / passed, [0-9]+ failed$/ { for (i = 1; i <= NF; i++) { if ($i == "passed,") p += $(i-1); if ($i == "failed") f += $(i-1) } }
  END { printf "total: %d passed, %d failed\n", p, f }
' target/cargo-test.log target/pygnmi.log target/aiognmi.log target/grpcio.log target/web-view.log
