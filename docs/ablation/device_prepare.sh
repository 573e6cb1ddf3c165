#!/bin/bash
# Here, around one call on a lent GPU machine (the `device` tool), which copies the checkout's
# tracked files and at most 64 MiB in all; the model files and pictures alone are about 90 MB.
#
#   bash docs/ablation/device_prepare.sh prepare
#       .device/ (ignored): the two bundled 64 px models as float16 start files (10 MB each) and
#       GB2312 subsets of the four Kai fonts (23 MB); models/ and the pictures untracked and
#       ignored for the call (nothing is deleted). About 48 MB travel.
#   run: command "bash docs/ablation/device_models.sh 3.5 3.5", carry [".device"], timeout_s 600
#   bash docs/ablation/device_prepare.sh restore      # track them again: commit nothing in between
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
KEEP_OUT=(models docs/screenshots docs/motifs-families.png docs/motifs-tiled.png)
EXCLUDE=.git/info/exclude
touch "$EXCLUDE"
case "${1:-}" in
  prepare)
    mkdir -p .device
    grep -qxF "/.device/" "$EXCLUDE" || echo "/.device/" >> "$EXCLUDE"
    python - <<'PY'
from batikstudio.io.modelfile import read_model_file, save_model_file
for name in ("batik-motifs-64", "calligraphy-kai-64"):
    save_model_file(f".device/{name}.safetensors", read_model_file(f"models/{name}.safetensors"), half=True)
PY
    [ -e .device/twkai.ttf ] || python docs/ablation/kai_subset_fonts.py .device
    git rm -r -q --cached -- "${KEEP_OUT[@]}"
    for p in "${KEEP_OUT[@]}"; do echo "/$p"; done >> "$EXCLUDE"
    echo "travels: $(( ($(git ls-files -z | xargs -0 cat | wc -c) + $(cat .device/* | wc -c)) / 1000000 )) MB" ;;
  restore)
    git reset -q -- "${KEEP_OUT[@]}"
    for p in "${KEEP_OUT[@]}"; do grep -vxF "/$p" "$EXCLUDE" > "$EXCLUDE.tmp" || true; mv "$EXCLUDE.tmp" "$EXCLUDE"; done
    git status --short ;;
  *) echo "usage: $0 prepare|restore" >&2; exit 2 ;;
esac
