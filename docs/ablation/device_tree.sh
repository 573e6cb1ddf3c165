#!/bin/bash
# The device tool copies the checkout's tracked files (64 MiB at most); the model files and
# pictures alone are about 70 MB. Before a device call that needs only the code and the 64 px
# batik model (device_batik.sh):
#   bash docs/ablation/device_tree.sh trim      # untrack + ignore the rest (nothing is deleted)
#   ... device run ...
#   bash docs/ablation/device_tree.sh restore   # track them again; commit nothing in between
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
KEEP_OUT=(docs/screenshots docs/motifs-families.png docs/motifs-tiled.png models/batik-motifs-32.safetensors
          models/calligraphy-kai-64.safetensors models/vgg16-hed-trunk.safetensors
          models/magenta-arbitrary-predict.onnx models/magenta-arbitrary-transform.onnx)
EXCLUDE=.git/info/exclude
case "${1:-}" in
  trim)
    git rm -r -q --cached -- "${KEEP_OUT[@]}" models/*.png
    for p in "${KEEP_OUT[@]}" models/*.png; do echo "/$p"; done >> "$EXCLUDE"
    echo "tracked now: $(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1) bytes" ;;
  restore)
    git reset -q -- "${KEEP_OUT[@]}" models/*.png
    for p in "${KEEP_OUT[@]}" models/*.png; do grep -vxF "/$p" "$EXCLUDE" > "$EXCLUDE.tmp" || true; mv "$EXCLUDE.tmp" "$EXCLUDE"; done
    git status --short ;;
  *) echo "usage: $0 trim|restore" >&2; exit 2 ;;
esac
