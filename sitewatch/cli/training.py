"""``sitewatch train``, ``quantize`` and ``data``: training sets rebuilt from their sources, models
fine-tuned on them, and their INT8 copies."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from sitewatch.cli.common import EXIT_OK, EXIT_USAGE, logger
from sitewatch.tables import format_table

if TYPE_CHECKING:  # annotations only: commands import the detector when they run
    from collections.abc import Callable

    import numpy as np

    from detector.engine import Engine
    from sitewatch.cli.common import Subparsers


def cmd_train(args: argparse.Namespace) -> int:
    """Fine-tune a checkpoint on a YOLO dataset and export ONNX into the models folder."""
    if args.task == "heads":
        return _train_heads(args)
    if args.task == "vests":
        return _train_vests(args)
    if args.task == "cigarettes":
        from detector.smoking import CIGARETTE_CLASSES
        from detector.training.cigarettesets import STORED_CONTEXT as CIGARETTE_CONTEXT

        return _train_on_backbone(args, CIGARETTE_CLASSES, CIGARETTE_CONTEXT, size=96)
    from detector.modelfiles import models_dir, resolve
    from detector.training.train import train

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
        run_dir=args.run_dir,
    )
    print(
        format_table(
            ["file", "sha256"], [[str(result.weights), "recorded"], [str(result.onnx), result.onnx_sha256]]
        )
    )
    return EXIT_OK


def cmd_export_onnx(args: argparse.Namespace) -> int:
    """Export a ``.pt`` checkpoint to ONNX at a given input size and record its checksum."""
    from detector.modelfiles import resolve
    from detector.training.train import export_onnx

    height, width = args.imgsz
    if height % 32 or width % 32:
        logger.error("sitewatch export-onnx: --imgsz %d %d: both must be multiples of 32", height, width)
        return EXIT_USAGE
    digest = export_onnx(resolve(args.weights), args.out, imgsz=(height, width))
    print(format_table(["file", "sha256"], [[str(args.out), digest]]))
    return EXIT_OK


def _train_heads(args: argparse.Namespace) -> int:
    """``sitewatch train --task heads``: the head classifier from ``sitewatch data heads``' folder; with
    ``--backbone``, on the first layers of that pretrained YOLOv8 checkpoint."""
    from detector.modelfiles import models_dir
    from detector.training.headsets import HEAD_CLASSES, STORED_CONTEXT

    if args.backbone is not None:
        # 96 px: at 64 the pretrained classifier told fewer absent heads ("none") apart (models/README.md).
        return _train_on_backbone(args, HEAD_CLASSES, STORED_CONTEXT, size=96)
    from detector.training.head_train import train_heads

    out = (args.out or models_dir()) / f"{args.name}.onnx"
    result = train_heads(
        train_set=args.data / "train.npz",
        val_set=args.data / "val.npz",
        out=out,
        epochs=args.epochs,
        batch=args.batch,
    )
    rows = [[name, round(result.val_accuracy[name], 3)] for name in (*HEAD_CLASSES, "all")]
    print(format_table(["validation patches", "accuracy"], rows, digits=3))
    print(format_table(["file", "sha256"], [[str(result.onnx), result.onnx_sha256]]))
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


def _train_vests(args: argparse.Namespace) -> int:
    """``sitewatch train --task vests``: the torso classifier from ``sitewatch data vests``' folder."""
    from detector.training.torsosets import STORED_CONTEXT
    from detector.vests import VEST_CLASSES

    return _train_on_backbone(args, VEST_CLASSES, STORED_CONTEXT, size=96)


def _train_on_backbone(
    args: argparse.Namespace, classes: tuple[str, ...], stored_context: float, *, size: int
) -> int:
    """A stage classifier on the first layers of a pretrained YOLOv8 backbone (``--backbone``, default
    ``models/init/yolov8n-coco.pt``); ``--imgsz`` other than 640 replaces the input side ``size``."""
    from detector.modelfiles import models_dir, resolve
    from detector.training.stage_train import train_stage

    out = (args.out or models_dir()) / f"{args.name}.onnx"
    result = train_stage(
        train_set=args.data / "train.npz",
        val_set=args.data / "val.npz",
        out=out,
        classes=classes,
        weights=resolve(args.backbone or "init/yolov8n-coco.pt"),
        size=args.imgsz if args.imgsz != 640 else size,
        stored_context=stored_context,
        epochs=args.epochs,
        batch=args.batch,
    )
    rows = [[name, round(result.val_accuracy[name], 3)] for name in (*classes, "all")]
    print(format_table(["validation patches", "accuracy"], rows, digits=3))
    print(format_table(["file", "sha256"], [[str(result.onnx), result.onnx_sha256]]))
    print(f"{result.minutes:.1f} CPU minutes")
    return EXIT_OK


def cmd_quantize(args: argparse.Namespace) -> int:
    """Write a statically quantised INT8 copy of a model, calibrated on images, and record its checksum."""
    from detector import modelfiles
    from detector.training.quantize import calibration_images, parse_calib, quantize_model

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
    """Rebuild a training set from its sources (``detector.training.trainsets``,
    ``detector.training.headsets``)."""
    from detector.training.pseudolabels import ultralytics_labeler
    from detector.training.trainsets import build_ppe, build_smoking

    src: Path = args.sources
    if args.set == "heads":
        return _data_heads(args)
    if args.set == "vests":
        return _data_vests(args)
    if args.set == "cigarettes":
        return _data_cigarettes(args)
    if args.set == "smoking-crops":
        return _data_smoking_crops(args)
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
            night_share=args.night_share or 0.0,
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


def _people_finder(engine: Engine) -> Callable[[np.ndarray], np.ndarray]:
    """The people ``[P, 4]`` that ``engine``'s PPE model finds in a BGR photo at confidence 0.25: lower than
    the product's operating point, so that the stages' training sets also hold the doubtful people."""
    from dataclasses import replace

    import numpy as np

    from detector.types import CLASS_NAME, PERSON

    params = replace(engine.settings.ppe, conf=0.25)

    def find_people(image: np.ndarray) -> np.ndarray:
        found = engine.ppe.detect([image], params).detections[0]
        return np.asarray(found.xyxy[np.asarray(found.data[CLASS_NAME]) == PERSON])

    return find_people


def _data_heads(args: argparse.Namespace) -> int:
    """``sitewatch data heads``: head patches of the people the shipped PPE model finds in the train and
    valid splits of ppe/ and hhw/."""
    from detector.engine import Engine, EngineSettings
    from detector.training.headsets import build_heads

    engine = Engine(
        EngineSettings(ppe_model=args.people_model_onnx, smoking_model=None, head_model=None, vest_model=None)
    )
    find_people = _people_finder(engine)

    rows = []
    for split in ("val", "train"):
        heads = build_heads([(args.sources / name, split) for name in ("ppe", "hhw")], find_people)
        heads.save(args.out / f"{split}.npz")
        rows += [[f"{split} {name}", n] for name, n in heads.counts().items()]
    print(format_table(["patches", "count"], rows))
    print(
        f"written to {args.out} (train with: sitewatch train --task heads --data {args.out} --name head-cls)"
    )
    return EXIT_OK


def _data_vests(args: argparse.Namespace) -> int:
    """``sitewatch data vests``: torso patches of the people the shipped PPE model finds in the train and
    valid splits of ppe/ (hand labels) and hhw/ (the model's own vests at 0.5 as teacher)."""
    from dataclasses import replace

    import numpy as np
    import supervision as sv

    from detector.engine import Engine, EngineSettings
    from detector.training.torsosets import build_torsos
    from detector.vests import VEST_CLASSES

    engine = Engine(
        EngineSettings(ppe_model=args.people_model_onnx, smoking_model=None, head_model=None, vest_model=None)
    )
    # A lower threshold than the product's, so that the classifier also learns from the doubtful people.
    params = replace(engine.settings.ppe, conf=0.25)

    def detect(image: np.ndarray) -> sv.Detections:
        return engine.ppe.detect([image], params).detections[0]

    rows = []
    for split in ("val", "train"):
        torsos = build_torsos(
            [(args.sources / name, split) for name in ("ppe", "hhw")],
            detect,
            teacher_photos=args.teacher_photos if split == "train" else args.teacher_photos // 4,
        )
        torsos.save(args.out / f"{split}.npz")
        counts = np.bincount(torsos.labels, minlength=len(VEST_CLASSES))
        rows += [[f"{split} {name}", int(n)] for name, n in zip(VEST_CLASSES, counts, strict=True)]
    print(format_table(["patches", "count"], rows))
    print(
        f"written to {args.out} (train with: sitewatch train --task vests --data {args.out} --name vest-cls)"
    )
    return EXIT_OK


def _data_smoking_crops(args: argparse.Namespace) -> int:
    """``sitewatch data smoking-crops``: the smoking stage's head-and-shoulders crops of the people the
    shipped PPE model finds in smoking/ (hand labels), ppe/ and hhw/ (background), as a YOLO set for
    fine-tuning the cigarette detector (``sitewatch train --model smoking --imgsz 416``)."""
    import shutil

    from detector.engine import Engine, EngineSettings
    from detector.training.smokingcrops import build_smoking_crops

    engine = Engine(
        EngineSettings(ppe_model=args.people_model_onnx, smoking_model=None, head_model=None, vest_model=None)
    )
    find_people = _people_finder(engine)
    if args.out.exists():
        shutil.rmtree(args.out)
    rows = []
    for split in ("val", "train"):
        counts = build_smoking_crops(
            [(args.sources / name, split) for name in ("smoking", "ppe", "hhw")],
            find_people,
            args.out,
            params=engine.settings.smoking,
            photos={"hhw": args.teacher_photos if split == "train" else args.teacher_photos // 4},
            # Valid keeps every building-site crop: the false proposals are what the epoch is chosen on.
            negatives_every=3 if split == "train" else 1,
            night_share=0.25 if args.night_share is None else args.night_share,
        )
        rows += [[k, v] for k, v in sorted(counts.images.items())]
    print(format_table(["images", "count"], rows))
    print(
        f"written to {args.out} (train with: sitewatch train --model smoking --data {args.out} --imgsz 416 "
        "--name smoking-crops)"
    )
    return EXIT_OK


def _data_cigarettes(args: argparse.Namespace) -> int:
    """``sitewatch data cigarettes``: patches of the cigarettes the shipped cigarette model proposes on the
    people the shipped PPE model finds, in the train and valid splits of smoking/ (hand labels) and of ppe/
    and hhw/ (building sites: every proposal is a false one)."""
    import numpy as np

    from detector.decode import DecodeParams
    from detector.engine import Engine, EngineSettings
    from detector.smoking import CIGARETTE_CLASSES
    from detector.training.cigarettesets import build_cigarettes

    engine = Engine(EngineSettings(ppe_model=args.people_model_onnx, head_model=None, vest_model=None))
    assert engine.smoking is not None
    find_people = _people_finder(engine)
    propose_params = DecodeParams(conf=args.propose_conf, iou=0.5, max_det=10)
    stage = engine.smoking

    def propose(crops: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        result = stage.model.detect(crops, propose_params)
        return [(d.xyxy, np.asarray(d.confidence)) for d in result.detections]

    rows = []
    for split in ("val", "train"):
        most = {"hhw": args.teacher_photos if split == "train" else args.teacher_photos // 4}
        patches = build_cigarettes(
            [(args.sources / name, split) for name in ("smoking", "ppe", "hhw")],
            find_people,
            propose,
            params=engine.settings.smoking,
            photos=most,
        )
        patches.save(args.out / f"{split}.npz")
        counts = np.bincount(patches.labels, minlength=len(CIGARETTE_CLASSES))
        rows += [[f"{split} {name}", int(n)] for name, n in zip(CIGARETTE_CLASSES, counts, strict=True)]
    print(format_table(["patches", "count"], rows))
    print(
        f"written to {args.out} (train with: sitewatch train --task cigarettes --data {args.out} "
        "--name cigarette-cls)"
    )
    return EXIT_OK


def add_parsers(sub: Subparsers) -> None:
    """Add ``train``, ``quantize`` and ``data``."""
    p = sub.add_parser("train", help="fine-tune a model with ultralytics and export ONNX (train extra)")
    p.add_argument(
        "--task",
        choices=["detect", "heads", "vests", "cigarettes"],
        default="detect",
        help="detect: a YOLO detector (ultralytics); heads: the head classifier (data: sitewatch data "
        "heads); "
        "vests: the torso classifier on a pretrained backbone (data: sitewatch data vests; --imgsz: its "
        "input, default 96); cigarettes: the smoking stage's verifier, the same way (data: sitewatch data "
        "cigarettes)",
    )
    p.add_argument(
        "--backbone",
        help="heads, vests, cigarettes: the YOLOv8 checkpoint whose first layers start the classifier "
        "(vests, cigarettes: default init/yolov8n-coco.pt; heads: without it, the small network trained "
        "from scratch at 64 px; with it, 96 px)",
    )
    p.add_argument(
        "--data",
        type=Path,
        required=True,
        help="YOLO dataset folder or its data.yaml (heads: a patch folder)",
    )
    p.add_argument("--model", default="ppe", help="checkpoint to start from: ppe, smoking or a .pt path")
    p.add_argument("--name", required=True, help="name of the files written (NAME.pt, NAME.onnx)")
    p.add_argument("--out", type=Path, help="output folder (default: the models folder)")
    p.add_argument("--epochs", type=int, default=50, help="(the head classifier: 30 is enough)")
    p.add_argument("--imgsz", type=int, default=640)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--device", help="cpu, 0, 0,1 ... (default: a GPU when there is one)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--hours", type=float, help="train for this long instead of --epochs (ultralytics 'time')")
    p.add_argument(
        "--run-dir",
        type=Path,
        help="detect: keep ultralytics' run (checkpoints each epoch) in this folder; the same command again "
        "resumes an interrupted run from its last checkpoint",
    )
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="another ultralytics training setting, e.g. --set optimizer=SGD --set lr0=0.002 (repeatable)",
    )
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("export-onnx", help="export a .pt checkpoint to ONNX at an input size (train extra)")
    p.add_argument("weights", nargs="?", default="ppe.pt", help="a .pt checkpoint or alias (default ppe.pt)")
    p.add_argument(
        "--imgsz",
        type=int,
        nargs=2,
        default=[384, 640],
        metavar=("HEIGHT", "WIDTH"),
        help="input size, multiples of 32 (default 384 640: the wide input for 16:9 frames)",
    )
    p.add_argument("--out", type=Path, required=True, help="the .onnx to write (recorded in its SHA256SUMS)")
    p.set_defaults(func=cmd_export_onnx)

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
    p.add_argument("set", choices=["ppe", "smoking", "smoking-crops", "heads", "vests", "cigarettes"])
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
    p.add_argument(
        "--night-share",
        type=float,
        default=None,
        help="ppe, smoking-crops: share of training photos (crops) made infrared-like at random, for night "
        "frames (ppe: 0; smoking-crops: 0.25 when not given)",
    )
    p.add_argument(
        "--people-model-onnx",
        default="ppe",
        help="heads, vests, cigarettes: the PPE model whose people are cropped (default: the shipped one)",
    )
    p.add_argument(
        "--propose-conf",
        type=float,
        default=0.15,
        help="cigarettes: the cigarette model's threshold for a proposal (0.15)",
    )
    p.add_argument(
        "--teacher-photos",
        type=int,
        default=600,
        help="vests, cigarettes, smoking-crops: hhw train photos used (a quarter from valid)",
    )
    p.add_argument("--cigarettes", type=Path, help="smoking: the cigarettev6 export (datasetrokok15)")
    p.add_argument("--device", help="pseudo-labelling device: cpu, 0... (default: a GPU when there is one)")
    p.set_defaults(func=cmd_data)
