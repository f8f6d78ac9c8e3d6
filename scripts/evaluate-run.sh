#!/usr/bin/env bash
# Usage: scripts/evaluate-run.sh RUN_DIR dp|dp-ag [THREADS]   (about 15 minutes for DP, 20 for DP-AG on one thread)
# Evaluates a finished run on the 50 test seeds: every kept checkpoint + best with DDPM 100 sampled as trained
# (protocol summaries), and the best checkpoint with DDIM 16 and 8; DP-AG also as released (noise scale 1).
set -euo pipefail
run="$1"; kind="$2"; threads="${3:-1}"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
s=1; [ "$kind" = dp-ag ] && s=0.4
ev() { scripts/dpag eval --run-dir "$run" --episodes 50 --gifs 0 --threads "$threads" "$@" 2>&1 | grep -v "episodes done" | grep -v "^Initializing\|^Compile"; }
ev --checkpoint all --noise-scale "$s" --output "$run/eval-ddpm100-scale$s"
for k in 16 8; do ev --checkpoint best --sampler ddim --inference-steps "$k" --noise-scale "$s" --output "$run/eval-ddim$k-scale$s"; done
if [ "$kind" = dp-ag ]; then
  ev --checkpoint best --noise-scale 1 --output "$run/eval-ddpm100-scale1"
  for k in 16 8; do ev --checkpoint best --sampler ddim --inference-steps "$k" --noise-scale 1 --output "$run/eval-ddim$k-scale1"; done
fi
