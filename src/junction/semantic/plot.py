"""The PNG plot of ``junction router eval --plot``: needs matplotlib (``junction[plot]``)."""

from __future__ import annotations

from pathlib import Path

from junction.semantic.report import Report


class PlotError(RuntimeError):
    """matplotlib is not installed."""


def plot(report: Report, path: str | Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotError(
            "--plot needs matplotlib: pip install 'junction[plot]' (or drop --plot)"
        ) from None
    binary = report.strong is not None
    fig, ax = plt.subplots(figsize=(9, 6))
    for r in report.routers + report.baselines:
        if binary and r.curve:
            ax.plot(
                [p.strong_share * 100 for p in r.curve],
                [p.quality for p in r.curve],
                marker=".",
                label=r.router,
                linestyle="--" if r.router in ("random", "oracle") else "-",
            )
        elif r.frontier:
            ax.plot(
                [c for c, _ in r.frontier],
                [q for _, q in r.frontier],
                marker=".",
                label=r.router,
                linestyle="--" if r.router in ("random", "oracle", "single models") else "-",
            )
    if binary:
        for model, quality in report.quality.items():
            ax.axhline(quality, color="grey", linestyle=":", linewidth=1)
            ax.annotate(model, (0, quality), fontsize=8)
        ax.set_xlabel(f"{report.strong} calls (%)")
    else:
        ax.set_xlabel("mean cost per request (USD)")
    ax.set_ylabel("quality")
    ax.set_title(f"{report.data} ({report.protocol.description})")
    ax.legend()
    fig.savefig(path, dpi=100)
    plt.close(fig)
