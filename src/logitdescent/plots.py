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


def plot_learning_curve(loss_curve, path, title="Learning curve", labels=None):
    """Save a PNG of the cost ``J`` against the iteration, atomically.

    Parameters
    ----------
    loss_curve : array-like of shape (n_iter + 1,), or a list of them
        The cost at the start and after every iteration, e.g. an estimator's
        ``loss_curve_``: one curve, or (one-vs-rest) a list with one curve per
        class, of possibly different lengths.
    path : str or path-like
        Destination PNG file; replaced if it exists, never left half-written.
    title : str, default="Learning curve"
    labels : sequence of str, default=None
        The legend's name of each curve of a list (default "model 0", "model
        1", ...). A single curve has no legend.

    Returns
    -------
    path : Path
    """
    return atomic_write_bytes(path, render_learning_curve(loss_curve, title=title, labels=labels))


def render_learning_curve(loss_curve, title="Learning curve", labels=None):
    """The PNG bytes of :func:`plot_learning_curve`'s figure.

    The y axis is logarithmic when every finite cost is positive and they span
    at least a factor of 10; otherwise (a zero cost after a perfect fit, a
    short or flat curve) it is linear. A list of curves is drawn as one line
    each, with a legend, on a shared axis.

    Parameters
    ----------
    loss_curve : array-like of shape (n_iter + 1,), or a list of them
    title : str, default="Learning curve"
    labels : sequence of str, default=None
        One legend entry per curve of a list.

    Returns
    -------
    png : bytes

    Raises
    ------
    ValueError
        If a curve is empty or not one-dimensional, a list holds no curves,
        or ``labels`` does not have one entry per curve.
    """
    curves = _as_curves(loss_curve)
    several = _is_list_of_curves(loss_curve)
    if labels is None:
        labels = [f"model {k}" for k in range(len(curves))]
    labels = [str(label) for label in labels]
    if len(labels) != len(curves):
        raise ValueError(f"labels must have one entry per curve ({len(curves)}); got {len(labels)}")

    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    # Ten distinct colors cover most one-vs-rest fits; more classes share a
    # continuous map rather than repeat colors.
    colors = colormaps["tab10"].colors if len(curves) <= 10 else colormaps["viridis"](np.linspace(0, 1, len(curves)))
    for costs, label, color in zip(curves, labels, colors):
        iterations = np.arange(costs.size)
        # Markers keep a curve of one or a few points (Newton's) visible; NaN
        # leaves a gap where inf would wreck the autoscaling.
        shown = np.where(np.isfinite(costs), costs, np.nan)
        ax.plot(iterations, shown, marker="o" if costs.size <= 30 else None, markersize=3,
                color=color, label=label)
    if _wants_log_scale(np.concatenate(curves)):
        ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost J")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    if several:
        ax.legend(fontsize="small", ncols=max(1, -(-len(curves) // 12)))

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _is_list_of_curves(loss_curve):
    """Whether ``loss_curve`` is a list (or tuple) of curves rather than one curve.

    An ndarray is always one curve (a 2-d one is rejected); a list is a list
    of curves when its items are sequences, one curve when they are numbers.
    """
    return (
        isinstance(loss_curve, (list, tuple))
        and len(loss_curve) > 0
        and all(np.ndim(item) >= 1 for item in loss_curve)
    )


def _as_curves(loss_curve):
    """The curves in ``loss_curve`` as a list of non-empty 1-d float64 arrays."""
    items = list(loss_curve) if _is_list_of_curves(loss_curve) else [loss_curve]
    curves = []
    for item in items:
        costs = np.asarray(item, dtype=np.float64)
        if costs.ndim != 1 or costs.size == 0:
            raise ValueError(
                "loss_curve must be a non-empty 1-d sequence, or a list of them; "
                f"got shape {costs.shape}"
            )
        curves.append(costs)
    return curves


def _wants_log_scale(costs):
    finite = costs[np.isfinite(costs)]
    if finite.size < 2 or not np.all(finite > 0):
        return False
    return bool(finite.max() / finite.min() >= _LOG_SCALE_MIN_RATIO)
