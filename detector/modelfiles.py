"""Where the shipped models live, and checks that a model file is present and unaltered.

``models/SHA256SUMS`` lists the checksum of every shipped file. A listed file that is missing or whose
checksum differs is refused with an error that names it; a file that is not listed (a model of your
own) loads with a warning.
"""

from __future__ import annotations

import hashlib
import logging
import os
from functools import cache
from pathlib import Path

logger = logging.getLogger(__name__)

MANIFEST = "SHA256SUMS"
#: Short names for the shipped models, usable wherever a model path is expected.
ALIASES: dict[str, str] = {
    "ppe": "ppe-yolov8n.onnx",
    "ppe-int8": "ppe-yolov8n-int8.onnx",
    "ppe-wide": "ppe-yolov8n-384x640.onnx",
    "ppe-night": "ppe-yolov8n-night.onnx",
    "ppe-night-wide": "ppe-yolov8n-night-384x640.onnx",
    "ppe-zoom": "ppe-yolov8n-320.onnx",
    "ppe-night.pt": "ppe-yolov8n-night.pt",
    "smoking": "smoking-yolo26n.onnx",
    "heads": "head-cls.onnx",
    "vests": "vest-cls.onnx",
    "cigarettes": "cigarette-cls.onnx",
    "ppe.pt": "ppe-yolov8n.pt",
    "smoking.pt": "smoking-yolo26n.pt",
    "face-det": "face-det-scrfd500m.onnx",
    "face-rec": "face-rec-mobilefacenet.onnx",
    "yunet": "face-det-yunet.onnx",
}


class ModelFileError(RuntimeError):
    """A model file is missing, altered, unreadable or of the wrong shape. The message names the file."""


def models_dir() -> Path:
    """The models folder: ``$SITEWATCH_MODELS_DIR`` when set, else ``models/`` of the repository."""
    env = os.environ.get("SITEWATCH_MODELS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "models"


def resolve(name: str | Path, base: Path | None = None) -> Path:
    """Turn a model alias (``ppe``, ``smoking``…) or a path into a path.

    Relative paths are taken against ``base`` (the models folder by default) when the file exists there,
    else against the working directory.

    Example:
        >>> resolve("ppe").name
        'ppe-yolov8n.onnx'
    """
    base = base or models_dir()
    text = str(name)
    if text in ALIASES:
        return base / ALIASES[text]
    path = Path(text).expanduser()
    if not path.is_absolute() and (base / path).exists():
        return base / path
    return path


def sha256(path: Path) -> str:
    """The SHA-256 of a file, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@cache
def read_manifest(folder: Path) -> dict[str, str]:
    """Read ``folder/SHA256SUMS`` (``<hex>  <relative path>`` per line) into ``{resolved path: hex}``."""
    manifest = folder / MANIFEST
    entries: dict[str, str] = {}
    if not manifest.is_file():
        return entries
    for number, line in enumerate(manifest.read_text().splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or len(parts[0]) != 64:
            raise ModelFileError(f"{manifest}:{number}: expected '<sha256>  <file>', got {line!r}")
        entries[str((folder / parts[1].strip().lstrip("*")).resolve())] = parts[0].lower()
    return entries


def expected_sha256(path: Path) -> str | None:
    """The checksum recorded for ``path`` in the manifest of its folder or a parent's, if any."""
    resolved = path.resolve()
    for folder in [resolved.parent, *resolved.parents][:3]:
        digest = read_manifest(folder).get(str(resolved))
        if digest:
            return digest
    return None


def verify(path: Path) -> Path:
    """Check that ``path`` exists and matches its recorded checksum.

    Raises:
        ModelFileError: the file is missing, or its checksum differs from the manifest's.
    """
    if not path.is_file():
        raise ModelFileError(f"model file {path} is missing")
    expected = expected_sha256(path)
    if expected is None:
        logger.warning("model file %s is not listed in a %s; its checksum is not verified", path, MANIFEST)
        return path
    actual = sha256(path)
    if actual != expected:
        raise ModelFileError(
            f"model file {path} is altered: sha256 {actual[:12]}… differs from the recorded {expected[:12]}…"
        )
    return path


def record(path: Path) -> str:
    """Add or replace ``path``'s checksum in the manifest of its folder; return the checksum."""
    digest = sha256(path)
    manifest = path.parent / MANIFEST
    lines = manifest.read_text().splitlines() if manifest.exists() else []
    lines = [line for line in lines if line.split(maxsplit=1)[-1].strip() != path.name]
    lines.append(f"{digest}  {path.name}")
    manifest.write_text("\n".join(lines) + "\n")
    read_manifest.cache_clear()
    return digest
