"""Rendering: RenderRequest -> RenderResult, direction caches, seed grids."""

from batikstudio.render.request import MixSpec, RenderRequest, RenderResult
from batikstudio.render.engine import render, render_grid_image, to_uint8

__all__ = ["MixSpec", "RenderRequest", "RenderResult", "render", "render_grid_image", "to_uint8"]
