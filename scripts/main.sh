#!/usr/bin/env bash
# The main job: sets up, trains DP and DP-AG on the shipped Push-T expert demonstrations, evaluates both in the
# simulator, writes a comparison report with figures, executes every notebook and exports all of it as an offline HTML
# site (artifacts/site/index.html). Everything lands in artifacts/.
#   DPAG_BUDGET=ci scripts/main.sh    a few minutes (what CI uses)
#   scripts/main.sh                   the real budget: the CPU recipe's runs (trained into artifacts/runs once, then reused)
#   DPAG_USE_SHIPPED=1 scripts/main.sh   the real budget on the policies the kit ships (data/policies/), no training
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh
# Everything the job needs (simulator, notebook kernel, TorchSharp), checked before hours of work; problems come with fixes.
scripts/dpag doctor > /dev/null
budget="${DPAG_BUDGET:-real}"
log() { printf '[main %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
# The recipes live in the library (DpAg.Evaluation.TrainBudget); the notebooks ask the same run store for the same runs,
# so they reuse what this job trains instead of training again.
if [ "$budget" = ci ]; then
  recipe=ci; episodes=4; max_steps=60; sampler=(--sampler ddim --inference-steps 8)
else
  recipe=cpu; episodes=50; max_steps=300; sampler=()
fi
store=artifacts/runs
mkdir -p artifacts/notebooks artifacts/report "$store"
: > artifacts/report/notebook-times.txt
if [ "$budget" = ci ]; then
  log "plan: budget ci: train DP and DP-AG with the ci recipe (tiny, seconds), evaluate $episodes episodes, report, execute 11 notebooks (about 3 minutes on 2 cores)"
elif [ "${DPAG_USE_SHIPPED:-0}" = 1 ]; then
  log "plan: budget real with the shipped policies (DPAG_USE_SHIPPED=1): evaluate data/policies/dp and dp-ag on the 50 test episodes (DDPM 100), report, execute 11 notebooks (estimate: 45 minutes on 2 cores)"
else
  # What the store already holds decides the estimate. Measured on the 2-core VM (README, "Results"): training DP 58 and
  # DP-AG 85 minutes on one contended thread each; evaluation 4 minutes a policy; notebooks 40 minutes; setup 1.
  train_minutes=0; trains=()
  for policy in dp dp-ag; do
    state=$(scripts/dpag train --budget "$recipe" --policy "$policy" --store "$store" --plan 2>/dev/null | sed -n 's/^plan: //p')
    [ -n "$state" ] || { echo "main.sh: dpag train --plan gave no plan for $policy; run it by hand to see why:" >&2
                         echo "  scripts/dpag train --budget $recipe --policy $policy --store $store --plan" >&2; exit 1; }
    read -r what steps folder <<< "$state"
    done_steps=${steps%/*}; total_steps=${steps#*/}
    full=$([ "$policy" = dp ] && echo 58 || echo 85)
    if [ "$what" = finished ]; then left=0
    elif [[ "$total_steps" =~ ^[0-9]+$ ]] && [ "$total_steps" -gt 0 ]; then left=$(( full * (total_steps - done_steps) / total_steps ))
    else left=$full; fi
    train_minutes=$(( train_minutes + left ))
    trains+=("$policy: $what ($steps steps, about $left minutes to train) $folder")
  done
  log "plan: budget real: the cpu recipe's DP and DP-AG from the run store $store:"
  for t in "${trains[@]}"; do log "      $t"; done
  log "      then evaluate every kept checkpoint on the 50 test episodes (DDPM 100, about 8 minutes), report, execute 11 notebooks (about 40 minutes)"
  log "      estimate: $(( train_minutes + 49 )) minutes on 2 cores"
fi

runs=()
for policy in dp dp-ag; do
  if [ "$budget" != ci ] && [ "${DPAG_USE_SHIPPED:-0}" = 1 ]; then
    run="$store/shipped-$policy"
    rm -rf "$run" && cp -r "data/policies/$policy" "$run"
    log "using the shipped $policy policy (data/policies/$policy) as $run"
    checkpoint=(--checkpoint best)
  else
    log "training $policy (recipe $recipe, run store $store)"
    scripts/dpag train --budget "$recipe" --policy "$policy" --store "$store" --retries 3 | tee "artifacts/report/train-$policy.log"
    run=$(sed -n 's/^run: //p' "artifacts/report/train-$policy.log" | tail -1)
    [ -n "$run" ] && [ -d "$run" ] || { echo "main.sh: dpag train did not name the run folder of $policy (artifacts/report/train-$policy.log)" >&2; exit 1; }
    checkpoint=(--checkpoint all)
  fi
  log "evaluating $policy ($episodes episodes, ${checkpoint[*]})"
  scripts/dpag eval --run-dir "$run" "${checkpoint[@]}" --episodes "$episodes" --max-steps "$max_steps" --gifs 2 "${sampler[@]}" \
    --noise-scale "$([ "$policy" = dp-ag ] && echo 0.4 || echo 1)"
  # The report's table shows the checkpoint chosen on validation seeds.
  cp "$run/eval/best/eval.json" "$run/eval/eval.json"
  runs+=("$run")
done
scripts/dpag report --runs "${runs[@]}" --output artifacts/report --title "DP vs DP-AG on Push-T (budget: $budget)" > /dev/null

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
# Everything above as one offline HTML site (notebooks, reports, an index): open artifacts/site/index.html.
scripts/dpag site --notebooks artifacts/notebooks --output artifacts/site
log "report: artifacts/report/report.md; site: artifacts/site/index.html"
