"""Favourites and collections, persisted across restarts with full provenance. Qt-free.

One JSON file (``favourites.json`` in the user data folder), written atomically. Each entry
records the model (sha256, path, name) and the complete motif state, so it can be rendered
again exactly, even after the model file moved (:func:`find_model_path` finds it by hash).

Collection names are stored explicitly (``"collections"``), so an empty collection survives a
restart. Version 1 files (items only) are still read; their collections are the ones the items
name.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Iterable

from batikstudio.errors import BatikError
from batikstudio.io.atomic import atomic_write_text

log = logging.getLogger(__name__)

FORMAT = "batikstudio-favourites"
VERSION = 2
DEFAULT_COLLECTION = "Favourites"
MAX_NAME = 80


@dataclass(frozen=True)
class Favourite:
    """A kept motif: model identity + motif state dict (see ``MotifState.to_dict``)."""

    model_sha256: str
    model_path: str
    model_name: str
    state: dict
    collection: str = DEFAULT_COLLECTION
    note: str = ""
    created: float = field(default_factory=time.time)

    @property
    def key(self) -> tuple[str, str]:
        """Identity: the model hash and the motif state (collection and note may change)."""
        return (self.model_sha256, json.dumps(self.state, sort_keys=True))


_FIELDS = {f.name for f in fields(Favourite)}


def _favourite_from_json(item: dict) -> Favourite:
    # fields written by a newer version are dropped rather than making the whole file unreadable
    return Favourite(**{k: v for k, v in item.items() if k in _FIELDS})


def clean_collection_name(name: str) -> str:
    """``name`` stripped; raises BatikError if it is empty or too long."""
    cleaned = " ".join(str(name).split())
    if not cleaned:
        raise BatikError("A collection needs a name.")
    if len(cleaned) > MAX_NAME:
        raise BatikError(f"A collection name can have at most {MAX_NAME} characters.")
    return cleaned


class FavouritesStore:
    """Load/save favourites; a corrupt file is kept aside (``.corrupt``) and an empty list used.

    Every change method saves at once. Favourites are addressed by :attr:`Favourite.key`;
    a method given a favourite that is not in the store raises BatikError.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.items: list[Favourite] = []
        self._names: list[str] = []
        self.load()

    def load(self) -> None:
        self.items, self._names = [], []
        if not self.path.is_file():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError("not a favourites file")
            self.items = [_favourite_from_json(item) for item in data.get("items", [])]
            self._names = [str(n) for n in data.get("collections", []) if str(n).strip()]
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            self.items, self._names = [], []
            aside = self.path.with_suffix(".corrupt")
            log.warning("favourites file %s unreadable (%s); moved to %s", self.path, exc, aside)
            try:
                self.path.replace(aside)
            except OSError:
                pass

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload: dict[str, Any] = {"format": FORMAT, "version": VERSION, "collections": self.collections(),
                                   "items": [asdict(f) for f in self.items]}
        atomic_write_text(self.path, json.dumps(payload, indent=1, sort_keys=True))

    # -- favourites ------------------------------------------------------------------------

    def contains(self, fav: Favourite) -> bool:
        return any(f.key == fav.key for f in self.items)

    def get(self, key: tuple[str, str]) -> Favourite | None:
        """The stored favourite with this key, or None."""
        return next((f for f in self.items if f.key == key), None)

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

    def remove(self, fav: Favourite) -> None:
        """Remove ``fav`` (matched by key); saves."""
        self._index(fav)
        self.items = [f for f in self.items if f.key != fav.key]
        self.save()

    def move(self, fav: Favourite, collection: str) -> Favourite:
        """Put ``fav`` into ``collection`` (created if new); saves; returns the updated entry."""
        name = clean_collection_name(collection)
        if name not in self._names:
            self._names.append(name)
        return self._update(fav, collection=name)

    def set_note(self, fav: Favourite, note: str) -> Favourite:
        """Replace the note of ``fav``; saves; returns the updated entry."""
        return self._update(fav, note=str(note).strip())

    def for_model(self, sha256: str) -> list[Favourite]:
        return [f for f in self.items if f.model_sha256 == sha256]

    def in_collection(self, name: str | None) -> list[Favourite]:
        """Favourites of collection ``name`` (None: all), in the order they were kept."""
        return [f for f in self.items if name is None or f.collection == name]

    def _index(self, fav: Favourite) -> int:
        for i, f in enumerate(self.items):
            if f.key == fav.key:
                return i
        raise BatikError("That favourite is no longer in the list.")

    def _update(self, fav: Favourite, **changes: Any) -> Favourite:
        i = self._index(fav)
        self.items[i] = replace(self.items[i], **changes)
        self.save()
        return self.items[i]

    # -- collections -----------------------------------------------------------------------

    def collections(self) -> list[str]:
        """Every collection name: "Favourites" first, then the others sorted (case-insensitive)."""
        names = set(self._names) | {f.collection for f in self.items} | {DEFAULT_COLLECTION}
        return [DEFAULT_COLLECTION] + sorted(names - {DEFAULT_COLLECTION}, key=str.casefold)

    def add_collection(self, name: str) -> str:
        """Create an empty collection (kept even while empty); saves; returns the cleaned name."""
        name = clean_collection_name(name)
        if name in self.collections():
            raise BatikError(f"There is already a collection called {name!r}.")
        self._names.append(name)
        self.save()
        return name

    def rename_collection(self, old: str, new: str) -> str:
        """Rename ``old`` to ``new`` (its favourites follow); saves; returns the cleaned name."""
        new = clean_collection_name(new)
        if old == DEFAULT_COLLECTION:
            raise BatikError(f"{DEFAULT_COLLECTION!r} is the default collection and keeps its name.")
        if old not in self.collections():
            raise BatikError(f"There is no collection called {old!r}.")
        if new != old and new in self.collections():
            raise BatikError(f"There is already a collection called {new!r}.")
        self._names = [n for n in self._names if n not in (old, new)] + [new]
        self.items = [replace(f, collection=new) if f.collection == old else f for f in self.items]
        self.save()
        return new

    def delete_collection(self, name: str) -> int:
        """Delete ``name``; its favourites go back to "Favourites". Saves; returns how many moved."""
        if name == DEFAULT_COLLECTION:
            raise BatikError(f"{DEFAULT_COLLECTION!r} is the default collection and cannot be deleted.")
        if name not in self.collections():
            raise BatikError(f"There is no collection called {name!r}.")
        moved = sum(1 for f in self.items if f.collection == name)
        self._names = [n for n in self._names if n != name]
        self.items = [replace(f, collection=DEFAULT_COLLECTION) if f.collection == name else f
                      for f in self.items]
        self.save()
        return moved


def find_model_path(sha256: str, candidates: Iterable[str | os.PathLike[str]]) -> Path | None:
    """The first existing file in ``candidates`` whose SHA-256 is ``sha256``, else None.

    Hashes are remembered per (path, size, mtime) by :func:`batikstudio.io.models.model_sha256`,
    so asking again is cheap; unreadable candidates are skipped.
    """
    from batikstudio.io.models import model_sha256

    seen: set[str] = set()
    for candidate in candidates:
        path = Path(candidate)
        key = str(path)
        if key in seen or not path.is_file():
            continue
        seen.add(key)
        try:
            if model_sha256(path) == sha256:
                return path
        except BatikError as exc:
            log.debug("skipping %s while looking for a model: %s", path, exc)
    return None
