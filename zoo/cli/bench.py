"""``zoo bench``: throughput measured side by side (``zoo.bench``).

Example:
    $ zoo bench --model mobilenet_v2_1.0_224 --rounds 5
    $ zoo bench --finetune --model mobilenet_v1_0.25_128
"""

from __future__ import annotations

from pathlib import Path

from zoo import registry
from zoo.cli.common import SharedFlags


def add_parsers(commands, shared: SharedFlags) -> None:
    """``zoo bench``."""
    sub = commands.add_parser(
        "bench", help="throughput of the naive loop vs zoo's runtimes", parents=[shared.batch]
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
    sub.add_argument(
        "--recipes",
        action="store_true",
        help="instead: phase-2 images/s of each fine-tuning recipe (unfreezing, augmentation, "
        "mixing) and the share of its time augmenting (--images in memory, --image-size)",
    )
    sub.add_argument(
        "--image-size", type=int, default=160, help="with --finetune, --recipes (default 160)"
    )
    sub.add_argument(
        "--serve",
        action="store_true",
        help="instead: zoo serve under a bounded client on 127.0.0.1 (16 connections) against "
        "zoo predict in one process and a naive model.predict server; p50/p99 latency",
    )
    sub.add_argument("--requests", type=int, default=256, help="with --serve (default 256)")
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


def cmd_bench(args) -> int:
    from zoo.bench.runtimes import batch_sweep, run

    if args.serve:
        from zoo.bench.serve import serve_bench

        print(serve_bench(args.model, images=min(args.images, 64), requests=args.requests,
                          runtime=None))  # fmt: skip
        return 0
    if args.recipes or args.finetune:
        from zoo.bench.finetune import finetune_bench
        from zoo.bench.recipes import recipe_bench

        bench = recipe_bench if args.recipes else finetune_bench
        print(
            bench(
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
        from zoo.bench.mnist import mnist_bench

        print(mnist_bench(args.model, rounds=args.rounds))
        return 0
    if args.beam:
        from zoo.bench.beam import beam_bench

        weights = None if args.weights == "none" else args.weights
        print(beam_bench(args.model, images=args.images, weights=weights, rounds=args.rounds))
        return 0
    if args.int8:
        from zoo.bench.int8 import int8_bench

        weights = None if args.weights == "none" else args.weights
        print(
            int8_bench(
                args.model, images=args.images, weights=weights, photos=args.photos,
                rounds=args.rounds,
            )
        )  # fmt: skip
        return 0
    from zoo.inputs.sources import checked_batch_size

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
