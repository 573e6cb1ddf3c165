"""Favourites and collections, persisted across restarts with full provenance. Qt-free.

One JSON file (``favourites.json`` in the user data folder), written atomically. Each entry
records the model (sha256, path, name) and the complete motif state, so it can be rendered
again exactly, even after the model file moved (the app finds it again by hash).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from batikstudio.io.atomic import atomic_write_text

log = logging.getLogger(__name__)

FORMAT = "batikstudio-favourites"
VERSION = 1


@dataclass(frozen=True)
class Favourite:
    """A kept motif: model identity + motif state dict (see ``MotifState.to_dict``)."""

    model_sha256: str
    model_path: str
    model_name: str
    state: dict
    collection: str = "Favourites"
    note: str = ""
    created: float = field(default_factory=time.time)

    @property
    def key(self) -> tuple[str, str]:
        return (self.model_sha256, json.dumps(self.state, sort_keys=True))


class FavouritesStore:
    """Load/save favourites; a corrupt file is kept aside (``.corrupt``) and an empty list used."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.items: list[Favourite] = []
        self.load()

    def load(self) -> None:
        self.items = []
        if not self.path.is_file():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError("not a favourites file")
            self.items = [Favourite(**item) for item in data.get("items", [])]
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            aside = self.path.with_suffix(".corrupt")
            log.warning("favourites file %s unreadable (%s); moved to %s", self.path, exc, aside)
            try:
                self.path.replace(aside)
            except OSError:
                pass

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload: dict[str, Any] = {"format": FORMAT, "version": VERSION,
                                   "items": [asdict(f) for f in self.items]}
        atomic_write_text(self.path, json.dumps(payload, indent=1, sort_keys=True))

    def contains(self, fav: Favourite) -> bool:
        return any(f.key == fav.key for f in self.items)

    def toggle(self, fav: Favourite) -> bool:
        """Add ``fav`` or remove it if present; saves; returns True if it is now a favourite."""
        if self.contains(fav):
            self.items = [f for f in self.items if f.key != fav.key]
            added = False
        else:
            self.items.append(fav)
            added = True
        self.save()
        return added

    def for_model(self, sha256: str) -> list[Favourite]:
        return [f for f in self.items if f.model_sha256 == sha256]

    def collections(self) -> list[str]:
        return sorted({f.collection for f in self.items})
