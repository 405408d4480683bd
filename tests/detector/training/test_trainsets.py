"""Training sets rebuilt from their sources: partial labels completed, test pictures kept out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from detector.training.dataset import read_rows
from detector.training.trainsets import build_ppe, build_smoking, rescale_width

PPE_YAML = {"path": ".", "train": "train/images", "val": "valid/images", "names": {0: "person", 1: "helmet"}}


def picture(seed: int, size: tuple[int, int] = (120, 160)) -> np.ndarray:
    """A random but structured picture (blurred noise), different for each seed."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 255, (size[0] // 8, size[1] // 8, 3), dtype=np.uint8)
    return cv2.resize(noise, (size[1], size[0]), interpolation=cv2.INTER_CUBIC)


def make_set(root: Path, splits: dict[str, dict[str, tuple[np.ndarray, str]]]) -> Path:
    """A YOLO set: ``{split: {file name: (picture, label text)}}``."""
    for split, files in splits.items():
        for name, (image, labels) in files.items():
            (root / split / "images").mkdir(parents=True, exist_ok=True)
            (root / split / "labels").mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(root / split / "images" / name), image)
            (root / split / "labels" / f"{Path(name).stem}.txt").write_text(labels)
    (root / "data.yaml").write_text(yaml.safe_dump(PPE_YAML))
    return root


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ("2 0.5 0.5 0.2 0.1\n", [[2, 0.5, 0.5, 0.2, 0.1]]),
        ("0 0.1 0.2 0.3 0.2 0.3 0.6\n", [[0, 0.2, 0.4, 0.2, 0.4]]),  # a polygon becomes its box
        ("", []),
    ],
)
def test_label_rows_are_read(tmp_path: Path, text: str, rows: list[list[float]]) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "a.txt").write_text(text)
    np.testing.assert_allclose(read_rows(tmp_path / "images" / "a.jpg"), np.array(rows).reshape(-1, 5))


def test_a_malformed_label_line_is_named(tmp_path: Path) -> None:
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "a.txt").write_text("1 0.5 0.5\n")
    with pytest.raises(ValueError, match=r"a\.txt:1"):
        read_rows(tmp_path / "images" / "a.jpg")


def test_rescaling_the_width_keeps_the_height() -> None:
    assert rescale_width(picture(0), 0.5).shape == (120, 80, 3)
    assert rescale_width(picture(0), 1.5).shape == (120, 240, 3)


def fake_labeler(cls: int) -> object:
    """A pseudo-labeller that puts one box of ``cls`` in the middle of every picture, and counts calls."""

    def label(images: Sequence[Path]) -> list[np.ndarray]:
        label.calls += len(images)  # type: ignore[attr-defined]
        return [np.array([[cls, 0.5, 0.5, 0.4, 0.8]], np.float32) for _ in images]

    label.calls = 0  # type: ignore[attr-defined]
    return label


def test_hhw_keeps_its_heads_and_gains_people_and_vests(tmp_path: Path) -> None:
    ppe = make_set(
        tmp_path / "ppe",
        {
            "train": {"p1.jpg": (picture(1), "0 0.5 0.5 0.5 0.9\n3 0.5 0.5 0.3 0.3\n")},
            "valid": {"p2.jpg": (picture(2), "0 0.5 0.5 0.5 0.9\n")},
        },
    )
    hhw = make_set(
        tmp_path / "hhw",
        {
            # a stray class-0 row (hhw's dropped 'person') must not survive: people come from the labeller
            "train": {"h1.jpg": (picture(3), "1 0.3 0.2 0.1 0.1\n2 0.6 0.2 0.1 0.1\n0 0.5 0.5 0.9 0.9\n")},
            "valid": {"h2.jpg": (picture(4), "2 0.5 0.2 0.1 0.1\n")},
        },
    )
    people, vests = fake_labeler(0), fake_labeler(3)
    out = tmp_path / "out"
    report = build_ppe(
        ppe=ppe,
        hhw=hhw,
        out=out,
        person_labeler=people,  # type: ignore[arg-type]
        vest_labeler=vests,  # type: ignore[arg-type]
        unstretch_share=1.0,
        progress=False,
    )
    rows = read_rows(out / "train" / "images" / "hhw_h1.jpg")
    assert sorted(rows[:, 0].astype(int).tolist()) == [0, 1, 2, 3]
    assert people.calls == vests.calls == 2  # type: ignore[attr-defined]
    narrowed = cv2.imread(str(out / "train" / "images" / "ppe_p1.jpg"))
    assert narrowed.shape[0] == 120 and narrowed.shape[1] < 160  # un-stretched, labels unchanged
    np.testing.assert_allclose(
        read_rows(out / "train" / "images" / "ppe_p1.jpg"),
        read_rows(next((ppe / "train" / "images").iterdir())),
        atol=1e-6,
    )
    assert report.images == {"train/ppe-unstretched": 1, "train/hhw": 1, "valid/ppe": 1, "valid/hhw": 1}
    assert yaml.safe_load((out / "data.yaml").read_text())["names"][4] == "no_vest"


def test_the_cigarette_set_leaves_out_every_picture_of_the_test_split(tmp_path: Path) -> None:
    test_photo, other = picture(10, (240, 320)), picture(11, (240, 320))
    smoking_test = tmp_path / "smoking-test"
    (smoking_test / "images").mkdir(parents=True)
    cv2.imwrite(str(smoking_test / "images" / "smoker_5_jpg.rf.aa.jpg"), test_photo)
    cv2.imwrite(str(smoking_test / "images" / "plain.jpg"), other)
    smoking = make_set(
        tmp_path / "smoking",
        {"train": {"0.jpg": (picture(12), "0 0.5 0.5 0.1 0.1\n")}, "valid": {"1.jpg": (picture(13), "")}},
    )
    letterboxed = np.zeros((320, 320, 3), np.uint8)
    letterboxed[40:280] = test_photo
    cigarettes = make_set(
        tmp_path / "cig",
        {
            "train": {
                "smoker_5_jpg.rf.bb.jpg": (picture(14), "0 0.5 0.5 0.1 0.1\n"),  # same photo by name
                "renamed_jpg.rf.cc.jpg": (letterboxed, "0 0.5 0.5 0.1 0.1\n"),  # same photo by picture
                "new_jpg.rf.dd.jpg": (picture(15, (640, 640)), "0 0.5 0.5 0.1 0.1\n"),
                "empty_jpg.rf.ee.jpg": (picture(16), ""),
            },
            "valid": {},
        },
    )
    report = build_smoking(
        smoking=smoking,
        cigarettes=cigarettes,
        exclude=[smoking_test],
        out=tmp_path / "out",
        background_share=0.0,
        progress=False,
    )
    kept = sorted(p.name for p in (tmp_path / "out" / "train" / "images").iterdir())
    assert kept == ["cig_new_jpg.rf.dd.jpg", "smoking_0.jpg"]
    assert report.skipped == {
        "also in smoking-test (stem)": 1,
        "also in smoking-test (picture)": 1,
        "background not sampled": 1,
    }
    assert max(cv2.imread(str(tmp_path / "out" / "train" / "images" / kept[0])).shape) == 416


@pytest.mark.parametrize(("night_share", "grey_train"), [(0.0, 0), (1.0, 2)])
def test_night_photos_are_grey_copies_of_train_photos_only(
    tmp_path: Path, night_share: float, grey_train: int
) -> None:
    ppe = make_set(
        tmp_path / "ppe",
        {
            "train": {"p1.jpg": (picture(1), "0 0.5 0.5 0.5 0.9\n")},
            "valid": {"p2.jpg": (picture(2), "0 0.5 0.5 0.5 0.9\n")},
        },
    )
    hhw = make_set(
        tmp_path / "hhw",
        {"train": {"h1.jpg": (picture(3), "1 0.3 0.2 0.1 0.1\n")}, "valid": {"h2.jpg": (picture(4), "")}},
    )
    out = tmp_path / "out"
    report = build_ppe(
        ppe=ppe,
        hhw=hhw,
        out=out,
        person_labeler=fake_labeler(0),  # type: ignore[arg-type]
        vest_labeler=None,
        unstretch_share=0.0,
        night_share=night_share,
        progress=False,
    )

    def is_grey(path: Path) -> bool:
        image = cv2.imread(str(path)).astype(int)
        return bool(np.abs(image[..., 0] - image[..., 2]).max() <= 2)

    train = sorted((out / "train" / "images").iterdir())
    assert sum(is_grey(p) for p in train) == grey_train
    assert not any(is_grey(p) for p in (out / "valid" / "images").iterdir())  # the epoch is chosen by day
    assert sum(n for k, n in report.images.items() if k.endswith("-night")) == grey_train
    np.testing.assert_allclose(  # the labels of a night copy are the photo's own
        read_rows(out / "train" / "images" / "ppe_p1.jpg"), [[0, 0.5, 0.5, 0.5, 0.9]], atol=1e-6
    )


def test_a_build_without_night_photos_picks_the_same_photos_as_before_the_option(tmp_path: Path) -> None:
    """The night choice has its own random generator: the un-stretching of a recipe stays repeatable."""
    files = {f"p{i}.jpg": (picture(i), "0 0.5 0.5 0.5 0.9\n") for i in range(12)}
    ppe = make_set(tmp_path / "ppe", {"train": files, "valid": {"v.jpg": (picture(99), "")}})
    widths = []
    for night_share in (0.0, 0.5):
        out = tmp_path / f"out{night_share}"
        build_ppe(
            ppe=ppe,
            hhw=None,
            out=out,
            person_labeler=None,
            vest_labeler=None,
            night_share=night_share,
            progress=False,
        )
        widths.append([cv2.imread(str(p)).shape[1] for p in sorted((out / "train" / "images").iterdir())])
    assert widths[0] == widths[1]
    assert 0 < sum(w < 160 for w in widths[0]) < 12  # some narrowed, some not
