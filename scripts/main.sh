#!/usr/bin/env bash
# The main job: sets up, trains DP and DP-AG on the shipped Push-T expert demonstrations, evaluates both in the
# simulator, writes a comparison report with figures, and executes every notebook. Everything lands in artifacts/.
#   DPAG_BUDGET=ci scripts/main.sh    a few minutes (what CI uses)
#   scripts/main.sh                   the real budget for people (CPU: estimated 2-3 hours on 2 cores; not yet timed end to end)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh
# Everything the job needs (simulator, notebook kernel, TorchSharp), checked before hours of work; problems come with fixes.
scripts/dpag doctor > /dev/null
budget="${DPAG_BUDGET:-real}"
log() { printf '[main %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
if [ "$budget" = ci ]; then
  size=tiny; steps=40; episodes=4; max_steps=60; sampler=(--sampler ddim --inference-steps 8)
else
  size=small; steps=3000; episodes=50; max_steps=300; sampler=()
fi
runs=artifacts/runs
mkdir -p artifacts/notebooks artifacts/report "$runs"
: > artifacts/report/notebook-times.txt

for policy in dp dp-ag; do
  log "training $policy ($size U-Net, $steps steps, budget $budget)"
  scripts/dpag train --policy "$policy" --size "$size" --steps "$steps" --warmup $((steps / 10)) --lr 3e-4 \
    --checkpoint-every $((steps / 4)) --run-dir "$runs/$policy"
  log "evaluating $policy ($episodes episodes)"
  scripts/dpag eval --run-dir "$runs/$policy" --episodes "$episodes" --max-steps "$max_steps" --gifs 2 "${sampler[@]}"
done
scripts/dpag report --runs "$runs/dp" "$runs/dp-ag" --output artifacts/report --title "DP vs DP-AG on Push-T (budget: $budget)" > /dev/null

JUPYTER=/usr/bin/jupyter; [ -x "$JUPYTER" ] || JUPYTER=jupyter
for nb in notebooks/*.ipynb; do
  log "executing $nb"
  start=$(date +%s)
  DPAG_BUDGET="$budget" "$JUPYTER" nbconvert --to notebook --execute \
    --ExecutePreprocessor.timeout=3600 --ExecutePreprocessor.kernel_name=.net-csharp \
    --output-dir artifacts/notebooks "$nb" 2>&1 | tail -1
  echo "- $(basename "$nb"): $(( $(date +%s) - start )) s" >> artifacts/report/notebook-times.txt
done
{
  echo; echo "## Notebooks"; echo
  echo "Executed copies (with outputs) are in \`artifacts/notebooks/\`; wall time with budget '$budget':"; echo
  cat artifacts/report/notebook-times.txt
  echo; echo "Runtime: $(scripts/dpag doctor --runtime-only 2>&1 | tail -1)"
} >> artifacts/report/report.md
log "report: artifacts/report/report.md"
