# usage: python docs/ablation/kai_heldout.py OUT.zip
"""Held-out calligraphy set: CJK ideographs outside GB2312 (never trained on), drawn by the three Kai
fonts that have them (AR PL KaitiM GB covers only GB2312), labelled with the training set's class order."""
import io, json, sys, zipfile
import numpy as np
from PIL import Image
from batikstudio.motifs.calligraphy import GlyphRenderer, gb2312_chars, parse_font_arg
K = "/usr/share/fonts/truetype"
names = ["AR PL UKai CN", "AR PL KaitiM GB", "LXGW WenKai Light", "TW-Kai"]
fonts = {0: f"{K}/arphic/ukai.ttc#0", 2: f"{K}/lxgw-wenkai/LXGWWenKai-Light.ttf", 3: f"{K}/cns11643/TW-Kai-98_1.ttf"}
gb = set(gb2312_chars())
rs = {k: GlyphRenderer(*parse_font_arg(f), 64) for k, f in fonts.items()}
chars = []
for cp in range(0x4E00, 0x9FA6, 5):
    ch = chr(cp)
    if ch not in gb and all(r.render(ch) is not None for r in rs.values()):
        chars.append(ch)
    if len(chars) == 334:
        break
labels, n = [], 0
with zipfile.ZipFile(sys.argv[1] if len(sys.argv) > 1 else "kai64-heldout.zip", "w") as z:
    for ch in chars:
        for k, r in rs.items():
            name = f"00000/img{n:08d}.png"
            buf = io.BytesIO(); Image.fromarray(r.render(ch)).save(buf, "PNG")
            z.writestr(name, buf.getvalue()); labels.append([name, k]); n += 1
    z.writestr("dataset.json", json.dumps({"labels": labels, "class_names": names}))
print(n, "images,", len(chars), "characters")
