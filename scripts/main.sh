#!/usr/bin/env bash
# The main job: sets up, then runs the kit end to end on the CPU (or the GPU when the build and machine have one)
# and writes everything under artifacts/: the executed notebooks, the smoke training run and its figure, a report.
#   DPAG_BUDGET=ci scripts/main.sh    a few minutes (what CI uses)
#   scripts/main.sh                   the real budget for people
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh
budget="${DPAG_BUDGET:-real}"
log() { printf '[main %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
mkdir -p artifacts/notebooks artifacts/report
: > artifacts/report/notebook-times.txt

log "smoke training run (budget: $budget)"
steps=2000; [ "$budget" = ci ] && steps=200
scripts/dpag smoke --steps "$steps" --output artifacts/smoke | tee artifacts/report/smoke.txt

JUPYTER=/usr/bin/jupyter; [ -x "$JUPYTER" ] || JUPYTER=jupyter
for nb in notebooks/*.ipynb; do
  log "executing $nb"
  start=$(date +%s)
  DPAG_BUDGET="$budget" "$JUPYTER" nbconvert --to notebook --execute \
    --ExecutePreprocessor.timeout=3600 --ExecutePreprocessor.kernel_name=.net-csharp \
    --output-dir artifacts/notebooks "$nb" 2>&1 | tail -1
  echo "$(basename "$nb"): $(( $(date +%s) - start )) s" >> artifacts/report/notebook-times.txt
done

{
  echo "# DP-AG kit: main job report"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); budget: $budget; machine: $(nproc) cores, $(uname -m)"
  echo "- runtime: $(scripts/dpag doctor 2>&1 | tail -1)"
  echo
  echo "## Smoke run"; echo; cat artifacts/report/smoke.txt; echo
  echo "![loss](../smoke/loss.png)"; echo
  echo "## Notebooks (executed copies in artifacts/notebooks/)"; echo
  sed 's/^/- /' artifacts/report/notebook-times.txt
} > artifacts/report/README.md
log "report: artifacts/report/README.md"
