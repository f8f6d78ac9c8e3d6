#!/usr/bin/env bash
# Sets up everything (scripts/setup.sh --test-deps) and runs every test: unit, numerical, CLI and notebook tests.
# Extra arguments go to `dotnet test` (e.g. --filter "FullyQualifiedName~Diffusion").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh --test-deps
export DPAG_BUDGET=ci
mkdir -p artifacts/test artifacts/notebooks
rm -f artifacts/notebooks/ci-times.txt
log="artifacts/test/dotnet-test.log"
set +e
dotnet test DpAg.Notebooks.sln -c Release --no-build -nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# How long each notebook took with the CI budget (the notebook tests run in parallel, so these overlap).
[ -f artifacts/notebooks/ci-times.txt ] && sort artifacts/notebooks/ci-times.txt
# One closing line over all test assemblies: "Tests: N passed, N failed, N skipped".
awk '/^(Passed|Failed)! +- Failed:/ {
       gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
     }
     END { printf "Tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
