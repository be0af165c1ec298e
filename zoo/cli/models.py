"""``zoo list`` and ``zoo info``: the registry (and fine-tuning runs) as a table, one spec in
full. Neither imports TensorFlow.

Example:
    $ zoo list 'mobilenet_v2_*' --pretrained
    $ zoo info mnist_convnet --json
"""

from __future__ import annotations

import sys
from pathlib import Path

from zoo import registry, run_dir
from zoo.cli.common import SharedFlags, print_json
from zoo.cli.text import format_params, format_table
from zoo.cli.training import list_runs


def add_parsers(commands, shared: SharedFlags) -> None:
    """``zoo list`` and ``zoo info``."""
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


def cmd_list(args) -> int:
    if args.pattern and Path(args.pattern).is_dir():
        return list_runs(args.pattern)
    names = registry.list_models(args.pattern, dataset=args.dataset, pretrained=args.pretrained)
    specs = [registry.get_spec(name) for name in names]
    if args.json:
        print_json([spec.describe() for spec in specs])
        return 0
    if not specs:
        print(f"No model matches (datasets: {', '.join(registry.datasets())}).", file=sys.stderr)
        return 1
    from zoo.weights.shipped import recorded_results

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
    from zoo.weights.shipped import recorded_results
    from zoo.weights.verify import file_status

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
        print_json(info)
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
