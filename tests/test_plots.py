"""Tests of logitdescent.plots: PNG output, axis choice, atomic writes, lazy import."""

import subprocess
import sys

import numpy as np
import pytest

from logitdescent import plots
from logitdescent.plots import plot_learning_curve, render_learning_curve

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_writes_a_png(tmp_path):
    path = plot_learning_curve(0.7 * 0.9 ** np.arange(50), tmp_path / "curve.png", title="test")
    assert path == tmp_path / "curve.png"
    assert path.read_bytes().startswith(PNG_MAGIC)
    assert [p.name for p in tmp_path.iterdir()] == ["curve.png"]


@pytest.mark.parametrize(
    "curve, log_scale",
    [
        ([0.69, 0.3, 0.05], True),  # spans more than a decade
        ([0.69, 0.5, 0.4], False),  # less than a decade: linear reads better
        ([0.69, 0.1, 0.0], False),  # a perfect fit reaches 0: no log of 0
        ([0.5, -0.1, 0.2], False),  # never plot negatives on a log axis
        ([0.69], False),  # Newton with max_iter=0: a single point
        ([0.69, np.inf, 0.01], True),  # non-finite values are ignored, not fatal
        ([np.nan, np.nan], False),
    ],
)
def test_log_scale_only_for_positive_costs_spanning_decades(curve, log_scale):
    costs = np.asarray(curve, dtype=float)
    assert plots._wants_log_scale(costs) is log_scale
    assert render_learning_curve(costs).startswith(PNG_MAGIC)


BAD_CURVES = {
    "empty": [],
    "2-d array": np.array([[0.1, 0.2], [0.3, 0.4]]),
    "empty curve in a list": [[0.5, 0.1], []],
    "2-d curve in a list": [np.ones((2, 2))],
}


@pytest.mark.parametrize("curve", BAD_CURVES.values(), ids=BAD_CURVES.keys())
def test_rejects_empty_or_two_dimensional_curves(tmp_path, curve):
    path = tmp_path / "curve.png"
    path.write_bytes(b"old")
    with pytest.raises(ValueError, match="non-empty 1-d"):
        plot_learning_curve(curve, path)
    assert path.read_bytes() == b"old"


def test_one_vs_rest_curves_are_one_line_each_with_a_legend(tmp_path, monkeypatch):
    from matplotlib.axes import Axes

    drawn, legends = [], []
    plot, legend = Axes.plot, Axes.legend

    def spy_plot(self, *args, **kwargs):
        drawn.append((len(args[0]), kwargs.get("label")))
        return plot(self, *args, **kwargs)

    def spy_legend(self, *args, **kwargs):
        legends.append([text.get_text() for text in legend(self, *args, **kwargs).get_texts()])
        return legends[-1]

    monkeypatch.setattr(Axes, "plot", spy_plot)
    monkeypatch.setattr(Axes, "legend", spy_legend)
    # What LogisticRegression(multiclass="ovr").loss_curve_ holds: curves of different lengths.
    curves = [0.69 * 0.5 ** np.arange(n) for n in (4, 9, 6)]
    path = plot_learning_curve(curves, tmp_path / "ovr.png", labels=["a vs rest", "b vs rest", "c vs rest"])
    assert path.read_bytes().startswith(PNG_MAGIC)
    assert drawn == [(4, "a vs rest"), (9, "b vs rest"), (6, "c vs rest")]
    assert legends == [["a vs rest", "b vs rest", "c vs rest"]]

    drawn.clear(), legends.clear()
    render_learning_curve(curves)  # default names
    assert [label for _, label in drawn] == ["model 0", "model 1", "model 2"] and legends

    drawn.clear(), legends.clear()
    render_learning_curve(curves[0])  # a single curve: no legend
    assert len(drawn) == 1 and legends == []


def test_many_curves_share_a_colormap():
    curves = [np.linspace(0.7, 0.1 + k / 100, 5) for k in range(15)]
    assert render_learning_curve(curves).startswith(PNG_MAGIC)


def test_log_scale_is_chosen_over_all_curves():
    assert plots._wants_log_scale(np.concatenate([[0.69, 0.5], [0.69, 0.01]]))


def test_labels_must_match_the_curves():
    with pytest.raises(ValueError, match="one entry per curve"):
        render_learning_curve([[0.5, 0.2], [0.6, 0.1]], labels=["only one"])


def test_matplotlib_is_imported_only_when_plotting():
    code = (
        "import sys, logitdescent.plots\n"
        "assert 'matplotlib' not in sys.modules, 'imported eagerly'\n"
        "logitdescent.plots.render_learning_curve([1.0, 0.5])\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot used'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
