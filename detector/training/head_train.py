"""Training the head classifier (``sitewatch train --task heads``) and exporting it to ONNX.

A small convolutional network (about 0.3 M parameters, 64 × 64 input) trained from scratch on the patches
of :mod:`detector.training.headsets`, in minutes on a CPU. Needs PyTorch (the ``train`` extra).

The exported model takes ``images`` float32 ``[N, 3, 64, 64]`` (RGB, 0..1) and gives ``probs`` ``[N, 3]``
(softmax over :data:`detector.training.headsets.HEAD_CLASSES`); the class names are in the ONNX metadata.
"""

from __future__ import annotations

import itertools
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
from detector.training.headsets import HEAD_CLASSES, STORED_CONTEXT, STORED_SIZE, HeadSet

logger = logging.getLogger(__name__)

#: Input side of the classifier.
INPUT_SIZE = 64


@dataclass(frozen=True, slots=True)
class HeadTrainResult:
    """What training produced: the ONNX file, its checksum, and its accuracy on the validation patches."""

    onnx: Path
    onnx_sha256: str
    epochs: int
    val_accuracy: dict[str, float]


def _network(classes: int, width: int = 16) -> Any:
    """The classifier: four stride-2 stages of convolution, batch norm and ReLU (``width`` channels in the
    first, doubling in each), then a linear layer."""
    from torch import nn

    def block(cin: int, cout: int, stride: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

    layers: list[nn.Module] = []
    channels = [3, width, 2 * width, 4 * width, 8 * width]
    for cin, cout in itertools.pairwise(channels):
        layers += block(cin, cout, 2) + block(cout, cout, 1)
    head = nn.Linear(channels[-1], classes)
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), head)


def _augment(patches: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random crops (scale ± 12 %, shift ± 6 %), flips and light changes of stored patches, to ``INPUT_SIZE``
    RGB float ``[N, 3, S, S]``."""
    import cv2

    centre = STORED_SIZE / 2
    base = STORED_SIZE / STORED_CONTEXT  # the crop the product takes, inside the stored margin
    out = np.empty((len(patches), INPUT_SIZE, INPUT_SIZE, 3), np.float32)
    for i, patch in enumerate(patches):
        side = base * rng.uniform(0.88, 1.12)
        cx, cy = centre + rng.uniform(-0.06, 0.06, 2) * base
        scale = INPUT_SIZE / side
        matrix = np.array([[scale, 0, INPUT_SIZE / 2 - cx * scale], [0, scale, INPUT_SIZE / 2 - cy * scale]])
        img = cv2.warpAffine(
            patch, matrix, (INPUT_SIZE, INPUT_SIZE), borderValue=(PAD_VALUE, PAD_VALUE, PAD_VALUE)
        )
        if rng.random() < 0.5:
            img = img[:, ::-1]
        img = img.astype(np.float32) * rng.uniform(0.7, 1.3) + rng.uniform(-25, 25)
        if rng.random() < 0.1:
            img[:] = img.mean(axis=2, keepdims=True)
        out[i] = img
    return to_input(np.clip(out, 0, 255))


def centre_crops(patches: np.ndarray) -> np.ndarray:
    """The product's crop of stored patches (the box without the margin), resized to ``INPUT_SIZE``."""
    import cv2

    margin = (STORED_SIZE - STORED_SIZE / STORED_CONTEXT) / 2
    lo, hi = round(margin), round(STORED_SIZE - margin)
    return np.stack([cv2.resize(p[lo:hi, lo:hi], (INPUT_SIZE, INPUT_SIZE)) for p in patches])


def per_class_accuracy(labels: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Recall of each class and the overall accuracy.

    Example:
        >>> per_class_accuracy(np.array([0, 0, 1]), np.array([0, 1, 1]))["helmet"]
        0.5
    """
    out = {
        name: float((predicted[labels == i] == i).mean()) if (labels == i).any() else float("nan")
        for i, name in enumerate(HEAD_CLASSES)
    }
    out["all"] = float((predicted == labels).mean()) if len(labels) else float("nan")
    return out


def train_heads(
    *,
    train_set: Path,
    val_set: Path,
    out: Path,
    epochs: int = 30,
    batch: int = 128,
    lr: float = 3e-3,
    width: int = 16,
    oversample: dict[str, float] | None = None,
    seed: int = 0,
) -> HeadTrainResult:
    """Train the head classifier on ``train_set`` (a :class:`HeadSet` file), keep the epoch with the best
    mean per-class accuracy on ``val_set``, and export it to ``out`` (``.onnx``, recorded in SHA256SUMS).

    Args:
        train_set: training patches.
        val_set: validation patches (from valid splits only).
        out: the ``.onnx`` to write.
        epochs: passes over the training patches.
        batch: patches per step.
        lr: peak learning rate (one-cycle schedule).
        width: channels of the first stage (16: about 0.3 M parameters).
        oversample: how often patches are drawn per source prefix (``{"ppe/": 2.0}``: ppe's twice as often).
        seed: random seed.

    A checkpoint ``out.with_suffix('.ckpt')`` is written after every epoch; a later call resumes from it.

    Raises:
        RuntimeError: PyTorch is not installed.
    """
    try:
        import torch
    except ImportError as exc:
        raise RuntimeError("training needs the 'train' extra: pip install 'sitewatch[train]'") from exc
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train_data, val_data = HeadSet.load(train_set), HeadSet.load(val_set)
    val_x = torch.from_numpy(to_input(centre_crops(val_data.patches)))
    net = _network(len(HEAD_CLASSES), width)
    optimiser = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=5e-4)
    steps = math.ceil(len(train_data.labels) / batch)
    # Weigh classes by their inverse frequency, so that the rarer bare heads count as much as hard hats.
    counts = np.bincount(train_data.labels, minlength=len(HEAD_CLASSES)).astype(np.float64)
    weights = torch.tensor(counts.sum() / np.maximum(counts, 1) / len(HEAD_CLASSES), dtype=torch.float32)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights, label_smoothing=0.05)
    ckpt = out.with_suffix(".ckpt")
    out.parent.mkdir(parents=True, exist_ok=True)
    start, best_score, best_state = 0, -1.0, None
    if ckpt.is_file():
        state = torch.load(ckpt, weights_only=False)
        net.load_state_dict(state["net"])
        optimiser.load_state_dict(state["optimiser"])
        start, best_score, best_state = state["epoch"], state["best_score"], state["best_state"]
        rng = np.random.default_rng(seed + start)
        logger.info("resuming %s at epoch %d", ckpt, start)
    # The schedule is rebuilt for this call's epochs and moved to where the run stopped, so that a run
    # resumed with more epochs stretches its schedule rather than overrunning it.
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=lr, total_steps=max(epochs, start + 1) * steps, last_epoch=start * steps - 1
    )
    labels = torch.from_numpy(train_data.labels)
    draw = np.ones(len(labels))
    for prefix, factor in (oversample or {}).items():
        draw[np.char.startswith(train_data.sources.astype(str), prefix)] = factor
    draw /= draw.sum()
    for epoch in range(start, epochs):
        net.train()
        order = rng.choice(len(labels), size=len(labels), replace=oversample is not None, p=draw)
        bar = tqdm(range(steps), desc=f"heads epoch {epoch + 1}/{epochs}", unit="batch")
        for step in bar:
            index = order[step * batch : (step + 1) * batch]
            x = torch.from_numpy(_augment(train_data.patches[index], rng))
            loss = loss_fn(net(x), labels[index])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            bar.set_postfix(loss=f"{loss.item():.3f}")
        accuracy = per_class_accuracy(val_data.labels, _predict(net, val_x).argmax(axis=1))
        score = float(np.nanmean([accuracy[name] for name in HEAD_CLASSES]))
        logger.info(
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
            },
            ckpt,
        )
    assert best_state is not None
    net.load_state_dict(best_state)
    accuracy = per_class_accuracy(val_data.labels, _predict(net, val_x).argmax(axis=1))
    _export(net, out)
    digest = modelfiles.record(out)
    return HeadTrainResult(onnx=out, onnx_sha256=digest, epochs=epochs, val_accuracy=accuracy)


def _predict(net: Any, x: Any) -> np.ndarray:
    """Class probabilities of ``x`` in evaluation mode, in chunks."""
    import torch

    net.eval()
    with torch.no_grad():
        return np.concatenate([torch.softmax(net(x[i : i + 512]), 1).numpy() for i in range(0, len(x), 512)])


def _export(net: Any, out: Path) -> None:
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
    # The TorchScript-based exporter, as ultralytics uses: the newer one needs onnxscript, which the
    # train extra does not install. Its deprecation notice is not for our users.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE),),
            str(out),
            input_names=["images"],
            output_names=["probs"],
            dynamic_axes={"images": {0: "batch"}, "probs": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    proto = onnx.load(str(out))
    entry = proto.metadata_props.add()
    entry.key, entry.value = "names", json.dumps(dict(enumerate(HEAD_CLASSES)))
    onnx.save(proto, str(out))
