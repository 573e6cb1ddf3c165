#!/bin/bash
# The collapse comparison of models/README.md ("Against collapse"): 32 px, 12 CPU-minutes each on
# one thread, then the collapse metric of each run's 12 kimg snapshot against the training data.
#   bash docs/ablation/collapse.sh WORKDIR        (runs two at a time: the machine has 2 cores)
set -euo pipefail
W=${1:?work folder}
mkdir -p "$W"
[ -e "$W/batik32.zip" ] || batikstudio motifs --count 6000 --res 32 --edition 1 -o "$W/batik32.zip"
export BATIKSTUDIO_THREADS=1
common="--data $W/batik32.zip --res 32 --batch 16 --cond --diffusion --mirror --tileable --augment diffaugment
  --augment-ops translation --z-dim 256 --w-dim 256 --map 2 --cbase 4096 --cmax 128 --minutes 12 --clock cpu
  --tick 2 --snap 1 --keep 10 --samples 4 --seed 7"
run() { name=$1; shift; bf16=--cpu-bf16; [ "${@: -1}" = --no-bf16 ] && { bf16=; set -- "${@:1:$#-1}"; }; batikstudio train $common $bf16 "$@" --out "$W/$name" > "$W/$name.log" 2>&1; }
run noise --r1-gamma 0.1 & run nonoise --r1-gamma 0.1 --no-noise & wait
run groups --r1-gamma 0.1 --class-groups & run straight --r1-gamma 0.1 --straight --no-bf16 & wait
run div --r1-gamma 0.1 --class-groups --diversity 2 & run divnn --r1-gamma 0.1 --class-groups --diversity 2 --no-noise & wait
run g1 --r1-gamma 1 --class-groups --diversity 2 --no-noise & run g5 --r1-gamma 5 --class-groups --diversity 2 --no-noise & wait
for name in noise nonoise groups div divnn g1 g5; do
  batikstudio train --export "$W/$name/snapshot-000012000.safetensors" -o "$W/$name.safetensors"
  echo "$name $(batikstudio metrics --model "$W/$name.safetensors" --data "$W/batik32.zip" --metrics collapse | tail -1)"
done
