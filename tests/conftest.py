"""Test-wide settings: one torch thread, headless Qt, deterministic seeds."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("BATIKSTUDIO_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(int(os.environ["BATIKSTUDIO_THREADS"]))

SHARED = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "shared"))


@pytest.fixture(autouse=True)
def _seed_everything():
    torch.manual_seed(0)
    yield


def labelled_png_folder(folder, size: int, count: int = 12, classes=("kawung", "parang")):
    """``count`` random RGB PNGs of ``size`` px in ``folder`` with a dataset.json of alternating labels."""
    import json

    import numpy as np
    from PIL import Image

    folder.mkdir()
    rng = np.random.default_rng(0)
    labels = []
    for i in range(count):
        name = f"img{i:02d}.png"
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(folder / name)
        labels.append([name, i % len(classes)])
    (folder / "dataset.json").write_text(json.dumps({"labels": labels, "class_names": list(classes)}))
    return folder
