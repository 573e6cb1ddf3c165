"""The fine-tuning wizard: images → data set check → starting point → options → start.

The wizard only gathers choices and runs two quick jobs (the data set check and the
estimate); ``planReady(TrainPlan)`` hands the run to the trainer panel when the user clicks
Start training. Nothing is written before that: the data set is built into the run folder by
the training job itself.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QPlainTextEdit, QProgressBar, QPushButton, QRadioButton, QSpinBox, QVBoxLayout, QWidget, QWizard, QWizardPage,
)

from batikstudio import runtime
from batikstudio.app.imageutil import to_pixmap
from batikstudio.app.qtjobs import TaskRunner
from batikstudio.app.train_jobs import DATASET_NAME, TrainPlan
from batikstudio.errors import BatikError
from batikstudio.io.dataset import DatasetBuildRequest, DatasetCheckRequest, DatasetReport, check_dataset
from batikstudio.paths import BUNDLED_MODELS, data_dir
from batikstudio.training.config import DiffusionConfig, TrainConfig
from batikstudio.training.estimate import EstimateRequest, TrainEstimate, estimate_training

log = logging.getLogger(__name__)

RESOLUTIONS = (16, 32, 64, 128, 256, 512, 1024)
SMALL_DATA = 1000
# network size presets for runs from scratch (GeneratorConfig overrides; D follows G)
NET_SIZES: dict[str, dict[str, Any]] = {
    "Small (CPU friendly)": dict(z_dim=256, w_dim=256, mapping_layers=2, channel_base=4096, channel_max=128),
    "Standard (GPU)": {},
    "Tiny (a quick check that everything works)": dict(z_dim=16, w_dim=16, mapping_layers=2, channel_base=128,
                                                       channel_max=16),
}
AUGMENTS = {"ADA (adaptive augmentation)": "ada", "Diffusion-GAN noise": "diffusion",
            "DiffAugment": "diffaugment", "None": "none"}
# preset -> augment label, mirror, frozen D blocks when fine-tuning, learning rate
PRESETS: dict[str, tuple[str, bool, int, float]] = {
    "Small data set: Diffusion-GAN noise": ("Diffusion-GAN noise", True, 2, 0.0015),
    "Small data set: ADA": ("ADA (adaptive augmentation)", True, 2, 0.0015),
    "Large data set": ("ADA (adaptive augmentation)", True, 0, 0.0025),
}


def preview_mosaic(previews: tuple[np.ndarray, ...], cols: int = 8, gap: int = 2) -> np.ndarray:
    """Thumbnails (HWC uint8, C = 1 or 3, same size) side by side: one HWC uint8 RGB image.

    >>> preview_mosaic((np.zeros((4, 4, 3), np.uint8),) * 3, cols=2).shape
    (10, 10, 3)
    """
    if not previews:
        return np.full((8, 8, 3), 255, np.uint8)
    h, w = previews[0].shape[:2]
    cols = min(cols, len(previews))
    rows = (len(previews) + cols - 1) // cols
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap, 3), 255, np.uint8)
    for i, img in enumerate(previews):
        img = img if img.ndim == 3 else img[:, :, None]
        r, c = divmod(i, cols)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = img[:h, :w, :3] if img.shape[2] >= 3 \
            else np.repeat(img[:h, :w, :1], 3, axis=2)
    return out


def bundled_generators() -> list[Path]:
    """Generator model files shipped with the app."""
    from batikstudio.app.model_library import is_generator_file

    if not BUNDLED_MODELS.is_dir():
        return []
    return sorted(p for p in BUNDLED_MODELS.iterdir()
                  if p.suffix in (".safetensors", ".pkl") and p.is_file() and is_generator_file(p))


def cuda_devices() -> list[str]:
    import torch

    return [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []


class SourcePage(QWizardPage):
    """Step 1: a folder or a zip of images, the training resolution, crop and labels."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("Your images")
        self.setSubTitle("Choose a folder or a .zip of motif photos or scans. Nothing in it is changed.")
        self.path_edit = QLineEdit(self)
        self.path_edit.setPlaceholderText("folder or .zip of images")
        self.path_edit.textChanged.connect(self.completeChanged)
        folder = QPushButton("Folder…", self)
        folder.clicked.connect(self.choose_folder)
        archive = QPushButton("Zip…", self)
        archive.clicked.connect(self.choose_zip)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(folder)
        row.addWidget(archive)
        self.res_box = QComboBox(self)
        for r in RESOLUTIONS:
            self.res_box.addItem(f"{r} × {r} px", r)
        self.res_box.setCurrentIndex(RESOLUTIONS.index(64))
        self.crop_box = QComboBox(self)
        for label, mode in (("centre square", "center"), ("random square", "random"), ("whole image, padded", "none")):
            self.crop_box.addItem(label, mode)
        self.labels_check = QCheckBox("Each subfolder is a motif family (class)", self)
        form = QFormLayout(self)
        form.addRow("Images:", row)
        form.addRow("Training resolution:", self.res_box)
        form.addRow("Non-square images:", self.crop_box)
        form.addRow("", self.labels_check)

    @Slot()
    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder of images", str(Path.home()))
        if path:
            self.path_edit.setText(path)

    @Slot()
    def choose_zip(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Zip of images", str(Path.home()), "Zip (*.zip)")
        if path:
            self.path_edit.setText(path)

    def isComplete(self) -> bool:  # noqa: N802 - Qt API
        text = self.path_edit.text().strip()
        return bool(text) and Path(text).exists()

    def check_request(self) -> DatasetCheckRequest:
        return DatasetCheckRequest(source=self.path_edit.text().strip(), res=int(self.res_box.currentData()),
                                   crop=str(self.crop_box.currentData()),
                                   labels_from_folders=self.labels_check.isChecked(),
                                   num_previews=16, preview_size=48)


class CheckPage(QWizardPage):
    """Step 2: scan the images (no writing) and show what would be kept and why not."""

    def __init__(self, source: SourcePage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.setTitle("Data set check")
        self.setSubTitle("What will be used for training, and what is left out and why.")
        self.runner = TaskRunner(self)
        self.report: DatasetReport | None = None
        self.bar = QProgressBar(self)
        self.summary = QPlainTextEdit(self)
        self.summary.setReadOnly(True)
        self.summary.setObjectName("datasetReport")
        self.previews = QLabel(self)
        self.previews.setMinimumHeight(110)
        layout = QVBoxLayout(self)
        layout.addWidget(self.bar)
        layout.addWidget(self.summary, 1)
        layout.addWidget(QLabel("Preview:", self))
        layout.addWidget(self.previews)

    def initializePage(self) -> None:  # noqa: N802 - Qt API
        self.report = None
        self.summary.setPlainText("Checking…")
        self.previews.clear()
        self.bar.setRange(0, 0)
        signals = self.runner.start(check_dataset, self.source.check_request())
        signals.progress.connect(self._on_progress)
        signals.finished.connect(self._on_report)
        signals.failed.connect(self._on_failed)
        self.completeChanged.emit()

    def cleanupPage(self) -> None:  # noqa: N802 - Qt API
        self.runner.cancel()

    @Slot(float, float)
    def _on_progress(self, done: float, total: float) -> None:
        if total > 0:
            self.bar.setRange(0, int(total))
            self.bar.setValue(int(done))

    @Slot(object)
    def _on_report(self, report: DatasetReport) -> None:
        self.report = report
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        text = report.to_text()
        if len(report.kept) == 0:
            text = "No usable images: go back and choose another folder.\n\n" + text
        elif len(report.kept) < SMALL_DATA:
            text += f"\nA small data set ({len(report.kept)} images): the next steps suggest options that suit it.\n"
        self.summary.setPlainText(text)
        if report.previews:
            self.previews.setPixmap(to_pixmap(preview_mosaic(report.previews, cols=8)))
        self.completeChanged.emit()

    @Slot(object)
    def _on_failed(self, exc: Any) -> None:
        self.bar.setRange(0, 1)
        self.summary.setPlainText(f"The images cannot be used: {exc}")
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 - Qt API
        return self.report is not None and len(self.report.kept) > 0


class StartPage(QWizardPage):
    """Step 3: from scratch, a bundled model, or a model file (native or NVlabs .pkl)."""

    def __init__(self, source: SourcePage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.setTitle("Starting point")
        self.setSubTitle("Fine-tuning a trained model needs far fewer images and hours than starting from scratch.")
        self.scratch = QRadioButton("From scratch", self)
        self.bundled = QRadioButton("A bundled model", self)
        self.file = QRadioButton("A model file (.safetensors, or an NVlabs / Diffusion-GAN .pkl)", self)
        self.group = QButtonGroup(self)
        for i, b in enumerate((self.scratch, self.bundled, self.file)):
            self.group.addButton(b, i)
            b.toggled.connect(self._changed)
        self.bundled_box = QComboBox(self)
        for p in bundled_generators():
            self.bundled_box.addItem(p.stem, str(p))
        if self.bundled_box.count() == 0:
            self.bundled.setEnabled(False)
            self.bundled.setText("A bundled model (none installed)")
            self.bundled_box.setVisible(False)
        self.bundled_box.currentIndexChanged.connect(self._changed)
        self.file_edit = QLineEdit(self)
        self.file_edit.textChanged.connect(self._changed)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self.choose_file)
        row = QHBoxLayout()
        row.addWidget(self.file_edit, 1)
        row.addWidget(browse)
        self.info = QLabel(self)
        self.info.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.scratch)
        layout.addWidget(self.bundled)
        layout.addWidget(self.bundled_box)
        layout.addWidget(self.file)
        layout.addLayout(row)
        layout.addWidget(self.info)
        layout.addStretch(1)
        self.scratch.setChecked(True)

    def initializePage(self) -> None:  # noqa: N802 - Qt API
        self._changed()

    @Slot()
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Start from model", str(Path.home()),
                                              "Models (*.safetensors *.pkl)")
        if path:
            self.file_edit.setText(path)
            self.file.setChecked(True)

    def start(self) -> str:
        """``"scratch"`` or the chosen model file."""
        if self.bundled.isChecked() and self.bundled_box.count():
            return str(self.bundled_box.currentData())
        if self.file.isChecked():
            return self.file_edit.text().strip()
        return "scratch"

    def _problem(self) -> str:
        start = self.start()
        res = int(self.source.res_box.currentData())
        if start == "scratch":
            return ""
        path = Path(start)
        if not path.is_file():
            return "Choose a model file."
        if path.suffix == ".pkl":
            return ""  # read safely only when estimating or training
        from batikstudio.io.modelfile import read_model_meta

        try:
            meta = read_model_meta(path)
        except BatikError as exc:
            return str(exc)
        g, have = meta.G_config, int(meta.G_config.get("img_resolution", 0))
        grows = meta.architecture == "stylegan2" and g.get("architecture", "skip") == "skip"
        if have != res and not (grows and res > have):
            more = " or larger (the model then grows to it)" if grows else ""
            return f"{path.name} makes {have} px motifs: go back to the first page and choose {have} px{more}."
        return self._class_problem(path.name, int(g.get("c_dim", 0) or 0))

    def _grows_from(self) -> int:
        """The resolution of the chosen model file when training will grow it, else 0."""
        from batikstudio.io.modelfile import read_model_meta

        path = Path(self.start())
        if path.suffix != ".safetensors" or not path.is_file():
            return 0
        have = int(read_model_meta(path).G_config.get("img_resolution", 0))
        return have if have < int(self.source.res_box.currentData()) else 0

    def _class_problem(self, name: str, c_dim: int) -> str:
        """Training needs the model's classes to match the data set's (known once it is checked)."""
        wizard = self.wizard()
        report = getattr(getattr(wizard, "check_page", None), "report", None)
        if report is None:
            return ""
        c_data = len(report.class_names) if report.class_names else 0
        if c_dim == c_data:
            return ""
        if c_data == 0:
            return (f"{name} draws {c_dim} motif families (classes) and cannot learn from unlabelled images: "
                    "start from scratch, or give your images one subfolder per family (first page).")
        return (f"{name} draws {c_dim or 'no separate'} families, your images have {c_data}: "
                "start from scratch or choose a model with the same families.")

    @Slot()
    def _changed(self, *_args: Any) -> None:
        res = int(self.source.res_box.currentData())
        problem = self._problem()
        if problem:
            self.info.setText(problem)
        elif self.start() == "scratch":
            self.info.setText(f"New networks at {res} px; choose their size on the next page.")
        elif have := self._grows_from():
            self.info.setText(f"Grow {Path(self.start()).name} from {have} to {res} px and fine-tune it: it first "
                              "draws its motifs upsampled, then learns the finer detail.")
        elif Path(self.start()).suffix == ".pkl":
            self.info.setText(f"Fine-tune {Path(self.start()).name} at {res} px. The pickle is read (safely) when "
                              f"training starts: a smaller StyleGAN2 model is then grown to {res} px, a larger "
                              "one refused.")
        else:
            self.info.setText(f"Fine-tune {Path(self.start()).name} at {res} px.")
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 - Qt API
        return not self._problem()


class OptionsPage(QWizardPage):
    """Step 4: presets and options, device, and an estimate of memory and time per kimg."""

    def __init__(self, check: CheckPage, start: StartPage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.check, self.start_page = check, start
        self.setTitle("Options")
        self.setSubTitle("The preset suits the size of your data set; change anything you like.")
        self.runner = TaskRunner(self)
        self.estimate: TrainEstimate | None = None
        self.preset = QComboBox(self)
        self.preset.addItems(list(PRESETS) + ["Custom"])
        self.preset.currentTextChanged.connect(self.apply_preset)
        self.augment = QComboBox(self)
        self.augment.addItems(list(AUGMENTS))
        self.mirror = QCheckBox("Mirror images left-right (doubles the data)", self)
        self.freeze_d = _spin(QSpinBox(self), 0, 8, 0)
        self.freeze_d.setToolTip("Keep the discriminator's first blocks fixed (FreezeD); helps fine-tuning on few images")
        self.lr = _spin(QDoubleSpinBox(self), 0.0001, 0.01, 0.0025, decimals=4, step=0.0005)
        self.batch = _spin(QSpinBox(self), 2, 256, 16)
        self.kimg = _spin(QDoubleSpinBox(self), 0.004, 100000.0, 100.0, decimals=3, step=10)
        self.tick = _spin(QDoubleSpinBox(self), 0.004, 1000.0, 4.0, decimals=3, step=1)
        self.snap = _spin(QSpinBox(self), 1, 1000, 10)
        self.net = QComboBox(self)
        self.net.addItems(list(NET_SIZES))
        self.conditional = QCheckBox("Condition on the families (classes)", self)
        self.device = QComboBox(self)
        self.device.addItems(cuda_devices() + ["cpu"])
        self.bf16 = QCheckBox("Compute in bfloat16 on this CPU (about twice as fast)", self)
        self.bf16.setToolTip("Needs a CPU with native bfloat16 (AVX512-BF16 or AMX: Intel Xeon Sapphire Rapids "
                             "or newer, AMD Zen 4 or newer); the weights stay float32")
        self.gpus = _spin(QSpinBox(self), 1, max(1, len(cuda_devices())), 1)
        self.gpus.setEnabled(len(cuda_devices()) > 1)
        self.gpus.setToolTip("Run on N GPUs with torchrun (needs a machine with several GPUs)")
        for w in (self.augment, self.net, self.device):
            w.currentIndexChanged.connect(self._edited)
        self.device.currentIndexChanged.connect(self._device_changed)
        self._device_changed()
        for w in (self.mirror, self.conditional, self.bf16):
            w.toggled.connect(self._edited)
        for w in (self.freeze_d, self.lr, self.batch, self.kimg):
            w.valueChanged.connect(self._edited)
        self.estimate_button = QPushButton("Estimate memory and time", self)
        self.estimate_button.clicked.connect(self.run_estimate)
        self.estimate_label = QLabel("Press Estimate to time two training iterations on the chosen device.", self)
        self.estimate_label.setWordWrap(True)
        self.estimate_label.setObjectName("estimateLabel")
        form = QFormLayout(self)
        for label, w in (("Preset:", self.preset), ("Augmentation:", self.augment), ("", self.mirror),
                         ("Frozen D blocks:", self.freeze_d), ("Learning rate:", self.lr), ("Batch:", self.batch),
                         ("Length (kimg):", self.kimg), ("Report every (kimg):", self.tick),
                         ("Snapshot every (ticks):", self.snap), ("Network size:", self.net), ("", self.conditional),
                         ("Device:", self.device), ("", self.bf16), ("GPUs:", self.gpus), ("", self.estimate_button),
                         ("Estimate:", self.estimate_label)):
            form.addRow(label, w)
        self._applying = False

    def initializePage(self) -> None:  # noqa: N802 - Qt API
        report = self.check.report
        kept = len(report.kept) if report else 0
        classes = len(report.class_names or ()) if report else 0
        self.conditional.setEnabled(classes > 1 and self.start_page.start() == "scratch")
        self.conditional.setChecked(classes > 1 and self.start_page.start() == "scratch")
        self.net.setEnabled(self.start_page.start() == "scratch")
        preset = "Small data set: Diffusion-GAN noise" if kept < SMALL_DATA else "Large data set"
        self.preset.setCurrentText(preset)
        self.apply_preset(preset)

    def cleanupPage(self) -> None:  # noqa: N802 - Qt API
        self.runner.cancel()

    @Slot(str)
    def apply_preset(self, name: str) -> None:
        if name not in PRESETS:
            return
        augment, mirror, freeze, lr = PRESETS[name]
        self._applying = True
        self.augment.setCurrentText(augment)
        self.mirror.setChecked(mirror)
        self.freeze_d.setValue(freeze if self.start_page.start() != "scratch" else 0)
        self.lr.setValue(lr)
        self._applying = False
        self._edited()

    @Slot()
    def _device_changed(self, *_args: Any) -> None:
        native = self.device.currentText() == "cpu" and runtime.cpu_has_native_bf16()
        self.bf16.setEnabled(native)
        self.bf16.setChecked(native)

    @Slot()
    def _edited(self, *_args: Any) -> None:
        if not self._applying and self.sender() in (self.augment, self.mirror, self.freeze_d, self.lr):
            self.preset.blockSignals(True)
            self.preset.setCurrentText("Custom")
            self.preset.blockSignals(False)
        if self.estimate is not None:
            self.estimate = None
            self.estimate_label.setText("Options changed: press Estimate again.")

    def config(self, data: str = "") -> TrainConfig:
        """The :class:`TrainConfig` these options describe."""
        kind = AUGMENTS[self.augment.currentText()]
        scratch = self.start_page.start() == "scratch"
        g_kwargs = dict(NET_SIZES[self.net.currentText()]) if scratch else {}
        batch = int(self.batch.value())
        return TrainConfig(
            data=data, resolution=int(self.check.source.res_box.currentData()), batch=batch,
            total_kimg=float(self.kimg.value()), augment="none" if kind == "diffusion" else kind,
            diffusion=DiffusionConfig(enabled=kind == "diffusion"), mirror=self.mirror.isChecked(),
            freeze_d=int(self.freeze_d.value()), lr=float(self.lr.value()),
            conditional=self.conditional.isEnabled() and self.conditional.isChecked(),
            device=self.device.currentText() if self.gpus.value() == 1 else "cuda",
            kimg_per_tick=float(self.tick.value()), snapshot_ticks=int(self.snap.value()),
            start=self.start_page.start(), g_kwargs=g_kwargs,
            cpu_bf16=self.bf16.isEnabled() and self.bf16.isChecked(), sample_seeds=tuple(range(16)))

    @Slot()
    def run_estimate(self) -> None:
        report = self.check.report
        cfg = self.config().replace(device=self.device.currentText())
        c_dim = len(report.class_names or ()) if report and cfg.conditional else 0
        request = EstimateRequest(cfg, cfg.resolution or 64, report.channels if report else 3, c_dim)
        self.estimate_label.setText(f"Timing two iterations on {cfg.device}…")
        signals = self.runner.start(estimate_training, request)
        signals.finished.connect(self._on_estimate)
        signals.failed.connect(self._on_estimate_failed)

    @Slot(object)
    def _on_estimate(self, est: TrainEstimate) -> None:
        self.estimate = est
        total = est.sec_per_kimg * float(self.kimg.value()) / max(1, int(self.gpus.value()))
        from batikstudio.training.estimate import format_seconds

        self.estimate_label.setText(est.summary() + f"; the whole run: about {format_seconds(total)}"
                                    + (" (if the GPUs scale evenly)" if self.gpus.value() > 1 else ""))

    @Slot(object)
    def _on_estimate_failed(self, exc: Any) -> None:
        self.estimate_label.setText(f"Cannot estimate: {exc}")


class FinishPage(QWizardPage):
    """Step 5: name and folder of the run, a summary, and Start training."""

    def __init__(self, wizard: "TrainWizard", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.wiz = wizard
        self.setTitle("Start")
        self.setSubTitle("The data set is prepared inside the run folder, then training starts in the Training tab.")
        self.name_edit = QLineEdit(self)
        self.name_edit.textChanged.connect(self._update)
        self.folder_label = QLabel(self)
        self.folder_label.setWordWrap(True)
        self.summary = QPlainTextEdit(self)
        self.summary.setReadOnly(True)
        form = QFormLayout(self)
        form.addRow("Run name:", self.name_edit)
        form.addRow("Run folder:", self.folder_label)
        form.addRow(self.summary)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Start training")

    def initializePage(self) -> None:  # noqa: N802 - Qt API
        stem = Path(self.wiz.source_page.path_edit.text().strip()).stem or "run"
        self.name_edit.setText(f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}")
        self._update()

    def run_dir(self) -> Path:
        name = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in self.name_edit.text().strip()) or "run"
        return data_dir() / "runs" / name

    @Slot()
    def _update(self, *_args: Any) -> None:
        run = self.run_dir()
        taken = run.exists()
        self.folder_label.setText(str(run) + ("  (exists: choose another name)" if taken else ""))
        cfg = self.wiz.options_page.config(str(run / DATASET_NAME))
        lines = [f"start: {cfg.start}", f"{cfg.resolution} px, batch {cfg.batch}, {cfg.total_kimg:g} kimg",
                 f"augmentation: {'Diffusion-GAN noise' if cfg.diffusion.enabled else cfg.augment}, "
                 f"mirror {'on' if cfg.mirror else 'off'}, frozen D blocks {cfg.freeze_d}, lr {cfg.lr:g}",
                 "conditioned on the families (classes)" if cfg.conditional else "not conditioned on classes",
                 f"device: {cfg.device}" + (f" × {self.wiz.options_page.gpus.value()} GPUs (torchrun)"
                                            if self.wiz.options_page.gpus.value() > 1 else "")]
        est = self.wiz.options_page.estimate
        if est is not None:
            lines.append("estimate: " + est.summary())
        self.summary.setPlainText("\n".join(lines))
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 - Qt API
        return bool(self.name_edit.text().strip()) and not self.run_dir().exists()


class TrainWizard(QWizard):
    """Fine-tune on my images. Emits ``planReady(TrainPlan)`` when the user starts training."""

    planReady = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Fine-tune on my images")
        self.setObjectName("trainWizard")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.resize(760, 620)
        self.source_page = SourcePage(self)
        self.check_page = CheckPage(self.source_page, self)
        self.start_page = StartPage(self.source_page, self)
        self.options_page = OptionsPage(self.check_page, self.start_page, self)
        self.finish_page = FinishPage(self, self)
        for page in (self.source_page, self.check_page, self.start_page, self.options_page, self.finish_page):
            self.addPage(page)
        self.plan: TrainPlan | None = None

    def make_plan(self) -> TrainPlan:
        """The run the wizard describes (data set built into the run folder)."""
        run = self.finish_page.run_dir()
        data = run / DATASET_NAME
        scan = self.source_page.check_request()
        cfg = self.options_page.config(str(data))
        return TrainPlan(config=cfg, run_dir=str(run), build=DatasetBuildRequest(scan, str(data), overwrite=True),
                         gpus=int(self.options_page.gpus.value()), label=self.finish_page.name_edit.text().strip())

    def accept(self) -> None:
        self.plan = self.make_plan()
        self.shutdown()
        super().accept()
        self.planReady.emit(self.plan)

    def reject(self) -> None:
        self.shutdown()
        super().reject()

    def shutdown(self) -> bool:
        """Cancel the wizard's check and estimate jobs and wait for them."""
        return self.check_page.runner.shutdown() and self.options_page.runner.shutdown()


def _spin(box: Any, lo: float, hi: float, value: float, decimals: int | None = None, step: float | None = None) -> Any:
    if decimals is not None:
        box.setDecimals(decimals)
    box.setRange(lo, hi)
    if step is not None:
        box.setSingleStep(step)
    box.setValue(value)
    return box
