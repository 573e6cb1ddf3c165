"""``batikstudio dataset``: summary and skipped list printed, exit codes, nothing written on check."""

from __future__ import annotations

import json
import zipfile

import pytest

from batikstudio.cli import main as cli_main
from batikstudio.cli.main import main
from tests.io.test_dataset import messy_files, tree_hashes, write_tree

REGISTERED = cli_main.COMMAND_MODULES


@pytest.fixture(autouse=True)
def _only_this_command(monkeypatch):
    # other commands' modules are not needed here (and may be mid-edit by their owners)
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("cmd_dataset",))


def test_command_is_registered():
    assert "cmd_dataset" in REGISTERED


def test_build_prints_summary_and_skipped_list(tmp_path, capsys):
    src = write_tree(tmp_path / "src", messy_files())
    before = tree_hashes(src)
    dest = tmp_path / "batik.zip"
    code = main(["dataset", str(src), "-o", str(dest), "--res", "32", "--labels-from-folders"])
    out = capsys.readouterr().out
    assert code == 0
    assert "kept 6 of 14 files -> 32x32 RGB" in out
    assert "classes: kawung 3, parang 3" in out
    assert "parang/truncated.jpg: truncated" in out and "loose.png: unlabelled" in out
    assert "1 not an image" in out and "1 too large" in out and "duplicate groups: 1" in out
    assert tree_hashes(src) == before
    with zipfile.ZipFile(dest) as zf:
        assert json.loads(zf.read("dataset.json"))["class_names"] == ["kawung", "parang"]


def test_check_only_writes_nothing(tmp_path, capsys):
    src = write_tree(tmp_path / "src", messy_files())
    code = main(["dataset", str(src), "--check-only", "--res", "32", "--grayscale",
                 "--crop", "none"])
    out = capsys.readouterr().out
    assert code == 0 and "kept 7 of 14 files -> 32x32 grayscale, crop none" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


def test_user_errors_exit_2(tmp_path, capsys):
    src = write_tree(tmp_path / "src", messy_files())
    assert main(["dataset", str(src), "--res", "32"]) == 2
    assert "-o DST" in capsys.readouterr().err
    assert main(["dataset", str(src), "-o", str(src / "x.zip"), "--res", "32"]) == 2
    assert "inside the source" in capsys.readouterr().err
    assert main(["dataset", str(src), "-o", str(tmp_path / "o.zip"), "--res", "48"]) == 2
    assert "power of two" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]
