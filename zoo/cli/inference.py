"""``zoo predict`` and ``zoo features``: in this process, as an Apache Beam job (``--engine
beam``), or joining a Beam job's shards (``--merge``).

Example:
    $ zoo predict photos/ --model mobilenet_v2_1.0_224 --top 3 --json
    $ zoo features photos/ --model resnet50 --stage pooled --out photos.h5
"""

from __future__ import annotations

import sys

from zoo.cli.common import WEIGHTS_HELP, SharedFlags, print_json
from zoo.errors import InputError


def _crop_fraction(args) -> float | None:
    """None (resize the whole image), or the centre-crop fraction: ``--crop-fraction F``
    implies ``--crop center``; ``--crop center`` alone keeps the default fraction."""
    from zoo.inputs.sources import DEFAULT_CROP_FRACTION

    if args.crop == "none" and args.crop_fraction is not None:
        raise InputError(
            f"--crop-fraction {args.crop_fraction} needs --crop center, received --crop none"
        )
    if args.crop == "center" or args.crop_fraction is not None:
        return DEFAULT_CROP_FRACTION if args.crop_fraction is None else args.crop_fraction
    return None


def _check_scale_out(args, sources: list[str]) -> None:
    """Argument rules of ``--merge`` and ``--engine beam`` (argparse cannot say them)."""
    error = args.parser.error
    if args.merge is not None:
        if sources or args.model:
            error("--merge DIR takes no SRC and no --model: it joins the shards DIR holds")
        if args.engine == "beam" or args.pipeline_options:
            error("--merge joins finished shards; it takes no --engine beam or Beam options")
        if not args.out:
            error("--merge DIR needs --out FILE, the joined file")
        return
    if not sources:
        error("the following arguments are required: SRC")
    if not args.model:
        error("the following arguments are required: --model")
    beam_only = [
        flag
        for flag, given in (
            ("--runner", args.runner != "direct"),
            ("--workers", args.workers is not None),
            ("--shard-size", args.shard_size is not None),
            ("Beam pipeline options " + " ".join(args.pipeline_options), args.pipeline_options),
        )
        if given
    ]
    if args.engine == "local" and beam_only:
        error(f"{beam_only[0]} is for --engine beam")
    if args.engine == "beam" and not args.out:
        error("--engine beam needs --out DIR, the folder its shards go to")


def _scale_options(args) -> dict:
    """The keyword arguments ``zoo.scale.jobs`` takes from the command line."""
    return {
        "runner": args.runner,
        "workers": args.workers,
        "shard_size": args.shard_size,
        "options": args.pipeline_options,
        "overwrite": args.overwrite,
    }


def cmd_merge(args, kind: str) -> int:
    from zoo.scale.shards import merge

    summary = merge(args.merge, args.out, overwrite=args.overwrite, kind=kind)
    print(
        f"merged {args.merge}: {summary.rows} images"
        + (f", {len(summary.errors)} unreadable files" if summary.errors else "")
        + f" -> {args.out}"
    )
    return 0


def _print_job(result, what: str) -> None:
    print(
        f"{result.rows} images -> {what}"
        + (f", {len(result.errors)} unreadable files" if result.errors else "")
        + f", in {result.shards} shards in {result.folder} ({result.written} written now, "
        f"on {result.runtime})"
    )
    for _, reason in result.errors:
        print(f"  skipped: {reason}")
    print(
        f"join them with: zoo {result.kind.replace('predictions', 'predict')} --merge "
        f"{result.folder} --out FILE"
    )


def cmd_predict(args) -> int:
    from zoo.inference.prediction import predict_files

    _check_scale_out(args, args.images)
    if args.merge is not None:
        return cmd_merge(args, "predictions")
    if args.engine == "beam":
        from zoo.scale.jobs import beam_predictions

        if args.tta > 1:
            args.parser.error("--tta runs with the local engine, not --engine beam")
        job = beam_predictions(
            args.model, args.images, args.out, top=args.top, weights=args.weights,
            runtime=args.runtime, batch_size=args.batch_size,
            crop_fraction=_crop_fraction(args), precision=args.precision,
            calibration=args.calibration, trust=args.trust, progress=None, **_scale_options(args),
        )  # fmt: skip
        _print_job(job, f"predictions of {args.model}")
        return 1 if job.errors else 0
    if args.out or args.overwrite:
        args.parser.error(
            "--out and --overwrite are for --engine beam or --merge; --json prints "
            "the results as JSON"
        )
    results = predict_files(
        args.model,
        args.images,
        weights=args.weights,
        top=args.top,
        batch_size=args.batch_size,
        crop_fraction=_crop_fraction(args),
        runtime=args.runtime,
        trust=args.trust,
        precision=args.precision,
        calibration=args.calibration,
        tta=args.tta,
        progress=args.tta > 1 and not args.json and sys.stderr.isatty(),
    )
    if args.json:
        print_json(results)
    else:  # errors go to stderr only, once each
        for result in results:
            if "error" in result:
                continue
            ranked = "  ".join(
                f"{entry['rank']}. {entry['label']} {entry['score']:.4f}" for entry in result["top"]
            )
            print(f"{result['file']}: {ranked}")
    failed = [result for result in results if "error" in result]
    for result in failed:
        print(f"zoo: error: {result['error']}", file=sys.stderr)
    return 1 if failed else 0


def cmd_features(args) -> int:
    from zoo.inference.features import extract_features

    _check_scale_out(args, args.src)
    if args.merge is not None:
        return cmd_merge(args, "features")
    if args.engine == "beam":
        from zoo.scale.jobs import beam_features

        job = beam_features(
            args.model, args.src, args.out, stage=args.stage, weights=args.weights,
            runtime=args.runtime, batch_size=args.batch_size, dtype=args.dtype,
            precision=args.precision, calibration=args.calibration, trust=args.trust,
            progress=None if not args.quiet else False, **_scale_options(args),
        )  # fmt: skip
        shape = "x".join(str(d) for d in job.shape)
        _print_job(job, f"{args.stage} features ({shape}) of {args.model}")
        return 0
    result = extract_features(
        args.model,
        args.src,
        stage=args.stage,
        weights=args.weights,
        out=args.out,
        batch_size=args.batch_size,
        runtime=args.runtime,
        dtype=args.dtype,
        progress=None if not args.quiet else False,
        precision=args.precision,
        calibration=args.calibration,
        trust=args.trust,
        retry=not args.no_retry,
        overwrite=args.overwrite,
    )
    shape = "x".join(str(d) for d in result.features.shape[1:])
    print(
        f"{len(result.paths)} images -> {args.stage} features ({shape}) of {args.model}"
        + (f", {len(result.errors)} unreadable files" if result.errors else "")
        + (f", written to {result.out}" if result.out else "")
    )
    for _, reason in result.errors:
        print(f"  skipped: {reason}")
    if result.out is None:
        print("pass --out FILE.h5 (or .npy) to keep them")
    return 0


def add_parsers(commands, shared: SharedFlags) -> None:
    """``zoo predict`` and ``zoo features``."""
    _add_predict(commands, shared)
    _add_features(commands, shared)


def _add_predict(commands, shared: SharedFlags) -> None:
    """``zoo predict``."""
    sub = commands.add_parser(
        "predict",
        help="classify images",
        parents=[shared.offline, shared.runtime, shared.batch, shared.scale],
    )
    sub.add_argument(
        "images",
        nargs="*",
        metavar="SRC",
        help="image files, folders (recursive), globs or .txt lists of paths",
    )
    sub.add_argument(
        "--model",
        help="registry name (mnist_convnet), a run directory or a .keras file (required)",
    )
    sub.add_argument(
        "--out",
        help="with --engine beam: the folder of JSON-lines shards; with --merge: the .jsonl",
    )
    sub.add_argument(
        "--overwrite",
        action="store_true",
        help="with --engine beam or --merge: start --out again instead of resuming it",
    )
    sub.add_argument(
        "--weights",
        default="default",
        help=WEIGHTS_HELP,
    )
    sub.add_argument("--top", type=int, default=5, help="classes to show per image (default 5)")
    sub.add_argument(
        "--trust",
        action="store_true",
        help="load a model file that carries code (a Lambda layer): only files you trust",
    )
    sub.add_argument(
        "--crop",
        choices=("none", "center"),
        default=None,
        help="'none' (default): resize the whole image (Keras); 'center': centre crop",
    )
    sub.add_argument(
        "--crop-fraction",
        type=float,
        default=None,
        help="centre crop keeping this fraction of the shorter side (default "
        "0.875 with --crop center)",
    )
    sub.add_argument(
        "--tta",
        type=int,
        default=0,
        help="average N test-time views per image (mirror for photos only, crops, shifts)",
    )
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(handler=cmd_predict, parser=sub)


def _add_features(commands, shared: SharedFlags) -> None:
    """``zoo features``."""
    sub = commands.add_parser(
        "features",
        help="extract features of a folder of images",
        parents=[shared.offline, shared.runtime, shared.batch, shared.scale],
    )
    sub.add_argument(
        "src",
        nargs="*",
        metavar="SRC",
        help="a folder (recursive; class sub-folders give labels), a glob, a .txt "
        "list of paths, or image files",
    )
    sub.add_argument("--model", help="registry name, run directory or .keras file (required)")
    sub.add_argument("--stage", default="pooled", help="feature stage (default pooled)")
    sub.add_argument(
        "--out",
        help="output .h5 (resumable) or .npy; with --engine beam a folder of shards; with "
        "--merge the joined .h5",
    )
    sub.add_argument("--weights", default="default", help=WEIGHTS_HELP)
    sub.add_argument("--dtype", choices=("float32", "float16"), default="float32")
    sub.add_argument("--quiet", action="store_true", help="no progress bar")
    sub.add_argument(
        "--trust",
        action="store_true",
        help="load a model file that carries code (a Lambda layer): only files you trust",
    )
    sub.add_argument(
        "--overwrite",
        action="store_true",
        help="start --out again instead of resuming it (a resume needs the same model, stage, "
        "weights, precision, dtype and class names)",
    )
    sub.add_argument(
        "--no-retry",
        action="store_true",
        help="resuming, keep the files that failed before as failed (default: try them again)",
    )
    sub.set_defaults(handler=cmd_features, parser=sub)
