"""``sitewatch detect``, ``eval``, ``train`` and ``data``: the detector on images, its accuracy, and its
training."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from sitewatch.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, config_or_default, logger
from sitewatch.tables import format_table

if TYPE_CHECKING:  # annotations only: commands import the detector when they run
    from detector.dataset import YoloDataset
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
    from detector.backend import BackendOptions
    from detector.backends import backend_for
    from detector.dataset import YoloDataset
    from detector.evaluate import evaluate, load_dataset
    from detector.modelfiles import resolve

    if args.events:
        return _eval_events(args)
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
    ``--model``, ``--smoking-model`` and ``--conf`` put in."""
    config = config_or_default(args.config)
    models = config.models.model_copy(
        update={
            "ppe": args.model or config.models.ppe,
            "smoking": args.smoking_model or config.models.smoking,
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


def _eval_alarms(args: argparse.Namespace, dataset: YoloDataset) -> int:
    """``sitewatch eval --alarms``: per-photo and per-person alarm figures at the operating point."""
    from detector.alarms import evaluate_alarms
    from detector.engine import Engine

    report = evaluate_alarms(Engine(_scored_config(args).engine_settings()), dataset, progress=not args.json)
    if args.json:
        print(json.dumps(report.to_json()))
        return EXIT_OK
    print(f"alarms on {args.dataset} ({len(dataset)} photos) at conf {report.conf:g}")
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
    return EXIT_OK


def cmd_train(args: argparse.Namespace) -> int:
    """Fine-tune a checkpoint on a YOLO dataset and export ONNX into the models folder."""
    from detector.modelfiles import models_dir, resolve
    from detector.train import train

    base = resolve(args.model if args.model.endswith(".pt") else f"{args.model}.pt")
    result = train(
        data=args.data,
        base=base,
        out_dir=args.out or models_dir(),
        name=args.name,
        epochs=args.epochs,
        imgsz=args.imgsz,
        batch=args.batch,
        device=args.device,
        workers=args.workers,
        extra=_train_settings(args),
    )
    print(
        format_table(
            ["file", "sha256"], [[str(result.weights), "recorded"], [str(result.onnx), result.onnx_sha256]]
        )
    )
    return EXIT_OK


def _train_settings(args: argparse.Namespace) -> dict[str, object] | None:
    """ultralytics settings beyond the named flags: ``--hours`` and each ``--set KEY=VALUE`` (a number
    where it reads as one)."""
    extra: dict[str, object] = {"time": args.hours, "cache": "ram"} if args.hours else {}
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"sitewatch train: --set takes KEY=VALUE, got {item!r}")
        try:
            extra[key] = float(value) if "." in value or "e" in value.lower() else int(value)
        except ValueError:
            extra[key] = value
    return extra or None


def cmd_quantize(args: argparse.Namespace) -> int:
    """Write a statically quantised INT8 copy of a model, calibrated on images, and record its checksum."""
    from detector import modelfiles
    from detector.quantize import calibration_images, parse_calib, quantize_model

    folders = [parse_calib(spec) for spec in args.calib]
    images = calibration_images([f for f, _ in folders], [n for _, n in folders])
    report = quantize_model(
        modelfiles.resolve(args.model),
        args.out,
        images,
        float_head=args.float_head,
        method=args.method,
        per_channel=not args.per_tensor,
    )
    digest = modelfiles.record(args.out) if args.record else modelfiles.sha256(args.out)
    print(
        f"{args.out}: {report.quantized_convs} of {report.convs} convolutions in INT8, "
        f"{len(report.float_nodes)} head nodes kept float, calibrated on {report.calibration_images} "
        f"images; sha256 {digest}" + (" (recorded)" if args.record else "")
    )
    return EXIT_OK


def cmd_data(args: argparse.Namespace) -> int:
    """Rebuild a training set from its sources (``detector.trainsets``)."""
    from detector.pseudolabels import ultralytics_labeler
    from detector.trainsets import build_ppe, build_smoking

    src: Path = args.sources
    if args.set == "ppe":
        device = args.device
        people = ultralytics_labeler(args.people_model, classes={0: 0}, conf=0.4, device=device)
        vests = (
            ultralytics_labeler(args.teacher, classes={3: 3, 4: 4}, conf=0.5, device=device)
            if args.teacher
            else None
        )
        report = build_ppe(
            ppe=src / "ppe",
            hhw=None if args.no_hhw else src / "hhw",
            out=args.out,
            person_labeler=None if args.no_hhw else people,
            vest_labeler=vests,
            unstretch_share=args.unstretch_share,
            stretch_share=args.stretch_share,
        )
    else:
        if args.cigarettes is None:
            logger.error("sitewatch data smoking needs --cigarettes (the cigarettev6 export's folder)")
            return EXIT_USAGE
        report = build_smoking(
            smoking=src / "smoking",
            cigarettes=args.cigarettes,
            exclude=[src / "smoking-test"],
            out=args.out,
        )
    rows = [[f"images {k}", v] for k, v in report.images.items()]
    rows += [[f"boxes {k}", v] for k, v in report.boxes.items()]
    rows += [[f"left out: {k}", v] for k, v in report.skipped.items()]
    print(format_table(["what", "count"], rows))
    print(f"written to {args.out} (train with: sitewatch train --data {args.out} ...)")
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
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)


def add_training_parsers(sub: Subparsers) -> None:
    """Add ``train`` and ``data``."""
    p = sub.add_parser("train", help="fine-tune a model with ultralytics and export ONNX (train extra)")
    p.add_argument("--data", type=Path, required=True, help="YOLO dataset folder or its data.yaml")
    p.add_argument("--model", default="ppe", help="checkpoint to start from: ppe, smoking or a .pt path")
    p.add_argument("--name", required=True, help="name of the files written (NAME.pt, NAME.onnx)")
    p.add_argument("--out", type=Path, help="output folder (default: the models folder)")
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--imgsz", type=int, default=640)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--device", help="cpu, 0, 0,1 ... (default: a GPU when there is one)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--hours", type=float, help="train for this long instead of --epochs (ultralytics 'time')")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="another ultralytics training setting, e.g. --set optimizer=SGD --set lr0=0.002 (repeatable)",
    )
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("quantize", help="an INT8 copy of a model (onnxruntime static quantisation)")
    p.add_argument("--model", default="ppe", help="float model: alias or .onnx path (default ppe)")
    p.add_argument(
        "--calib",
        nargs="+",
        required=True,
        metavar="DIR[:N]",
        help="calibration images (dataset split folders), the first N of each when given; never a test split",
    )
    p.add_argument("--out", type=Path, required=True, help="the INT8 .onnx to write")
    p.add_argument(
        "--float-head",
        choices=["decode", "convs", "none"],
        default="decode",
        help="head part kept float: decoding (default), also its last convolutions, or nothing",
    )
    p.add_argument("--method", choices=["minmax", "percentile", "entropy"], default="minmax")
    p.add_argument("--per-tensor", action="store_true", help="one weight scale per tensor, not per channel")
    p.add_argument(
        "--no-record", dest="record", action="store_false", help="do not add it to the folder's SHA256SUMS"
    )
    p.set_defaults(func=cmd_quantize)

    p = sub.add_parser("data", help="rebuild a training set from its sources (train extra for ppe)")
    p.add_argument("set", choices=["ppe", "smoking"])
    p.add_argument("--out", type=Path, required=True, help="folder to (re)create")
    p.add_argument(
        "--sources", type=Path, default=Path("../shared/datasets"), help="folder holding ppe/, hhw/, smoking/"
    )
    p.add_argument("--teacher", type=Path, help="ppe: a PPE checkpoint that pseudo-labels hhw's vests")
    p.add_argument(
        "--people-model",
        type=Path,
        default=Path("models/init/yolov8n-coco.pt"),
        help="ppe: the COCO checkpoint that pseudo-labels hhw's people",
    )
    p.add_argument("--no-hhw", action="store_true", help="ppe: from ppe/ alone (to train the teacher)")
    p.add_argument(
        "--unstretch-share", type=float, default=0.5, help="ppe: share of ppe photos narrowed (0.5)"
    )
    p.add_argument("--stretch-share", type=float, default=0.0, help="ppe: share of hhw photos widened (0)")
    p.add_argument("--cigarettes", type=Path, help="smoking: the cigarettev6 export (datasetrokok15)")
    p.add_argument("--device", help="pseudo-labelling device: cpu, 0... (default: a GPU when there is one)")
    p.set_defaults(func=cmd_data)
