"""Faces on ../shared/datasets/faces (MIT licence, photos from the face_recognition project)."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from detector.face_gallery import EnrollmentError, Gallery
from detector.faces import FaceAnalyzer, FaceSettings, enrollment_embedding
from detector.modelfiles import ModelFileError, resolve

# Who is in each test photo, left to right; None is a face that is not enrolled (an aide in the
# background of obama_and_biden.jpg).
EXPECTED = {
    "alex_lacamoire1.jpg": ["alex_lacamoire"],
    "johnsnow_test1.jpg": ["kit_harington"],
    "kit_with_rose.jpg": ["rose_leslie", "kit_harington"],
    "obama1.jpg": ["obama"],
    "obama_and_biden.jpg": ["biden", "obama", None],
}


def enrol_all(analyzer: FaceAnalyzer, faces_dir: Path, skip: str | None = None) -> Gallery:
    gallery = Gallery(threshold=0.42)
    for person in sorted((faces_dir / "train").iterdir()):
        if person.name != skip:
            photos = sorted(person.iterdir())
            gallery.enroll(
                person.name, [enrollment_embedding(analyzer, cv2.imread(str(p)), str(p)) for p in photos]
            )
    return gallery


def names_left_to_right(analyzer: FaceAnalyzer, gallery: Gallery, image: Path) -> list[str | None]:
    faces = sorted(analyzer.faces(cv2.imread(str(image))), key=lambda f: float(f.box[0]))
    return [gallery.match(f.embedding).name for f in faces if f.embedding is not None]


@pytest.fixture(scope="module")
def faces_dir(shared_dir: Path) -> Path:
    return shared_dir / "datasets" / "faces"


def test_all_test_photos_are_recognised(face_analyzer: FaceAnalyzer, faces_dir: Path) -> None:
    gallery = enrol_all(face_analyzer, faces_dir)
    assert sorted(gallery.identities) == ["alex_lacamoire", "biden", "kit_harington", "obama", "rose_leslie"]
    for name, expected in EXPECTED.items():
        assert names_left_to_right(face_analyzer, gallery, faces_dir / "test" / name) == expected, name


def test_a_face_not_enrolled_is_unknown(face_analyzer: FaceAnalyzer, faces_dir: Path) -> None:
    gallery = enrol_all(face_analyzer, faces_dir, skip="obama")
    assert names_left_to_right(face_analyzer, gallery, faces_dir / "test" / "obama1.jpg") == [None]
    match = gallery.match(
        face_analyzer.faces(cv2.imread(str(faces_dir / "test" / "obama1.jpg")))[0].embedding
    )  # type: ignore[arg-type]
    assert match.name is None and match.similarity < gallery.threshold


@pytest.mark.parametrize(
    ("photo", "message"),
    [
        ("test/obama_and_biden.jpg", "3 faces found"),
        (None, "no face found"),
        ("missing.jpg", "cannot read the photo"),
    ],
)
def test_enrolment_rejects_unusable_photos(
    face_analyzer: FaceAnalyzer, faces_dir: Path, photo: str | None, message: str
) -> None:
    image = np.full((480, 640, 3), 127, np.uint8) if photo is None else cv2.imread(str(faces_dir / photo))
    with pytest.raises(EnrollmentError, match=message):
        enrollment_embedding(face_analyzer, image, str(photo))


def test_gallery_keeps_only_embeddings_and_round_trips(
    face_analyzer: FaceAnalyzer, faces_dir: Path, tmp_path: Path
) -> None:
    gallery = enrol_all(face_analyzer, faces_dir)
    path = tmp_path / "gallery.npz"
    gallery.save(path)
    with np.load(path) as data:
        assert all(data[k].ndim == 2 and data[k].shape[1] == 128 for k in data.files if k.startswith("id:"))
        assert max(data[k].shape[0] for k in data.files if k.startswith("id:")) == 2
    loaded = Gallery.load(path)
    assert loaded.threshold == gallery.threshold
    assert names_left_to_right(face_analyzer, loaded, faces_dir / "test" / "obama1.jpg") == ["obama"]
    assert loaded.remove("obama") and "obama" not in loaded.identities


def test_yunet_detector_with_the_same_recogniser(faces_dir: Path) -> None:
    analyzer = FaceAnalyzer.load(FaceSettings(detector="yunet", det_threshold=0.6))
    gallery = enrol_all(analyzer, faces_dir)
    assert names_left_to_right(analyzer, gallery, faces_dir / "test" / "johnsnow_test1.jpg") == [
        "kit_harington"
    ]


def test_a_model_pack_folder_is_read(tmp_path: Path, faces_dir: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    for alias in ("face-det", "face-rec"):
        shutil.copyfile(resolve(alias), pack / resolve(alias).name)
    analyzer = FaceAnalyzer.load(FaceSettings(pack=pack))
    faces = analyzer.faces(cv2.imread(str(faces_dir / "test" / "obama1.jpg")))
    assert len(faces) == 1 and faces[0].embedding is not None


def test_a_pack_without_recogniser_is_refused(tmp_path: Path) -> None:
    shutil.copyfile(resolve("face-det"), tmp_path / "det.onnx")
    with pytest.raises(ModelFileError, match="has no recognition model"):
        FaceAnalyzer.load(FaceSettings(pack=tmp_path))
