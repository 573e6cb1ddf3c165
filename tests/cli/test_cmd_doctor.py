"""Tests for ``batikstudio doctor`` and ``--version`` (batikstudio.cli.cmd_doctor)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from batikstudio import __version__, paths
from batikstudio.cli import cmd_doctor
from batikstudio.cli import main as cli_main

STYLE_FILES = cmd_doctor.STYLE_FILES


@pytest.fixture
def run_cli(monkeypatch, tmp_path):
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("cmd_doctor",))
    monkeypatch.setenv("BATIKSTUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BATIKSTUDIO_INCEPTION", raising=False)
    return lambda *argv: cli_main.main([str(a) for a in argv])


@pytest.fixture
def bundled(monkeypatch, tmp_path):
    """A bundled-models folder with a tiny generator and (linked) style-transfer files."""
    from batikstudio.core.nets import GeneratorConfig
    from batikstudio.io.models import new_random_model

    folder = tmp_path / "models"
    folder.mkdir()
    for name in STYLE_FILES:  # the real files when present, else stand-ins (only their names are checked)
        real = paths.PROJECT_ROOT / "models" / name
        if real.is_file():
            (folder / name).symlink_to(real)
        else:
            (folder / name).write_bytes(b"stand-in")
    cfg = GeneratorConfig(z_dim=16, c_dim=0, w_dim=16, img_resolution=16, img_channels=3,
                          mapping_layers=1, channel_base=256, channel_max=16)
    new_random_model(cfg, seed=0, path=folder / "tiny-motifs.safetensors")
    (folder / "default.txt").write_text("tiny-motifs.safetensors\n", encoding="utf-8")
    monkeypatch.setattr(paths, "BUNDLED_MODELS", folder)
    return folder


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"batikstudio {__version__}"


def test_report_has_versions_device_threads_and_folders(run_cli, bundled, capsys, tmp_path):
    assert run_cli("--threads", 1, "doctor") == 0
    out = capsys.readouterr().out
    for title in ("versions", "device", "threads", "folders", "bundled models", "optional weights"):
        assert f"== {title}" in out
    assert f"batikstudio: {__version__}" in out
    assert f"numpy: {np.__version__}  [ok]" in out
    assert "torch threads: 1 " in out
    assert "device 'auto' uses: " + ("cuda" if __import__("torch").cuda.is_available() else "cpu") in out
    assert f"your models: {tmp_path / 'home' / 'data' / 'models'}" in out


def test_bundled_generator_is_described_and_default_found(run_cli, bundled, capsys):
    assert run_cli("doctor") == 0
    out = capsys.readouterr().out
    assert "tiny-motifs.safetensors: " in out and "16 px generator" in out
    assert "default model: tiny-motifs.safetensors (named by default.txt)  [ok]" in out


def test_default_txt_naming_a_missing_file_is_a_problem(run_cli, bundled, capsys):
    (bundled / "default.txt").write_text("gone.safetensors", encoding="utf-8")
    assert run_cli("doctor") == 1
    assert "default model: gone.safetensors (named by default.txt) is missing  [PROBLEM]" in capsys.readouterr().out


def test_missing_models_folder_is_a_problem(run_cli, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(paths, "BUNDLED_MODELS", tmp_path / "nowhere")
    assert run_cli("doctor") == 1
    assert "is missing  [PROBLEM]" in capsys.readouterr().out


def test_missing_style_weights_are_a_problem(run_cli, bundled, capsys):
    (bundled / "vgg16-hed-trunk.safetensors").unlink()
    assert run_cli("doctor") == 1
    assert "vgg16-hed-trunk.safetensors: missing  [PROBLEM]" in capsys.readouterr().out


def test_optional_weights_missing_say_where_to_put_them(run_cli, bundled, capsys, tmp_path):
    assert run_cli("doctor") == 0  # missing optional weights are not a problem
    out = capsys.readouterr().out
    weights = tmp_path / "home" / "data" / "weights"
    assert "Inception (FID/KID, optional): not found" in out
    assert f"put it in {weights} (or set BATIKSTUDIO_INCEPTION)" in out
    assert f"keep it in {weights} and pass it with --weights" in out


def test_inception_found_from_env_or_data_dir(run_cli, bundled, capsys, monkeypatch, tmp_path):
    weights = tmp_path / "home" / "data" / "weights"
    weights.mkdir(parents=True)
    (weights / "pt_inception-2015-12-05-6726825d.pth").write_bytes(b"x")
    assert run_cli("doctor") == 0
    assert f"Inception (FID/KID, optional): {weights / 'pt_inception-2015-12-05-6726825d.pth'}  [ok]" \
        in capsys.readouterr().out
    other = tmp_path / "fid.pth"
    other.write_bytes(b"x")
    monkeypatch.setenv("BATIKSTUDIO_INCEPTION", str(other))
    assert run_cli("doctor") == 0
    assert f"Inception (FID/KID, optional): {other}  [ok]" in capsys.readouterr().out


def test_inception_env_pointing_nowhere_is_a_problem(run_cli, bundled, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("BATIKSTUDIO_INCEPTION", str(tmp_path / "missing.pth"))
    assert run_cli("doctor") == 1
    assert "BATIKSTUDIO_INCEPTION=" in capsys.readouterr().out


def test_vgg19_found_in_weights_folder(run_cli, bundled, capsys, tmp_path):
    weights = tmp_path / "home" / "data" / "weights"
    weights.mkdir(parents=True)
    (weights / "vgg19-dcbb9e9d.pth").write_bytes(b"x")
    assert run_cli("doctor") == 0
    assert f"batikstudio style --weights {weights / 'vgg19-dcbb9e9d.pth'}" in capsys.readouterr().out


def test_json_report(run_cli, bundled, capsys):
    assert run_cli("doctor", "--json") == 0
    sections = json.loads(capsys.readouterr().out)
    assert [s["title"] for s in sections] == [
        "versions", "device", "threads", "folders", "bundled models", "optional weights"]
    checks = {c["label"]: c for c in sections[0]["checks"]}
    assert checks["batikstudio"]["value"] == __version__
    assert checks["torch"]["status"] == "ok"


def test_package_version_without_importing():
    assert cmd_doctor.package_version("numpy", "numpy") == np.__version__
    assert cmd_doctor.package_version("no_such_module_batik", "no-such-dist") is None


def test_doctor_does_not_import_qt(tmp_path):
    code = ("import sys; from batikstudio.cli.main import main; rc = main(['doctor']); "
            "sys.exit(3 if 'PySide6' in sys.modules else rc)")
    env = dict(os.environ, BATIKSTUDIO_HOME=str(tmp_path), BATIKSTUDIO_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr  # 1 only when this checkout has a bundled-model problem
    assert "== optional weights" in proc.stdout


def test_imageio_is_not_claimed_for_gif_and_gif_needs_no_imageio(monkeypatch, tmp_path):
    # the packaged application ships without imageio: doctor must not say GIF needs it
    row = next(r for r in cmd_doctor.PACKAGES if r[0] == "imageio")
    assert "MP4" in row[3] and "GIF needs nothing extra" in row[3]
    monkeypatch.setitem(sys.modules, "imageio", None)
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    from PIL import Image

    from batikstudio.imaging.animation import write_gif

    frames = [np.full((8, 8, 3), v, np.uint8) for v in (0, 120, 250)]
    out = write_gif(frames, tmp_path / "a.gif", fps=5)
    with Image.open(out) as im:
        assert im.n_frames == 3


def test_pyside6_6_12_on_python_3_11_gets_a_hint(monkeypatch):
    real = cmd_doctor.package_version
    monkeypatch.setattr(cmd_doctor, "package_version",
                        lambda module, dist: "6.12.0" if module == "PySide6" else real(module, dist))
    monkeypatch.setattr(cmd_doctor.sys, "version_info", (3, 11, 7, "final", 0))
    check = next(c for c in cmd_doctor._versions().checks if c.label == "PySide6")
    assert check.value == "6.12.0" and check.status == cmd_doctor.INFO and "6.11.3" in check.hint
    monkeypatch.setattr(cmd_doctor.sys, "version_info", (3, 12, 1, "final", 0))
    check = next(c for c in cmd_doctor._versions().checks if c.label == "PySide6")
    assert check.status == cmd_doctor.OK and not check.hint
