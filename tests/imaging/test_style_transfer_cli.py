"""``batikstudio style``: the command line of style transfer."""

import numpy as np
from PIL import Image

from batikstudio.cli.main import main
from batikstudio.io.provenance import read_provenance, save_image


def _write(path, h, w, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([xx * 255 // w, yy * 255 // h, ((xx // 6 + yy // 6) % 2) * 200], -1)
    img = np.clip(img + rng.integers(-15, 15, img.shape), 0, 255).astype(np.uint8)
    Image.fromarray(img).save(path)
    return img


def test_fast_with_preserved_colour_writes_provenance(tmp_path, capsys):
    content, style, out = tmp_path / "motif.png", tmp_path / "cloth.jpg", tmp_path / "out.png"
    _write(content, 40, 56, 0)
    _write(style, 48, 48, 1)
    save_image(content, np.asarray(Image.open(content)), {"model_sha256": "abc", "seed": 7})
    code = main(["style", str(content), str(style), "-o", str(out), "--method", "fast",
                 "--size", "64", "--preserve-colour"])
    assert code == 0
    assert "out.png (64x46, fast" in capsys.readouterr().out
    assert Image.open(out).size == (64, 46)
    prov = read_provenance(out)
    assert prov["seed"] == 7 and prov["model_sha256"] == "abc"  # the motif's own provenance kept
    step = prov["filters"][-1]
    assert step["name"] == "style_transfer" and step["method"] == "fast"
    assert step["colour"] == "luminance" and step["style_file"] == "cloth.jpg"


def test_gatys_tiny_run(tmp_path, capsys):
    content, style, out = tmp_path / "c.png", tmp_path / "s.png", tmp_path / "o.png"
    _write(content, 32, 32, 2)
    _write(style, 32, 32, 3)
    code = main(["style", str(content), str(style), "-o", str(out), "--size", "32",
                 "--iterations", "2,2", "--style-weight", "3", "--colour", "histogram"])
    assert code == 0, capsys.readouterr().err
    prov = read_provenance(out)
    assert prov["source_file"] == "c.png"
    assert prov["filters"][-1]["iterations"] == [2, 2] and prov["filters"][-1]["weights"] == "bundled"
    assert np.asarray(Image.open(out)).shape == (32, 32, 3)


def test_missing_weights_file_is_one_clear_line(tmp_path, capsys):
    content, style = tmp_path / "c.png", tmp_path / "s.png"
    _write(content, 32, 32, 4)
    _write(style, 32, 32, 5)
    code = main(["style", str(content), str(style), "-o", str(tmp_path / "o.png"),
                 "--weights", str(tmp_path / "vgg19.pth")])
    err = capsys.readouterr().err
    assert code == 2
    assert "vgg19-dcbb9e9d.pth" in err and "vgg19.pth" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o.png").exists()


def test_bad_arguments_are_user_errors(tmp_path, capsys):
    content = tmp_path / "c.png"
    _write(content, 32, 32, 6)
    assert main(["style", str(content), str(tmp_path / "none.png"), "-o", str(tmp_path / "o.png")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["style", str(content), str(content), "-o", str(tmp_path / "o.png"),
                 "--iterations", "ten"]) == 2
    assert "--iterations" in capsys.readouterr().err
