"""The stages' patch classifiers: a small ONNX network that takes square BGR patches (a head, a torso, a
proposed cigarette) and gives a probability per class.

The three stage classifiers share one architecture (``detector/training/stage_train.py``) and one way to
run; each stage checks that the file it is given has its classes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from detector import modelfiles
from detector.backends.onnx_runtime import parse_names
from detector.head_crops import to_input


class PatchClassifier:
    """An ONNX patch classifier: BGR patches in, probabilities per class out.

    Args:
        path: the ``.onnx`` file (input ``images [N, 3, S, S]`` RGB 0..1, output ``probs [N, C]``).
        classes: the class names the file must have (else :class:`~detector.modelfiles.ModelFileError`).
        providers: onnxruntime execution providers.
        flip: also look at each patch mirrored left to right and average the two answers (one batch of
            twice the patches: about twice the stage's small cost).
    """

    def __init__(
        self,
        path: Path,
        classes: tuple[str, ...],
        providers: list[str] | None = None,
        *,
        flip: bool = False,
    ) -> None:
        import onnxruntime as ort

        modelfiles.verify(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # a few small patches per frame: threads cost more than they give
        self.session = ort.InferenceSession(
            str(path), options, providers=providers or ["CPUExecutionProvider"]
        )
        self.names = parse_names(self.session.get_modelmeta().custom_metadata_map, path)
        if set(self.names.values()) != set(classes):
            raise modelfiles.ModelFileError(
                f"model file {path} has classes {sorted(self.names.values())}, expected {sorted(classes)}"
            )
        self.size = int(self.session.get_inputs()[0].shape[2])
        self.index = {name: i for i, name in self.names.items()}
        self.flip = flip

    def classify(self, patches: np.ndarray) -> np.ndarray:
        """Probabilities ``[N, C]`` of BGR ``uint8`` patches ``[N, S, S, 3]``."""
        if len(patches) == 0:
            return np.empty((0, len(self.names)), np.float32)
        batch = np.concatenate([patches, patches[:, :, ::-1]]) if self.flip else patches
        probs = np.asarray(self.session.run(None, {"images": to_input(batch)})[0], dtype=np.float32)
        if self.flip:
            probs = (probs[: len(patches)] + probs[len(patches) :]) * np.float32(0.5)
        return probs
