"""Tests of logitdescent.plots: PNG output, axis choice, atomic writes, lazy import."""

import subprocess
import sys

import numpy as np
import pytest

from logitdescent.plots import (
    plot_learning_curve,
    render_decision_boundary,
    render_evaluation,
    render_learning_curve,
    render_learning_curves,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_writes_a_png(tmp_path):
    path = plot_learning_curve(0.7 * 0.9 ** np.arange(50), tmp_path / "curve.png", title="test")
    assert path == tmp_path / "curve.png"
    assert path.read_bytes().startswith(PNG_MAGIC)
    assert [p.name for p in tmp_path.iterdir()] == ["curve.png"]


@pytest.fixture
def drawn(monkeypatch):
    """What the figure draws: each line's number of points and marker, and the y scale."""
    from matplotlib.axes import Axes

    record = {"lines": [], "yscale": "linear"}
    plot, set_yscale = Axes.plot, Axes.set_yscale

    def spy_plot(self, x, y, *args, **kwargs):
        record["lines"].append((len(x), kwargs.get("marker")))
        return plot(self, x, y, *args, **kwargs)

    def spy_yscale(self, value, **kwargs):
        record["yscale"] = value
        return set_yscale(self, value, **kwargs)

    monkeypatch.setattr(Axes, "plot", spy_plot)
    monkeypatch.setattr(Axes, "set_yscale", spy_yscale)
    return record


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
def test_log_scale_only_for_positive_costs_spanning_decades(drawn, curve, log_scale):
    assert render_learning_curve(np.asarray(curve, dtype=float)).startswith(PNG_MAGIC)
    assert drawn["yscale"] == ("log" if log_scale else "linear")


def test_one_line_marked_only_when_short(drawn):
    render_learning_curve(0.69 * 0.5 ** np.arange(4))
    render_learning_curve(0.69 * 0.99 ** np.arange(200))
    assert drawn["lines"] == [(4, "o"), (200, None)]


BAD_CURVES = {
    "empty": [],
    "2-d array": np.array([[0.1, 0.2], [0.3, 0.4]]),
    "a list of curves": [[0.5, 0.1], [0.6, 0.2]],  # one-vs-rest is OneVsRestClassifier's now
}


@pytest.mark.parametrize("curve", BAD_CURVES.values(), ids=BAD_CURVES.keys())
def test_rejects_empty_or_two_dimensional_curves(tmp_path, curve):
    path = tmp_path / "curve.png"
    path.write_bytes(b"old")
    with pytest.raises(ValueError, match="non-empty 1-d"):
        plot_learning_curve(curve, path)
    assert path.read_bytes() == b"old"


def test_an_estimators_loss_curve_plots(tmp_path):
    from logitdescent import LogisticRegression

    clf = LogisticRegression(solver="gd", max_iter=20, tol=0).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    assert plot_learning_curve(clf.loss_curve_, tmp_path / "c.png").read_bytes().startswith(PNG_MAGIC)


def test_matplotlib_is_imported_only_when_plotting():
    code = (
        "import sys, logitdescent.plots\n"
        "assert 'matplotlib' not in sys.modules, 'imported eagerly'\n"
        "logitdescent.plots.render_learning_curve([1.0, 0.5])\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot used'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_several_curves_one_legend_entry_each(drawn):
    png = render_learning_curves([("a", [0.7, 0.3, 0.1], False), ("b", [0.7, 0.6], False),
                                  ("c", [0.7, np.inf], True)])
    assert png.startswith(PNG_MAGIC)
    # Three curves plus the cross that marks where the diverging one stopped.
    assert [n for n, _ in drawn["lines"]] == [3, 2, 2, 1]


def test_evaluation_plots_binary_and_multiclass():
    from sklearn.datasets import load_iris

    from logitdescent import LogisticRegression

    X, y = load_iris(return_X_y=True)
    binary = LogisticRegression().fit(X[:100], y[:100])
    assert sorted(render_evaluation(binary, X[:100], y[:100])) == [
        "calibration.png", "confusion_matrix.png", "precision_recall.png", "roc.png"]
    multi = LogisticRegression().fit(X, y)
    pngs = render_evaluation(multi, X, y)
    assert sorted(pngs) == ["confusion_matrix.png", "precision_recall.png", "roc.png"]
    assert all(png.startswith(PNG_MAGIC) for png in pngs.values())


def test_decision_boundary_needs_two_features():
    import pandas as pd

    from logitdescent import LogisticRegression

    X = pd.DataFrame({"p": [0.0, 1.0, 2.0, 3.0], "q": [1.0, 0.0, 2.0, 1.0]})
    model = LogisticRegression().fit(X, [0, 0, 1, 1])
    assert render_decision_boundary(model, X, [0, 0, 1, 1], title="t").startswith(PNG_MAGIC)
    with pytest.raises(ValueError, match="exactly two features"):
        render_decision_boundary(model, X.assign(r=1.0), [0, 0, 1, 1])
