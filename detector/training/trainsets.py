"""Training sets rebuilt from their sources (``sitewatch data``).

The sources do not share one labelling, so a set is assembled, not copied:

- **ppe** joins ``ppe/`` (all five classes, 640 × 640 Roboflow exports, most likely stretched from photos
  of other shapes) and ``hhw/`` (Hard Hat Workers: only ``helmet`` and ``no_helmet`` labelled). Left as
  they are, hhw's unlabelled people and vests would teach a model that people and vests are background.
  So hhw's people are pseudo-labelled by a COCO detector (reliable at confidence 0.4) and its vests and
  bare torsos by a PPE teacher at a high confidence. Half of ppe's training photos are un-stretched to a
  random narrower aspect, so that heads look as wide as they do in a camera frame (about 0.85 × as wide
  as tall in hhw, 1.5 × in ppe).
- **smoking** joins ``smoking/`` and the cigarette set "cigarettev6" (Roboflow ``rokok-jw5ic``, CC BY 4.0,
  class ``rokok``), keeping all of its photos with a cigarette and a share of its background photos, and
  leaving out every photo that is also in the smoking test split (same file stem, or the same picture by
  a perceptual hash), so that nothing of ``smoking-test`` is trained on.

Test splits are never read except to exclude their pictures (found by
:mod:`detector.training.duplicates`). The prepared sets are build outputs, not committed. Pseudo-labelling
(:mod:`detector.training.pseudolabels`) needs ultralytics (the ``train`` extra); everything else needs
only OpenCV.
"""

from __future__ import annotations

import logging
import random
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import yaml
from tqdm import tqdm

from detector.training.dataset import IMAGE_SUFFIXES, YoloDataset, read_rows
from detector.training.duplicates import dhash, dhashes, near_duplicates, source_stem
from detector.training.night import random_infrared
from detector.training.pseudolabels import Labeler

logger = logging.getLogger(__name__)

PPE_NAMES = {0: "person", 1: "helmet", 2: "no_helmet", 3: "vest", 4: "no_vest"}
SMOKING_NAMES = {0: "cigarette"}


@dataclass
class BuildReport:
    """What a build wrote: images and boxes per split and source, and what it left out and why."""

    images: dict[str, int] = field(default_factory=dict)
    boxes: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def add(self, table: dict[str, int], key: str, n: int = 1) -> None:
        """Add ``n`` to ``table[key]``."""
        table[key] = table.get(key, 0) + n


def write_rows(path: Path, rows: np.ndarray) -> None:
    """Write YOLO label rows (class as an integer, coordinates with 6 decimals)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{int(r[0])} {r[1]:.6f} {r[2]:.6f} {r[3]:.6f} {r[4]:.6f}\n" for r in rows))


def rescale_width(image: np.ndarray, width_factor: float) -> np.ndarray:
    """Narrow (< 1) or widen (> 1) a picture by ``width_factor``. Normalised YOLO boxes stay valid as they
    are, so the labels need no change.

    >>> rescale_width(np.zeros((10, 20, 3), np.uint8), 0.5).shape
    (10, 10, 3)
    """
    h, w = image.shape[:2]
    return cv2.resize(image, (max(1, round(w * width_factor)), h), interpolation=cv2.INTER_AREA)


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def _write_yaml(out: Path, names: dict[int, str], comment: str) -> None:
    spec = {"path": ".", "train": "train/images", "val": "valid/images", "names": names}
    (out / "data.yaml").write_text(f"# {comment}\n" + yaml.safe_dump(spec, sort_keys=False))


def _copy(image: Path, rows: np.ndarray, out_split: Path, name: str) -> None:
    target = out_split / "images" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(image, target)
    write_rows(out_split / "labels" / f"{Path(name).stem}.txt", rows)


def _write_transformed(
    image: Path,
    rows: np.ndarray,
    out_split: Path,
    stem: str,
    *,
    width_factor: float = 1.0,
    night: np.random.Generator | None = None,
) -> None:
    """Write ``image`` as ``stem.jpg``, narrowed or widened by ``width_factor`` and, given ``night``, made
    infrared-like at random (:func:`detector.training.night.random_infrared`); the labels need no change."""
    picture = cv2.imread(str(image))
    if picture is None:
        raise ValueError(f"cannot read image {image}")
    if width_factor != 1.0:
        picture = rescale_width(picture, width_factor)
    if night is not None:
        picture = random_infrared(picture, night)
    target = out_split / "images" / f"{stem}.jpg"
    target.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(target), picture, [cv2.IMWRITE_JPEG_QUALITY, 92])
    write_rows(out_split / "labels" / f"{stem}.txt", rows)


def _write_photo(
    image: Path,
    rows: np.ndarray,
    out_split: Path,
    stem: str,
    *,
    width_factor: float,
    night: np.random.Generator | None,
) -> None:
    """Copy ``image`` as it is when nothing changes it (no re-encoding), else write it transformed."""
    if width_factor == 1.0 and night is None:
        _copy(image, rows, out_split, f"{stem}{image.suffix}")
    else:
        _write_transformed(image, rows, out_split, stem, width_factor=width_factor, night=night)


def build_ppe(
    *,
    ppe: Path,
    hhw: Path | None,
    out: Path,
    person_labeler: Labeler | None,
    vest_labeler: Labeler | None,
    unstretch_share: float = 0.5,
    unstretch_range: tuple[float, float] = (0.55, 0.85),
    stretch_share: float = 0.0,
    stretch_range: tuple[float, float] = (1.2, 1.8),
    night_share: float = 0.0,
    seed: int = 0,
    progress: bool = True,
) -> BuildReport:
    """Assemble the PPE training set in ``out`` (``train/``, ``valid/``, ``data.yaml``).

    Args:
        ppe: the fully labelled set (``train`` and ``valid`` splits are used).
        hhw: the Hard Hat Workers set (``train`` and ``valid``; only helmet and no_helmet labelled); None
            builds from ``ppe`` alone (a teacher for the pseudo-labels).
        out: the folder to (re)create.
        person_labeler: labels people in hhw (class 0); None leaves them out (not advised).
        vest_labeler: labels vests and bare torsos in hhw (classes 3, 4); None leaves them out.
        unstretch_share: the share of ppe training photos narrowed to a random aspect.
        unstretch_range: the range of that narrowing (new width / old width).
        stretch_share: the share of hhw photos widened to a random aspect, as ppe's were (so that the
            model knows heads of both shapes).
        stretch_range: the range of that widening.
        night_share: the share of training photos (of both sources) made infrared-like at random, so that
            the model learns grey, noisy night frames; the valid split stays as it is (day), so the epoch
            kept is not chosen for night alone.
        seed: makes the choice of photos and factors repeatable.
        progress: show progress bars.

    Raises:
        FileNotFoundError, ValueError: a source is missing or not a YOLO set.
    """
    rng = random.Random(seed)
    report = BuildReport()
    if out.exists():
        shutil.rmtree(out)
    # The night choice draws from its own generators, so a build without night photos picks the same
    # photos and factors as before the option existed.
    night_pick, night_rng = random.Random(seed + 1), np.random.default_rng(seed)

    def place(
        image: Path, rows: np.ndarray, split: str, source: str, share: float, factors: tuple[float, float]
    ) -> None:
        """Write one photo of ``source``; a training photo is reshaped by a factor drawn from ``factors``
        with probability ``share``, and made infrared-like with probability ``night_share``."""
        out_split = "train" if split == "train" else "valid"
        reshaped = split == "train" and rng.random() < share
        factor = rng.uniform(*factors) if reshaped else 1.0
        wanted = night_share > 0 and split == "train" and night_pick.random() < night_share
        night = night_rng if wanted else None
        _write_photo(image, rows, out / out_split, f"{source}_{image.stem}", width_factor=factor, night=night)
        kind = f"{source}-{'unstretched' if source == 'ppe' else 'stretched'}" if reshaped else source
        report.add(report.images, f"{out_split}/{kind}{'-night' if night else ''}")

    for split, out_split in (("train", "train"), ("val", "valid")):
        for image in tqdm(
            YoloDataset.open(ppe, split), desc=f"ppe {split}", unit="img", disable=not progress
        ):
            rows = read_rows(image)
            place(image, rows, split, "ppe", unstretch_share, unstretch_range)
            report.add(report.boxes, f"{out_split}/ppe", len(rows))
        if hhw is None:
            continue
        images = list(YoloDataset.open(hhw, split))
        people = person_labeler(images) if person_labeler else [np.zeros((0, 5), np.float32)] * len(images)
        vests = vest_labeler(images) if vest_labeler else [np.zeros((0, 5), np.float32)] * len(images)
        for image, person_rows, vest_rows in tqdm(
            zip(images, people, vests, strict=True),
            total=len(images),
            desc=f"hhw {split}",
            unit="img",
            disable=not progress,
        ):
            heads = read_rows(image)
            heads = heads[np.isin(heads[:, 0], (1, 2))]
            place(
                image, np.vstack([heads, person_rows, vest_rows]), split, "hhw", stretch_share, stretch_range
            )
            report.add(report.boxes, f"{out_split}/hhw heads", len(heads))
            report.add(report.boxes, f"{out_split}/hhw pseudo people", len(person_rows))
            report.add(report.boxes, f"{out_split}/hhw pseudo vests", len(vest_rows))
    _write_yaml(out, PPE_NAMES, "built by `sitewatch data ppe` from ppe/ and hhw/ (pseudo-labelled)")
    return report


def build_smoking(
    *,
    smoking: Path,
    cigarettes: Path,
    exclude: Sequence[Path],
    out: Path,
    background_share: float = 0.25,
    max_side: int = 416,
    seed: int = 0,
    progress: bool = True,
) -> BuildReport:
    """Assemble the cigarette training set in ``out``.

    Args:
        smoking: the ``smoking/`` set (train and valid).
        cigarettes: the cigarettev6 export (``train/`` and ``valid/`` folders; ``test/`` is not read).
        exclude: sets whose pictures must not be trained on (``smoking-test``): matched by file stem and
            by perceptual hash.
        out: the folder to (re)create.
        background_share: the share of cigarettev6's photos without a cigarette that are kept.
        max_side: cigarettev6 photos are shrunk to this longest side (the model runs at 416).
        seed: makes the choice of background photos repeatable.
        progress: show progress bars.
    """
    rng = random.Random(seed)
    report = BuildReport()
    excluded = [p for root in exclude for p in _images(root)]
    excluded_stems = {source_stem(p) for p in excluded}
    excluded_hashes = dhashes(excluded)
    if out.exists():
        shutil.rmtree(out)
    for split, out_split in (("train", "train"), ("val", "valid")):
        for image in tqdm(YoloDataset.open(smoking, split), desc=f"smoking {split}", disable=not progress):
            _copy(image, read_rows(image), out / out_split, f"smoking_{image.name}")
            report.add(report.images, f"{out_split}/smoking")
        candidates = _images(cigarettes / out_split / "images")
        for image in tqdm(candidates, desc=f"cigarettev6 {split}", disable=not progress):
            rows = read_rows(image)
            if source_stem(image) in excluded_stems:
                report.add(report.skipped, "also in smoking-test (stem)")
                continue
            if not len(rows) and rng.random() >= background_share:
                report.add(report.skipped, "background not sampled")
                continue
            picture = cv2.imread(str(image))
            if picture is None:
                raise ValueError(f"cannot read image {image}")
            if near_duplicates(np.array([dhash(picture)], np.uint64), excluded_hashes)[0]:
                report.add(report.skipped, "also in smoking-test (picture)")
                continue
            scale = max_side / max(picture.shape[:2])
            if scale < 1:
                picture = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            target = out / out_split / "images" / f"cig_{image.stem}.jpg"
            target.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(target), picture, [cv2.IMWRITE_JPEG_QUALITY, 92])
            rows[:, 0] = 0  # rokok (cigarette) is our class 0
            write_rows(out / out_split / "labels" / f"cig_{image.stem}.txt", rows)
            report.add(report.images, f"{out_split}/cigarettev6")
            report.add(report.boxes, f"{out_split}/cigarettev6", len(rows))
    _write_yaml(out, SMOKING_NAMES, "built by `sitewatch data smoking` from smoking/ and cigarettev6")
    return report
