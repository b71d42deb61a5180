"""Figures for the book: readable text at the page's width and labelled axes, without repeated boilerplate.

A book page shows a figure scaled to the text column (about 8 inches at 100 dpi). Text set at 12 pt on a figure
``width`` inches wide appears at ``12 * 8 / width`` pt-equivalents, so :func:`panels` keeps figures at most
:data:`PAGE_WIDTH` wide and sets font sizes for that width. Every axis is labelled when it is created, and
:func:`show` refuses a figure with an unlabelled axis::

    fig, (left, right) = panels(("order n", "perplexity", "Item perplexity"), ("order n", "HR@10", "Ranking"))
    left.plot(orders, perplexity)
    show(fig)
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["PAGE_WIDTH", "BOOK_STYLE", "panels", "show", "style"]

PAGE_WIDTH = 8.0  # inches: the text column at 100 dpi
BOOK_STYLE = {
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 10,
    "figure.dpi": 100,
    "axes.spines.top": False,
    "axes.spines.right": False,
}

Labels = tuple[str, str] | tuple[str, str, str]


def style() -> None:
    """Apply :data:`BOOK_STYLE` to matplotlib's global settings (notebooks call it once, via :func:`panels`)."""
    import matplotlib.pyplot as plt

    plt.rcParams.update(BOOK_STYLE)


def panels(*labels: Labels, ncols: int | None = None, width: float = PAGE_WIDTH, height: float = 3.6):
    """A figure with one labelled axis per ``(xlabel, ylabel[, title])``; returns ``(figure, axes)``.

    ``axes`` is a single ``Axes`` for one panel, else a list in row-major order. ``ncols`` defaults to the number
    of panels (one row). ``width`` is capped at :data:`PAGE_WIDTH` * 1.25 so text stays readable on the page.
    """
    import matplotlib.pyplot as plt

    if not labels:
        raise ValueError("panels() needs at least one (xlabel, ylabel[, title]) tuple")
    for position, label in enumerate(labels):
        if len(label) not in (2, 3) or not all(isinstance(text, str) for text in label):
            raise ValueError(f"panel {position}: labels must be (xlabel, ylabel[, title]) strings, got {label!r}")
        if not label[0] or not label[1]:
            raise ValueError(f"panel {position}: both axes need a label, got {label!r}")
    if width > 1.25 * PAGE_WIDTH:
        raise ValueError(f"width={width} inches would shrink the text on the page; use at most {1.25 * PAGE_WIDTH}")
    style()
    ncols = ncols or len(labels)
    nrows = -(-len(labels) // ncols)
    fig, grid = plt.subplots(nrows, ncols, figsize=(width, height * nrows), squeeze=False)
    axes = [ax for row in grid for ax in row]
    for ax in axes[len(labels) :]:
        ax.remove()
    for ax, label in zip(axes, labels, strict=False):
        ax.set_xlabel(label[0])
        ax.set_ylabel(label[1])
        if len(label) == 3:
            ax.set_title(label[2])
    axes = axes[: len(labels)]
    return fig, axes[0] if len(axes) == 1 else axes


def show(fig, axes_without_labels: Sequence[object] = ()) -> None:
    """Lay out and show ``fig``; raise ``ValueError`` if an axis (other than colour bars and the exempt
    ``axes_without_labels``) lacks an x or y label."""
    import matplotlib.pyplot as plt

    colorbars = {getattr(image.colorbar, "ax", None) for ax in fig.axes for image in ax.images}
    for position, ax in enumerate(fig.axes):
        if ax in colorbars or ax in axes_without_labels:
            continue
        if not ax.get_xlabel() or not ax.get_ylabel():
            name = ax.get_title() or f"axis {position}"
            raise ValueError(f"figure axis {name!r} needs both labels (x: {ax.get_xlabel()!r}, y: {ax.get_ylabel()!r})")
    fig.tight_layout()
    plt.show()
