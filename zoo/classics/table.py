"""``zoo classics table``: the deck's MNIST table next to ours, from the shipped weights.

Accuracy is measured live on the full MNIST test set when MNIST can be found; otherwise the
figure recorded when the weights were trained is shown, marked ``(recorded)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from zoo import registry
from zoo.classics import mnist_data
from zoo.errors import DataError, InputError
from zoo.weights.shipped import recorded_results


def rows(
    data_path: str | Path | None = None,
    measure: bool = True,
    names: Sequence[str] = (),
) -> tuple[list[dict], str]:
    """One row per MNIST classic model (or per one of ``names``), and where the accuracy came
    from.

    Example:
        >>> table, source = rows("mnist.npz", names=["mnist_convnet"])  # the others take minutes
        >>> table[0]["ours"]
        99.6
    """
    chosen = _chosen(names)
    recorded = recorded_results()
    data = None
    source = "recorded at training time (MNIST not found)"
    if measure:
        try:
            data = mnist_data.load(data_path)
            source = f"measured now on the 10,000 test images of {data.path}"
        except DataError:
            if data_path is not None:
                raise
    table = []
    for name in chosen:
        spec = registry.get_spec(name)
        record = recorded.get(name, {})
        row = {
            "model": name,
            "deck": spec.reference.top1 if spec.reference else None,
            "floor": spec.accuracy_floor,
            "params": spec.params,
            "train_seconds": record.get("train_seconds"),
            "recipe": record.get("recipe", ""),
            "reconstruction_mse": record.get("reconstruction_mse"),
            "note": record.get("note", ""),
        }
        if data is not None:
            from zoo.metrics import accuracy
            from zoo.models import load

            model = load(name)
            row["ours"] = accuracy(model, data.x_test, data.y_test)
            row["measured"] = True
        else:
            row["ours"] = record.get("accuracy")
            row["measured"] = False
        table.append(row)
    order = [
        "softmax_regression",
        "mlp_625",
        "modern_mlp",
        "mnist_convnet",
        "mnist_committee",
        "mnist_rnn",
        "mnist_autoencoder",
    ]
    table.sort(key=lambda row: order.index(row["model"]) if row["model"] in order else len(order))
    return table, source


def _chosen(names: Sequence[str]) -> list[str]:
    """``names`` checked to be MNIST models, each once; every MNIST model
    when none are given."""
    every = registry.list_models(dataset="mnist")
    if not names:
        return every
    for name in names:
        registry.get_spec(name)  # an unknown name: the registry's error, with its suggestion
        if name not in every:
            raise InputError(
                f"{name!r} is not an MNIST model, so it has no row in the table; "
                f"valid: {', '.join(every)}"
            )
    return list(dict.fromkeys(names))


def format_markdown(table: list[dict], source: str) -> str:
    """The rows as a markdown table."""
    lines = [
        "| model | deck | ours | params | train time | note |",
        "|---|---|---|---|---|---|",
    ]
    for row in table:
        deck = f"{row['deck']:.2f} %" if row["deck"] is not None else "—"
        ours = f"{row['ours']:.2f} %" if row["ours"] is not None else "—"
        if row["ours"] is not None and not row["measured"]:
            ours += " (recorded)"
        seconds = f"{row['train_seconds']:.0f} s" if row["train_seconds"] is not None else "—"
        note = f"floor {row['floor']} %" if row["floor"] else ""
        if row["reconstruction_mse"] is not None:
            mse = row["reconstruction_mse"]
            note = f"softmax probe on the 32-d code; reconstruction MSE {mse:.4f}"
        note = "; ".join(part for part in (note, row["note"]) if part)
        lines.append(
            f"| {row['model']} | {deck} | {ours} | {row['params']:,} | {seconds} | {note} |"
        )
    lines.append("")
    lines.append(
        f"Accuracy on the MNIST test set, {source}. The deck's figure for mnist_committee is "
        "the record of its time: a committee of 35 convnets (Cireșan et al. 2012), 99.77 %."
    )
    return "\n".join(lines)
