"""Shared fixtures: the repository's test data, the shared datasets beside the checkout, loaded models."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from detector.backends.interface import BatchResult, DetectorBackend
from detector.decode import DecodeParams
from detector.engine import Engine, EngineSettings
from detector.faces import FaceAnalyzer, FaceSettings

# Runs under Debian's python3 with GStreamer, not in the venv: never imported by pytest.
collect_ignore = ["streams/rtsp_server.py"]

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
ARTIFACTS = ROOT / "tests" / "artifacts"


class CountingModel:
    """A real detector backend, recording the shape of each image it is given (``crops``)."""

    def __init__(self, model: DetectorBackend) -> None:
        self.model = model
        self.crops: list[tuple[int, ...]] = []

    def detect(self, frames: Sequence[np.ndarray], params: DecodeParams) -> BatchResult:
        self.crops += [frame.shape for frame in frames]
        return self.model.detect(frames, params)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` (or ``$SITEWATCH_SHARED``): the datasets the model card was measured on.

    Outside CI a missing folder skips the tests that need it; in CI it is an error, so that a test
    never passes by not running.
    """
    path = Path(os.environ.get("SITEWATCH_SHARED", ROOT.parent / "shared"))
    if not (path / "datasets").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"shared datasets not found at {path}")
        pytest.skip(f"shared datasets not found at {path}")
    return path


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The engine on the shipped models with default settings."""
    return Engine(EngineSettings())


@pytest.fixture(scope="session")
def face_analyzer() -> FaceAnalyzer:
    """SCRFD + MobileFaceNet from models/."""
    return FaceAnalyzer.load(FaceSettings())


@pytest.fixture
def artifacts() -> Path:
    """A folder for files worth looking at after a run (ignored by git)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
