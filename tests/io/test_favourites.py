"""Favourites store: collections (explicit, renamed, deleted), notes, moves, old files, find by hash."""

import json

import pytest

from batikstudio.errors import BatikError
from batikstudio.io.favourites import (
    DEFAULT_COLLECTION, FORMAT, Favourite, FavouritesStore, find_model_path,
)


def _fav(seed: int, sha: str = "a" * 64, **kw) -> Favourite:
    return Favourite(sha, "/models/m.safetensors", "m", {"seed": seed, "psi": 0.7}, **kw)


@pytest.fixture
def store(tmp_path):
    return FavouritesStore(tmp_path / "data" / "favourites.json")


def test_collections_notes_moves_survive_a_reload(store):
    store.toggle(_fav(1))
    store.toggle(_fav(2))
    assert store.add_collection("  Kawung   blues ") == "Kawung blues"
    store.add_collection("Empty one")
    moved = store.move(_fav(2), "Kawung blues")
    assert moved.collection == "Kawung blues" and moved.state == {"seed": 2, "psi": 0.7}
    store.set_note(_fav(1), "  for the sarong ")

    again = FavouritesStore(store.path)
    assert again.collections() == [DEFAULT_COLLECTION, "Empty one", "Kawung blues"]
    by_seed = {f.state["seed"]: f for f in again.items}
    assert by_seed[1].collection == DEFAULT_COLLECTION and by_seed[1].note == "for the sarong"
    assert by_seed[2].collection == "Kawung blues" and by_seed[2].note == ""
    assert [f.state["seed"] for f in again.in_collection("Kawung blues")] == [2]
    assert len(again.in_collection(None)) == 2


def test_move_to_a_new_name_creates_the_collection(store):
    store.toggle(_fav(3))
    store.move(_fav(3), "Parang")
    assert "Parang" in FavouritesStore(store.path).collections()


def test_rename_and_delete_collection(store):
    store.toggle(_fav(1))
    store.toggle(_fav(2))
    store.move(_fav(1), "Old")
    store.move(_fav(2), "Old")
    assert store.rename_collection("Old", "New") == "New"
    assert store.collections() == [DEFAULT_COLLECTION, "New"]
    assert {f.collection for f in store.items} == {"New"}
    assert store.delete_collection("New") == 2
    again = FavouritesStore(store.path)
    assert again.collections() == [DEFAULT_COLLECTION]
    assert {f.collection for f in again.items} == {DEFAULT_COLLECTION}
    assert len(again.items) == 2


def test_refusals_are_one_line_batik_errors(store):
    store.add_collection("A")
    store.add_collection("B")
    with pytest.raises(BatikError, match="already"):
        store.add_collection("A")
    with pytest.raises(BatikError, match="already"):
        store.rename_collection("A", "B")
    with pytest.raises(BatikError, match="name"):
        store.add_collection("   ")
    with pytest.raises(BatikError, match="default"):
        store.delete_collection(DEFAULT_COLLECTION)
    with pytest.raises(BatikError, match="default"):
        store.rename_collection(DEFAULT_COLLECTION, "X")
    with pytest.raises(BatikError, match="no collection"):
        store.delete_collection("Nope")
    with pytest.raises(BatikError, match="no longer"):
        store.remove(_fav(99))
    with pytest.raises(BatikError, match="no longer"):
        store.set_note(_fav(99), "x")


def test_remove(store):
    store.toggle(_fav(1))
    store.toggle(_fav(2))
    store.remove(_fav(1))
    assert [f.state["seed"] for f in FavouritesStore(store.path).items] == [2]


def test_version_1_file_is_read_and_unknown_fields_are_ignored(tmp_path):
    path = tmp_path / "favourites.json"
    item = {"model_sha256": "b" * 64, "model_path": "/x.pkl", "model_name": "x", "state": {"seed": 5},
            "collection": "Truntum", "note": "n", "created": 1.0, "rating": 5}
    path.write_text(json.dumps({"format": FORMAT, "version": 1, "items": [item]}))
    store = FavouritesStore(path)
    assert store.collections() == [DEFAULT_COLLECTION, "Truntum"]
    assert store.items[0].note == "n" and store.items[0].state == {"seed": 5}
    store.save()
    assert json.loads(path.read_text())["collections"] == [DEFAULT_COLLECTION, "Truntum"]


def test_corrupt_file_is_moved_aside(tmp_path):
    path = tmp_path / "favourites.json"
    path.write_text("{not json")
    store = FavouritesStore(path)
    assert store.items == [] and store.collections() == [DEFAULT_COLLECTION]
    assert path.with_suffix(".corrupt").is_file() and not path.exists()


def test_find_model_path_by_hash(tmp_path):
    from batikstudio.io.modelfile import file_sha256

    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"first model")
    b.write_bytes(b"second model")
    want = file_sha256(b)
    assert find_model_path(want, [tmp_path / "gone.bin", a, b]) == b
    assert find_model_path("0" * 64, [a, b]) is None
    assert find_model_path(want, []) is None
