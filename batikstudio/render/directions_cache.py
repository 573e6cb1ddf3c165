"""Latent directions cached per model file hash (PCA of W takes seconds; sliders need it now)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path


from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from batikstudio.core.directions import LatentDirections, compute_directions
from batikstudio.errors import ExportError
from batikstudio.io.atomic import atomic_path
from batikstudio.paths import cache_dir

log = logging.getLogger(__name__)


class DirectionsCache:
    """Directions for (model sha256, K, samples, seed): memory first, then a file, else computed.

    Args:
        folder: where cache files live (default: ``<cache dir>/directions``). Thread-safe.
    """

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else cache_dir() / "directions"
        self._memory: dict[tuple, LatentDirections] = {}
        self._lock = threading.Lock()

    def _file(self, key: tuple) -> Path:
        sha, count, samples, seed = key
        return self.folder / f"{sha}-pca{count}-n{samples}-s{seed}.safetensors"

    def get(self, model, count: int = 16, samples: int = 8192, seed: int = 0, ctx=None) -> LatentDirections:
        """Directions of ``model`` (a LoadedModel with ``G_ema`` and ``sha256``)."""
        sha = getattr(model, "sha256", "") or ""
        key = (sha, count, samples, seed)
        with self._lock:
            if sha and key in self._memory:
                return self._memory[key]
        found = self._read(key) if sha else None
        if found is None:
            G = model.G_ema
            device = next(G.parameters()).device
            found = compute_directions(G, count, samples, seed, device=device, ctx=ctx)
            if sha:
                self._write(key, found)
        with self._lock:
            if sha:
                self._memory[key] = found
        return found

    def for_request(self, model):
        """A provider for :func:`batikstudio.render.engine.render`."""

        def provide(req):
            return self.get(model, req.directions_count, req.directions_samples, req.directions_seed)

        return provide

    def _read(self, key: tuple) -> LatentDirections | None:
        path = self._file(key)
        if not path.is_file():
            return None
        try:
            t = load_file(str(path))
            return LatentDirections(t["components"], t["stddev"], t["mean"], key[2], key[3])
        except (SafetensorError, KeyError, OSError) as exc:
            log.warning("ignoring unreadable direction cache %s: %s", path, exc)
            return None

    def _write(self, key: tuple, d: LatentDirections) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with atomic_path(self._file(key)) as tmp:
                save_file({"components": d.components.contiguous(), "stddev": d.stddev.contiguous(),
                           "mean": d.mean.contiguous()}, str(tmp))
        except (OSError, ExportError, SafetensorError) as exc:
            # a cache that cannot be written is not an error: the directions are still returned
            log.warning("could not cache directions in %s: %s", self.folder, exc)


_default: DirectionsCache | None = None


def default_cache() -> DirectionsCache:
    """The process-wide cache (created on first use)."""
    global _default
    if _default is None:
        _default = DirectionsCache()
    return _default


