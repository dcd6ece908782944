"""The monthly visit rate per community as a PNG chart, against the 100% target.

matplotlib is optional (the `plot` extra): it is imported when a chart is asked for, and its absence is a
`PlotUnavailableError` the API turns into 501. Drawing uses a `Figure` on the Agg canvas directly, never
`pyplot`, whose global state is not safe across the server's request threads.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from server.reports.visits import TARGET_RATE, LocalMonth, MonthRate

FIGURE_SIZE_IN: Final = (9.0, 5.0)
DPI: Final = 100


class PlotUnavailableError(RuntimeError):
    """matplotlib is not installed."""


def rate_chart_png(
    *, rates: Sequence[MonthRate], months: Sequence[LocalMonth], timezone: str, now: datetime | None = None
) -> bytes:
    """A line per community of its monthly visit rate (%), a dashed line at the target; PNG bytes.

    A month in which a community had nobody with the visiting duty is a gap in its line, not a zero; a month
    not over at `now` is labelled "so far", so a low rate early in the month does not read as a failure.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import PercentFormatter
    except ImportError as exc:
        raise PlotUnavailableError(
            "charts need matplotlib, which is not installed; install the plot extra: pip install 'homesafe[plot]'"
        ) from exc
    labels = [month.label for month in months]
    position = {label: index for index, label in enumerate(labels)}
    ticks = [f"{m.label}\n(so far)" if now is not None and m.end > now else m.label for m in months]
    series: dict[str, list[float]] = {}
    for rate in rates:
        values = series.setdefault(rate.community, [math.nan] * len(labels))
        if rate.month in position and rate.rate is not None:
            values[position[rate.month]] = rate.rate * 100

    figure = Figure(figsize=FIGURE_SIZE_IN, dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    x = list(range(len(labels)))
    for community, values in sorted(series.items()):
        axes.plot(x, values, marker="o", label=community)
    axes.axhline(TARGET_RATE * 100, color="black", linestyle="--", linewidth=1, label="target 100%")
    if not series:
        axes.text(0.5, 0.5, "no residents with a visiting duty", ha="center", va="center", transform=axes.transAxes)
    axes.set_xticks(x, ticks)
    axes.set_ylim(0, 105)
    axes.yaxis.set_major_formatter(PercentFormatter())
    axes.set_ylabel("residents with a visiting duty visited")
    axes.set_xlabel(f"month ({timezone})")
    axes.set_title("Monthly visit rate per community")
    axes.grid(axis="y", alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")  # outside: never over a line
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
