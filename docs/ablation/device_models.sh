#!/bin/bash
# On a lent GPU machine, in one call (see device_prepare.sh for the call itself): grow both
# bundled 64 px models to channel_max 256 (models/*.md "Continue") and train each for its
# minutes, then hand back float16 model files in parts of at most 15 MB (the tool returns files
# of at most 16 MiB), the last sample grids and the log.
#
#   OUT=... bash docs/ablation/device_models.sh [BATIK_MINUTES] [KAI_MINUTES] [DEVICE]
#   (defaults 3.5, 3.5, cuda; 0 minutes skips a model)
#
# The image's python3 there has torch, numpy, pillow, opencv and safetensors: all that
# `batikstudio motifs / calligraphy-data / train` need; the project runs from the tree
# (PYTHONPATH), nothing is installed. The data sets are rendered there (the cards' data sets;
# the calligraphy glyphs from .device's font subsets). Back here:
#   cat batik-wide.safetensors.part-* > batik-wide.safetensors    (likewise kai-wide)
# then measure as the cards do (classifier / kai_nearest.py / card_metrics.py) and look at the grids.
set -euo pipefail
MIN_B=${1:-3.5}
MIN_K=${2:-3.5}
DEV=${3:-cuda}
OUT=${OUT:?set OUT to the folder that comes back}
SRC=${SRC:-.device}
WORK=${WORK:-/tmp/batikstudio-device}
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 BATIKSTUDIO_THREADS=${THREADS:-4}
LOG=$OUT/log.txt
mkdir -p "$WORK" "$OUT"
bs() { python3 -m batikstudio "$@" 2>&1 | tr '\r' '\n' | { grep -v '^[a-z]* \[' || true; } | tee -a "$LOG"; }
python3 - <<'PY' 2>&1 | tee "$LOG"
import os, platform, torch
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
print(f"python {platform.python_version()}, torch {torch.__version__}, {gpu}, {os.cpu_count()} CPUs")
PY
T0=$(date +%s)
stamp() { echo "$1: $(( $(date +%s) - T0 )) s" | tee -a "$LOG"; }
# train NAME DATA START MINUTES OPTIONS...: train, export float16, split into $OUT
train() {
  local name=$1 data=$2 start=$3 minutes=$4
  shift 4
  bs train --data "$data" --out "$WORK/$name" --start-from "$start" --res 64 --cbase 4096 --cmax 256 \
    --batch "${BATCH:-64}" --kimg 100000 --cond --class-groups --augment diffaugment \
    --augment-ops translation --ema-rampup 0 --tick "${TICK:-8}" --snap 1000 --keep 1 --samples 40 \
    --minutes "$minutes" --device "$DEV" --no-amp "$@"  # float32, as the start files were trained
  bs train --export "$WORK/$name" -o "$WORK/$name.safetensors" --half --name "$(basename "$start" .safetensors)"
  split -b 15M -d "$WORK/$name.safetensors" "$OUT/$name.safetensors.part-"
  local last
  last=$(ls "$WORK/$name"/samples-*.png 2>/dev/null | tail -1)
  [ -z "$last" ] || cp "$last" "$OUT/$name-samples.png"
  stamp "$name"
}
if [ "$MIN_B" != 0 ]; then
  [ -e "$WORK/batik64.zip" ] || bs motifs --count "${COUNT:-6000}" --res 64 --edition 1 --workers "$(nproc)" -o "$WORK/batik64.zip"
  stamp "batik data"
  train batik-wide "$WORK/batik64.zip" "$SRC/batik-motifs-64.safetensors" "$MIN_B" \
    --diversity 2 --diffusion --mirror --tileable --r1-gamma 1 --mismatch 0.5 \
    --class-weights tambal=2,sekarjagad=2 --layout 16 --layout-source images --recon 4  # a structure model since stage 10
fi
if [ "$MIN_K" != 0 ]; then
  [ -e "$WORK/kai64.zip" ] || bs calligraphy-data --font "$SRC/ukai.ttf" --font "$SRC/gkai00mp.ttf" \
    --font "$SRC/wenkai-light.ttf" --font "$SRC/twkai.ttf" ${LIMIT:+--limit "$LIMIT"} -o "$WORK/kai64.zip"
  stamp "kai data"
  train kai-wide "$WORK/kai64.zip" "$SRC/calligraphy-kai-64.safetensors" "$MIN_K" \
    --diversity 0 --no-noise --r1-gamma 5 --layout 16 --recon 10  # a character model since stage 6
fi
ls -l "$OUT" | tee -a "$LOG"
