#!/bin/bash
# One call on a lent GPU machine (the `device` tool's `run`): grow the bundled batik model to
# channel_max 256 (as session 12 did on the CPU, models/batik-motifs-64.md "Continue") and train
# it there for MINUTES, then hand back a half-precision model file in parts of at most 15 MB
# (the tool returns files of at most 16 MiB) with the log and the last sample grid.
#
#   OUT=/tmp/out bash docs/ablation/device_batik.sh [MINUTES] [DEVICE]   (default 6, cuda)
#
# On the device the image's python3 has torch, numpy, pillow, opencv and safetensors, which is
# all `batikstudio train` and `batikstudio motifs` need; the project runs from the tree
# (PYTHONPATH), nothing is installed. The data is rendered there (COUNT motifs, default 6,000,
# the bundled model's data set). Back here:
#   cat OUT/batik-wide.safetensors.part-* > batik-wide.safetensors
#   PREFIX=gpu /work/runs/measure.sh batik-wide.safetensors   (or the card's commands)
# The working tree must travel in 64 MiB: it holds about 70 MB of model files and pictures, so
# keep out what this call does not need first (`git rm --cached` them, list them in
# .git/info/exclude, and `git reset` after): it needs batikstudio/, docs/ablation/ and
# models/batik-motifs-64.safetensors.
set -euo pipefail
MIN=${1:-6}
DEV=${2:-cuda}
OUT=${OUT:?set OUT to the folder that comes back}
WORK=${WORK:-/tmp/batik-device}
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 BATIKSTUDIO_THREADS=${THREADS:-4}
LOG=$OUT/log.txt
mkdir -p "$WORK" "$OUT"
bs() { python3 -m batikstudio "$@" 2>&1 | tr '\r' '\n' | { grep -v '^train \[\|^motifs \[' || true; } | tee -a "$LOG"; }
python3 - <<'EOF' 2>&1 | tee "$LOG"
import os, platform, torch
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
print(f"python {platform.python_version()}, torch {torch.__version__}, {gpu}, {os.cpu_count()} CPUs")
EOF
start=$(date +%s)
[ -e "$WORK/batik64.zip" ] || bs motifs --count "${COUNT:-6000}" --res 64 --workers "$(nproc)" -o "$WORK/batik64.zip"
echo "data: $(( $(date +%s) - start )) s" | tee -a "$LOG"
bs train --data "$WORK/batik64.zip" --out "$WORK/run" --start-from models/batik-motifs-64.safetensors \
  --res 64 --cbase 4096 --cmax 256 --batch "${BATCH:-64}" --kimg 100000 --cond --class-groups \
  --diversity 2 --diffusion --mirror --tileable --augment diffaugment --augment-ops translation \
  --r1-gamma 1 --class-weights kawung=1.5,ceplok=1.5,tambal=4,sekarjagad=4 --mismatch 0.5 \
  --ema-rampup 0 --tick "${TICK:-8}" --snap 1000 --keep 1 --samples 40 --minutes "$MIN" --device "$DEV" \
  --no-amp  # float32 as on the CPU: the model is small (launch-bound), and the start file was trained so
bs train --export "$WORK/run" -o "$WORK/batik-wide.safetensors" --half --name batik-motifs-64
split -b 15M -d "$WORK/batik-wide.safetensors" "$OUT/batik-wide.safetensors.part-"
last=$(ls "$WORK"/run/samples-*.png 2>/dev/null | tail -1)
[ -z "$last" ] || cp "$last" "$OUT/samples-last.png"
echo "all: $(( $(date +%s) - start )) s" | tee -a "$LOG"
ls -l "$OUT" | tee -a "$LOG"
