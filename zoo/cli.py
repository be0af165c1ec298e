"""The ``zoo`` command. Flags default to None and fall back to the model's spec.

``zoo --help``, ``zoo list`` and ``zoo info`` never import TensorFlow.

Example:
    $ zoo list --dataset mnist
    $ zoo predict digit.png --model mnist_convnet --top 3 --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from zoo import registry, run_dir
from zoo.cli_export import WEIGHTS_HELP, add_export_parser
from zoo.cli_training import add_finetune_parser, add_probe_parser, list_runs
from zoo.cli_tune import add_classics_tune_parser, add_tune_parser
from zoo.errors import InputError, Preempted, ZooError, ZooWarning
from zoo.text import format_params, format_table
from zoo.version import __version__

#: Exit status after a preemption signal stopped training with its checkpoint saved: 128 +
#: SIGTERM, as a shell reports a process SIGTERM ended (a cluster manager restarts it).
PREEMPTED_EXIT = 143


def _print_json(data) -> None:
    print(json.dumps(data, indent=2))


def cmd_list(args) -> int:
    if args.pattern and Path(args.pattern).is_dir():
        return list_runs(args.pattern)
    names = registry.list_models(args.pattern, dataset=args.dataset, pretrained=args.pretrained)
    specs = [registry.get_spec(name) for name in names]
    if args.json:
        _print_json([spec.describe() for spec in specs])
        return 0
    if not specs:
        print(f"No model matches (datasets: {', '.join(registry.datasets())}).", file=sys.stderr)
        return 1
    from zoo.shipped import recorded_results

    recorded = recorded_results()
    rows = []
    for spec in specs:
        ours = recorded.get(spec.name, {}).get("accuracy") if spec.dataset == "mnist" else None
        rows.append(
            {
                "name": spec.name,
                "dataset": spec.dataset,
                "year": spec.year,
                "params": format_params(spec.params),
                "weights": spec.weights.source if spec.weights else "none",
                "top-1": f"{spec.reference.top1:.2f}"
                if spec.reference and spec.reference.top1
                else "",
                "ours": f"{ours:.2f}" if ours is not None else "",
                "summary": spec.summary,
            }
        )
    print(
        format_table(
            rows, ["name", "dataset", "year", "params", "weights", "top-1", "ours", "summary"]
        )
    )
    print(
        "\ntop-1: published ImageNet top-1 (%), or the deck's MNIST figure; "
        "ours: measured on the MNIST test set with the shipped weights"
    )
    return 0


def cmd_info(args) -> int:
    from zoo.shipped import recorded_results
    from zoo.verification import file_status

    spec = registry.get_spec(args.name)
    info = spec.describe()
    for key, weights in (("weights", spec.weights), ("weights_no_top", spec.weights_no_top)):
        if weights is not None and weights.source != "builtin":
            status = file_status(spec, weights)
            info[key].update(path=status["file"], status=status["status"])
            if weights.source == "url":
                info[key]["trust"] = weights.trust
            if status["status"] not in ("ok",):
                info[key]["detail"] = status["detail"]
    recorded = recorded_results().get(spec.name)
    if recorded:
        info["ours"] = recorded
    if run_dir.is_run_dir(args.name):
        info["run"] = run_dir.run_summary(args.name)
    if args.json:
        _print_json(info)
        return 0
    for key, value in info.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for sub_key, sub_value in value.items():
                print(f"  {sub_key}: {sub_value}")
        elif key == "feature_stages" and value:
            print("feature_stages:")
            for stage in value:
                stride = f"stride {stage['stride']}, " if stage["stride"] else ""
                print(f"  {stage['name']}: {stage['layer']} ({stride}{stage['channels']} channels)")
        elif key == "labels" and isinstance(value, (list, tuple)) and len(value) > 12:
            shown = ", ".join(map(str, [*value[:5], "...", *value[-2:]]))
            print(f"labels: {len(value)} class names ({shown})")
        elif value not in (None, "", [], {}):
            if isinstance(value, list):
                value = "(" + ", ".join("None" if v is None else str(v) for v in value) + ")"
            print(f"{key}: {value}")
    return 0


def _crop_fraction(args) -> float | None:
    """None (resize the whole image), or the centre-crop fraction: ``--crop-fraction F``
    implies ``--crop center``; ``--crop center`` alone keeps the default fraction."""
    from zoo.inputs import DEFAULT_CROP_FRACTION

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
    """The keyword arguments ``zoo.beam_jobs`` takes from the command line."""
    return {
        "runner": args.runner,
        "workers": args.workers,
        "shard_size": args.shard_size,
        "options": args.pipeline_options,
        "overwrite": args.overwrite,
    }


def cmd_merge(args, kind: str) -> int:
    from zoo.sharding import merge

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
    from zoo.prediction import predict_files

    _check_scale_out(args, args.images)
    if args.merge is not None:
        return cmd_merge(args, "predictions")
    if args.engine == "beam":
        from zoo.beam_jobs import beam_predictions

        job = beam_predictions(
            args.model, args.images, args.out, top=args.top, weights=args.weights,
            runtime=args.runtime, batch_size=args.batch_size, crop_fraction=_crop_fraction(args),
            precision=args.precision, calibration=args.calibration, trust=args.trust,
            progress=None, **_scale_options(args),
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
    )
    if args.json:
        _print_json(results)
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
    from zoo.features import extract_features

    _check_scale_out(args, args.src)
    if args.merge is not None:
        return cmd_merge(args, "features")
    if args.engine == "beam":
        from zoo.beam_jobs import beam_features

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


def cmd_bench(args) -> int:
    from zoo.bench import batch_sweep, run

    if args.finetune:
        from zoo.bench_finetune import finetune_bench

        print(
            finetune_bench(
                args.model,
                images=args.images,
                image_size=args.image_size,
                batch_size=args.batch_size or 32,
                weights=None if args.weights == "none" else args.weights,
            )
        )
        return 0
    if args.batch_sweep:
        print(batch_sweep(args.model, weights=args.weights))
        return 0
    if registry.get_spec(args.model).dataset == "mnist":
        from zoo.bench_mnist import mnist_bench

        print(mnist_bench(args.model, rounds=args.rounds))
        return 0
    if args.beam:
        from zoo.bench_beam import beam_bench

        weights = None if args.weights == "none" else args.weights
        print(beam_bench(args.model, images=args.images, weights=weights, rounds=args.rounds))
        return 0
    if args.int8:
        from zoo.bench_int8 import int8_bench

        weights = None if args.weights == "none" else args.weights
        print(
            int8_bench(
                args.model, images=args.images, weights=weights, photos=args.photos,
                rounds=args.rounds,
            )
        )  # fmt: skip
        return 0
    from zoo.inputs import checked_batch_size

    print(
        run(
            args.model,
            images=args.images,
            weights=args.weights,
            naive_images=args.naive_images,
            batch_size=checked_batch_size(args.batch_size),
            folder=Path(args.folder) if args.folder else None,
            rounds=args.rounds,
        )
    )
    return 0


def cmd_verify(args) -> int:
    from zoo.verification import verify

    args.names = [*(args.names or []), *([args.model] if args.model else [])]
    for name in args.names:
        registry.get_spec(name)
    if args.record:
        from zoo.golden import record, user_file

        if not args.names:
            raise InputError("--record needs the NAMEs of the models to record")
        for name in args.names:
            entry = record(name)
            print(f"{name}: recorded top-5 {entry['top5']} to {user_file()}")
        return 0
    if args.artefact:
        from zoo.golden import check

        if len(args.names or []) != 1:
            raise InputError(
                "--artefact PATH needs one --model NAME, the model it was exported from; "
                f"received {len(args.names)}"
            )
        checked = check(args.names[0], artefact=args.artefact, trust=args.trust)
        row = {**checked, "artefact": args.artefact}
        if args.json:
            _print_json([row])
        else:
            print(format_table([row], ["model", "artefact", "golden", "detail"]))
        return 0 if row["golden"] == "ok" else 1
    rows = verify(args.names, cached_only=not args.names)
    if args.names or args.all_cached:
        from zoo.golden import check

        for row in rows:
            checked = row["weights"] == "top" and row["status"] in ("ok", "builtin")
            golden = check(row["model"]) if checked else None
            row["golden"] = golden["golden"] if golden else "-"
            if golden and golden["golden"] != "ok":
                row["detail"] = f"{row['detail']}; {golden['detail']}".strip("; ")
        if args.json:
            _print_json(rows)
        else:
            print(format_table(rows, ["model", "weights", "status", "golden", "detail"]))
        return (
            1
            if any(r["status"] == "failed" or r["golden"] in ("drift", "weights") for r in rows)
            else 0
        )
    if args.json:
        _print_json(rows)
    else:
        print(format_table(rows, ["model", "weights", "status", "detail"]))
    return 1 if any(row["status"] == "failed" for row in rows) else 0


def cmd_cache(args) -> int:
    from zoo import bundle, cache

    action = args.cache_command
    if action == "path":
        print(cache.cache_dir())
        return 0
    if action == "list":
        rows = bundle.list_cache()
        if args.json:
            _print_json(rows)
        elif not rows:
            print(f"The cache {cache.cache_dir()} holds no weights files.")
        else:
            print(
                format_table(
                    [
                        {
                            **row,
                            "size": f"{row['size'] / 2**20:.1f} MiB",
                            "models": ", ".join(row["models"]),
                        }
                        for row in rows
                    ],
                    ["file", "size", "trust", "models"],
                )
            )
        return 0
    if action == "verify":
        rows = bundle.verify_cache()
        if args.json:
            _print_json(rows)
        else:
            print(
                format_table(rows, ["file", "status", "detail"])
                if rows
                else f"The cache {cache.cache_dir()} holds no weights files."
            )
        return 1 if any(row["status"] == "failed" for row in rows) else 0
    if action == "pull":
        paths = bundle.pull(args.names, args.bundle)
        for path in paths:
            print(path)
        if args.bundle:
            print(f"bundle written to {args.bundle}")
        return 0
    imported = bundle.import_bundle(args.bundle_file)
    print(f"imported {len(imported)} files into {cache.cache_dir()}: {', '.join(imported)}")
    return 0


def cmd_classics_table(args) -> int:
    from zoo.classics.table import format_markdown, rows

    table, source = rows(args.data, measure=not args.recorded, names=args.names)
    if args.json:
        _print_json({"source": source, "rows": table})
    else:
        print(format_markdown(table, source))
    return 0


def cmd_classics_train(args) -> int:
    from zoo.classics.train import train

    train(
        args.names,
        out_dir=args.out,
        data_path=args.data,
        seed=args.seed,
        epochs=args.epochs,
        limit=args.limit,
        jobs=args.jobs,
        verbose=2 if args.verbose else 0,
    )
    print(f"weights and results.json written to {args.out}")
    return 0


def cmd_classics_optimizers(args) -> int:
    from zoo.classics import mnist_data
    from zoo.classics.optimizers import check_arguments, compare, format_markdown

    names = [name.strip() for name in args.optimizers.split(",")] if args.optimizers else None
    check_arguments(args.model, args.epochs, args.limit, names)  # before reading MNIST
    rows = compare(
        args.model,
        mnist_data.load(args.data),
        args.out,
        epochs=args.epochs,
        limit=args.limit,
        names=names,
        seed=args.seed,
        overwrite=args.overwrite,
        log=(lambda line: None) if args.json else print,
    )
    if args.json:
        _print_json(rows)
    else:
        print(format_markdown(rows))
        print(f"curves: {Path(args.out) / 'optimizers.png'}, table: optimizers.csv")
    return 0


def cmd_classics_backprop(args) -> int:
    from zoo.classics.backprop import format_report, run

    report = run(args.steps)
    if args.json:
        _print_json(report)
    else:
        print(format_report(report))
    return 0


def cmd_classics_transfer(args) -> int:
    from zoo.classics.transfer import run_transfer

    rows = run_transfer(Path(args.out), progress=not args.quiet)
    if args.json:
        _print_json(rows)
        return 0
    shown = [{**row, "accuracy": f"{row['accuracy']:.2%}"} for row in rows]
    print(
        "Transfer learning on 300 real handwritten digits (optdigits, 8x8 scans, 30 per "
        f"class), {rows[0]['held-out images']} held out:"
    )
    print(format_table(shown, ["model", "weights", "train images", "accuracy", "run"]))
    print(f"held-out samples: {Path(args.out) / 'held-out'}")
    return 0


def cmd_classics_prewitt(args) -> int:
    from zoo.classics.prewitt import write_edges

    out = args.out or Path(args.image).with_name(Path(args.image).stem + "_edges.png")
    stats = write_edges(args.image, out)
    print(
        f"edges of {args.image} written to {out} ({stats['width']}x{stats['height']}, "
        f"strongest response {stats['max_response']:.1f})"
    )
    return 0


def _shared_flags() -> dict[str, argparse.ArgumentParser]:
    """Flags several commands take, each defined once (argparse parent parsers)."""
    offline = argparse.ArgumentParser(add_help=False)
    offline.add_argument(
        "--offline", action="store_true", help="never download (same as ZOO_OFFLINE=1)"
    )
    runtime = argparse.ArgumentParser(add_help=False)
    runtime.add_argument(
        "--runtime",
        choices=("auto", "tf", "onnx", "litert"),
        default=None,
        help="inference engine; auto (default, or $ZOO_RUNTIME) picks the fastest installed "
        "for this model on this machine, measured once",
    )
    batch = argparse.ArgumentParser(add_help=False)
    batch.add_argument(
        "--batch-size", type=int, default=None, help="images per forward pass (default 32)"
    )
    runtime.add_argument(
        "--precision",
        choices=("float32", "int8"),
        default=None,
        help="int8: the calibrated int8 LiteRT model, checked against float32 before its first "
        "use and cached (faster on CPUs; needs the fast extra)",
    )
    runtime.add_argument(
        "--calibration",
        metavar="SRC",
        help="with --precision int8: images (a folder, glob or .txt list) to calibrate on, "
        "half of them, and check on, the other half (default: zoo's own sample images)",
    )
    scale = argparse.ArgumentParser(add_help=False)
    scale.add_argument(
        "--engine",
        choices=("local", "beam"),
        default="local",
        help="local (default): this process; beam: an Apache Beam pipeline writing shards to "
        "--out (a folder; a rerun skips finished shards; needs the beam extra). Beam's own "
        "--flag=value pipeline options may follow",
    )
    scale.add_argument(
        "--runner",
        choices=("direct", "prism", "flink", "spark", "dataflow"),
        default="direct",
        help="with --engine beam: the Beam runner (default direct: workers on this machine, as "
        "threads; --direct_running_mode=multi_processing makes them processes)",
    )
    scale.add_argument(
        "--workers", type=int, default=None, help="with --engine beam: workers (default: cores)"
    )
    scale.add_argument(
        "--shard-size",
        type=int,
        default=None,
        help="with --engine beam: images per output shard (default: about 16 shards, 32 to 1000 "
        "images each)",
    )
    scale.add_argument(
        "--merge",
        metavar="DIR",
        help="join the shards of an --engine beam run in DIR into one --out file, in order",
    )
    return {"offline": offline, "runtime": runtime, "batch": batch, "scale": scale}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zoo",
        description="keras-zoo: classic and pretrained Keras models behind one interface.",
    )
    parser.add_argument("--version", action="version", version=f"keras-zoo {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    shared = _shared_flags()
    offline, runtime, batch = shared["offline"], shared["runtime"], shared["batch"]
    scale = shared["scale"]

    sub = commands.add_parser("list", help="list the registered models")
    sub.add_argument(
        "pattern",
        nargs="?",
        help="shell wildcard on the name, e.g. 'mnist_*'; or a folder: its fine-tuning runs",
    )
    sub.add_argument("--dataset", help=f"only this dataset ({', '.join(registry.datasets())})")
    group = sub.add_mutually_exclusive_group()
    group.add_argument(
        "--pretrained",
        dest="pretrained",
        action="store_true",
        default=None,
        help="only models with default weights",
    )
    group.add_argument(
        "--no-pretrained",
        dest="pretrained",
        action="store_false",
        help="only models without default weights",
    )
    sub.add_argument("--json", action="store_true", help="machine-readable output")
    sub.set_defaults(handler=cmd_list)

    sub = commands.add_parser("info", help="show a model's spec and whether its weights verify")
    sub.add_argument("name", help="a registry name or a fine-tuning run directory")
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(handler=cmd_info)

    sub = commands.add_parser(
        "predict", help="classify images", parents=[offline, runtime, batch, scale]
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
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(handler=cmd_predict, parser=sub)

    sub = commands.add_parser(
        "features",
        help="extract features of a folder of images",
        parents=[offline, runtime, batch, scale],
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

    add_finetune_parser(commands, [offline, batch])
    add_tune_parser(commands, [offline, batch])
    add_probe_parser(commands, [offline, batch])
    add_export_parser(commands, [offline])

    sub = commands.add_parser(
        "bench", help="throughput of the naive loop vs zoo's runtimes", parents=[batch]
    )
    sub.add_argument("--model", default="mobilenet_v2_1.0_224")
    sub.add_argument("--weights", default="none", help="'none' (random, default) or as predict")
    sub.add_argument("--images", type=int, default=512, help="JPEGs to generate (default 512)")
    sub.add_argument("--folder", help="use this folder of JPEGs instead of generating them")
    sub.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="alternated rounds per engine measurement; the best is shown (default 3)",
    )
    sub.add_argument(
        "--naive-images",
        type=int,
        default=64,
        help="files the slow naive loop runs on (default 64)",
    )
    sub.add_argument(
        "--batch-sweep",
        action="store_true",
        help="instead: pure compute per batch size of one engine call (1..32), "
        "for ONNX Runtime and LiteRT, three runs each",
    )
    sub.add_argument(
        "--finetune",
        action="store_true",
        help="instead: fine-tuning speed, head on cached features vs through the backbone, "
        "zoo's phase-2 loop vs model.fit (--images in memory, --image-size)",
    )
    sub.add_argument("--image-size", type=int, default=160, help="with --finetune (default 160)")
    sub.add_argument(
        "--int8",
        action="store_true",
        help="instead: LiteRT float32 vs --precision int8, pure compute and end to end, and "
        "int8's agreement with float32 on real photos per calibration recipe",
    )
    sub.add_argument("--photos", metavar="SRC", help="with --int8: more real photos to evaluate on")
    sub.add_argument(
        "--beam",
        action="store_true",
        help="instead: zoo features --engine beam (DirectRunner, 2 workers as threads and as "
        "processes) vs the single process, wall, fixed and marginal throughput",
    )
    sub.set_defaults(handler=cmd_bench)

    sub = commands.add_parser(
        "verify",
        help="check weights files against their hashes (default: every shipped or cached "
        "file) and, for the NAMEs given, their golden outputs",
    )
    sub.add_argument("names", nargs="*", metavar="NAME")
    sub.add_argument(
        "--all-cached",
        action="store_true",
        help="also run the golden self-check of every shipped or cached model",
    )
    sub.add_argument(
        "--record",
        action="store_true",
        help="record the NAMEs' golden outputs from their verified weights",
    )
    sub.add_argument(
        "--artefact",
        metavar="PATH",
        help="check an exported artefact of NAME (.keras, .tflite, .onnx, SavedModel) against "
        "NAME's golden record",
    )
    sub.add_argument("--model", metavar="NAME", help="the NAME an --artefact was exported from")
    sub.add_argument(
        "--trust",
        action="store_true",
        help="run an --artefact that is code: a SavedModel, or a .keras file with a Lambda",
    )
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(handler=cmd_verify)

    cache_parser = commands.add_parser("cache", help="the weights cache ($KERAS_HOME/models)")
    cache_commands = cache_parser.add_subparsers(
        dest="cache_command", metavar="COMMAND", required=True
    )
    sub = cache_commands.add_parser("list", help="weights files in the cache")
    sub.add_argument("--json", action="store_true")
    sub = cache_commands.add_parser("path", help="print the cache folder")
    sub = cache_commands.add_parser("verify", help="check every cached file's hash")
    sub.add_argument("--json", action="store_true")
    sub = cache_commands.add_parser(
        "pull", help="download models' weights (optionally bundle)", parents=[offline]
    )
    sub.add_argument("names", nargs="+", metavar="NAME")
    sub.add_argument("--bundle", type=Path, help="also write these files to a .tar bundle")
    sub = cache_commands.add_parser("import", help="verify and add a bundle's files to the cache")
    sub.add_argument("bundle_file", type=Path, metavar="FILE.tar")
    cache_parser.set_defaults(handler=cmd_cache)

    classics = commands.add_parser("classics", help="the deck's classic models")
    classic_commands = classics.add_subparsers(
        dest="classics_command", metavar="COMMAND", required=True
    )
    sub = classic_commands.add_parser("table", help="the deck's MNIST table next to ours")
    sub.add_argument(
        "names", nargs="*", metavar="NAME",
        help="the rows to show (default: every MNIST model; measuring mnist_committee takes "
        "the longest)",
    )  # fmt: skip
    sub.add_argument("--data", help="mnist.npz (default: Keras' cache)")
    sub.add_argument(
        "--recorded",
        action="store_true",
        help="show the figures recorded at training instead of measuring",
    )
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(handler=cmd_classics_table)

    sub = classic_commands.add_parser("train", help="retrain the shipped weights from MNIST")
    sub.add_argument(
        "names", nargs="*", metavar="NAME",
        help="default: all trainable classics but mnist_committee (hours on a CPU: name it)",
    )  # fmt: skip
    sub.add_argument("--data", help="mnist.npz (default: Keras' cache)")
    sub.add_argument("--out", default="classics-weights", help="output folder")
    sub.add_argument("--seed", type=int, default=0)
    sub.add_argument("--epochs", type=int, help="override each recipe's epochs")
    sub.add_argument("--limit", type=int, help="train on the first N training images only")
    sub.add_argument(
        "--jobs", type=int, default=1,
        help="mnist_committee: members trained at once, in worker processes (default 1; "
        "more on a GPU or a many-core machine)",
    )  # fmt: skip
    sub.add_argument("--verbose", action="store_true", help="one line per epoch")
    sub.set_defaults(handler=cmd_classics_train)

    sub = classic_commands.add_parser(
        "optimizers", help="the deck's optimization methods on one classic model, compared"
    )
    sub.add_argument("--model", default="modern_mlp", help="default modern_mlp")
    sub.add_argument("--epochs", type=int, default=10, help="epochs per optimizer (default 10)")
    sub.add_argument("--limit", type=int, help="train on the first N training images only")
    sub.add_argument(
        "--optimizers",
        help="comma-separated subset of sgd,momentum,nesterov,adagrad,adadelta,rmsprop,adam,"
        "adamw,lion (default: all)",
    )
    sub.add_argument("--data", help="mnist.npz (default: Keras' cache)")
    sub.add_argument("--out", default="runs/optimizers", help="output folder")
    sub.add_argument("--seed", type=int, default=0)
    sub.add_argument(
        "--overwrite", action="store_true", help="replace a comparison with other settings in --out"
    )
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(handler=cmd_classics_optimizers)

    add_classics_tune_parser(classic_commands)

    sub = classic_commands.add_parser("backprop", help="the step-by-step backpropagation example")
    sub.add_argument("--steps", type=int, default=1, help="SGD updates to run (default 1)")
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(handler=cmd_classics_backprop)

    sub = classic_commands.add_parser(
        "transfer",
        help="fine-tune the MNIST convnet on the embedded optdigits vs training it from scratch",
    )
    sub.add_argument("--out", default="runs/optdigits", help="folder of the two run directories")
    sub.add_argument("--quiet", action="store_true", help="no progress bars")
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(handler=cmd_classics_transfer)

    sub = classic_commands.add_parser("prewitt", help="Prewitt edge detection of an image")
    sub.add_argument("image")
    sub.add_argument("--out", help="output PNG (default: IMAGE_edges.png)")
    sub.set_defaults(handler=cmd_classics_prewitt)
    return parser


def _format_warning(message, category, filename, lineno, line=None) -> str:
    """zoo's own warnings as one ``zoo: warning:`` line; others as Python prints them."""
    if issubclass(category, ZooWarning):
        return f"zoo: warning: {message}\n"
    return _python_format_warning(message, category, filename, lineno, line)


_python_format_warning = warnings.formatwarning


def main(argv: Sequence[str] | None = None) -> int:
    warnings.formatwarning = _format_warning
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and (
        getattr(args, "engine", None) != "beam" or any(not a.startswith("--") for a in extra)
    ):  # Beam's options are --flag or --flag=value; anything else is a mistake to say
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.pipeline_options = extra  # Beam's own --flag=value options, for --engine beam
    if getattr(args, "offline", False):
        os.environ["ZOO_OFFLINE"] = "1"
    try:
        code = args.handler(args)
        sys.stdout.flush()  # inside the try: a closed pipe is reported here, not at exit
        return code
    except Preempted as error:
        print(f"zoo: {error}", file=sys.stderr)
        return PREEMPTED_EXIT
    except ZooError as error:
        print(f"zoo: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("zoo: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `zoo list | head`: the reader has gone; stop quietly like ls
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the exit-time flush cannot fail again
        return 141  # 128 + SIGPIPE, as a shell reports it


if __name__ == "__main__":
    sys.exit(main())
