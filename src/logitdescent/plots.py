"""Plots of a fit: the learning curve (cost ``J`` against iteration).

Matplotlib is imported inside the functions, so ``import logitdescent`` stays
fast for users who never plot. Figures are drawn on Matplotlib's object API
with the Agg canvas, never through ``pyplot``: no global figure state, no GUI
backend, and it works on machines without a display.
"""

from __future__ import annotations

import io

import numpy as np

from .persistence import atomic_write_bytes

__all__ = ["plot_learning_curve", "render_learning_curve"]

# A log axis pays off once the cost falls by an order of magnitude or more;
# below that it only distorts a short curve.
_LOG_SCALE_MIN_RATIO = 10.0

# Up to this many points each one is marked, so that a curve of one or a few
# points (Newton's) stays visible.
_MARKERS_MAX_POINTS = 30


def plot_learning_curve(loss_curve, path, title="Learning curve"):
    """Save a PNG of the cost ``J`` against the iteration, atomically.

    Parameters
    ----------
    loss_curve : array-like of shape (n_iter + 1,)
        The cost at the start and after every iteration, e.g. an estimator's
        ``loss_curve_``.
    path : str or path-like
        Destination PNG file; replaced if it exists, never left half-written.
    title : str, default="Learning curve"

    Returns
    -------
    path : Path
    """
    return atomic_write_bytes(path, render_learning_curve(loss_curve, title=title))


def render_learning_curve(loss_curve, title="Learning curve"):
    """The PNG bytes of :func:`plot_learning_curve`'s figure.

    The y axis is logarithmic when every finite cost is positive and they span
    at least a factor of 10; otherwise (a zero cost after a perfect fit, a
    short or flat curve) it is linear. Non-finite costs leave a gap.

    Parameters
    ----------
    loss_curve : array-like of shape (n_iter + 1,)
    title : str, default="Learning curve"

    Returns
    -------
    png : bytes

    Raises
    ------
    ValueError
        If ``loss_curve`` is empty or not one-dimensional.
    """
    costs = np.asarray(loss_curve, dtype=np.float64)
    if costs.ndim != 1 or costs.size == 0:
        raise ValueError(f"loss_curve must be a non-empty 1-d sequence of costs; got shape {costs.shape}")

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    # NaN leaves a gap where inf would wreck the autoscaling.
    shown = np.where(np.isfinite(costs), costs, np.nan)
    ax.plot(np.arange(costs.size), shown, marker="o" if costs.size <= _MARKERS_MAX_POINTS else None,
            markersize=3)
    if _wants_log_scale(costs):
        ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost J")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _wants_log_scale(costs):
    finite = costs[np.isfinite(costs)]
    if finite.size < 2 or not np.all(finite > 0):
        return False
    return bool(finite.max() / finite.min() >= _LOG_SCALE_MIN_RATIO)
