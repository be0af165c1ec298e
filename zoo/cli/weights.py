"""``zoo verify`` and ``zoo cache``: weights files against their hashes, golden self-checks,
and the weights cache (list, verify, pull, bundles for air-gapped machines).

Example:
    $ zoo verify mnist_convnet
    $ zoo cache pull resnet50 --bundle weights.tar
"""

from __future__ import annotations

from pathlib import Path

from zoo import registry
from zoo.cli.common import SharedFlags, print_json
from zoo.cli.text import format_table
from zoo.errors import InputError


def add_parsers(commands, shared: SharedFlags) -> None:
    """``zoo verify`` and ``zoo cache``."""
    _add_verify(commands)
    _add_cache(commands, shared)


def _add_verify(commands) -> None:
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


def _add_cache(commands, shared: SharedFlags) -> None:
    cache_parser = commands.add_parser("cache", help="the weights cache ($KERAS_HOME/models)")
    cache_commands = cache_parser.add_subparsers(
        dest="cache_command", metavar="COMMAND", required=True
    )
    sub = cache_commands.add_parser("list", help="weights files in the cache")
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(handler=cmd_cache_list)
    sub = cache_commands.add_parser("path", help="print the cache folder")
    sub.set_defaults(handler=cmd_cache_path)
    sub = cache_commands.add_parser("verify", help="check every cached file's hash")
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(handler=cmd_cache_verify)
    sub = cache_commands.add_parser(
        "pull", help="download models' weights (optionally bundle)", parents=[shared.offline]
    )
    sub.add_argument("names", nargs="+", metavar="NAME")
    sub.add_argument("--bundle", type=Path, help="also write these files to a .tar bundle")
    sub.set_defaults(handler=cmd_cache_pull)
    sub = cache_commands.add_parser("import", help="verify and add a bundle's files to the cache")
    sub.add_argument("bundle_file", type=Path, metavar="FILE.tar")
    sub.set_defaults(handler=cmd_cache_import)


def cmd_verify(args) -> int:
    from zoo.weights.verify import verify

    args.names = [*(args.names or []), *([args.model] if args.model else [])]
    for name in args.names:
        registry.get_spec(name)
    if args.record:
        from zoo.exporting.golden import record, user_file

        if not args.names:
            raise InputError("--record needs the NAMEs of the models to record")
        for name in args.names:
            entry = record(name)
            print(f"{name}: recorded top-5 {entry['top5']} to {user_file()}")
        return 0
    if args.artefact:
        from zoo.exporting.golden import check

        if len(args.names or []) != 1:
            raise InputError(
                "--artefact PATH needs one --model NAME, the model it was exported from; "
                f"received {len(args.names)}"
            )
        checked = check(args.names[0], artefact=args.artefact, trust=args.trust)
        row = {**checked, "artefact": args.artefact}
        if args.json:
            print_json([row])
        else:
            print(format_table([row], ["model", "artefact", "golden", "detail"]))
        return 0 if row["golden"] == "ok" else 1
    rows = verify(args.names, cached_only=not args.names)
    if args.names or args.all_cached:
        from zoo.exporting.golden import check

        for row in rows:
            checked = row["weights"] == "top" and row["status"] in ("ok", "builtin")
            golden = check(row["model"]) if checked else None
            row["golden"] = golden["golden"] if golden else "-"
            if golden and golden["golden"] != "ok":
                row["detail"] = f"{row['detail']}; {golden['detail']}".strip("; ")
        if args.json:
            print_json(rows)
        else:
            print(format_table(rows, ["model", "weights", "status", "golden", "detail"]))
        return (
            1
            if any(r["status"] == "failed" or r["golden"] in ("drift", "weights") for r in rows)
            else 0
        )
    if args.json:
        print_json(rows)
    else:
        print(format_table(rows, ["model", "weights", "status", "detail"]))
    return 1 if any(row["status"] == "failed" for row in rows) else 0


def cmd_cache_path(args) -> int:
    from zoo.weights import cache

    print(cache.cache_dir())
    return 0


def cmd_cache_list(args) -> int:
    from zoo.weights import bundle, cache

    rows = bundle.list_cache()
    if args.json:
        print_json(rows)
    elif not rows:
        print(f"The cache {cache.cache_dir()} holds no weights files.")
    else:
        shown = [
            {**row, "size": f"{row['size'] / 2**20:.1f} MiB", "models": ", ".join(row["models"])}
            for row in rows
        ]
        print(format_table(shown, ["file", "size", "trust", "models"]))
    return 0


def cmd_cache_verify(args) -> int:
    from zoo.weights import bundle, cache

    rows = bundle.verify_cache()
    if args.json:
        print_json(rows)
    elif rows:
        print(format_table(rows, ["file", "status", "detail"]))
    else:
        print(f"The cache {cache.cache_dir()} holds no weights files.")
    return 1 if any(row["status"] == "failed" for row in rows) else 0


def cmd_cache_pull(args) -> int:
    from zoo.weights import bundle

    for path in bundle.pull(args.names, args.bundle):
        print(path)
    if args.bundle:
        print(f"bundle written to {args.bundle}")
    return 0


def cmd_cache_import(args) -> int:
    from zoo.weights import bundle, cache

    imported = bundle.import_bundle(args.bundle_file)
    print(f"imported {len(imported)} files into {cache.cache_dir()}: {', '.join(imported)}")
    return 0
