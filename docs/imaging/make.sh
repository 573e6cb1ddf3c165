#!/usr/bin/env bash
# Rebuild every image in docs/imaging/ with the batikstudio CLI (run from the repository root:
#   bash docs/imaging/make.sh). Where no CLI command does a step (planting specks in a
# character, cropping a motif so it is no longer seamless, a photo-like content image,
# printing seam scores, putting a before/after pair side by side) a short Python line does it,
# marked "not a CLI step" below.
set -euo pipefail
BS=${BATIKSTUDIO:-.venv/bin/batikstudio}
PY=${PYTHON:-.venv/bin/python}
OUT=docs/imaging
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export BATIKSTUDIO_THREADS=${BATIKSTUDIO_THREADS:-1}
KAI=/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf  # Debian: fonts-arphic-gkai00mp

# --- source motifs (procedural, seamless by construction): one per family, 128 px
$BS motifs -o "$TMP/motifs" --count 10 --res 128 --seed 0
M=$TMP/motifs/00000
cp "$M/img00000000.png" "$OUT/motif-parang.png"
cp "$M/img00000002.png" "$OUT/motif-kawung.png"

# --- artifact filter on a calligraphy character with planted grey specks and haze
$BS calligraphy-data --font "$KAI" -o "$TMP/chars" --chars 永 --res 96
# not a CLI step: grey haze over the paper, 40 small grey/dark specks
$PY -c "
import numpy as np; from PIL import Image
a = np.asarray(Image.open('$TMP/chars/00000/img00000000.png').convert('L')).astype(int)
r = np.random.default_rng(7); a = np.where(a > 200, a - r.integers(5, 40, a.shape), a)
for y, x in r.integers(2, 93, (40, 2)): a[y:y + r.integers(1, 3), x:x + r.integers(1, 3)] = r.integers(40, 150)
Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).save('$OUT/filter-before.png')"
$BS filter "$OUT/filter-before.png" -o "$OUT/filter-after.png"
$BS filter "$OUT/filter-before.png" -o "$OUT/filter-binarized.png" --binarize

# --- dye stages: 4 dyes, light to dark; sheet + one wax mask per stage
$BS dyes "$OUT/motif-kawung.png" -o "$TMP/dyes" --colors 4 --min-region 4
cp "$TMP/dyes/sheet.png" "$OUT/dyes-sheet.png"
cp "$TMP/dyes/recoloured.png" "$OUT/dyes-recoloured.png"
for k in 0 1 2 3; do cp "$TMP/dyes/mask_stage_$k.png" "$OUT/dyes-mask-$k.png"; done

# --- repeat layouts: a 4 x 3 in print at 80 dpi with a 1 in repeat (320 x 240 px)
for layout in block half-drop half-brick mirror centre; do
  $BS export "$OUT/motif-parang.png" -o "$OUT/repeat-$layout.png" --layout "$layout" \
    --size 4x3in --dpi 80 --repeat 1in --offset 1/2
done
$BS export "$OUT/motif-parang.png" -o "$OUT/repeat-half-drop-third.png" --layout half-drop \
  --size 4x3in --dpi 80 --repeat 1in --offset 1/3

# --- half-drop before / after drop-aware make-seamless: 3 x 2 in at 128 dpi, so one 1 in repeat
# is the 128 px motif pixel for pixel. The CLI prints the half-drop seam score (and, without
# --seamless, a one-line warning); those lines are kept, the progress bar lines dropped.
$BS export "$OUT/motif-parang.png" -o "$OUT/half-drop-before.png" --layout half-drop \
  --size 3x2in --dpi 128 --repeat 1in --offset 1/2 2>&1 | grep -v '^export \[' | tee "$OUT/half-drop-scores.txt"
$BS export "$OUT/motif-parang.png" -o "$OUT/half-drop-after.png" --layout half-drop \
  --size 3x2in --dpi 128 --repeat 1in --offset 1/2 --seamless seam 2>&1 | grep -v '^export \[' \
  | tee -a "$OUT/half-drop-scores.txt"

# --- make seamless: a crop that is not a tile (not a CLI step), 2 x 2 repeats before/after
$PY -c "
import numpy as np; from PIL import Image
a = np.asarray(Image.open('$M/img00000007.png').convert('RGB'))
Image.fromarray(np.ascontiguousarray(a[10:106, 20:116])).save('$OUT/seamless-crop.png')"
$BS export "$OUT/seamless-crop.png" -o "$OUT/seamless-before.png" --size 2x2in --dpi 96 --repeat 1in
for m in blend seam; do
  $BS export "$OUT/seamless-crop.png" -o "$OUT/seamless-$m.png" --size 2x2in --dpi 96 \
    --repeat 1in --seamless "$m"
done
# not a CLI step: seam scores of the tile before and after (about 1 = no visible seam)
$PY -c "
import numpy as np; from PIL import Image
from batikstudio.imaging.seamless import make_seamless, seam_score
a = np.asarray(Image.open('$OUT/seamless-crop.png').convert('RGB'))
print(f'seam score: crop {seam_score(a):.2f}, blend {seam_score(make_seamless(a, \"blend\")):.2f}, seam {seam_score(make_seamless(a, \"seam\")):.2f}')" \
  | tee "$OUT/seam-scores.txt"

# --- GIF: the ten family motifs as frames, 2 per second
$BS animate "$M" -o "$OUT/motifs.gif" --fps 2

# --- style transfer: a procedural photo-like scene (not a CLI step) restyled after a motif
$PY -c "
import numpy as np; from PIL import Image
y, x = np.mgrid[0:192, 0:192] / 191.0
img = np.stack([120 + 100 * y, 160 + 60 * y, 230 - 40 * y], 2)
img[(x - 0.72) ** 2 + (y - 0.25) ** 2 < 0.012] = (250, 215, 120)
hill = y > 0.62 + 0.12 * np.sin(6 * x) * np.cos(2 * x)
img[hill] = np.stack([60 + 80 * y, 110 + 40 * y, 50 + 20 * y], 2)[hill]
Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save('$OUT/style-content.png')"
$BS style "$OUT/style-content.png" "$OUT/motif-parang.png" -o "$OUT/style-fast.png" \
  --method fast --size 192
$BS style "$OUT/style-content.png" "$OUT/motif-parang.png" -o "$OUT/style-gatys.png" \
  --method gatys --size 192 --iterations 60,30   # colour defaults to "style" for gatys

du -ch "$OUT"/*.png "$OUT"/*.gif | tail -1
