"""The book's figure helper: labelled axes, readable sizes, and a refusal to show an unlabelled axis."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from llmrec.plotting import BOOK_STYLE, PAGE_WIDTH, panels, show  # noqa: E402


def test_one_panel_is_labelled_and_styled() -> None:
    fig, ax = panels(("epoch", "loss", "Training"))
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("epoch", "loss", "Training")
    assert fig.get_size_inches()[0] == pytest.approx(PAGE_WIDTH)
    assert plt.rcParams["xtick.labelsize"] == BOOK_STYLE["xtick.labelsize"]
    plt.close(fig)


def test_grid_of_panels_drops_unused_axes() -> None:
    fig, axes = panels(("a", "b"), ("c", "d"), ("e", "f"), ncols=2, height=2.0)
    assert [ax.get_xlabel() for ax in axes] == ["a", "c", "e"]
    assert len(fig.axes) == 3  # the fourth cell of the 2 x 2 grid is removed
    assert fig.get_size_inches()[1] == pytest.approx(4.0)
    plt.close(fig)


@pytest.mark.parametrize(
    "labels, message",
    [((), "at least one"), (("x", ""), "both axes need a label"), (("x",), "must be")],
)
def test_bad_labels_are_refused(labels, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        panels(*([labels] if labels else []))


def test_too_wide_a_figure_is_refused() -> None:
    with pytest.raises(ValueError, match="width="):
        panels(("x", "y"), width=3 * PAGE_WIDTH)


def test_show_refuses_an_unlabelled_axis_but_not_a_colour_bar() -> None:
    fig, ax = panels(("x", "y"))
    image = ax.imshow([[0, 1], [1, 0]])
    fig.colorbar(image, ax=ax)
    show(fig)  # the colour bar has no labels and is accepted
    extra = fig.add_subplot(2, 2, 4)
    extra.set_title("unlabelled")
    with pytest.raises(ValueError, match="'unlabelled' needs both labels"):
        show(fig)
    show(fig, axes_without_labels=[extra])
    plt.close(fig)
