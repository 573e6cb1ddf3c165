"""The model library's list: one row per file, and files of one name told apart by their folder."""

import shutil

from batikstudio.app.model_library import ModelLibrary


def _labels(lib):
    return [lib.list.item(i).text() for i in range(lib.list.count())]


def test_recent_files_of_one_name_show_their_folders(qtbot, tiny_model_file, tmp_path):
    a, b = tmp_path / "one" / "motifs.safetensors", tmp_path / "two" / "motifs.safetensors"
    for path in (a, b):
        path.parent.mkdir()
        shutil.copy(tiny_model_file, path)
    lib = ModelLibrary()
    qtbot.addWidget(lib)
    lib.add_recent(str(tiny_model_file))
    lib.add_recent(str(a))
    lib.add_recent(str(b))
    lib.add_recent(str(tmp_path / "one" / ".." / "one" / "motifs.safetensors"))  # the same file again
    labels = _labels(lib)
    mine = [t for t in labels if t.startswith("motifs ")]
    assert sorted(mine) == ["motifs  (recent: …/one)", "motifs  (recent: …/two)"]
    assert "tiny  (recent)" in labels  # a name that occurs once keeps the short label
    assert sum(1 for p in lib.paths() if p.endswith("motifs.safetensors")) == 2


def test_a_copy_of_a_bundled_model_is_told_apart_from_it(qtbot, tmp_path):
    from batikstudio.app.model_library import default_model_path

    bundled = default_model_path()
    copy = tmp_path / "elsewhere" / bundled.name
    copy.parent.mkdir()
    shutil.copy(bundled, copy)
    lib = ModelLibrary()
    qtbot.addWidget(lib)
    lib.add_recent(str(copy))
    labels = _labels(lib)
    assert f"{bundled.stem}  (bundled)" in labels
    assert f"{bundled.stem}  (recent: …/elsewhere)" in labels


def test_folders_are_shortened_to_the_part_that_tells_them_apart(qtbot, tiny_model_file, tmp_path):
    """Two checkouts' models/ folders: the rows say ``…/main/models`` and ``…/rd24/models``, the
    tooltip keeps the whole path."""
    paths = [tmp_path / "main" / "models" / "m.safetensors", tmp_path / "rd24" / "models" / "m.safetensors",
             tmp_path / "x" / "rd24" / "models" / "m.safetensors"]
    for path in paths:
        path.parent.mkdir(parents=True)
        shutil.copy(tiny_model_file, path)
    lib = ModelLibrary()
    qtbot.addWidget(lib)
    for path in paths:
        lib.add_recent(str(path))
    rows = {lib.list.item(i).toolTip(): lib.list.item(i).text() for i in range(lib.list.count())}
    assert rows[str(paths[0])] == "m  (recent: …/main/models)"
    assert rows[str(paths[2])] == "m  (recent: …/x/rd24/models)"
    # tmp_path/rd24/models is the end of tmp_path/x/rd24/models: it needs one folder more
    assert rows[str(paths[1])] == f"m  (recent: …/{tmp_path.name}/rd24/models)"


def test_a_folder_that_ends_another_is_written_in_full():
    from pathlib import Path

    from batikstudio.app.model_library import _telling_folder

    short, deep = Path("/a/models/m.safetensors"), Path("/x/a/models/m.safetensors")
    assert _telling_folder(deep, [short, deep]) == "…/x/a/models"
    assert _telling_folder(short, [short, deep]) == "/a/models"
