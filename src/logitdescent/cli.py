"""The ``logitdescent`` command line: train, predict, evaluate, explain.

The CLI only loads data, calls the estimator's public API, and writes files;
it never touches a solver or the compiled kernel. Every training flag maps
one-to-one onto a :class:`~logitdescent.LogisticRegression` parameter (the
deprecated ``--penalty`` is an alias of ``--l1-ratio`` and ``--C``); the
defaults, the accepted values and the notes about flags a fit ignores all come
from the estimator's own table of parameter constraints. Targets with more than
two classes fit the multinomial model; ``explain`` stays binary.

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
import numbers
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
from sklearn.utils._param_validation import Interval, StrOptions
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
from .estimator import PARAMETER_CONSTRAINTS, LogisticRegression, resolve_penalty
from .kernel import loss_and_grad, warm_up
from .persistence import ModelFileError, atomic_write_bytes, load_model, model_to_bytes
from .plots import render_learning_curve

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


class _Constrained(click.ParamType):
    """A flag's value that meets one of an estimator parameter's constraints.

    For parameters that take both numbers and words (``--learning-rate``:
    a positive float or "auto").
    """

    def __init__(self, constraints):
        self.constraints = constraints
        self.words = _words(constraints)
        kinds = ["INTEGER" if c.type is numbers.Integral else "FLOAT" for c in constraints if isinstance(c, Interval)]
        self.name = "|".join([*kinds, *self.words])

    def convert(self, value, param, ctx):
        if not isinstance(value, str):  # a default, already the estimator's value
            return value
        if value in self.words:
            return value
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not any(isinstance(c, Interval) and c.is_satisfied_by(number) for c in self.constraints):
            described = " or ".join([str(c) for c in self.constraints if isinstance(c, Interval)]
                                    + [repr(word) for word in self.words])
            self.fail(f"{value!r} is not {described}", param, ctx)
        return number


def _words(constraints):
    """The words a parameter accepts, None spelled "none"; hidden options left out."""
    # Hidden(StrOptions(...)) is not a StrOptions: penalty's internal default stays out.
    words = [option for c in constraints if isinstance(c, StrOptions) for option in sorted(c.options)]
    return words + (["none"] if None in constraints else [])


def _flag_type(name):
    """The click type of the flag for the estimator parameter ``name``, from its constraints."""
    constraints = PARAMETER_CONSTRAINTS[name]
    intervals = [c for c in constraints if isinstance(c, Interval)]
    if not intervals:
        return click.Choice(_words(constraints))
    if len(constraints) > 1:
        return _Constrained(constraints)
    (interval,) = intervals
    bounds = dict(min=interval.left, max=interval.right,
                  min_open=interval.closed in ("right", "neither"), max_open=interval.closed in ("left", "neither"))
    if interval.type is numbers.Integral:
        return click.IntRange(**bounds)
    if bounds["max"] == math.inf and not bounds["max_open"]:  # click compares with <=: no bound is the same
        bounds["max"] = None
    return _Float(**bounds)


def _flag(name):
    """The command-line spelling of the estimator parameter ``name``."""
    return "--" + name.replace("_", "-")


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
@click.option("--solver", type=_flag_type("solver"), default=_DEFAULTS["solver"], show_default=True)
@click.option("--C", "C", type=_flag_type("C"), default=_DEFAULTS["C"],
              show_default=True, help="Inverse regularization strength; 'inf' for none.")
@click.option("--l1-ratio", type=_flag_type("l1_ratio"), default=_DEFAULTS["l1_ratio"], show_default=True,
              help="The penalty's mix, as in scikit-learn: 0 is L2, 1 is L1, between an elastic net.")
@click.option("--penalty", type=_flag_type("penalty"), default=None,
              help="Deprecated alias, as in scikit-learn: l2 is --l1-ratio 0, l1 is --l1-ratio 1, "
                   "elasticnet takes --l1-ratio, none is --C inf.")
@click.option("--coef-bounds", type=(_Float(), _Float()), default=_DEFAULTS["coef_bounds"],
              metavar="LOW HIGH", callback=_check_bounds,
              help="Bounds on every coefficient (not the intercept); '-inf' or 'inf' leaves a side open.")
@click.option("--learning-rate", type=_flag_type("learning_rate"), default=_DEFAULTS["learning_rate"],
              show_default=True, help="The lecture's alpha, for --solver gd (and the first step of sgd).")
@click.option("--max-iter", type=_flag_type("max_iter"), default=_DEFAULTS["max_iter"], show_default=True)
@click.option("--tol", type=_flag_type("tol"), default=_DEFAULTS["tol"], show_default=True,
              help="Stop when max |gradient| <= tol.")
@click.option("--batch-size", type=_flag_type("batch_size"), default=_DEFAULTS["batch_size"], show_default=True,
              help="Rows per mini-batch, for --solver sgd.")
@click.option("--class-weight", type=_flag_type("class_weight"), default="none", show_default=True)
@click.option("--no-intercept", is_flag=True, help="Fit without the bias b.")
@click.option("--print-every", type=click.IntRange(min=0), default=100, show_default=True,
              help="Print the cost every K iterations; 0 never.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def train(data, target, out_dir, test_size, seed, print_every, quiet, **flags):
    """Fit a standardized logistic regression and save model, metrics and plot."""
    if (data is None) != (target is None):
        raise click.UsageError("--data and --target go together: --data FILE --target COLUMN")
    # Each flag's value was checked by its type (the estimator's constraints);
    # what they mean together is checked here, before any data is read.
    try:
        classifier = LogisticRegression(**_estimator_params(**flags))
        ignored = classifier.ignored_params()
    except ValueError as exc:
        raise click.UsageError(f"--penalty contradicts --l1-ratio or --C: {exc}") from exc
    if not quiet:
        _warn_unused_flags(click.get_current_context(), ignored)
    X, y = load_builtin(_BUILTIN) if data is None else load_dataset(data, target)
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


def _warn_unused_flags(ctx, ignored):
    """A note for each flag given on the command line that the fit ignores.

    ``ignored`` is the estimator's ``ignored_params()``: ``{name: (other, condition)}``.
    """
    for name, (other, condition) in ignored.items():
        if name in ctx.params and _given(ctx, name):
            _warn(f"{_flag(name)} is ignored unless {_flag(other)} is {condition}")


def _render_curves(classifier, dataset_name):
    """The learning-curve PNG."""
    title = f"Learning curve ({classifier.solver_}, {dataset_name})"
    return render_learning_curve(classifier.loss_curve_, title=title)


def _training_metrics(model, train, test, fit_time):
    """What ``metrics.json`` records about a fitted pipeline and its split.

    ``multiclass`` is None for two classes, else "multinomial" (the model
    fitted). ``final_cost`` is the cost the fit minimized. ``n_nonzero_coef``
    counts the coefficients an L1 penalty left nonzero.
    """
    (X_train, y_train), (X_test, y_test) = train, test
    classifier = model.named_steps["classifier"]
    return {
        "classes": classifier.classes_.tolist(),
        "n_classes": int(classifier.classes_.size),
        "multiclass": None if classifier.classes_.size == 2 else "multinomial",
        "n_train": len(y_train),
        "n_test": len(y_test),
        "n_features": int(classifier.n_features_in_),
        "solver": classifier.solver_,
        "converged": bool(classifier.converged_),
        "n_iter": int(classifier.n_iter_),
        "final_cost": float(classifier.loss_curve_[-1]),
        "n_nonzero_coef": int(np.count_nonzero(classifier.coef_)),
        "fit_time_s": round(fit_time, 6),
        "train_accuracy": float(accuracy_score(y_train, model.predict(X_train))),
        **{f"test_{name}": value for name, value in _scores(model, X_test, y_test).items()},
    }


def _estimator_params(*, solver, C, penalty, l1_ratio, coef_bounds, learning_rate, max_iter,
                      tol, batch_size, class_weight, no_intercept):
    """Training flags to ``LogisticRegression`` parameters, one to one.

    ``--penalty``, scikit-learn's deprecated alias, becomes the ``C`` and
    ``l1_ratio`` it means (a ValueError if it contradicts them).
    """
    if penalty is not None:
        C, l1_ratio = resolve_penalty(None if penalty == "none" else penalty, C, l1_ratio)
    return {
        "solver": solver,
        "C": C,
        "l1_ratio": l1_ratio,
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
def _progress(max_iter, print_every, quiet):
    """A ``callback(iteration, cost)`` driving a tqdm bar and the cost printout."""
    # disable=None: no bar when stderr is not a terminal (logs, CI, pipes).
    bar = tqdm(total=max_iter, desc="fit", unit="it", file=sys.stderr, leave=False,
               disable=True if quiet else None)

    def callback(iteration, cost):
        bar.update(max(0, iteration - bar.n))
        if not quiet and print_every and iteration % print_every == 0:
            # tqdm.write keeps the bar from tearing the line in a terminal.
            tqdm.write(f"Cost after iteration {iteration}: {cost:.6f}", file=sys.stdout)

    try:
        yield callback
    finally:
        bar.close()


def _compile_kernel():
    """Compile (or load from Numba's cache) the kernel before the fit is timed.

    The first run on a machine compiles it for most of a minute; a terminal
    is told so after a second, and the reported fit time leaves it out.
    Without Numba there is nothing to compile and ``warm_up`` returns at once.
    """
    notice = threading.Timer(1.0, click.echo, args=(
        f"{PROG}: compiling the kernel (once per machine; up to a minute)...",), kwargs={"err": True})
    if sys.stderr.isatty():
        notice.start()
    try:
        warm_up()
    finally:
        notice.cancel()


def _fit(model, X, y, *, print_every, quiet):
    """Fit ``model``; returns the wall time in seconds.

    Warnings (e.g. scikit-learn's ConvergenceWarning) become one-line notes.
    """
    classifier = model.named_steps["classifier"]
    _compile_kernel()
    with _progress(classifier.max_iter, print_every, quiet) as callback, \
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
    model = "" if metrics["multiclass"] is None else f" (multinomial, {metrics['n_classes']} classes)"
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
