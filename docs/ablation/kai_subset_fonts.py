"""GB2312 subsets of the four Kai fonts, small enough to travel to a device machine.

    python docs/ablation/kai_subset_fonts.py DST_FOLDER      (needs fontTools: pip install fonttools)

Writes ukai.ttf, gkai00mp.ttf, wenkai-light.ttf and twkai.ttf (about 23 MB in all, from 92 MB):
the 6,763 GB2312 hanzi with their outlines, hinting and names, so ``calligraphy-data`` gives the
same classes. Measured on 300 random characters: the glyphs match the full fonts' pixel for
pixel in three fonts; in AR PL UKai (face 0 of a .ttc) 178 of 300 differ along stroke edges,
same shapes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

from batikstudio.motifs.calligraphy import gb2312_chars

K = "/usr/share/fonts/truetype"
FONTS = {  # output name -> (file, face), the calligraphy card's --font order
    "ukai.ttf": (f"{K}/arphic/ukai.ttc", 0),
    "gkai00mp.ttf": (f"{K}/arphic-gkai00mp/gkai00mp.ttf", 0),
    "wenkai-light.ttf": (f"{K}/lxgw-wenkai/LXGWWenKai-Light.ttf", 0),
    "twkai.ttf": (f"{K}/cns11643/TW-Kai-98_1.ttf", 0),
}


def main(dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    codes = [ord(c) for c in gb2312_chars()]
    opts = subset.Options()
    opts.hinting = True
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    opts.glyph_names = True
    opts.layout_features = ["*"]
    for name, (path, face) in FONTS.items():
        font = TTFont(path, fontNumber=face)
        sub = subset.Subsetter(opts)
        sub.populate(unicodes=codes)
        sub.subset(font)
        font.save(str(dst / name))
        print(f"{dst / name}: {(dst / name).stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
