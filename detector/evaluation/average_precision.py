"""Detection accuracy: mAP50, mAP50-95, precision and recall as ultralytics ``val`` computes them.

The procedure follows ultralytics so that ``sitewatch eval`` reproduces the model card: predictions are
matched to ground truth of the same class greedily by IoU at ten thresholds (0.50…0.95), AP is the
101-point interpolated area under the precision envelope (COCO style), mAP is the mean over the classes
present in the ground truth, and precision and recall are read at the confidence that maximises the
mean F1. (supervision's ``MeanAveragePrecision`` follows pycocotools instead: at most 100 detections per
image and area ranges, which gives different figures for the same predictions.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
EPS = 1e-16


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of ``a`` ``[M, 4]`` with every box of ``b`` ``[N, 4]``, as ``[M, N]``.

    Example:
        >>> box_iou(np.array([[0, 0, 2, 2]]), np.array([[1, 0, 3, 2], [0, 0, 2, 2]])).round(3).tolist()
        [[0.333, 1.0]]
    """
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=2)
    area_a = (a[:, 2:] - a[:, :2]).prod(axis=1)
    area_b = (b[:, 2:] - b[:, :2]).prod(axis=1)
    return np.asarray(inter / (area_a[:, None] + area_b[None, :] - inter + EPS), dtype=np.float64)


def match_predictions(
    pred_xyxy: np.ndarray, pred_cls: np.ndarray, true_xyxy: np.ndarray, true_cls: np.ndarray
) -> np.ndarray:
    """Mark each prediction correct or not at each IoU threshold, as ``bool [N, 10]``.

    Each ground-truth box matches at most one prediction of its class and the other way round. As in
    ultralytics, a truth keeps the first of its candidate predictions in input order; predictions come
    sorted by score, so the most confident one that reaches the threshold wins.
    """
    correct = np.zeros((len(pred_cls), len(IOU_THRESHOLDS)), dtype=bool)
    if len(pred_cls) == 0 or len(true_cls) == 0:
        return correct
    iou = box_iou(true_xyxy, pred_xyxy) * (true_cls[:, None] == pred_cls[None, :])
    for t, threshold in enumerate(IOU_THRESHOLDS):
        pairs = np.argwhere(iou >= threshold)  # [K, 2]: (true, pred)
        if len(pairs) == 0:
            continue
        pairs = pairs[np.argsort(-iou[pairs[:, 0], pairs[:, 1]], kind="stable")]
        pairs = pairs[np.unique(pairs[:, 1], return_index=True)[1]]
        pairs = pairs[np.unique(pairs[:, 0], return_index=True)[1]]
        correct[pairs[:, 1], t] = True
    return correct


def interpolated_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the precision envelope sampled at 101 recall points (COCO style)."""
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([1.0], precision, [0.0]))
    mpre = np.flip(np.maximum.accumulate(np.flip(mpre)))
    x = np.linspace(0, 1, 101)
    return float(np.trapezoid(np.interp(x, mrec, mpre), x))


def _smooth(y: np.ndarray, fraction: float = 0.05) -> np.ndarray:
    width = round(len(y) * fraction * 2) // 2 + 1
    pad = np.ones(width // 2)
    return np.convolve(np.concatenate((pad * y[0], y, pad * y[-1])), np.ones(width) / width, mode="valid")


@dataclass(slots=True)
class DetectionMetrics:
    """Accumulates matched predictions over a dataset and computes the summary.

    Example:
        >>> m = DetectionMetrics({0: "person"})
        >>> box = np.array([[0, 0, 10, 10]], np.float32)
        >>> m.update(box, np.array([0.9]), np.array([0]), box, np.array([0]))
        >>> round(m.summary().map50, 3)  # ultralytics' grid also gives 0.995 for a perfect result
        0.995
    """

    names: dict[int, str]
    _correct: list[np.ndarray] = field(default_factory=list)
    _conf: list[np.ndarray] = field(default_factory=list)
    _pred_cls: list[np.ndarray] = field(default_factory=list)
    _true_cls: list[np.ndarray] = field(default_factory=list)
    images: int = 0

    def update(
        self,
        pred_xyxy: np.ndarray,
        pred_conf: np.ndarray,
        pred_cls: np.ndarray,
        true_xyxy: np.ndarray,
        true_cls: np.ndarray,
    ) -> None:
        """Add one image's predictions and ground truth (boxes in the same pixel space)."""
        self._correct.append(match_predictions(pred_xyxy, pred_cls, true_xyxy, true_cls))
        self._conf.append(np.asarray(pred_conf, np.float64))
        self._pred_cls.append(np.asarray(pred_cls, np.int64))
        self._true_cls.append(np.asarray(true_cls, np.int64))
        self.images += 1

    def summary(self) -> MetricsSummary:
        """Compute mAP50, mAP50-95, precision, recall and per-class AP over everything added."""
        tp = np.concatenate(self._correct) if self._correct else np.zeros((0, 10), bool)
        conf = np.concatenate(self._conf) if self._conf else np.zeros(0)
        pred_cls = np.concatenate(self._pred_cls) if self._pred_cls else np.zeros(0, np.int64)
        true_cls = np.concatenate(self._true_cls) if self._true_cls else np.zeros(0, np.int64)
        order = np.argsort(-conf, kind="stable")
        tp, conf, pred_cls = tp[order], conf[order], pred_cls[order]
        classes, counts = np.unique(true_cls, return_counts=True)
        grid = np.linspace(0, 1, 1000)
        ap = np.zeros((len(classes), len(IOU_THRESHOLDS)))
        p_curve = np.zeros((len(classes), len(grid)))
        r_curve = np.zeros((len(classes), len(grid)))
        for ci, cls in enumerate(classes):
            mask = pred_cls == cls
            if not mask.any():
                continue
            tpc = tp[mask].cumsum(0)
            fpc = (1 - tp[mask]).cumsum(0)
            recall = tpc / (counts[ci] + EPS)
            precision = tpc / (tpc + fpc)
            r_curve[ci] = np.interp(-grid, -conf[mask], recall[:, 0], left=0)
            p_curve[ci] = np.interp(-grid, -conf[mask], precision[:, 0], left=1)
            for t in range(len(IOU_THRESHOLDS)):
                ap[ci, t] = interpolated_ap(recall[:, t], precision[:, t])
        if len(classes):
            f1 = 2 * p_curve * r_curve / (p_curve + r_curve + EPS)
            best = int(_smooth(f1.mean(0), 0.1).argmax())
            precision_at, recall_at = float(p_curve[:, best].mean()), float(r_curve[:, best].mean())
        else:
            precision_at = recall_at = 0.0
        per_class = {
            self.names.get(int(cls), str(int(cls))): ClassAP(
                ap50=float(ap[i, 0]), ap50_95=float(ap[i].mean())
            )
            for i, cls in enumerate(classes)
        }
        return MetricsSummary(
            map50=float(ap[:, 0].mean()) if len(classes) else 0.0,
            map50_95=float(ap.mean()) if len(classes) else 0.0,
            precision=precision_at,
            recall=recall_at,
            per_class=per_class,
            images=self.images,
            instances=len(true_cls),
        )


@dataclass(frozen=True, slots=True)
class ClassAP:
    """Average precision of one class at IoU 0.5 and averaged over 0.5…0.95."""

    ap50: float
    ap50_95: float


@dataclass(frozen=True, slots=True)
class MetricsSummary:
    """The figures ``sitewatch eval`` reports."""

    map50: float
    map50_95: float
    precision: float
    recall: float
    per_class: dict[str, ClassAP]
    images: int
    instances: int

    def to_json(self) -> dict[str, object]:
        """As the ``--json`` output: ``{"map50": …, "per_class": {"person": {"ap50": …}}, "images": N}``."""
        return {
            "map50": round(self.map50, 4),
            "map50_95": round(self.map50_95, 4),
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "per_class": {
                name: {"ap50": round(c.ap50, 4), "ap50_95": round(c.ap50_95, 4)}
                for name, c in self.per_class.items()
            },
            "images": self.images,
            "instances": self.instances,
        }
