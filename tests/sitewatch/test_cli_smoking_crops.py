"""``sitewatch data smoking-crops`` end to end on the real PPE model: the smoking stage's crops of the people
it finds, as a YOLO set for the cigarette detector."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2

from tests.conftest import DATA
from tests.sitewatch.test_cli import sitewatch

#: The cigarette of tests/data/smoking/smoker.jpg (640 x 640), labelled by hand: x 345-425, y 265-385.
SMOKER_LABEL = "0 0.601562 0.507812 0.125 0.1875\n"


def _sources(root: Path) -> Path:
    """ppe/ and hhw/: the eight photos of tests/data/ppe; smoking/: the smoker close-up, as train and val."""
    for name in ("ppe", "hhw"):
        shutil.copytree(DATA / "ppe", root / name)
    smoking = root / "smoking"
    (smoking / "images").mkdir(parents=True)
    (smoking / "labels").mkdir()
    shutil.copy(DATA / "smoking" / "smoker.jpg", smoking / "images" / "smoker.jpg")
    (smoking / "labels" / "smoker.txt").write_text(SMOKER_LABEL)
    (smoking / "data.yaml").write_text("path: .\ntrain: images\nval: images\nnames:\n  0: cigarette\n")
    return root


def test_data_smoking_crops_writes_the_stages_crops(tmp_path: Path) -> None:
    out = tmp_path / "crops"
    built = sitewatch("data", "smoking-crops", "--sources", _sources(tmp_path / "sources"), "--out", out)
    assert built.returncode == 0, built.stderr
    assert "valid smoking cigarette" in built.stdout and "--model smoking" in built.stdout
    for split in ("train", "valid"):
        # The PPE model finds nobody in this dark close-up at 0.25, so the photo is kept whole as its own
        # crop and the labelled cigarette stays where it was labelled.
        (label,) = sorted((out / split / "labels").glob("smoking-smoker-*.txt"))
        (row,) = [line.split() for line in label.read_text().splitlines()]
        image = cv2.imread(str(out / split / "images" / f"{label.stem}.jpg"))
        assert image.shape[0] > 0.9 * 640 and image.shape[1] > 0.9 * 640
        assert row[0] == "0" and 0.55 < float(row[1]) < 0.65 and 0.45 < float(row[2]) < 0.55
        # The building sites' people are background images, one crop in three in train, all in valid.
        sites = [p.read_text() for p in (out / split / "labels").glob("ppe-*.txt")]
        assert sites and set(sites) == {""}
    valid_sites = len(list((out / "valid" / "labels").glob("ppe-*.txt")))
    train_sites = len(list((out / "train" / "labels").glob("ppe-*.txt")))
    assert train_sites < valid_sites
    assert "val: valid/images" in (out / "data.yaml").read_text()
