"""A valuation run as a CSV (one row per community, inputs beside the values) and a plot (value with its range)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any


def write_valuation(run: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """Write `valuation-<month>-<run id>.csv` and `.png` into `out`; returns both paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stem = f"valuation-{run['month']}-{run['id']}"
    csv_path, png_path = out / f"{stem}.csv", out / f"{stem}.png"
    inputs = {c["id"]: c for c in run["inputs"]["communities"]}
    rows = run["result"]["communities"]
    with csv_path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(
            [
                "run",
                "month",
                "method",
                "model",
                "fit",
                "range_point",
                "catalog_version",
                "community",
                "nodes",
                "share_low",
                "share_high",
                "effective_tokens_low",
                "effective_tokens_high",
                "value_low",
                "value_high",
                "value",
                "weight",
                "error_bound",
            ]
        )
        for row in rows:
            given = inputs[row["community"]]
            writer.writerow(
                [
                    run["id"],
                    run["month"],
                    run["inputs"]["method"],
                    run["inputs"]["model"],
                    run["inputs"]["fit"],
                    run["inputs"]["range_point"],
                    run["inputs"]["catalog_version"],
                    row["community"],
                    " ".join(given["nodes"]),
                    given["share_low"],
                    given["share_high"],
                    given["effective_tokens_low"],
                    given["effective_tokens_high"],
                    row["value_low"],
                    row["value_high"],
                    row["value"],
                    row["weight"],
                    row.get("error_bound", ""),
                ]
            )
    names = [r["community"] for r in rows]
    values = [r["value"] for r in rows]
    below = [r["value"] - r["value_low"] for r in rows]
    above = [r["value_high"] - r["value"] for r in rows]
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.5 * len(rows)))
    ax.barh(names, values, xerr=[below, above], color="#4c72b0", ecolor="#333333", capsize=4)
    for i, row in enumerate(rows):
        ax.annotate(
            f"{row['weight']:.1%} of the budget",
            (row["value_high"], i),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    method = run["inputs"]["method"]
    unit = "share of training tokens" if method == "token_share" else "loss reduction (data term)"
    ax.set_xlabel(f"{method} value: {unit}; whiskers: low and high case of the catalog's ranges")
    ax.set_title(f"Valuation {run['id']} for {run['month']} on {run['inputs']['model']} ({run['inputs']['fit']})")
    ax.invert_yaxis()
    ax.margins(x=0.25)
    fig.tight_layout()
    fig.savefig(png_path, dpi=120)
    plt.close(fig)
    return csv_path, png_path
