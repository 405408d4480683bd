"""``sitewatch detect`` and ``eval``: the detector on images, and its accuracy (training:
:mod:`sitewatch.cli.training`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from sitewatch.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, config_or_default, logger
from sitewatch.tables import format_table

if TYPE_CHECKING:  # annotations only: commands import the detector when they run
    from detector.training.dataset import YoloDataset
    from sitewatch.cli.common import Subparsers
    from sitewatch.config import Config


def cmd_detect(args: argparse.Namespace) -> int:
    """Detect people and PPE in images; print a table or JSON lines; optionally save annotated copies."""
    import cv2

    from detector.annotate import SceneAnnotator
    from detector.engine import Engine

    config = config_or_default(args.config)
    engine = Engine(config.engine_settings())
    annotator = SceneAnnotator() if args.save else None
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in args.images:
        image = cv2.imread(str(path))
        if image is None:
            why = "no such file" if not path.exists() else "not a readable image"
            logger.error("%s: %s", path, why)
            if args.json:
                print(json.dumps({"image": str(path), "error": why}), flush=True)
            failed += 1
            continue
        scene = engine.detect([image], smoking=not args.no_smoking)[0]
        result = {"image": str(path), **scene.to_json()}
        if args.json:
            print(json.dumps(result, ensure_ascii=False), flush=True)
        else:
            _print_scene(result)
        if annotator is not None:
            out = args.save / f"{path.stem}.jpg"
            cv2.imwrite(str(out), annotator.annotate(image, scene))
    return EXIT_FAILED if failed else EXIT_OK


def _print_scene(result: dict[str, object]) -> None:
    people = result["people"]
    timings = result["timings_ms"]
    assert isinstance(people, list) and isinstance(timings, dict)
    total = sum(timings.values())
    print(f"\n{result['image']}  ({len(people)} people, {total:.1f} ms)")
    if people:
        rows = [
            [
                i + 1,
                " ".join(f"{v:.0f}" for v in p["box"]),
                p["helmet"],
                p["vest"],
                p["smoking"],
                ", ".join(p["violations"]) or "-",
            ]
            for i, p in enumerate(people)
        ]
        print(format_table(["#", "box", "helmet", "vest", "smoking", "violations"], rows))


def cmd_eval(args: argparse.Namespace) -> int:
    """Score a detector on a YOLO dataset: mAP50, mAP50-95, precision, recall, per-class AP."""
    from detector.backends.factory import backend_for
    from detector.backends.interface import BackendOptions
    from detector.evaluation.evaluate import evaluate, load_dataset
    from detector.modelfiles import resolve
    from detector.training.dataset import YoloDataset

    if args.review is not None and not args.alarms:
        logger.error("--review writes the photos behind --alarms figures: add --alarms")
        return EXIT_USAGE
    if args.events:
        return _eval_events(args)
    if args.smoking_rules:
        return _eval_smoking_rules(args)
    dataset = YoloDataset.open(args.dataset, args.split) if args.split else load_dataset(args.dataset)
    if args.alarms:
        return _eval_alarms(args, dataset)
    model = backend_for(
        resolve(args.model or config_or_default(args.config).models.ppe), BackendOptions(runtime=args.runtime)
    )
    summary = evaluate(model, dataset, progress=not args.json)
    if args.json:
        print(json.dumps(summary.to_json()))
        return EXIT_OK
    print(f"{model.path.name} on {args.dataset} ({summary.images} images, {summary.instances} boxes)")
    rows = [["all", summary.map50, summary.map50_95]]
    rows += [[name, c.ap50, c.ap50_95] for name, c in summary.per_class.items()]
    print(format_table(["class", "AP50", "AP50-95"], rows, digits=3))
    print(f"precision {summary.precision:.3f}  recall {summary.recall:.3f}")
    return EXIT_OK


def _scored_config(args: argparse.Namespace) -> Config:
    """The configuration ``--alarms`` and ``--events`` score: ``--config`` (or the defaults) with
    ``--model``, ``--smoking-model``, ``--cigarettes``, ``--heads``, ``--vests`` and ``--conf`` put in."""
    config = config_or_default(args.config)

    def chosen(given: str | None, configured: str | None) -> str | None:
        return configured if given is None else None if given == "none" else given

    models = config.models.model_copy(
        update={
            "ppe": args.model or config.models.ppe,
            "smoking": args.smoking_model or config.models.smoking,
            "cigarettes": chosen(args.cigarettes, config.models.cigarettes),
            "heads": chosen(args.heads, config.models.heads),
            "vests": chosen(args.vests, config.models.vests),
        }
    )
    detect = config.detect.model_copy(update={"conf": config.detect.conf if args.conf is None else args.conf})
    return config.model_copy(update={"models": models, "detect": detect})


def _eval_events(args: argparse.Namespace) -> int:
    """``sitewatch eval MANIFEST --events``: a hand-labelled composed video through the real worker."""
    from sitewatch.eventcheck import Manifest, run_check

    manifest = Manifest.load(args.dataset)
    result = run_check(manifest, _scored_config(args), progress=not args.json).to_json()
    if args.json:
        print(json.dumps(result))
        return EXIT_OK
    print(f"events from {args.dataset} ({len(manifest.segments)} photos, {manifest.duration:.0f} s of video)")
    rows = [
        [kind, c["right"], c["missing"], c["wrong"], c["duplicate"]] for kind, c in result["kinds"].items()
    ]
    print(format_table(["kind", "right", "missing", "wrong", "duplicate"], rows))
    return EXIT_OK


def _eval_smoking_rules(args: argparse.Namespace) -> int:
    """``sitewatch eval SOURCES --smoking-rules``: the smoking stage's thresholds on the valid splits of
    smoking/ (photo recall) and of ppe/ and hhw/ (people and photos flagged, where nobody smokes)."""
    import numpy as np

    from detector.engine import Engine
    from detector.evaluation.smoking_rules import rule_rows, split_proposals

    settings = _scored_config(args).engine_settings()
    engine = Engine(settings)
    floor = 0.15
    splits = [
        split_proposals(engine, args.dataset / "smoking", "val", floor, None),
        split_proposals(engine, args.dataset / "ppe", "val", floor, None),
        split_proposals(engine, args.dataset / "hhw", "val", floor, None),
    ]
    confs = [round(float(c), 2) for c in np.arange(floor, 0.71, 0.05)]
    verifies = [0.0, 0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95] if settings.cigarette_model else [0.0]
    rows = rule_rows(splits, confs, verifies)
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return EXIT_OK
    print(f"smoking rules on the valid splits of {args.dataset} (verifier: {settings.cigarette_model})")
    print(format_table(list(rows[0]), [list(r.values()) for r in rows], digits=4))
    return EXIT_OK


def _eval_alarms(args: argparse.Namespace, dataset: YoloDataset) -> int:
    """``sitewatch eval --alarms``: per-photo and per-person alarm figures at the operating point."""
    from detector.engine import Engine
    from detector.evaluation.alarms import evaluate_alarms
    from detector.evaluation.review import review_alarms

    engine = Engine(_scored_config(args).engine_settings())
    common = {"night": args.night, "progress": not args.json, "smoking_everywhere": args.smoking_everywhere}
    if args.review is not None:
        report = review_alarms(engine, dataset, args.review, **common)
    else:
        report = evaluate_alarms(engine, dataset, **common)
    if args.json:
        print(json.dumps(report.to_json()))
        return EXIT_OK
    night = " through the infrared-like transform" if args.night else ""
    print(f"alarms on {args.dataset} ({len(dataset)} photos){night} at conf {report.conf:g}")
    headers = ["kind", "photos with", "photo P", "photo R", "false alarms", "person R", "person P"]
    headers.append("compliant flagged")
    rows = []
    for kind, counts in report.kinds.items():
        s = counts.summary()
        rows.append(
            [
                kind,
                f"{s['photos_with_violation']}/{s['photos']}",
                *(
                    "-" if s[key] is None else round(s[key], 3)
                    for key in (
                        "photo_precision",
                        "photo_recall",
                        "photo_false_alarm_rate",
                        "person_recall",
                        "person_precision",
                        "compliant_flagged_rate",
                    )
                ),
            ]
        )
    print(format_table(headers, rows, digits=3))
    if args.review is not None:
        print(f"false alarms and misses drawn in {args.review} (listed in review.csv)")
    return EXIT_OK


def add_parsers(sub: Subparsers) -> None:
    """Add ``detect`` and ``eval``."""
    p = sub.add_parser("detect", help="detect people, PPE and smoking in images")
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    p.add_argument("--json", action="store_true", help="one JSON object per image")
    p.add_argument("--save", type=Path, metavar="DIR", help="write annotated copies here")
    p.add_argument("--config", type=Path, help="configuration file (model and threshold settings)")
    p.add_argument("--no-smoking", action="store_true", help="skip the cigarette check")
    p.set_defaults(func=cmd_detect)

    p = sub.add_parser("eval", help="mAP of a detector on a YOLO dataset")
    p.add_argument("dataset", type=Path, metavar="DATASET_DIR")
    p.add_argument(
        "--model",
        help="ppe, ppe-int8, smoking or a model path (default: the configuration's PPE model, ppe)",
    )
    p.add_argument(
        "--runtime", choices=["onnxruntime", "openvino"], default="onnxruntime", help="what runs the model"
    )
    p.add_argument("--split", choices=["train", "val", "test"], help="default: test if the set has one")
    p.add_argument(
        "--alarms",
        action="store_true",
        help="alarm-level figures at the operating point: per photo and per person, as the worker decides",
    )
    p.add_argument(
        "--events",
        action="store_true",
        help="DATASET_DIR is a manifest of hand-labelled photos: play them as a video through the worker "
        "and count the events right, missing and wrong",
    )
    p.add_argument(
        "--config", type=Path, help="configuration (operating point, models, rules) for --alarms, --events"
    )
    p.add_argument("--conf", type=float, help="with --alarms: the PPE confidence to score instead")
    p.add_argument("--smoking-model", help="with --alarms: the cigarette model to use instead")
    p.add_argument(
        "--cigarettes",
        metavar="MODEL|none",
        help="with --alarms, --events, --smoking-rules: the smoking stage's verifier to use instead "
        "(cigarettes), or none",
    )
    p.add_argument(
        "--smoking-everywhere",
        action="store_true",
        help="with --alarms: check everyone for smoking on a set that labels no cigarettes too (building "
        "sites, nobody smoking), and count its smoking alarms as false ones",
    )
    p.add_argument(
        "--smoking-rules",
        action="store_true",
        help="DATASET_DIR holds smoking/, ppe/ and hhw/: the smoking stage's figures on their valid splits "
        "for a grid of cigarette and verifier thresholds",
    )
    p.add_argument(
        "--heads",
        metavar="MODEL|none",
        help="with --alarms, --events: the head classifier to use instead, or none (the PPE model alone)",
    )
    p.add_argument(
        "--vests",
        metavar="MODEL|none",
        help="with --alarms, --events: the torso classifier to use instead (vests), or none",
    )
    p.add_argument(
        "--night",
        action="store_true",
        help="with --alarms: score every photo through a fixed infrared-like transform (grey, contrast 0.8, "
        "noise of a fixed seed, JPEG 85)",
    )
    p.add_argument(
        "--review",
        type=Path,
        metavar="DIR",
        help="with --alarms: write each kind's false alarms and misses here, drawn, and list them in "
        "review.csv",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)
