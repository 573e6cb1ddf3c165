"""Procedural batik motifs: seamless, deterministic per seed, for training data and tests.

>>> from batikstudio.motifs import render_motif, FAMILIES
>>> render_motif("kawung", 0, 64).shape
(64, 64, 3)
"""

from batikstudio.motifs.colours import PALETTES, Palette
from batikstudio.motifs.families import FAMILIES
from batikstudio.motifs.generate import make_spec, render_motif, render_spec
from batikstudio.motifs.spec import Family, MotifSpec

__all__ = ["FAMILIES", "PALETTES", "Family", "MotifSpec", "Palette", "make_spec",
           "render_motif", "render_spec"]
