"""The explicit registry of motif families: name -> :class:`~batikstudio.motifs.spec.Family`."""

from __future__ import annotations

from batikstudio.motifs.families.diagonal import draw_lereng, draw_parang
from batikstudio.motifs.families.lattice import draw_ceplok, draw_kawung, draw_nitik, draw_truntum
from batikstudio.motifs.families.free import draw_megamendung, draw_sidomukti
from batikstudio.motifs.families.patchwork import draw_sekarjagad, draw_tambal
from batikstudio.motifs.spec import Family

_CLASSIC = ("sogan", "sogan_solo", "indigo", "lasem")

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("parang", draw_parang, scales=(2, 3), palettes=_CLASSIC + ("pesisir",),
               variants=3, mirror=True, invert_p=0.15,
               fills=("none", "cecek", "cecek_sawut", "galaran")),
        Family("lereng", draw_lereng, scales=(1, 2), palettes=_CLASSIC + ("pesisir",),
               variants=2, mirror=True, invert_p=0.0, fills=("none",)),
        Family("kawung", draw_kawung, scales=(2, 3, 4), palettes=_CLASSIC,
               variants=3, invert_p=0.3, fills=("none", "cecek", "sisik", "ukel")),
        Family("ceplok", draw_ceplok, scales=(2, 3), palettes=_CLASSIC + ("pesisir",),
               variants=3, invert_p=0.25, fills=("none", "cecek", "cecek_pitu", "sawut")),
        Family("truntum", draw_truntum, scales=(2, 3), palettes=("sogan", "sogan_solo", "indigo"),
               variants=2, invert_p=0.0, fills=("none",)),
        Family("nitik", draw_nitik, scales=(1, 2), palettes=_CLASSIC,
               variants=2, invert_p=0.0, fills=("none",), crackle_p=0.0),
        Family("sidomukti", draw_sidomukti, scales=(2, 3), palettes=_CLASSIC,
               variants=2, invert_p=0.0, fills=("none",)),
        Family("megamendung", draw_megamendung, scales=(2, 3),
               palettes=("mega_mendung", "mega_mendung", "mega_mendung_red"),
               variants=2, mirror=True, invert_p=0.0, fills=("none",), crackle_p=0.0),
        Family("tambal", draw_tambal, scales=(2, 3), palettes=_CLASSIC + ("pesisir",),
               invert_p=0.0, fills=("none",), crackle_p=0.2),
        Family("sekarjagad", draw_sekarjagad, scales=(1, 2, 3), palettes=_CLASSIC + ("pesisir",),
               invert_p=0.0, fills=("none",), crackle_p=0.2),
    )
}
