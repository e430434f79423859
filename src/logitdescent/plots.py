"""Plots of a fit and of a model's predictions, as PNG bytes or files.

- :func:`render_learning_curve` / :func:`plot_learning_curve`: the cost ``J``
  against the iteration, one curve.
- :func:`render_learning_curves`: several curves on one figure (the lecture's
  learning-rate comparison), a diverging one drawn dashed and named.
- :func:`render_decision_boundary`: the lecture's picture of a linear
  classifier, for data with two features.
- :func:`render_evaluation`: ROC, precision-recall, confusion matrix and
  calibration curve of a fitted model on labelled data, drawn by
  scikit-learn's metrics and Display classes.

Matplotlib is imported inside the functions, so ``import logitdescent`` stays
fast for users who never plot. Figures are drawn on Matplotlib's object API
with the Agg canvas, never through ``pyplot``'s figure manager: no global
figure state, no GUI backend, and it works on machines without a display.
(scikit-learn's Display classes import ``pyplot`` to check that Matplotlib is
installed, but draw on the axes they are given.)
"""

from __future__ import annotations

import io

import numpy as np

from .persistence import atomic_write_bytes

__all__ = [
    "plot_learning_curve",
    "render_decision_boundary",
    "render_evaluation",
    "render_learning_curve",
    "render_learning_curves",
]

# A log axis pays off once the cost falls by an order of magnitude or more;
# below that it only distorts a short curve.
_LOG_SCALE_MIN_RATIO = 10.0

# Up to this many points each one is marked, so that a curve of one or a few
# points (Newton's) stays visible.
_MARKERS_MAX_POINTS = 30

_COST_LABEL = "cost J (mean log-loss, nats)"
_ITERATION_LABEL = "iteration (updates of w and b)"


def _figure(figsize=(6.4, 4.0)):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _costs(loss_curve):
    costs = np.asarray(loss_curve, dtype=np.float64)
    if costs.ndim != 1 or costs.size == 0:
        raise ValueError(f"loss_curve must be a non-empty 1-d sequence of costs; got shape {costs.shape}")
    return costs


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
    costs = _costs(loss_curve)
    fig = _figure()
    ax = fig.add_subplot()
    _draw_curve(ax, costs)
    if _wants_log_scale(costs):
        ax.set_yscale("log")
    ax.set_xlabel(_ITERATION_LABEL)
    ax.set_ylabel(_COST_LABEL)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    return _png(fig)


def _draw_curve(ax, costs, **kwargs):
    # NaN leaves a gap where inf would wreck the autoscaling.
    shown = np.where(np.isfinite(costs), costs, np.nan)
    return ax.plot(np.arange(costs.size), shown, marker="o" if costs.size <= _MARKERS_MAX_POINTS else None,
                   markersize=3, **kwargs)


def render_learning_curves(curves, title="Learning curves"):
    """Several learning curves on one figure, e.g. one per learning rate.

    Parameters
    ----------
    curves : list of (label, loss_curve, diverged)
        ``label`` goes into the legend as given (put the rate and the
        accuracies there); ``diverged`` draws the curve dashed, ends it with
        a cross and appends "diverged" to its label, so a rate that failed is
        shown and named rather than dropped.
    title : str, default="Learning curves"

    Returns
    -------
    png : bytes

    Raises
    ------
    ValueError
        If ``curves`` is empty or a curve is empty or not one-dimensional.
    """
    if not curves:
        raise ValueError("curves must hold at least one (label, loss_curve, diverged) triple")
    checked = [(label, _costs(curve), bool(diverged)) for label, curve, diverged in curves]
    fig = _figure(figsize=(7.2, 4.5))
    ax = fig.add_subplot()
    for label, costs, diverged in checked:
        (line,) = _draw_curve(ax, costs, label=f"{label} (diverged)" if diverged else label,
                              linestyle="--" if diverged else "-")
        if diverged:
            last = np.flatnonzero(np.isfinite(costs))[-1]
            ax.plot([last], [costs[last]], marker="x", markersize=9, color=line.get_color())
    if _wants_log_scale(np.concatenate([costs for _, costs, _ in checked])):
        ax.set_yscale("log")
    ax.set_xlabel(_ITERATION_LABEL)
    ax.set_ylabel(_COST_LABEL)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return _png(fig)


def render_decision_boundary(model, X, y, title="Decision boundary"):
    """The decision regions of a two-feature model over a scatter of the points.

    Drawn by scikit-learn's ``DecisionBoundaryDisplay`` on the model's own
    predictions; for a binary model the 0.5-probability line is the straight
    line ``w1 x1 + w2 x2 + b = 0`` (in the standardized space a pipeline fits).

    Parameters
    ----------
    model : fitted classifier or Pipeline
        Predicts from the two columns of ``X``.
    X : DataFrame of shape (m, 2)
        The points, in the units of the data file (the axis labels are the
        column names).
    y : array-like of shape (m,)
    title : str, default="Decision boundary"

    Returns
    -------
    png : bytes

    Raises
    ------
    ValueError
        If ``X`` does not have exactly two columns.
    """
    from sklearn.inspection import DecisionBoundaryDisplay

    if X.shape[1] != 2:
        raise ValueError(f"a decision boundary needs exactly two features; got {X.shape[1]}")
    names = [str(c) for c in getattr(X, "columns", ["x1", "x2"])]
    y = np.asarray(y)
    fig = _figure(figsize=(6.4, 5.2))
    ax = fig.add_subplot()
    DecisionBoundaryDisplay.from_estimator(
        model, X, response_method="predict", ax=ax, alpha=0.25, cmap="coolwarm",
        xlabel=f"{names[0]} (data units)", ylabel=f"{names[1]} (data units)",
    )
    points = np.asarray(X, dtype=np.float64)
    colors = _class_colors(len(model.classes_))
    for color, label in zip(colors, model.classes_):
        mask = y == label
        ax.scatter(points[mask, 0], points[mask, 1], s=14, color=color, edgecolor="black",
                   linewidth=0.4, label=f"class {label!s} ({int(mask.sum())} points)")
    ax.set_title(title)
    ax.legend(fontsize="small", title="training points", loc="best", framealpha=0.9)
    return _png(fig)


def _class_colors(k):
    from matplotlib import colormaps

    # The ends of the regions' colormap, so a point's color matches its region.
    return colormaps["coolwarm"](np.linspace(0.0, 1.0, k))


def render_evaluation(model, X, y, data_name="the data", offset=None):
    """ROC, precision-recall, confusion-matrix and calibration plots of a model.

    Every number comes from scikit-learn (``roc_curve``/``auc`` through
    ``RocCurveDisplay``, ``average_precision_score`` through
    ``PrecisionRecallDisplay``, ``ConfusionMatrixDisplay``,
    ``CalibrationDisplay``). With more than two classes the ROC and
    precision-recall plots draw one curve per class against the rest, the
    confusion matrix is K × K, and there is no calibration plot (a
    calibration curve is binary).

    Parameters
    ----------
    model : fitted classifier or Pipeline
    X : array-like of shape (m, n)
    y : array-like of shape (m,)
        True labels, each one of ``model.classes_``.
    data_name : str, default="the data"
        Named in every title.
    offset : array-like of shape (m,), default=None
        The offset of a model fitted with one, passed to ``predict_proba``.

    Returns
    -------
    pngs : dict of str to bytes
        ``{"roc.png": ..., "precision_recall.png": ..., "confusion_matrix.png":
        ..., "calibration.png": ...}`` (the last only for two classes).
    """
    from sklearn.calibration import CalibrationDisplay
    from sklearn.metrics import ConfusionMatrixDisplay, PrecisionRecallDisplay, RocCurveDisplay

    classes = model.classes_
    y = np.asarray(y)
    proba = model.predict_proba(X) if offset is None else model.predict_proba(X, offset=offset)
    predicted = classes[np.argmax(proba, axis=1)]  # model.predict's rule (ties: the first class)
    binary = classes.size == 2
    # Binary: the positive class only; more: each class against the rest.
    columns = [(classes[1], 1)] if binary else [(label, k) for k, label in enumerate(classes)]
    pngs = {}

    # The Display classes draw ROC and PR axes square: a square figure
    # leaves no wide empty margins.
    fig = _figure(figsize=(5.6, 5.2))
    ax = fig.add_subplot()
    for label, k in columns:
        RocCurveDisplay.from_predictions(y == label, proba[:, k], ax=ax,
                                         name=f"P(y = {label!s})" if binary else f"{label!s} vs rest")
    ax.plot([0, 1], [0, 1], linestyle=":", color="gray", label="chance (AUC = 0.5)")
    ax.set_xlabel("false positive rate (fraction of negatives)")
    ax.set_ylabel("true positive rate (fraction of positives)")
    ax.set_title(f"ROC curve{'' if binary else 's, one vs rest'} on {data_name}")
    ax.legend(loc="lower right", fontsize="small")
    pngs["roc.png"] = _png(fig)

    fig = _figure(figsize=(5.6, 5.2))
    ax = fig.add_subplot()
    for label, k in columns:
        PrecisionRecallDisplay.from_predictions(y == label, proba[:, k], ax=ax,
                                                name=f"P(y = {label!s})" if binary else f"{label!s} vs rest")
    ax.set_xlabel("recall (fraction of positives found)")
    ax.set_ylabel("precision (fraction of predicted positives correct)")
    ax.set_title(f"Precision-recall curve{'' if binary else 's, one vs rest'} on {data_name}")
    ax.legend(loc="lower left", fontsize="small")
    pngs["precision_recall.png"] = _png(fig)

    fig = _figure(figsize=(5.6, 4.8))
    ax = fig.add_subplot()
    display = ConfusionMatrixDisplay.from_predictions(y, predicted, labels=classes, ax=ax, colorbar=True)
    display.im_.colorbar.set_label("examples")
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    ax.set_title(f"Confusion matrix on {data_name}\n(counts of examples)")
    pngs["confusion_matrix.png"] = _png(fig)

    if binary:
        fig = _figure()
        ax = fig.add_subplot()
        CalibrationDisplay.from_predictions(y == classes[1], proba[:, 1], n_bins=10, ax=ax,
                                            name=f"P(y = {classes[1]!s})")
        ax.set_xlabel(f"mean predicted probability of {classes[1]!s} (10 equal-width bins)")
        ax.set_ylabel(f"fraction of {classes[1]!s} (per bin)")
        ax.set_title(f"Calibration curve on {data_name}")
        ax.legend(loc="upper left", fontsize="small")
        pngs["calibration.png"] = _png(fig)
    return pngs


def _wants_log_scale(costs):
    finite = costs[np.isfinite(costs)]
    if finite.size < 2 or not np.all(finite > 0):
        return False
    return bool(finite.max() / finite.min() >= _LOG_SCALE_MIN_RATIO)
