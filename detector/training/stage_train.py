"""Training a stage classifier on pretrained features (``sitewatch train --task vests``) and exporting it.

At scale n, layers 0-8 of the YOLOv8 detection backbone are the YOLOv8-cls backbone (convolutions and C2f
blocks down to stride 32, 256 channels). The classifier is those layers, taken from a YOLOv8n checkpoint
(``models/init/yolov8n-coco.pt``: COCO people, clothes and all), then global average pooling and one
linear layer. The first ``freeze`` layers keep their COCO weights (run without gradients, which also
halves the CPU time); the rest are fine-tuned. At 96 × 96 pixels one crop costs about 0.5-0.65 ms with
onnxruntime on one CPU thread (see ``models/README.md``).

Training jitters the crop (scale ± 12 %, shift ± 6 %), flips it, changes its light, and turns a share of
patches into infrared-like ones (:func:`detector.training.night.random_infrared`), so the stage keeps
working at night. Needs PyTorch and ultralytics (the ``train`` extra).
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from detector import modelfiles
from detector.head_crops import to_input
from detector.letterbox import PAD_VALUE
from detector.training.headsets import HeadSet
from detector.training.night import random_infrared

logger = logging.getLogger(__name__)

#: Layers of the YOLOv8 backbone kept (0-8: the classification backbone, stride 32).
BACKBONE_LAYERS = 9


@dataclass(frozen=True, slots=True)
class StageTrainResult:
    """What training produced: the ONNX file, its checksum, and its accuracy on the validation patches."""

    onnx: Path
    onnx_sha256: str
    epochs: int
    val_accuracy: dict[str, float]
    minutes: float


def pretrained_network(weights: Path, classes: int, layers: int = BACKBONE_LAYERS) -> Any:
    """The first ``layers`` of a YOLOv8 checkpoint's backbone, then pooling and a linear layer."""
    import torch
    from torch import nn
    from ultralytics import YOLO

    body = YOLO(str(weights)).model.float()
    backbone = nn.Sequential(*list(body.model)[:layers])
    for module in backbone:
        # ultralytics' modules carry graph bookkeeping (f, i, type) that a plain Sequential ignores.
        module.requires_grad_(True)
    with torch.no_grad():
        channels = int(backbone(torch.zeros(1, 3, 64, 64)).shape[1])
    return nn.Sequential(
        backbone, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(channels, classes)
    )


def augment(
    patches: np.ndarray,
    rng: np.random.Generator,
    *,
    size: int,
    stored_context: float,
    night_share: float,
) -> np.ndarray:
    """Random crops, flips, light changes and infrared-like copies of stored patches, as the classifier's
    input ``[N, 3, size, size]``."""
    import cv2

    stored = patches.shape[1]
    centre = stored / 2
    base = stored / stored_context  # the crop the product takes, inside the stored margin
    out = np.empty((len(patches), size, size, 3), np.float32)
    for i, patch in enumerate(patches):
        side = base * rng.uniform(0.88, 1.12)
        cx, cy = centre + rng.uniform(-0.06, 0.06, 2) * base
        scale = size / side
        matrix = np.array([[scale, 0, size / 2 - cx * scale], [0, scale, size / 2 - cy * scale]])
        img = cv2.warpAffine(patch, matrix, (size, size), borderValue=(PAD_VALUE, PAD_VALUE, PAD_VALUE))
        if rng.random() < 0.5:
            img = img[:, ::-1]
        if rng.random() < night_share:
            out[i] = random_infrared(np.ascontiguousarray(img), rng)
            continue
        out[i] = img.astype(np.float32) * rng.uniform(0.7, 1.3) + rng.uniform(-25, 25)
    return to_input(np.clip(out, 0, 255))


def centre_crops(patches: np.ndarray, size: int, stored_context: float) -> np.ndarray:
    """The product's crop of stored patches (the box without the margin), resized to ``size``."""
    import cv2

    stored = patches.shape[1]
    margin = (stored - stored / stored_context) / 2
    lo, hi = round(margin), round(stored - margin)
    return np.stack(
        [cv2.resize(p[lo:hi, lo:hi], (size, size), interpolation=cv2.INTER_AREA) for p in patches]
    )


def accuracy_per_class(
    labels: np.ndarray, predicted: np.ndarray, classes: tuple[str, ...]
) -> dict[str, float]:
    """Recall of each class and the overall accuracy.

    Example:
        >>> accuracy_per_class(np.array([0, 0, 1]), np.array([0, 1, 1]), ("a", "b"))
        {'a': 0.5, 'b': 1.0, 'all': 0.6666666666666666}
    """
    out = {
        name: float((predicted[labels == i] == i).mean()) if (labels == i).any() else float("nan")
        for i, name in enumerate(classes)
    }
    out["all"] = float((predicted == labels).mean()) if len(labels) else float("nan")
    return out


def train_stage(
    *,
    train_set: Path,
    val_set: Path,
    out: Path,
    classes: tuple[str, ...],
    weights: Path,
    size: int = 96,
    stored_context: float = 1.25,
    epochs: int = 6,
    batch: int = 64,
    lr: float = 2e-3,
    freeze: int = 4,
    night_share: float = 0.25,
    seed: int = 0,
) -> StageTrainResult:
    """Fine-tune a pretrained stage classifier on ``train_set``, keep the epoch with the best mean
    per-class accuracy on ``val_set`` (valid splits only), and export it to ``out`` (recorded in
    SHA256SUMS).

    Args:
        train_set: training patches (a :class:`HeadSet` file with labels indexing ``classes``).
        val_set: validation patches.
        out: the ``.onnx`` to write.
        classes: class names in output order.
        weights: the YOLOv8 checkpoint whose backbone starts the classifier.
        size: input side in pixels.
        stored_context: the margin the patches were stored with.
        epochs: passes over the training patches.
        batch: patches per step.
        lr: peak learning rate (one-cycle schedule).
        freeze: leading backbone layers kept as they are.
        night_share: share of training patches made infrared-like.
        seed: random seed.

    A checkpoint ``out.with_suffix('.ckpt')`` is written after every epoch; a later call resumes from it.
    """
    import time

    import torch

    started = time.process_time()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train_data, val_data = HeadSet.load(train_set), HeadSet.load(val_set)
    val_x = torch.from_numpy(to_input(centre_crops(val_data.patches, size, stored_context)))
    net = pretrained_network(weights, len(classes))
    backbone = net[0]
    frozen = torch.nn.Sequential(*list(backbone)[:freeze])
    tuned = torch.nn.Sequential(*list(backbone)[freeze:], *list(net)[1:])
    frozen.requires_grad_(False)
    optimiser = torch.optim.AdamW(tuned.parameters(), lr=lr, weight_decay=5e-4)
    steps = math.ceil(len(train_data.labels) / batch)
    counts = np.bincount(train_data.labels, minlength=len(classes)).astype(np.float64)
    weights_ = torch.tensor(counts.sum() / np.maximum(counts, 1) / len(classes), dtype=torch.float32)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights_, label_smoothing=0.05)
    ckpt = out.with_suffix(".ckpt")
    out.parent.mkdir(parents=True, exist_ok=True)
    start, best_score, best_state, spent = 0, -1.0, None, 0.0
    if ckpt.is_file():
        state = torch.load(ckpt, weights_only=False)
        net.load_state_dict(state["net"])
        optimiser.load_state_dict(state["optimiser"])
        start, best_score, best_state = state["epoch"], state["best_score"], state["best_state"]
        spent = state.get("cpu_s", 0.0)
        rng = np.random.default_rng(seed + start)
        logger.info("resuming %s at epoch %d", ckpt, start)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=lr, total_steps=max(epochs, start + 1) * steps, last_epoch=start * steps - 1
    )
    labels = torch.from_numpy(train_data.labels)
    for epoch in range(start, epochs):
        frozen.eval()  # frozen batch norms keep their COCO statistics
        tuned.train()
        order = rng.permutation(len(labels))
        bar = tqdm(range(steps), desc=f"{out.stem} epoch {epoch + 1}/{epochs}", unit="batch")
        for step in bar:
            index = order[step * batch : (step + 1) * batch]
            x = torch.from_numpy(
                augment(
                    train_data.patches[index],
                    rng,
                    size=size,
                    stored_context=stored_context,
                    night_share=night_share,
                )
            )
            with torch.no_grad():
                features = frozen(x)
            loss = loss_fn(tuned(features), labels[index])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            bar.set_postfix(loss=f"{loss.item():.3f}")
        accuracy = accuracy_per_class(val_data.labels, _predict(net, val_x).argmax(axis=1), classes)
        score = float(np.nanmean([accuracy[name] for name in classes]))
        logger.warning(  # shown by the CLI's default log level: the epoch's progress
            "epoch %d: validation %s", epoch + 1, json.dumps({k: round(v, 3) for k, v in accuracy.items()})
        )
        if score > best_score:
            best_score = score
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        torch.save(
            {
                "net": net.state_dict(),
                "optimiser": optimiser.state_dict(),
                "epoch": epoch + 1,
                "best_score": best_score,
                "best_state": best_state,
                "cpu_s": spent + time.process_time() - started,
            },
            ckpt,
        )
    assert best_state is not None
    net.load_state_dict(best_state)
    accuracy = accuracy_per_class(val_data.labels, _predict(net, val_x).argmax(axis=1), classes)
    export(net, out, classes, size)
    digest = modelfiles.record(out)
    minutes = (spent + time.process_time() - started) / 60
    return StageTrainResult(
        onnx=out, onnx_sha256=digest, epochs=epochs, val_accuracy=accuracy, minutes=minutes
    )


def _predict(net: Any, x: Any) -> np.ndarray:
    """Class probabilities of ``x`` in evaluation mode, in chunks."""
    import torch

    net.eval()
    with torch.no_grad():
        return np.concatenate([torch.softmax(net(x[i : i + 256]), 1).numpy() for i in range(0, len(x), 256)])


def export(net: Any, out: Path, classes: tuple[str, ...], size: int) -> None:
    """Write ``net`` with a softmax as ONNX (dynamic batch) and name its classes in the metadata."""
    import onnx
    import torch

    class WithSoftmax(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, images: Any) -> Any:
            return torch.softmax(self.inner(images), dim=1)

    model = WithSoftmax(net).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.zeros(1, 3, size, size),),
            str(out),
            input_names=["images"],
            output_names=["probs"],
            dynamic_axes={"images": {0: "batch"}, "probs": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    proto = onnx.load(str(out))
    entry = proto.metadata_props.add()
    entry.key, entry.value = "names", json.dumps(dict(enumerate(classes)))
    onnx.save(proto, str(out))
