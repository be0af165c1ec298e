"""Plain-text tables for the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Left-aligned columns separated by two spaces, with a header row."""
    cells = [[str(column) for column in columns]]
    cells += [
        ["" if row.get(column) is None else str(row[column]) for column in columns] for row in rows
    ]
    widths = [max(len(line[index]) for line in cells) for index in range(len(columns))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    )


def format_params(count: int) -> str:
    """1234567 -> '1.23M', 7850 -> '7.85k', 10 -> '10'."""
    if count >= 1_000_000:
        return f"{count / 1e6:.2f}M"
    if count >= 1_000:
        return f"{count / 1e3:.2f}k"
    return str(count)
