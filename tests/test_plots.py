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


@pytest.mark.parametrize("curve", [[], [[0.1, 0.2]]])
def test_rejects_empty_or_two_dimensional_curves(tmp_path, curve):
    path = tmp_path / "curve.png"
    path.write_bytes(b"old")
    with pytest.raises(ValueError, match="non-empty 1-d"):
        plot_learning_curve(curve, path)
    assert path.read_bytes() == b"old"


def test_matplotlib_is_imported_only_when_plotting():
    code = (
        "import sys, logitdescent.plots\n"
        "assert 'matplotlib' not in sys.modules, 'imported eagerly'\n"
        "logitdescent.plots.render_learning_curve([1.0, 0.5])\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot used'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
