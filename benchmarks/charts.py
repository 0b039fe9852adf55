"""The suite's PNG charts: medians as bars or lines, the min-max range as error bars."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display, no GUI toolkit

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from benchmarks.common import Spread

SIZE = (7.5, 4.0)  # inches
DPI = 110


def _errors(spreads: Sequence[Spread]) -> list[list[float]]:
    return [[s.median - s.low for s in spreads], [s.high - s.median for s in spreads]]


def _save(fig: Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def _goal(ax: Axes, goal: float | None, label: str) -> None:
    if goal is not None:
        ax.axhline(goal, color="tab:red", linestyle="--", linewidth=1, label=label)
        ax.legend(loc="best", fontsize="small")


def bars(
    path: Path,
    title: str,
    ylabel: str,
    values: Mapping[str, Spread],
    *,
    goal: float | None = None,
    goal_label: str = "goal",
) -> None:
    """One bar per entry: the median, with its min-max range."""
    fig, ax = plt.subplots(figsize=SIZE)
    spreads = list(values.values())
    positions = range(len(spreads))
    ax.bar(positions, [s.median for s in spreads], yerr=_errors(spreads), capsize=4)
    ax.set_xticks(list(positions), list(values), fontsize="small")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize="medium")
    _goal(ax, goal, goal_label)
    _save(fig, path)


def grouped_bars(
    path: Path,
    title: str,
    ylabel: str,
    groups: Mapping[str, Mapping[str, Spread]],
    *,
    goal: float | None = None,
    goal_label: str = "goal",
    log: bool = False,
) -> None:
    """Bars grouped by the outer key, one colour per inner key."""
    fig, ax = plt.subplots(figsize=SIZE)
    series = list(next(iter(groups.values())))
    width = 0.8 / len(series)
    for n, name in enumerate(series):
        spreads = [groups[g][name] for g in groups]
        xs = [i + (n - (len(series) - 1) / 2) * width for i in range(len(groups))]
        ax.bar(xs, [s.median for s in spreads], width, yerr=_errors(spreads), capsize=3, label=name)
    ax.set_xticks(list(range(len(groups))), list(groups), fontsize="small")
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.set_title(title, fontsize="medium")
    ax.legend(loc="best", fontsize="small")
    _goal(ax, goal, goal_label)
    _save(fig, path)


def stacked(path: Path, title: str, xlabel: str, rows: Mapping[str, Mapping[str, float]]) -> None:
    """Horizontal stacked bars: one row per entry, one segment per stage."""
    fig, ax = plt.subplots(figsize=SIZE)
    stages = list(_first_seen(rows))
    left = [0.0] * len(rows)
    for stage in stages:
        widths = [parts.get(stage, 0.0) for parts in rows.values()]
        ax.barh(list(rows), widths, left=left, label=stage)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize="medium")
    ax.legend(loc="best", fontsize="small", ncol=2)
    _save(fig, path)


def _first_seen(rows: Mapping[str, Mapping[str, float]]) -> dict[str, int]:
    order: dict[str, int] = {}
    for parts in rows.values():
        for stage in parts:
            order.setdefault(stage, len(order))
    return order


def lines(
    path: Path,
    title: str,
    xs: Sequence[float],
    panels: Mapping[str, Mapping[str, Sequence[Spread]]],
) -> None:
    """Side-by-side panels (y label -> series -> one spread per x), log-scaled x."""
    fig, axes = plt.subplots(1, len(panels), figsize=(SIZE[0] * 1.3, SIZE[1]))
    for ax, (ylabel, series) in zip(list(axes), panels.items(), strict=True):
        for name, spreads in series.items():
            ax.errorbar(xs, [s.median for s in spreads], yerr=_errors(spreads), capsize=3,
                        marker="o", label=name)  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlabel("records in the backlog")
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.legend(loc="best", fontsize="small")
    fig.suptitle(title, fontsize="medium")
    _save(fig, path)
