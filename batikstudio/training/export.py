"""Turn a training snapshot into a native model file that carries its training record."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

from batikstudio import __version__
from batikstudio.errors import BatikError, ModelFileError
from batikstudio.io.modelfile import ModelFile, ModelMeta, file_sha256, save_model_file
from batikstudio.training.runfolder import RunFolder, load_snapshot, sub_state


def resolve_snapshot(path: str | os.PathLike[str]) -> Path:
    """A snapshot file, or the newest snapshot when ``path`` is a run folder.

    Raises:
        ModelFileError: if there is no such snapshot.
    """
    p = Path(path)
    if p.is_dir():
        snap = RunFolder(p, create=False).latest_snapshot()
        if snap is None:
            raise ModelFileError(f"run folder {p} has no snapshot yet")
        return snap
    if not p.is_file() and p.with_suffix(".safetensors").is_file():
        return p.with_suffix(".safetensors")
    if not p.is_file():
        raise ModelFileError(f"snapshot {p} does not exist")
    return p


def kimg_in_all(record: dict[str, Any]) -> float:
    """kimg a model was trained for over all its stages (fine-tunes included).

    Files written before the total was recorded only count their own stage.
    """
    total = record.get("kimg_total", record.get("kimg"))
    return float(total) if isinstance(total, (int, float)) else 0.0


def export_snapshot(snapshot: str | os.PathLike[str], out: str | os.PathLike[str],
                    include_training_nets: bool = True, name: str = "",
                    kimg_before: float | None = None, half: bool = False) -> Path:
    """Write ``out`` (``.safetensors`` model file) from a snapshot or run folder.

    Args:
        snapshot: a ``snapshot-*.safetensors`` file or a run folder (newest snapshot).
        out: target model file (written atomically).
        include_training_nets: also store G and D (for fine-tuning later).
        name: display name (default: the run folder's name).
        kimg_before: kimg of earlier stages, for runs whose record does not know them
            (started from a file that did not record its total).
        half: store the weights as float16 (half the file; read back as float32).

    Returns:
        The written path.

    Raises:
        ModelFileError: unreadable snapshot.
        ExportError: the file cannot be written.
    """
    snap = resolve_snapshot(snapshot)
    tensors, meta = load_snapshot(snap)
    training = dict(meta.get("training") or {})
    training.setdefault("kimg", meta.get("kimg"))
    training["snapshot"] = snap.name
    training["tick"] = meta.get("tick")
    if kimg_before is not None:
        if kimg_before < 0:
            raise BatikError(f"--kimg-before cannot be negative (got {kimg_before})")
        training["kimg_before"] = float(kimg_before)
    if isinstance(training.get("kimg"), (int, float)):
        training["kimg_total"] = round(float(training.get("kimg_before") or 0.0) + float(training["kimg"]), 3)
    provenance = {
        "source": str(snap), "sha256": file_sha256(snap), "importer": "batikstudio train --export",
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "software": f"Batik Studio {__version__}",
    }
    arch = meta.get("architecture") or (meta.get("config") or {}).get("arch", "stylegan2")
    model_meta = ModelMeta(
        architecture=arch, G_config=meta["G_config"], D_config=meta["D_config"] if include_training_nets else None,
        class_labels=tuple(meta.get("class_names") or ()), training=training, provenance=provenance,
        name=name or snap.parent.name,
        description=f"trained by Batik Studio for {kimg_in_all(training):.1f} kimg",
    )
    model = ModelFile.from_state_dicts(
        model_meta, G_ema=sub_state(tensors, "G_ema"),
        G=sub_state(tensors, "G") if include_training_nets else None,
        D=sub_state(tensors, "D") if include_training_nets else None)
    return save_model_file(out, model, half=half)
