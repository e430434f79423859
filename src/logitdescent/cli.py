"""The ``logitdescent`` command line: train, predict, evaluate, explain.

The CLI only loads data, calls the estimator, and writes files; it never
touches a solver. Every training flag maps one-to-one onto a
:class:`~logitdescent.LogisticRegression` parameter, and the defaults are
the estimator's own. Targets with more than two classes fit the multinomial
model (or one-vs-rest, ``--multiclass ovr``); ``explain`` stays binary.

Errors in the input (a missing file or column, bad values, a corrupt model, a
bad flag) end the command with one line on stderr,
``logitdescent: error: <message>``, and exit status 1 (2 for usage errors),
without a traceback. Nothing is written before the data is validated and the
model fitted, and every file is replaced atomically, so a failed run never
damages the results of an earlier one.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
import threading
import time
import warnings
from pathlib import Path

import click
import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import unique_labels
from tqdm import tqdm

from . import __version__, reference
from .data import (
    DataError,
    features_for_model,
    load_builtin,
    load_dataset,
    read_table,
    split_target,
    validate_known_labels,
)
from .estimator import LogisticRegression
from .kernel import loss_and_grad
from .persistence import ModelFileError, atomic_write_bytes, load_model, model_to_bytes
from .plots import render_learning_curve
from .solvers import SOLVERS

__all__ = ["main"]

PROG = "logitdescent"
_DEFAULTS = LogisticRegression().get_params()
_BUILTIN = "breast_cancer"


# -- one-line errors -------------------------------------------------------


def _fail(message, exit_code):
    # Messages from scikit-learn or pandas may span lines; the contract is one.
    click.echo(f"{PROG}: error: {' '.join(str(message).split())}", err=True)
    sys.exit(exit_code)


def _warn(message):
    click.echo(f"{PROG}: warning: {' '.join(str(message).split())}", err=True)


def _describe_os_error(exc):
    where = f": {exc.filename!r}" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


class _OneLineErrors(click.Group):
    """A click group that reports expected failures as one line, no traceback.

    Bugs (any other exception) still raise with their traceback.
    """

    def main(self, args=None, prog_name=None, **extra):
        extra.pop("standalone_mode", None)
        try:
            rv = super().main(args, prog_name or PROG, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.format_message())
            sys.exit(0)
        except click.UsageError as exc:
            _fail(exc.format_message() + f" (see '{self._command_path(exc, args)} --help')", exc.exit_code)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except (DataError, ModelFileError) as exc:
            _fail(exc, 1)
        except OSError as exc:
            _fail(_describe_os_error(exc), 1)
        except click.Abort:
            _fail("aborted", 1)
        # standalone_mode=False returns the exit code of --help/--version.
        sys.exit(rv if isinstance(rv, int) else 0)

    def _command_path(self, exc, args):
        """``logitdescent train``: where the usage error arose, for the help hint."""
        if exc.ctx is not None:
            return exc.ctx.command_path
        # Errors of the option parser (e.g. a missing value) carry no context.
        args = sys.argv[1:] if args is None else args
        command = next((a for a in args if a in self.commands), None)
        return PROG if command is None else f"{PROG} {command}"


class _Float(click.FloatRange):
    """A float in a range that, unlike ``click.FloatRange``, also refuses NaN."""

    name = "float"

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value!r} is not a number", param, ctx)
        return number


class _LearningRate(click.ParamType):
    """``--learning-rate``: a positive float, or "auto"."""

    name = "FLOAT|auto"

    def convert(self, value, param, ctx):
        if value == "auto":
            return value
        try:
            rate = float(value)
        except ValueError:
            rate = math.nan
        if not (math.isfinite(rate) and rate > 0):
            self.fail(f"{value!r} is not a positive number or 'auto'", param, ctx)
        return rate


def _check_bounds(ctx, param, value):
    """``--coef-bounds LOW HIGH``: a feasible pair, as the tuple ``coef_bounds`` takes."""
    if value is None:
        return None
    low, high = value
    if low > high:
        raise click.BadParameter(f"LOW ({low:g}) must not exceed HIGH ({high:g})", ctx, param)
    if low == math.inf or high == -math.inf:
        raise click.BadParameter("LOW cannot be 'inf' nor HIGH '-inf': no coefficient would fit", ctx, param)
    return (low, high)


def _penalty_choice(penalty):
    """The estimator's ``penalty`` as a ``--penalty`` choice (None is "none")."""
    return "none" if penalty is None else penalty


@click.group(cls=_OneLineErrors)
@click.version_option(__version__, prog_name=PROG)
def main():
    """logitdescent: logistic regression by gradient descent, from the lecture to fast software."""


# -- shared helpers --------------------------------------------------------


def _json_bytes(obj):
    return (json.dumps(obj, indent=2, allow_nan=False) + "\n").encode("utf-8")


def _scores(model, X, y):
    """Accuracy, log-loss and ROC AUC of ``model`` on ``(X, y)``.

    With more than two classes, ROC AUC is the macro average of each class
    against the rest. It is None (undefined) unless every class of the model
    appears in ``y``.
    """
    classes = model.classes_
    proba = model.predict_proba(X)
    y = np.asarray(y)
    every_class = np.isin(classes, y).all()
    if classes.size == 2:
        roc_auc = roc_auc_score(y == classes[1], proba[:, 1]) if every_class else None
    else:
        roc_auc = roc_auc_score(y, proba, multi_class="ovr", labels=classes) if every_class else None
    return {
        "accuracy": float(accuracy_score(y, model.predict(X))),
        "log_loss": float(log_loss(y, proba, labels=classes)),
        "roc_auc": None if roc_auc is None else float(roc_auc),
    }


def _undefined_roc_auc(classes):
    return "undefined (one class only)" if len(classes) == 2 else "undefined (not every class is present)"


def _label(value):
    """A label as a plain Python value: ``'a'`` and ``3`` in messages, not ``np.str_('a')``."""
    return value.item() if isinstance(value, np.generic) else value


def _probability_columns(classes):
    """``proba_<label>`` for every class, in the order of ``classes``."""
    return [f"proba_{label}" for label in classes.tolist()]


def _prediction_table(model, X):
    """Binary: prediction and P(classes_[1]); more classes: prediction and one proba column each."""
    proba = model.predict_proba(X)
    table = {"prediction": model.predict(X)}
    if model.classes_.size == 2:
        table["probability"] = proba[:, 1]
    else:
        table.update(zip(_probability_columns(model.classes_), proba.T))
    return pd.DataFrame(table)


def _model_features(model, frame, target=None):
    """The columns of ``frame`` that ``model`` was fitted on, validated."""
    names = getattr(model, "feature_names_in_", None)
    X = features_for_model(frame, feature_names=names, n_features=model.n_features_in_, target=target)
    # A model fitted on a bare array would warn about named columns.
    return X if names is not None else X.to_numpy()


def _write_outputs(out_dir, outputs):
    """Write ``{file name: bytes}`` into ``out_dir``, each atomically, in order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [atomic_write_bytes(out_dir / name, content) for name, content in outputs.items()]


# -- train -----------------------------------------------------------------


@main.command()
@click.option("--data", metavar="FILE",
              help="CSV or Parquet file to train on (default: the built-in breast cancer data).")
@click.option("--target", metavar="COLUMN", help="The label column of --data.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default="logitdescent-out", show_default=True,
              help="Folder for model.json, metrics.json and learning_curve.png.")
@click.option("--test-size", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.25,
              show_default=True, help="Fraction of the examples held out for testing (stratified).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the train/test split.")
@click.option("--solver", type=click.Choice(["auto", *SOLVERS]), default=_DEFAULTS["solver"],
              show_default=True)
@click.option("--C", "C", type=_Float(min=0, min_open=True), default=_DEFAULTS["C"],
              show_default=True, help="Inverse regularization strength; 'inf' for none.")
@click.option("--penalty", type=click.Choice(["l2", "l1", "elasticnet", "none"]),
              default=_penalty_choice(_DEFAULTS["penalty"]), show_default=True)
@click.option("--l1-ratio", type=_Float(0, 1), default=_DEFAULTS["l1_ratio"], show_default=True,
              help="Elastic-net mixing rho in [0, 1], for --penalty elasticnet.")
@click.option("--multiclass", type=click.Choice(["multinomial", "ovr"]), default=_DEFAULTS["multiclass"],
              show_default=True, help="With more than two classes: one softmax model, or one-vs-rest.")
@click.option("--coef-bounds", type=(_Float(), _Float()), default=_DEFAULTS["coef_bounds"],
              metavar="LOW HIGH", callback=_check_bounds,
              help="Bounds on every coefficient (not the intercept); '-inf' or 'inf' leaves a side open.")
@click.option("--learning-rate", type=_LearningRate(), default=_DEFAULTS["learning_rate"], show_default=True,
              help="The lecture's alpha, for --solver gd (and the first step of sgd).")
@click.option("--max-iter", type=click.IntRange(min=0), default=_DEFAULTS["max_iter"], show_default=True)
@click.option("--tol", type=_Float(min=0), default=_DEFAULTS["tol"], show_default=True,
              help="Stop when max |gradient| <= tol.")
@click.option("--batch-size", type=click.IntRange(min=1), default=_DEFAULTS["batch_size"], show_default=True,
              help="Rows per mini-batch, for --solver sgd.")
@click.option("--class-weight", type=click.Choice(["balanced", "none"]), default="none", show_default=True)
@click.option("--no-intercept", is_flag=True, help="Fit without the bias b.")
@click.option("--print-every", type=click.IntRange(min=0), default=100, show_default=True,
              help="Print the cost every K iterations; 0 never.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def train(data, target, out_dir, test_size, seed, print_every, quiet, **flags):
    """Fit a standardized logistic regression and save model, metrics and plot."""
    if (data is None) != (target is None):
        raise click.UsageError("--data and --target go together: --data FILE --target COLUMN")
    classifier = LogisticRegression(**_estimator_params(**flags))
    try:  # the estimator's own checks, before any data is read
        classifier._check_params()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if not quiet:
        _warn_unused_flags(click.get_current_context(), classifier)
    X, y = load_builtin(_BUILTIN) if data is None else load_dataset(data, target)
    if not quiet and _given(click.get_current_context(), "multiclass") and y.nunique() == 2:
        _warn("--multiclass applies to more than two classes; this target has two, so it is ignored")
    X_train, X_test, y_train, y_test = _split(X, y, test_size, seed)
    model = Pipeline([("scaler", StandardScaler()), ("classifier", classifier)])
    fit_time = _fit(model, X_train, y_train, print_every=print_every, quiet=quiet)

    dataset = _BUILTIN if data is None else str(data)
    metrics = {
        "dataset": dataset,
        "target": str(y.name),
        **_training_metrics(model, (X_train, y_train), (X_test, y_test), fit_time),
    }
    # Everything is rendered before anything is written; the model goes last,
    # so an interrupted run leaves the previous model.json in place.
    outputs = {
        "learning_curve.png": _render_curves(classifier, Path(dataset).name),
        "metrics.json": _json_bytes(metrics),
        "model.json": model_to_bytes(model),
    }
    paths = _write_outputs(out_dir, outputs)
    if not quiet:
        _report_training(metrics, paths)


def _given(ctx, name):
    """Whether the option ``name`` was given on the command line (not defaulted)."""
    return ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE


def _warn_unused_flags(ctx, classifier):
    """A note for a flag given on the command line that the chosen fit ignores."""
    if _given(ctx, "l1_ratio") and classifier.penalty != "elasticnet":
        _warn("--l1-ratio is used with --penalty elasticnet only; it is ignored")
    if _given(ctx, "batch_size") and classifier.solver != "sgd":
        _warn("--batch-size is used with --solver sgd only; it is ignored")


def _is_one_vs_rest(classifier):
    return isinstance(classifier.loss_curve_, list)


def _render_curves(classifier, dataset_name):
    """The learning-curve PNG: one line, or one per class for one-vs-rest."""
    if _is_one_vs_rest(classifier):
        title = f"Learning curves ({classifier.solver_}, one-vs-rest, {dataset_name})"
        labels = [f"{label} vs rest" for label in classifier.classes_.tolist()]
        return render_learning_curve(classifier.loss_curve_, title=title, labels=labels)
    title = f"Learning curve ({classifier.solver_}, {dataset_name})"
    return render_learning_curve(classifier.loss_curve_, title=title)


def _training_metrics(model, train, test, fit_time):
    """What ``metrics.json`` records about a fitted pipeline and its split.

    ``multiclass`` is None for two classes, else the estimator's parameter.
    ``final_cost`` is the cost the fit minimized; for one-vs-rest, the sum of
    the per-class costs (the models are independent, so the sum is what they
    minimize together), each also listed in ``final_cost_per_class``.
    ``n_nonzero_coef`` counts the coefficients an L1 penalty left nonzero.
    """
    (X_train, y_train), (X_test, y_test) = train, test
    classifier = model.named_steps["classifier"]
    if _is_one_vs_rest(classifier):
        per_class = [float(curve[-1]) for curve in classifier.loss_curve_]
        costs = {"final_cost": math.fsum(per_class), "final_cost_per_class": per_class}
    else:
        costs = {"final_cost": float(classifier.loss_curve_[-1])}
    return {
        "classes": classifier.classes_.tolist(),
        "n_classes": int(classifier.classes_.size),
        "multiclass": None if classifier.classes_.size == 2 else classifier.multiclass,
        "n_train": len(y_train),
        "n_test": len(y_test),
        "n_features": int(classifier.n_features_in_),
        "solver": classifier.solver_,
        "converged": bool(classifier.converged_),
        "n_iter": int(classifier.n_iter_),
        **costs,
        "n_nonzero_coef": int(np.count_nonzero(classifier.coef_)),
        "fit_time_s": round(fit_time, 6),
        "train_accuracy": float(accuracy_score(y_train, model.predict(X_train))),
        **{f"test_{name}": value for name, value in _scores(model, X_test, y_test).items()},
    }


def _estimator_params(*, solver, C, penalty, l1_ratio, multiclass, coef_bounds, learning_rate, max_iter,
                      tol, batch_size, class_weight, no_intercept):
    """Training flags to ``LogisticRegression`` parameters, one to one."""
    return {
        "solver": solver,
        "C": C,
        "penalty": None if penalty == "none" else penalty,
        "l1_ratio": l1_ratio,
        "multiclass": multiclass,
        "coef_bounds": coef_bounds,
        "learning_rate": learning_rate,
        "max_iter": max_iter,
        "tol": tol,
        "batch_size": batch_size,
        "class_weight": None if class_weight == "none" else class_weight,
        "fit_intercept": not no_intercept,
    }


def _split(X, y, test_size, seed):
    try:
        return train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)
    except ValueError as exc:
        raise DataError(
            f"cannot hold out a stratified test split of {test_size:g}: {exc}; "
            "use more examples per class or another --test-size"
        ) from exc


@contextlib.contextmanager
def _progress(max_iter, print_every, quiet, models=None):
    """A ``callback(iteration, cost)`` driving a tqdm bar and the cost printout.

    ``models`` names the one-vs-rest models, fitted one after another (each
    restarts at iteration 0); None for a single model.
    """
    n_models = 1 if models is None else len(models)
    # disable=None: no bar when stderr is not a terminal (logs, CI, pipes).
    bar = tqdm(total=max_iter * n_models, desc="fit", unit="it", file=sys.stderr, leave=False,
               disable=True if quiet else None)
    state = {"model": -1, "done": 0, "printed": set()}

    def callback(iteration, cost):
        if iteration == 0:  # a (one-vs-rest) model starts
            state["model"] += 1
            state["done"] = bar.n
            state["printed"] = set()
        bar.update(max(0, state["done"] + iteration - bar.n))
        if not quiet and print_every and iteration % print_every == 0 and iteration not in state["printed"]:
            state["printed"].add(iteration)
            which = "" if models is None else f" ({models[min(state['model'], n_models - 1)]})"
            # tqdm.write keeps the bar from tearing the line in a terminal.
            tqdm.write(f"Cost after iteration {iteration}{which}: {cost:.6f}", file=sys.stdout)

    try:
        yield callback
    finally:
        bar.close()


def _compile_kernel():
    """Compile (or load from Numba's cache) the fused kernel before the fit is timed.

    The first run on a machine compiles it for most of a minute; a terminal
    is told so after a second, and the reported fit time leaves it out.
    """
    from . import _fused

    if not _fused.is_available():
        return
    notice = threading.Timer(1.0, click.echo, args=(
        f"{PROG}: compiling the fused kernel (once per machine; up to a minute)...",), kwargs={"err": True})
    if sys.stderr.isatty():
        notice.start()
    try:
        _fused.warm_up(threads=False)
    finally:
        notice.cancel()


def _fit(model, X, y, *, print_every, quiet):
    """Fit ``model``; returns the wall time in seconds.

    Warnings (e.g. scikit-learn's ConvergenceWarning) become one-line notes.
    """
    classifier = model.named_steps["classifier"]
    classes = unique_labels(y)
    models = None
    if classes.size > 2 and classifier.multiclass == "ovr":
        models = [f"{_label(label)!r} vs rest" for label in classes]
    _compile_kernel()
    with _progress(classifier.max_iter, print_every, quiet, models) as callback, \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        try:
            model.fit(X, y, classifier__callback=callback)
        except ValueError as exc:
            raise click.ClickException(f"fitting failed: {exc}") from exc
        elapsed = time.perf_counter() - start
    if not quiet:
        for warning in caught:
            _warn(warning.message)
    return elapsed


def _report_training(metrics, paths):
    state = "converged" if metrics["converged"] else "stopped without converging"
    model = {
        None: "",
        "multinomial": f" (multinomial, {metrics['n_classes']} classes)",
        "ovr": f" ({metrics['n_classes']} one-vs-rest models; iterations of the longest fit, summed cost)",
    }[metrics["multiclass"]]
    click.echo(
        f"Solver {metrics['solver']} {state} after {metrics['n_iter']} iterations "
        f"in {metrics['fit_time_s']:.3f} s; final cost {metrics['final_cost']:.6f}{model}"
    )
    click.echo(f"Train accuracy: {metrics['train_accuracy']:.4f} ({metrics['n_train']} examples)")
    click.echo(f"Test accuracy:  {metrics['test_accuracy']:.4f} ({metrics['n_test']} examples)")
    click.echo("Wrote " + ", ".join(str(p) for p in paths))


# -- predict and evaluate --------------------------------------------------


@main.command()
@click.option("--model", "model_path", required=True, metavar="FILE", help="A model.json written by train.")
@click.option("--data", required=True, metavar="FILE", help="CSV or Parquet file of examples.")
@click.option("--out", default="predictions.csv", show_default=True, metavar="FILE",
              help="Output CSV; '-' for stdout.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def predict(model_path, data, out, quiet):
    """Write the predicted label and the class probabilities of every row.

    Two classes: the columns prediction and probability (of the second,
    positive class). More classes: prediction and proba_<label> for every
    class, in the model's order; each row's probabilities sum to 1.

    Columns the model was not trained on (such as the target) are ignored when
    the model knows its feature names.
    """
    model = load_model(model_path)
    X = _model_features(model, read_table(data))
    predictions = _prediction_table(model, X)
    csv = predictions.to_csv(index=False)
    if out == "-":
        click.echo(csv, nl=False)
        return
    atomic_write_bytes(out, csv.encode("utf-8"))
    if not quiet:
        classes = model.classes_
        if classes.size == 2:
            what = f"probability = P(y = {_label(classes[1])!r})"
        else:
            what = f"proba_<label> = P(y = label) for the {classes.size} classes"
        click.echo(f"Wrote {len(predictions)} predictions to {out} ({what})")


@main.command()
@click.option("--model", "model_path", required=True, metavar="FILE", help="A model.json written by train.")
@click.option("--data", required=True, metavar="FILE", help="CSV or Parquet file with features and labels.")
@click.option("--target", required=True, metavar="COLUMN", help="The label column of --data.")
@click.option("--out", default=None, metavar="FILE", help="Also write the metrics as JSON here.")
def evaluate(model_path, data, target, out):
    """Print accuracy, log-loss and ROC AUC of a saved model on labelled data.

    With more than two classes, ROC AUC is the macro average of each class
    against the rest; it is undefined unless every class appears in the data.
    """
    model = load_model(model_path)
    features, y = split_target(read_table(data), target, source=Path(data).name)
    validate_known_labels(y, model.classes_)
    scores = _scores(model, _model_features(model, features), y)
    for name, value in scores.items():
        click.echo(f"{name}: {_undefined_roc_auc(model.classes_) if value is None else f'{value:.6f}'}")
    if out is not None:
        atomic_write_bytes(out, _json_bytes({"data": str(data), "n_examples": len(y), **scores}))


# -- explain ---------------------------------------------------------------

# Nonzero on purpose: at the lecture's starting point w = 0, b = 0, every
# example has z = 0 and a = 0.5, which hides what the loop does.
_EXPLAIN_W = (0.5, -0.25)
_EXPLAIN_B = 0.1
_EXPLAIN_FEATURES = ("mean radius", "mean texture")


@main.command()
@click.option("--examples", "m", type=click.IntRange(2, 50), default=5, show_default=True,
              help="How many examples to loop over.")
@click.option("--seed", type=int, default=0, show_default=True, help="Which examples (stratified draw).")
def explain(m, seed):
    """One step of the lecture's for-loop next to the vectorized kernel.

    On a few standardized examples with two features, prints z, a, L and dz
    per example, then J, dw and db from the loop
    (logitdescent.reference.loss_and_grad) and from the vectorized
    logitdescent.loss_and_grad, and checks that they agree.
    """
    X, y = _explain_slice(m, seed)
    w, b = list(_EXPLAIN_W), _EXPLAIN_B
    click.echo(
        f"{m} examples, x1 = {_EXPLAIN_FEATURES[0]!r}, x2 = {_EXPLAIN_FEATURES[1]!r} (standardized); "
        f"w = {w}, b = {b}\n"
    )
    click.echo(f"{'i':>3} {'x1':>9} {'x2':>9} {'y':>3} {'z':>9} {'a':>9} {'L':>9} {'dz':>9}")
    for i, (x, y_i) in enumerate(zip(X.tolist(), y.tolist()), start=1):
        z = w[0] * x[0] + w[1] * x[1] + b
        a = reference.sigmoid(z)
        L = -(y_i * reference.log_sigmoid(z) + (1 - y_i) * reference.log_sigmoid(-z))
        dz = a - y_i
        click.echo(f"{i:>3} {x[0]:>9.4f} {x[1]:>9.4f} {y_i:>3.0f} {z:>9.4f} {a:>9.4f} {L:>9.4f} {dz:>9.4f}")

    J_loop, dw_loop, db_loop = reference.loss_and_grad(w, b, X.tolist(), y.tolist())
    J_vec, dw_vec, db_vec = loss_and_grad(np.array(w), b, X, y)
    rows = [
        ("J", J_loop, J_vec),
        ("dw1", dw_loop[0], dw_vec[0]),
        ("dw2", dw_loop[1], dw_vec[1]),
        ("db", db_loop, db_vec),
    ]
    click.echo(f"\n{'':>4} {'for-loop (reference)':>22} {'vectorized (kernel)':>22}")
    for name, loop_value, vec_value in rows:
        click.echo(f"{name:>4} {loop_value:>22.15f} {float(vec_value):>22.15f}")
    gap = max(abs(loop_value - float(vec_value)) for _, loop_value, vec_value in rows)
    if gap > 1e-12:
        raise click.ClickException(f"the loop and the vectorized kernel disagree by {gap:.3g}")
    click.echo(f"\nLargest difference {gap:.1e}: the loop and the vectorized code agree.")
    click.echo("J = mean of L, dw = X^T dz / m, db = mean of dz, with dz = a - y.")


def _explain_slice(m, seed):
    """``m`` standardized examples of two built-in features, both classes present."""
    X, y = load_builtin(_BUILTIN)
    X_small, _, y_small, _ = train_test_split(
        X[list(_EXPLAIN_FEATURES)], y, train_size=m, stratify=y, random_state=seed
    )
    return StandardScaler().fit_transform(X_small), y_small.to_numpy(dtype=np.float64)
