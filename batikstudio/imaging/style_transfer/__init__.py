"""Neural style transfer: Gatys optimisation on VGG features, and a fast feed-forward network.

Public API: :class:`StyleTransferRequest` and the job :func:`stylize` (``(request, ctx) ->
HxWx3 uint8``); :class:`GatysConfig` for the optimisation options. See docs/style-transfer.md
for the weights that ship, their licences, and which method to use when.
"""

from batikstudio.imaging.style_transfer.gatys import GatysConfig, gatys_transfer
from batikstudio.imaging.style_transfer.job import METHODS, StyleTransferRequest, load_features, stylize

__all__ = ["GatysConfig", "METHODS", "StyleTransferRequest", "gatys_transfer", "load_features", "stylize"]
