"""GPU backend: a TorchScript build of the YOLO model run by PyTorch, for servers with many cameras.

Frames from many cameras go through one call: they are uploaded as ``uint8`` (a quarter of the bytes of
``float32``), letterboxed on the device (``torch.nn.functional.interpolate`` into a grey canvas), and run in
FP16 on CUDA. Only the candidate boxes above the score threshold come back to the host, where the usual
:func:`detector.decode.decode_raw` does the non-maximum suppression. On CUDA, each batch size is captured
once as a CUDA graph and replayed, which removes the per-layer launch cost that dominates small models.

It needs only PyTorch at run time (no ultralytics, no TensorRT, no onnxruntime-gpu): the ``.torchscript``
file is made once with ``sitewatch export-torchscript`` (ultralytics' exporter, which stores
the class names and input size in the file). On a machine without CUDA it runs on the CPU, which is how the
tests check it against the ONNX backend; the ONNX path stays the default on CPU.

Selected by the model file's suffix (``.torchscript``); ``runtime.device`` picks ``cuda``, ``cuda:1``
or ``cpu``.
"""

from __future__ import annotations

import ast
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from detector.backends.interface import BackendOptions, BatchResult, register
from detector.decode import DecodeParams, decode_raw
from detector.letterbox import PAD_VALUE, Letterbox, placement
from detector.modelfiles import ModelFileError
from detector.timing import StageTimer
from detector.types import make_detections

logger = logging.getLogger(__name__)


def torch_device(name: str) -> str:
    """The torch device for a configured device name: ``0`` means ``cuda:0``; ``cuda`` without CUDA
    falls back to ``cpu`` with a warning.

    Example:
        >>> torch_device("cpu")
        'cpu'
    """
    import torch

    device = f"cuda:{name}" if name.isdigit() else name
    if device.startswith("cuda") and not torch.cuda.is_available():
        logger.warning("device %s asked for but CUDA is not available: running on the CPU", name)
        return "cpu"
    return device


def read_metadata(path: Path) -> tuple[Any, dict[int, str], tuple[int, int]]:
    """Load a ``.torchscript`` file with the metadata ultralytics stores beside the graph.

    Returns:
        The scripted module (on the CPU), its class names and its input size (height, width).

    Raises:
        ModelFileError: the file is missing, not TorchScript, or has no class names.
    """
    import torch

    if not path.is_file():
        raise ModelFileError(f"model file {path} not found (make it with: sitewatch export-torchscript)")
    extra = {"config.txt": ""}
    try:
        module = torch.jit.load(  # type: ignore[no-untyped-call]
            str(path), _extra_files=extra, map_location="cpu"
        )
    except RuntimeError as exc:
        raise ModelFileError(f"model file {path} is not a TorchScript model: {exc}") from exc
    raw = extra["config.txt"]
    meta: dict[str, Any] = json.loads(raw) if raw else {}
    names = meta.get("names")
    if isinstance(names, str):
        names = ast.literal_eval(names)
    if not names:
        raise ModelFileError(
            f"model file {path} carries no class names (export it with sitewatch export-torchscript)"
        )
    imgsz = meta.get("imgsz", [640, 640])
    size = (int(imgsz[0]), int(imgsz[1])) if isinstance(imgsz, list) else (int(imgsz), int(imgsz))
    return module, {int(k): str(v) for k, v in dict(names).items()}, size


@register("torch")
class TorchYolo:
    """A YOLO TorchScript model on a PyTorch device, batched, FP16 on CUDA.

    Args:
        path: the ``.torchscript`` file.
        options: ``device`` picks the device (``cuda``, ``cuda:N``, ``N`` or ``cpu``).
        half: run in FP16 (default: on CUDA only; FP16 convolutions on the CPU are slow).
        cuda_graphs: capture each batch size as a CUDA graph (default: on CUDA only).

    Raises:
        ModelFileError: see :func:`read_metadata`.
    """

    def __init__(
        self,
        path: Path,
        options: BackendOptions,
        *,
        half: bool | None = None,
        cuda_graphs: bool | None = None,
    ) -> None:
        import torch

        self.path = path
        self.device = torch.device(torch_device(options.device))
        on_cuda = self.device.type == "cuda"
        self.half = on_cuda if half is None else half
        self.cuda_graphs = on_cuda if cuda_graphs is None else (cuda_graphs and on_cuda)
        module, self.names, self.input_size = read_metadata(path)
        self.dtype = torch.float16 if self.half else torch.float32
        self.model = module.to(self.device, self.dtype).eval()
        self._graphs: dict[int, tuple[Any, Any, Any]] = {}  # batch -> (graph, static input, static output)

    def preprocess(self, frames: Sequence[np.ndarray]) -> tuple[Any, list[Letterbox]]:
        """Upload BGR ``frames`` and letterbox them on the device into one RGB ``[B, 3, H, W]`` tensor in
        0..1 (the model's dtype). Frames of one size are resized in one call."""
        import torch
        import torch.nn.functional as F  # noqa: N812 - the usual name

        th, tw = self.input_size
        batch = torch.full((len(frames), 3, th, tw), PAD_VALUE / 255.0, dtype=self.dtype, device=self.device)
        boxes: list[Letterbox] = [Letterbox(1.0, 0.0, 0.0, 0, 0)] * len(frames)
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for i, frame in enumerate(frames):
            if frame.ndim != 3 or frame.shape[2] != 3:
                raise ValueError(f"expected an H×W×3 image, got shape {frame.shape}")
            by_shape.setdefault(frame.shape, []).append(i)
        for shape, indices in by_shape.items():
            h, w = shape[:2]
            box = placement(h, w, self.input_size)
            (nw, nh), left, top = box.resized, int(box.pad_x), int(box.pad_y)
            host = np.stack([frames[i] for i in indices])  # [n, h, w, 3] uint8
            pinned = torch.from_numpy(host)
            if self.device.type == "cuda":
                pinned = pinned.pin_memory()
            images = pinned.to(self.device, non_blocking=True).permute(0, 3, 1, 2).flip(1)  # BGR -> RGB
            images = images.to(self.dtype).div_(255.0)
            if (nw, nh) != (w, h):
                images = F.interpolate(images, size=(nh, nw), mode="bilinear", align_corners=False)
            batch[indices, :, top : top + nh, left : left + nw] = images
            for i in indices:
                boxes[i] = box
        return batch, boxes

    def run(self, batch: Any) -> Any:
        """The model's raw output ``[B, 4 + nc, N]`` for a preprocessed batch (a CUDA graph replay when
        graphs are on)."""
        import torch

        with torch.inference_mode():
            if not self.cuda_graphs:
                return self.model(batch)
            size = int(batch.shape[0])
            if size not in self._graphs:
                self._graphs[size] = self._capture(batch)
            graph, static_in, static_out = self._graphs[size]
            static_in.copy_(batch)
            graph.replay()
            return static_out

    def _capture(self, example: Any) -> tuple[Any, Any, Any]:
        """Capture one forward pass at ``example``'s batch size as a CUDA graph (after warm-up runs on a
        side stream, as PyTorch's documentation asks)."""
        import torch

        static_in = example.clone()
        stream = torch.cuda.Stream()  # type: ignore[no-untyped-call]
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(3):
                self.model(static_in)
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_out = self.model(static_in)
        logger.info("captured a CUDA graph for batch %d", int(example.shape[0]))
        return graph, static_in, static_out

    def candidates(self, output: Any, conf: float) -> list[np.ndarray]:
        """Per image, the output columns whose best class score passes ``conf``, as float32 host arrays
        ``[4 + nc, K]``: only these cross to the host."""
        scores = output[:, 4:, :].amax(dim=1)  # [B, N]
        keep = scores > conf
        out = []
        for i in range(output.shape[0]):
            out.append(output[i][:, keep[i]].float().cpu().numpy())
        return out

    def detect(self, frames: Sequence[np.ndarray], params: DecodeParams) -> BatchResult:
        """Detect objects in BGR ``frames`` (one batch); boxes come back in each frame's own pixels."""
        import torch

        timer = StageTimer()
        if not frames:
            return BatchResult([], timer.ms)
        on_cuda = self.device.type == "cuda"  # stages are timed to the end of their GPU work
        with timer.stage("preprocess"):
            batch, boxes = self.preprocess(frames)
            if on_cuda:
                torch.cuda.synchronize()
        with timer.stage("inference"):
            output = self.run(batch)
            if on_cuda:
                torch.cuda.synchronize()
        with timer.stage("postprocess"):
            # multi_label picks every class above conf, so the prefilter must use the same test.
            columns = self.candidates(output, params.conf)
            results = []
            for cols, lb in zip(columns, boxes, strict=True):
                xyxy, scores, class_id = decode_raw(cols, params)
                results.append(make_detections(lb.to_original(xyxy), scores, class_id, self.names))
        return BatchResult(results, timer.ms)


def export_torchscript(weights: Path, out: Path | None = None, *, imgsz: int = 640) -> Path:
    """Export an ultralytics ``.pt`` checkpoint to a ``.torchscript`` file with a dynamic batch (needs the
    ``train`` extra); returns the file written (``out`` or beside ``weights``).

    Raises:
        RuntimeError: ultralytics is not installed.
    """
    import shutil

    try:
        from ultralytics import YOLO
    except ImportError as exc:
        raise RuntimeError("exporting needs the 'train' extra: pip install 'sitewatch[train]'") from exc
    exported = Path(YOLO(str(weights)).export(format="torchscript", imgsz=imgsz, dynamic=True, batch=8))
    target = out or weights.with_suffix(".torchscript")
    if exported.resolve() != target.resolve():
        shutil.move(str(exported), target)
    return target
