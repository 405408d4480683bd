"""``sitewatch faces enroll`` and ``faces match``: the face gallery of the safety officers."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from sitewatch.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, config_or_default, logger
from sitewatch.tables import format_table

if TYPE_CHECKING:  # annotations only: commands import the detector when they run
    from sitewatch.cli.common import Subparsers


def cmd_faces_enroll(args: argparse.Namespace) -> int:
    """Enrol every sub-folder of DIR (one per person, several photos each) into a gallery file."""
    import cv2

    from detector.face_gallery import EnrollmentError, Gallery
    from detector.faces import FaceAnalyzer, enrollment_embedding

    config = config_or_default(args.config)
    analyzer = FaceAnalyzer.load(config.face_settings(), config.models.dir)
    gallery = Gallery.load(args.gallery) if args.gallery.exists() else Gallery(config.face.match_threshold)
    people = sorted(p for p in args.folder.iterdir() if p.is_dir())
    if not people:
        logger.error(
            "%s has no sub-folders: put each person's photos in a folder named after them", args.folder
        )
        return EXIT_USAGE
    rows, rejected = [], 0
    for person in people:
        embeddings = []
        for photo in sorted(p for p in person.iterdir() if p.is_file()):
            try:
                embeddings.append(enrollment_embedding(analyzer, cv2.imread(str(photo)), str(photo)))
            except EnrollmentError as exc:
                logger.warning("rejected: %s", exc)
                rejected += 1
        if embeddings:
            gallery.enroll(person.name, embeddings)
        rows.append([person.name, len(embeddings)])
    gallery.save(args.gallery)
    print(format_table(["person", "photos used"], rows))
    print(f"gallery written to {args.gallery} ({len(gallery.identities)} people, embeddings only)")
    return EXIT_FAILED if rejected else EXIT_OK


def cmd_faces_match(args: argparse.Namespace) -> int:
    """Recognise the faces in images against a gallery file."""
    import cv2

    from detector.face_gallery import Gallery
    from detector.faces import FaceAnalyzer

    config = config_or_default(args.config)
    analyzer = FaceAnalyzer.load(config.face_settings(), config.models.dir)
    gallery = Gallery.load(args.gallery)
    if args.threshold is not None:
        gallery.threshold = args.threshold
    failed = 0
    rows = []
    for path in args.images:
        image = cv2.imread(str(path))
        if image is None:
            logger.error("%s: not a readable image", path)
            failed += 1
            continue
        faces = analyzer.faces(image, min_size=config.face.min_face_px)
        matches = [gallery.match(f.embedding) for f in faces if f.embedding is not None]
        if args.json:
            print(
                json.dumps(
                    {
                        "image": str(path),
                        "faces": [
                            {
                                "box": [round(float(v), 1) for v in f.box],
                                "name": m.name,
                                "similarity": round(m.similarity, 4),
                            }
                            for f, m in zip(faces, matches, strict=True)
                        ],
                    }
                )
            )
        rows += [[str(path.name), m.name or "unknown", m.similarity] for m in matches] or [
            [path.name, "no face", None]
        ]
    if not args.json:
        print(format_table(["image", "identity", "similarity"], rows))
    return EXIT_FAILED if failed else EXIT_OK


def add_parsers(sub: Subparsers) -> None:
    """Add ``faces enroll`` and ``faces match``."""
    faces = sub.add_parser("faces", help="enrol and recognise faces").add_subparsers(
        dest="action", required=True
    )
    p = faces.add_parser("enroll", help="enrol one person per sub-folder of DIR")
    p.add_argument("folder", type=Path, metavar="DIR")
    p.add_argument("--gallery", type=Path, required=True, help="gallery file (.npz) to create or extend")
    p.add_argument("--config", type=Path)
    p.set_defaults(func=cmd_faces_enroll)
    p = faces.add_parser("match", help="recognise faces in images")
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    p.add_argument("--gallery", type=Path, required=True)
    p.add_argument("--threshold", type=float, help="override the gallery's match threshold")
    p.add_argument("--json", action="store_true")
    p.add_argument("--config", type=Path)
    p.set_defaults(func=cmd_faces_match)
