"""``sitewatch train``: fine-tune a YOLO checkpoint with ultralytics and export it to ONNX for our runtime.

Needs the ``train`` extra (ultralytics and PyTorch). Uses a GPU when one is available.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from detector import modelfiles

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TrainResult:
    """What training produced: the checkpoint and ONNX file written, and their checksums."""

    weights: Path
    onnx: Path
    onnx_sha256: str


def _absolute_data_yaml(data_yaml: Path, tmp: Path) -> Path:
    """A copy of ``data.yaml`` whose ``path`` is absolute: ultralytics reads a relative one against the
    working directory, not against the file."""
    spec = yaml.safe_load(data_yaml.read_text()) or {}
    spec["path"] = str((data_yaml.parent / str(spec.get("path") or ".")).resolve())
    out = tmp / "data.yaml"
    out.write_text(yaml.safe_dump(spec))
    return out


def export_onnx(weights: Path, out: Path, *, imgsz: tuple[int, int] = (640, 640)) -> str:
    """Export the ``.pt`` checkpoint ``weights`` to ONNX at input ``imgsz`` (height, width; multiples of
    32), raw output layout, batch 1, as the runtime expects; write it to ``out`` and record its checksum in
    the folder's ``SHA256SUMS``. Returns the checksum.

    A wide input (384 × 640) for 16:9 frames runs the same weights without a square input's grey bands
    (``models.ppe_wide``).

    Raises:
        RuntimeError: ultralytics is not installed.
    """
    try:
        from ultralytics import YOLO
    except ImportError as exc:
        raise RuntimeError("exporting needs the 'train' extra: pip install 'sitewatch[train]'") from exc
    with tempfile.TemporaryDirectory(prefix="sitewatch-export-") as tmp:
        copy = Path(tmp) / weights.name  # ultralytics writes the export beside the weights it reads
        shutil.copyfile(weights, copy)
        scrub_checkpoint(copy)  # the export's description names the training data
        exported = YOLO(str(copy)).export(format="onnx", imgsz=list(imgsz), dynamic=False, simplify=False)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(exported, out)
    return modelfiles.record(out)


def scrub_checkpoint(path: Path) -> None:
    """Rewrite the ultralytics checkpoint at ``path`` without the places of the machine that trained it:
    ultralytics stores its training arguments (data, project, save_dir...) and the repository's git root
    in every ``.pt`` it writes, and copies the data's path into each export's description. Absolute paths
    among the arguments are cut to their last part; the git entry is dropped. The weights are untouched.

    Example:
        >>> import torch, tempfile
        >>> f = Path(tempfile.mkdtemp()) / "m.pt"
        >>> torch.save({"train_args": {"data": "/home/me/set/data.yaml", "epochs": 3}, "git": {}}, f)
        >>> scrub_checkpoint(f)
        >>> torch.load(f, weights_only=False)
        {'train_args': {'data': 'data.yaml', 'epochs': 3}}
    """
    import torch

    state = torch.load(path, map_location="cpu", weights_only=False)
    args = dict(state.get("train_args") or {})
    for key, value in args.items():
        if isinstance(value, str) and Path(value).is_absolute():
            args[key] = Path(value).name
    if "train_args" in state:
        state["train_args"] = args
    state.pop("git", None)
    torch.save(state, path)


def _unfinished(checkpoint: Path) -> bool:
    """Whether an ultralytics checkpoint was saved before its last epoch (a finished run stores epoch -1)."""
    import torch

    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    return int(state.get("epoch", -1)) >= 0


def default_device() -> str:
    """``0`` when PyTorch sees a CUDA GPU, else ``cpu``."""
    import torch

    return "0" if torch.cuda.is_available() else "cpu"


def train(
    *,
    data: Path,
    base: Path,
    out_dir: Path,
    name: str,
    epochs: int = 50,
    imgsz: int = 640,
    batch: int = 16,
    device: str | None = None,
    workers: int = 2,
    extra: dict[str, Any] | None = None,
    run_dir: Path | None = None,
) -> TrainResult:
    """Fine-tune ``base`` on the YOLO dataset ``data`` (its ``data.yaml``) and export ONNX into ``out_dir``.

    Writes ``out_dir/<name>.pt`` and ``out_dir/<name>.onnx`` (raw output layout, fixed batch 1) and records
    both in ``out_dir/SHA256SUMS``. ultralytics shows a progress bar per epoch.

    ``run_dir`` keeps ultralytics' run (a checkpoint each epoch, ``results.csv``) in that folder instead of
    a temporary one, so that a long CPU run can be stopped and resumed: when ``run_dir/weights/last.pt``
    is there and unfinished, training resumes from it with its own settings (the other arguments then only
    name the output).

    Raises:
        RuntimeError: ultralytics is not installed.
        FileNotFoundError: ``data`` or ``base`` does not exist.
    """
    try:
        from ultralytics import YOLO
    except ImportError as exc:
        raise RuntimeError("training needs the 'train' extra: pip install 'sitewatch[train]'") from exc
    data_yaml = data / "data.yaml" if data.is_dir() else data
    if not data_yaml.is_file():
        raise FileNotFoundError(f"{data_yaml} not found: training needs a YOLO dataset with a data.yaml")
    if base.suffix == ".pt":
        modelfiles.verify(base)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sitewatch-train-") as tmp:
        run = run_dir.resolve() if run_dir is not None else Path(tmp) / "run"
        last = run / "weights" / "last.pt"
        if run_dir is not None and last.is_file() and _unfinished(last):
            logger.info("resuming %s from %s", name, last)
            YOLO(str(last)).train(resume=True)
        else:
            # A resumed run reads the data.yaml its checkpoint names, so a kept run keeps it beside
            # the checkpoints: a temporary copy is gone once Ctrl-C has unwound this block.
            spec_dir = run if run_dir is not None else Path(tmp)
            spec_dir.mkdir(parents=True, exist_ok=True)
            YOLO(str(base)).train(
                data=str(_absolute_data_yaml(data_yaml, spec_dir)),
                epochs=epochs,
                imgsz=imgsz,
                batch=batch,
                device=device or default_device(),
                workers=workers,
                project=str(run.parent),
                name=run.name,
                exist_ok=True,
                plots=False,  # plotting fetches a font from the internet
                verbose=False,
                **(extra or {}),
            )
        best = run / "weights" / "best.pt"
        if not best.exists():
            best = last
        weights = out_dir / f"{name}.pt"
        shutil.copyfile(best, weights)
        results = run / "results.csv"
        if results.is_file():  # the per-epoch losses and validation figures, for the model card
            shutil.copyfile(results, out_dir / f"{name}.results.csv")
    scrub_checkpoint(weights)
    modelfiles.record(weights)
    onnx = out_dir / f"{name}.onnx"
    digest = export_onnx(weights, onnx, imgsz=(imgsz, imgsz))
    logger.info("trained %s: %s and %s", name, weights, onnx)
    return TrainResult(weights=weights, onnx=onnx, onnx_sha256=digest)
