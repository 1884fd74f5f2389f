"""The actor report's figures: the heat map of the net index (top actors x periods) and one timeline per actor."""

from __future__ import annotations

import math

from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

from ..plots import figure_png
from .aggregate import ActorReport, heatmap_periods, tally

STANCE_COLORS = {"favor": "#1a7f37", "against": "#cf222e", "neutral": "#8c959f"}


def plot_heatmap(report: ActorReport) -> bytes:
    """Top actors x periods, colour = net index (red against, green favor), each cell annotated with n."""
    actors, periods = report.top_actors, heatmap_periods(report)
    cmap = LinearSegmentedColormap.from_list("net", [STANCE_COLORS["against"], "#f6f8fa", STANCE_COLORS["favor"]])
    cmap = cmap.with_extremes(bad="#ffffff")
    # Sized so that it is shown near 1:1 in a 1160 px column: 8 pt labels stay 8 pt.
    width = min(10.5, 2.6 + 0.55 * len(periods))
    fig = Figure(figsize=(width, 0.8 + 0.36 * len(actors)), layout="constrained")
    ax = fig.subplots()
    grid = [[math.nan] * len(periods) for _ in actors]
    for i, a in enumerate(actors):
        for j, p in enumerate(periods):
            t = tally(report.cells.get((a, p), ()))
            if t.with_stance:
                grid[i][j] = t.net
            if t.claims:
                dark = t.net is not None and abs(t.net) > 0.6
                ax.text(
                    j, i, f"n={t.claims}", ha="center", va="center", fontsize=7, color="white" if dark else "#1f2328"
                )
    im = ax.imshow(grid, cmap=cmap, vmin=-1, vmax=1, aspect="auto")
    rotate = len(periods) > 5
    ax.set_xticks(
        range(len(periods)), periods, rotation=45 if rotate else 0, ha="right" if rotate else "center", fontsize=8
    )
    ax.set_yticks(range(len(actors)), actors, fontsize=8)
    ax.set_xticks([x - 0.5 for x in range(1, len(periods))], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, len(actors))], minor=True)
    ax.grid(which="minor", color="#d8dee4", linewidth=1)
    ax.tick_params(which="both", length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    cb = fig.colorbar(im, ax=ax, shrink=0.9, pad=0.01, aspect=15)
    cb.set_label("net index", fontsize=8)
    cb.ax.tick_params(labelsize=7)
    return figure_png(fig)


def plot_timeline(report: ActorReport, actor: str) -> bytes:
    """One actor's net index per period with its 95% interval; points sized by claims, n written below.

    Lines join consecutive periods only, so a gap in coverage shows as a gap rather than a trend.
    """
    periods = report.periods
    fig = Figure(figsize=(4.6, 2.3), layout="constrained")
    ax = fig.subplots()
    ax.axhline(0, color="#8c959f", linewidth=0.8)
    pts = []
    for j, p in enumerate(periods):
        t = tally(report.cells.get((actor, p), ()))
        if t.with_stance:
            lo, hi = t.net_ci()
            pts.append((j, t.net, lo, hi, t.with_stance))
    runs, run = [], []
    for pt in pts:
        if run and pt[0] != run[-1][0] + 1:
            runs.append(run)
            run = []
        run.append(pt)
    if run:
        runs.append(run)
    for run in runs:
        x, y, lo, hi, _ = zip(*run)
        ax.fill_between(x, lo, hi, color="#0b5cad", alpha=0.13, linewidth=0, step=None if len(x) > 1 else "mid")
        ax.plot(x, y, "-", color="#0b5cad", linewidth=1.2)
    for x, y, lo, hi, n in pts:
        ax.errorbar(
            [x],
            [y],
            yerr=[[y - lo], [hi - y]],
            fmt="o",
            color="#0b5cad",
            markersize=3 + min(5, math.sqrt(n)),
            elinewidth=0.8,
            capsize=2,
        )
        if len(periods) <= 16:  # beyond that the labels collide; the point size still says how many
            ax.text(x, -1.27, f"n={n}", ha="center", va="center", fontsize=6.5, color="#59636e")
    ax.set_title(f"{actor} · {report.totals[actor].claims} claims", fontsize=9, loc="left")
    ax.set_ylim(-1.38, 1.15)
    ax.set_yticks([-1, 0, 1], ["−1 against", "0", "+1 favor"])
    ax.set_xlim(-0.5, len(periods) - 0.5)
    step = max(1, math.ceil(len(periods) / 8))
    ax.set_xticks(
        range(0, len(periods), step),
        periods[::step],
        rotation=45 if len(periods) > 4 else 0,
        ha="right" if len(periods) > 4 else "center",
    )
    ax.tick_params(labelsize=7)
    ax.grid(axis="y", alpha=0.3)
    return figure_png(fig)
