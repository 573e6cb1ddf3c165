#!/bin/bash
# The 64 px ablation of models/README.md: StyleGAN2 loss vs Wasserstein (WGAN-GP), each with and
# without Diffusion-GAN noise, and a DCGAN baseline, on the same procedural batik data, each for
# the same CPU-time budget (one torch thread; --clock cpu keeps budgets equal on a shared machine).
#
#   bash docs/ablation/run.sh [WORKDIR] [MINUTES]      (default: runs/ablation, 10 minutes per run)
#
# Writes WORKDIR/<variant>/ (run folders), WORKDIR/<variant>.safetensors, metrics and grids.
set -euo pipefail
WORK=${1:-runs/ablation}
MIN=${2:-10}
export BATIKSTUDIO_THREADS=1
mkdir -p "$WORK"
DATA="$WORK/batik64.zip"
HELD="$WORK/heldout64.zip"
[ -e "$DATA" ] || batikstudio motifs --count 6000 --res 64 --edition 1 -o "$DATA"
[ -e "$HELD" ] || batikstudio motifs --count 1000 --res 64 --seed 100000 --edition 1 -o "$HELD"
COMMON=(--data "$DATA" --res 64 --batch 16 --kimg 1000 --cond --mirror --tileable
        --augment diffaugment --augment-ops translation --cpu-bf16
        --tick 2 --snap 100 --keep 1 --samples 40 --minutes "$MIN" --clock cpu)
SG2="--z-dim 256 --w-dim 256 --map 2 --mapping-lr 0.01 --cbase 4096 --cmax 128"
declare -A EXTRA=(
  [sg2]="$SG2 --loss stylegan2 --r1-gamma 0.1"
  [sg2-diff]="$SG2 --loss stylegan2 --r1-gamma 0.1 --diffusion"
  [wgan]="$SG2 --loss wasserstein --gp wgan-gp"
  [wgan-diff]="$SG2 --loss wasserstein --gp wgan-gp --diffusion"
  [dcgan]="--arch dcgan --z-dim 100 --ngf 64 --ndf 64"  # Radford et al.'s sizes (lr 0.0002, betas 0.5,0.999)
)
for v in sg2 sg2-diff wgan wgan-diff dcgan; do
  if [ ! -e "$WORK/$v.safetensors" ]; then
    # shellcheck disable=SC2086
    batikstudio train "${COMMON[@]}" ${EXTRA[$v]} --out "$WORK/$v"
    batikstudio train --export "$WORK/$v" -o "$WORK/$v.safetensors"
  fi
  batikstudio metrics --model "$WORK/$v.safetensors" --data "$HELD" --metrics swd,fd-effnet --num 1000 \
    | tee "$WORK/$v.metrics.txt"
  batikstudio generate --model "$WORK/$v.safetensors" --class all --seeds 0-7 --grid "$WORK/$v.png"
done
