"""The ``logitdescent`` command line: train, predict, evaluate, explain, bench.

The CLI only loads data, calls the estimator's public API, and writes files;
it never touches a solver or the compiled kernel. Every training flag maps
one-to-one onto a :class:`~logitdescent.LogisticRegression` parameter (the
deprecated ``--penalty`` is an alias of ``--l1-ratio`` and ``--C``); the
defaults, the accepted values and the notes about flags a fit ignores all come
from the estimator's own table of parameter constraints. Targets with more than
two classes fit the multinomial model; ``explain`` stays binary.

Exit status: 0 success; 1 failure (a fit that fails or diverges, a file that
cannot be written); 2 bad usage or input (a flag, a missing or malformed data
or model file); 130 interrupted (Ctrl-C). Every failure prints one line on
stderr, ``logitdescent: error: <message>``, without a traceback.

Nothing is written before the data is validated and the model fitted. The
files of one ``train`` run are written as a set: each is staged beside its
destination, then all are renamed into place, and a failure at any point puts
back the files that were there, so a failed or interrupted run leaves the
output folder exactly as it was. Outputs that are not regular files (devices,
named pipes, ``-`` for stdout) are streamed to, never replaced.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import io
import json
import math
import numbers
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import click
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval, StrOptions
from tqdm import tqdm

from . import __version__, reference
from .data import (
    DataError,
    check_magnitude,
    features_for_model,
    load_builtin,
    load_dataset,
    read_table,
    split_target,
    validate_features,
    validate_known_labels,
)
from .estimator import PARAMETER_CONSTRAINTS, LogisticRegression, resolve_penalty
from .kernel import loss_and_grad, warm_up
from .persistence import (
    ModelFileError, atomic_write_bytes, fsync_directory, load_model, load_model_metadata, model_to_bytes,
)
from .plots import render_decision_boundary, render_evaluation, render_learning_curve, render_learning_curves

__all__ = ["EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "main"]

PROG = "logitdescent"
_DEFAULTS = LogisticRegression().get_params()
_BUILTIN = "breast_cancer"

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C

_EXIT_CODES_HELP = (
    "\b\nExit status: 0 ok, 1 failure (a fit that fails or diverges, a file that "
    "cannot be written), 2 bad usage or input, 130 interrupted (Ctrl-C)."
)

# The files ``train`` writes; one it did not write this time (a decision
# boundary for other data, a summary not asked for, a finished checkpoint)
# is removed with the same all-or-nothing swap, so the folder never mixes runs.
_TRAIN_FILES = ("model.json", "metrics.json", "learning_curve.png", "decision_boundary.png", "summary.csv")
_CHECKPOINT = "checkpoint.json"
_CHECKPOINT_FORMAT = "logitdescent-checkpoint"

# The decision threshold a model file may carry in a free-form metadata slot
# (none exists in format 3; see _stored_threshold).
_DEFAULT_THRESHOLD = 0.5


# -- one-line errors -------------------------------------------------------


def _fail(message, exit_code):
    # Messages from scikit-learn or pandas may span lines; the contract is one.
    click.echo(f"{PROG}: error: {' '.join(str(message).split())}", err=True)
    sys.exit(exit_code)


def _warn(message):
    click.echo(f"{PROG}: warning: {' '.join(str(message).split())}", err=True)


def _note(message):
    click.echo(f"{PROG}: note: {' '.join(str(message).split())}", err=True)


def _describe_os_error(exc):
    where = f": {exc.filename!r}" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


class _Failure(click.ClickException):
    """The command ran but could not do its job (exit status 1)."""

    exit_code = EXIT_FAILURE


class _BadInput(click.ClickException):
    """Input the command cannot use, found after parsing (exit status 2)."""

    exit_code = EXIT_USAGE


class _Interrupted(click.ClickException):
    """Ctrl-C (exit status 130); the message says what was saved, if anything."""

    exit_code = EXIT_INTERRUPTED


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
            sys.exit(EXIT_OK)
        except click.UsageError as exc:
            _fail(exc.format_message() + f" (see '{self._command_path(exc, args)} --help')", EXIT_USAGE)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except (DataError, ModelFileError) as exc:
            _fail(exc, EXIT_USAGE)
        except OSError as exc:
            _fail(_describe_os_error(exc), EXIT_FAILURE)
        except (KeyboardInterrupt, click.Abort):
            _fail("interrupted; nothing was written or replaced", EXIT_INTERRUPTED)
        # standalone_mode=False returns the exit code of --help/--version.
        sys.exit(rv if isinstance(rv, int) else EXIT_OK)

    def invoke(self, ctx):
        # click answers Ctrl-C with an empty line and Abort; one line is the contract.
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _Interrupted("interrupted; nothing was written or replaced") from None

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


def _spread_values(args, flag):
    """``--flag a b c`` as ``--flag a --flag b --flag c``, for a flag that takes several values.

    click options take one value per occurrence; the lecture's comparison
    reads better with the rates after a single flag. Values are the tokens
    after the flag up to the next one that starts with ``-``.
    """
    spread, i = [], 0
    while i < len(args):
        token = args[i]
        spread.append(token)
        i += 1
        if token == flag and i < len(args):
            spread.append(args[i])
            i += 1
            while i < len(args) and not args[i].startswith("-"):
                spread += [flag, args[i]]
                i += 1
    return spread


class _TrainCommand(click.Command):
    """``train``: ``--learning-rate`` takes one or more values after one flag."""

    def parse_args(self, ctx, args):
        return super().parse_args(ctx, _spread_values(list(args), "--learning-rate"))


@click.group(cls=_OneLineErrors, epilog=_EXIT_CODES_HELP)
@click.version_option(__version__, prog_name=PROG)
def main():
    """logitdescent: logistic regression by gradient descent, from the lecture to fast software.

    \b
    Examples:
      logitdescent train --learning-rate 0.01 0.001 0.0001 --out lr-comparison
      logitdescent predict --model logitdescent-out/model.json --data new.parquet --out -
      logitdescent bench vectorization
    """


# -- shared helpers --------------------------------------------------------


def _json_bytes(obj):
    return (json.dumps(obj, indent=2, allow_nan=False) + "\n").encode("utf-8")


def _emit_json(obj):
    """One JSON object on stdout, the whole of stdout in ``--json`` mode."""
    click.echo(json.dumps(obj, allow_nan=False))


def _scores(model, X, y, offset=None):
    """Accuracy, log-loss and ROC AUC of ``model`` on ``(X, y)`` (with ``offset``, if the model takes one).

    With more than two classes, ROC AUC is the macro average of each class
    against the rest. It is None (undefined) unless every class of the model
    appears in ``y``.
    """
    classes = model.classes_
    proba = _checked_proba(model, X, offset)
    y = np.asarray(y)
    every_class = np.isin(classes, y).all()
    if classes.size == 2:
        roc_auc = roc_auc_score(y == classes[1], proba[:, 1]) if every_class else None
    else:
        roc_auc = roc_auc_score(y, proba, multi_class="ovr", labels=classes) if every_class else None
    return {
        "accuracy": float(accuracy_score(y, _predict(model, X, offset))),
        "log_loss": float(log_loss(y, proba, labels=classes)),
        "roc_auc": None if roc_auc is None else float(roc_auc),
    }


def _predict(model, X, offset=None):
    """``model.predict``, passing ``offset`` to the classifier only when there is one."""
    return model.predict(X) if offset is None else model.predict(X, offset=offset)


def _checked_proba(model, X, offset=None):
    """``predict_proba``, refusing to report NaN the user did not supply."""
    with np.errstate(all="ignore"):
        proba = model.predict_proba(X) if offset is None else model.predict_proba(X, offset=offset)
    if not np.all(np.isfinite(proba)):
        rows = np.flatnonzero(~np.isfinite(proba).all(axis=1))
        raise DataError(
            f"the model's probabilities overflow for {rows.size} rows (the first is row {rows[0] + 1}): "
            "their feature values are too large in magnitude for this model; rescale them"
        )
    return proba


def _undefined_roc_auc(classes):
    return "undefined (one class only)" if len(classes) == 2 else "undefined (not every class is present)"


def _label(value):
    """A label as a plain Python value: ``'a'`` and ``3`` in messages, not ``np.str_('a')``."""
    return value.item() if isinstance(value, np.generic) else value


def _probability_columns(classes):
    """``proba_<label>`` for every class, in the order of ``classes``."""
    return [f"proba_{label}" for label in classes.tolist()]


def _prediction_table(model, X, threshold, offset=None):
    """The predicted label and one ``proba_<label>`` column per class.

    Two classes: the label is ``classes_[1]`` where its probability exceeds
    ``threshold`` (0.5 gives ``model.predict``). More classes: the most
    probable label (``threshold`` is None).
    """
    proba = _checked_proba(model, X, offset)
    classes = model.classes_
    if classes.size == 2:
        prediction = np.where(proba[:, 1] > threshold, classes[1], classes[0])
    else:
        prediction = _predict(model, X, offset)
    table = {"prediction": prediction}
    table.update(zip(_probability_columns(classes), proba.T))
    return pd.DataFrame(table)


def _load_model(path):
    """:func:`load_model`, with a missing file or a folder as bad input (exit status 2)."""
    path = Path(path)
    if not path.exists():
        raise _BadInput(f"model file not found: {str(path)!r}; check the --model path")
    if not path.is_file():
        raise _BadInput(f"model path {str(path)!r} is not a file; give the model.json that train wrote")
    return load_model(path)


def _stored_threshold(path):
    """The decision threshold the model file carries (``train --threshold``), else 0.5."""
    return load_model_metadata(path).get("decision_threshold", _DEFAULT_THRESHOLD)


def _model_metadata(model, offset=None):
    """What ``train`` stores beside the model: the ``--threshold`` and the ``--offset`` column, if given."""
    threshold = click.get_current_context().meta.get("decision_threshold")
    metadata = {} if offset is None else {"offset_column": offset}
    if threshold is None:
        return metadata or None
    if model.classes_.size != 2:
        raise click.UsageError(f"--threshold applies to two classes; this target has {model.classes_.size}")
    return {**metadata, "decision_threshold": threshold}


def _pop_offset(frame, column, target=None, stored=False):
    """``(frame without column, its values as float64)``; a DataError naming the problem otherwise.

    ``stored``: the column comes from the model file, not from the command line.
    """
    if column == target:
        raise DataError(f"--offset {column!r} is the --target column; name another column")
    if column not in frame.columns:
        why = f"the model was trained with --offset {column!r}, but " if stored else ""
        raise DataError(f"{why}the data has no offset column {column!r}; columns: "
                        f"{', '.join(map(repr, list(frame.columns)[:10]))}")
    values = validate_features(frame[[column]])[column].to_numpy(dtype=np.float64)
    return frame.drop(columns=[column]), values


def _stored_offset_column(path):
    """The ``--offset`` column a model file was trained with, or None."""
    return load_model_metadata(path).get("offset_column")


def _remember_threshold(ctx, param, value):
    ctx.meta["decision_threshold"] = value
    return value


def _model_features(model, frame, target=None, quiet=False):
    """The columns of ``frame`` that ``model`` was fitted on, matched by name, validated.

    Columns the model does not know (the target among them) are ignored and,
    unless ``quiet``, listed once on stderr.
    """
    names = getattr(model, "feature_names_in_", None)
    X = features_for_model(frame, feature_names=names, n_features=model.n_features_in_, target=target)
    if names is not None:
        extra = [c for c in frame.columns if c not in set(names) and c != target]
        if extra and not quiet:
            shown = ", ".join(repr(c) for c in extra[:10]) + (f", ... ({len(extra)} in all)" if len(extra) > 10 else "")
            _note(f"ignoring {len(extra)} column(s) the model was not trained on: {shown}")
    # A model fitted on a bare array would warn about named columns.
    return X if names is not None else X.to_numpy()


def _write_file(out, data, option="--out"):
    """Write ``data`` to ``out``: atomically for a regular file or a new path, streamed otherwise.

    ``-`` is stdout. A device or a named pipe is opened and written to (an
    atomic rename would replace it with a regular file). A folder, or a
    destination whose folder is missing or unwritable, is an error naming
    ``option``.
    """
    if str(out) == "-":
        sys.stdout.flush()  # text already echoed goes first
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return "stdout"
    path = Path(out)
    if path.is_dir():
        raise _BadInput(f"{option} {str(path)!r} is a folder; give a file name")
    if path.exists() and not path.is_file():
        with open(path, "wb") as stream:
            stream.write(data)
        return str(path)
    if not path.parent.is_dir():
        raise _BadInput(f"{option} {str(path)!r}: the folder {str(path.parent)!r} does not exist")
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        # The temporary file's name would only confuse: name the destination.
        raise _Failure(f"cannot write {option} {str(path)!r}: {exc.strerror or exc}") from exc
    return str(path)


def _write_set(out_dir, outputs):
    """Write ``{name: bytes or None}`` into ``out_dir`` all or nothing; None removes ``name``.

    Every new file is staged (written and fsynced) beside its destination,
    the files it replaces are kept as hard links, then the staged files are
    renamed into place. A failure or an interrupt at any point (a full disk
    while staging, a destination that is a folder) puts back what was there,
    removes the staged files, and removes ``out_dir`` if this call created it.

    Returns
    -------
    paths : list of Path
        The files written.
    """
    out_dir = Path(out_dir)
    for name in outputs:
        target = out_dir / name
        if (target.exists() or target.is_symlink()) and not target.is_file():
            raise _Failure(f"cannot write {str(target)!r}: it exists and is not a regular file")
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    staged, backups, placed = {}, {}, []
    try:
        for name, content in outputs.items():
            if content is None:
                continue
            fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{name}.", suffix=".tmp")
            staged[name] = tmp
            with os.fdopen(fd, "wb") as f:
                f.write(content)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o666 & ~_umask())
        for name in outputs:
            target = out_dir / name
            if target.exists():
                backup = out_dir / f".{name}.{os.getpid()}.{secrets.token_hex(4)}.old"
                os.link(target, backup)
                backups[name] = backup
        for name in outputs:
            target = out_dir / name
            if name in staged:
                os.replace(staged[name], target)
                del staged[name]
            elif target.exists():
                os.unlink(target)
            placed.append(name)
    except BaseException:
        for name in reversed(placed):
            with contextlib.suppress(OSError):
                if name in backups:
                    os.replace(backups.pop(name), out_dir / name)
                else:
                    os.unlink(out_dir / name)
        for leftover in [*staged.values(), *backups.values()]:
            with contextlib.suppress(OSError):
                os.unlink(leftover)
        if created:
            with contextlib.suppress(OSError):
                out_dir.rmdir()
        raise
    for backup in backups.values():
        with contextlib.suppress(OSError):
            os.unlink(backup)
    fsync_directory(out_dir)
    return [out_dir / name for name, content in outputs.items() if content is not None]


def _umask():
    umask = os.umask(0)  # the only portable way to read the umask
    os.umask(umask)
    return umask


# -- Dask: data that live in many files, fitted on a cluster ----------------

#: Seconds to wait for the scheduler of ``--scheduler`` before giving up.
_SCHEDULER_CONNECT_TIMEOUT = 10
_GLOB_CHARACTERS = frozenset("*?[")


def _cluster_options(command):
    """``--workers N`` and ``--scheduler ADDRESS``, shared by train and predict."""
    command = click.option(
        "--scheduler", metavar="ADDRESS", default=None,
        help="Run on the running Dask cluster whose scheduler is at ADDRESS (e.g. tcp://10.0.0.1:8786); "
             "--data is read with dask.dataframe.")(command)
    return click.option(
        "--workers", type=click.IntRange(min=1), default=None, metavar="N",
        help="Start a local Dask cluster of N worker processes for this run (closed at the end); "
             "--data is read with dask.dataframe.")(command)


def _check_cluster_flags(workers, scheduler):
    if workers is not None and scheduler is not None:
        raise click.UsageError("--workers starts a local cluster and --scheduler names a running one: "
                               "give one of them")


def _on_dask(data, workers, scheduler):
    """Whether the run reads ``--data`` with dask.dataframe: a folder, a glob, or a cluster flag."""
    if workers is not None or scheduler is not None:
        return True
    return data is not None and (Path(data).is_dir() or not _GLOB_CHARACTERS.isdisjoint(str(data)))


def _refuse_for_dask(ctx, rates, summary, checkpoint, resume, target, offset=None):
    """The train flags that need the data in this process, refused for Dask input."""
    needs_memory = [flag for flag, given in (("--summary", summary), ("--checkpoint", checkpoint),
                                             ("--resume", resume is not None), ("--offset", offset is not None),
                                             ("several --learning-rate values", len(rates) > 1)) if given]
    if needs_memory:
        raise click.UsageError(f"{', '.join(needs_memory)} cannot be used with Dask input (a folder or glob as "
                               "--data, --workers or --scheduler): they need the data in this process")
    if ctx.params.get("data") is None or target is None:
        raise click.UsageError("Dask input needs --data (a folder, a glob or a file) and --target COLUMN")


def _dask_modules():
    """``(dask, dask.dataframe, logitdescent.backends.dask)``, imported only for Dask input."""
    try:
        import dask
        import dask.dataframe as dd

        from .backends import dask as dask_backend
    except ImportError as exc:
        raise _BadInput(f"Dask input needs Dask ({exc}); install it with pip install 'logitdescent[dask]'") from exc
    return dask, dd, dask_backend


@contextlib.contextmanager
def _dask_client(workers, scheduler):
    """The Client of ``--workers`` (a LocalCluster started here) or ``--scheduler``, closed on exit.

    Neither flag: no Client, Dask's default scheduler (threads) runs the graph.
    """
    if workers is None and scheduler is None:
        yield None
        return
    _dask_modules()
    import logging

    import distributed

    cluster = None
    try:
        if workers is not None:
            # One thread per worker process: the kernel's parallelism is one
            # chunk task per worker thread (see backends/dask.py). Dashboard
            # on a free port: the default 8787 may be another cluster's.
            cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                               dashboard_address=":0", silence_logs=logging.ERROR)
            client = distributed.Client(cluster, set_as_default=True)
        else:
            client = distributed.Client(scheduler, timeout=_SCHEDULER_CONNECT_TIMEOUT, set_as_default=True)
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        what = f"start {workers} local Dask workers" if workers is not None else \
            f"connect to the Dask scheduler at --scheduler {scheduler!r}"
        raise _Failure(f"cannot {what}: {' '.join(str(exc).split()) or type(exc).__name__}") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _data_kind(path):
    suffixes = [s.lower() for s in path.suffixes]
    if ".csv" in suffixes:
        return "csv"
    return "parquet" if suffixes and suffixes[-1] in (".parquet", ".pq") else None


def _data_files(data):
    """The files ``--data`` names (a file, a folder's files, a glob's matches) and their one kind."""
    path = Path(data)
    if path.is_dir():
        # Hidden and underscore files are bookkeeping (_SUCCESS, _metadata, .crc).
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith((".", "_")))
        if not files:
            raise DataError(f"--data {str(data)!r} is a directory, not a data file, and holds no Parquet or CSV "
                            "files; give a file, or a folder or glob of .parquet/.csv files")
    elif not _GLOB_CHARACTERS.isdisjoint(str(data)):
        files = sorted(Path(p) for p in glob.glob(str(data)) if Path(p).is_file())
        if not files:
            raise DataError(f"--data {str(data)!r} matches no file; check the pattern (quote it for the shell)")
    elif path.is_file():
        files = [path]
    else:
        raise DataError(f"data file not found: {str(data)!r}; check the path")
    kinds = {_data_kind(f) for f in files}
    if None in kinds:
        odd = next(f for f in files if _data_kind(f) is None)
        raise DataError(f"--data {str(data)!r} includes {odd.name!r}, which is not a .parquet, .pq or .csv file")
    if len(kinds) > 1:
        raise DataError(f"--data {str(data)!r} mixes Parquet and CSV files; give files of one kind")
    return [str(f) for f in files], kinds.pop()


def _read_dask_table(data):
    """``--data`` as a Dask DataFrame (one partition per Parquet file or CSV block), column names strings."""
    _, dd, _ = _dask_modules()
    files, kind = _data_files(data)
    try:
        frame = dd.read_parquet(files) if kind == "parquet" else dd.read_csv(files, encoding="utf-8-sig")
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read --data {str(data)!r}: {' '.join(str(exc).split())}") from exc
    return frame.rename(columns={c: str(c) for c in frame.columns})


def _dask_features(frame, target, data):
    """``(X, y, names)`` of a Dask DataFrame, the columns' types checked from its metadata."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if target not in frame.columns:
        raise DataError(f"target column {target!r} not found in --data {str(data)!r}; available columns: "
                        f"{', '.join(repr(c) for c in list(frame.columns)[:10])}")
    names = [c for c in frame.columns if c != target]
    if not names:
        raise DataError(f"--data {str(data)!r} has no feature columns besides the target {target!r}")
    bad = [c for c in names if not (is_numeric_dtype(frame[c].dtype) or is_bool_dtype(frame[c].dtype))]
    if bad:
        raise DataError(f"feature column(s) {', '.join(repr(c) for c in bad[:10])} are not numeric; "
                        "encode them or drop them from the files")
    return frame[names], frame[target], names


def _fitted_scaler(mean, var, n_samples, names):
    """A fitted ``StandardScaler`` holding statistics computed on the cluster.

    Its state is what ``StandardScaler().fit`` on the same rows would set
    (the scale from the variance by scikit-learn's own rule for ~zero
    variances), so the model file and in-memory prediction work unchanged.
    """
    from sklearn.preprocessing._data import _handle_zeros_in_scale

    scaler = StandardScaler()
    scaler.mean_ = np.asarray(mean, dtype=np.float64)
    scaler.var_ = np.asarray(var, dtype=np.float64)
    scaler.scale_ = _handle_zeros_in_scale(np.sqrt(scaler.var_), copy=True)
    scaler.n_samples_seen_ = int(n_samples)
    scaler.n_features_in_ = len(names)
    scaler.feature_names_in_ = np.asarray(names, dtype=object)
    return scaler


def _pick_log_proba(log_proba, codes):
    """Each row's log-probability of its own class (one block; codes of shape (rows, 1))."""
    return log_proba[np.arange(codes.shape[0]), codes[:, 0]]


def _train_on_dask(classifier, data, target, test_size, seed, out_dir, show, quiet, json_out):
    """``train`` on Dask: split, scaler statistics (one pass), fit and scores on the cluster.

    The split draws each row's side from ``--seed`` per partition (reproducible
    for the same files; not stratified). ROC AUC, which needs the test scores
    sorted in one process, is left out (null in metrics.json).
    """
    dask, _, dask_backend = _dask_modules()
    frame = _read_dask_table(data)
    X, y, names = _dask_features(frame, target, data)
    if int(y.isna().sum().compute()):  # one pass over the target column only
        raise DataError(f"target column {target!r} has missing values; drop those rows or label them")
    X_train, X_test, y_train, y_test = dask_backend.train_test_split(X, y, test_size=test_size, random_state=seed)
    X_train, y_train, _ = dask_backend.align(X_train, y_train)
    X_test, y_test, _ = dask_backend.align(X_test, y_test)
    n_train, n_test = X_train.shape[0], X_test.shape[0]
    if n_train == 0 or n_test == 0:
        raise DataError(f"the split of --test-size {test_size:g} left {n_train} training and {n_test} test rows; "
                        "use more data or another --test-size")
    mean, var = dask_backend.column_stats(X_train)
    unusable = [names[j] for j in np.flatnonzero(~(np.isfinite(mean) & np.isfinite(var)))]
    if unusable:
        raise DataError(f"feature column(s) {', '.join(repr(c) for c in unusable[:10])} hold missing (NaN) or "
                        "infinite values, or values too large to standardize; fill, drop or rescale them")
    scaler = _fitted_scaler(mean, var, n_train, names)
    start = time.perf_counter()
    caught, classifier = _fit(classifier, dask_backend.standardize(X_train, scaler.mean_, scaler.scale_),
                              y_train, show=show)
    fit_time = time.perf_counter() - start
    divergence = next((str(w.message) for w in caught if "diverged" in str(w.message)), None)
    if divergence is not None:
        raise _Failure(f"gradient descent diverged: {divergence}; nothing was written")

    def standardized(X):
        return dask_backend.standardize(X, scaler.mean_, scaler.scale_)

    _, codes = dask_backend.encode_labels(y_test, classifier.classes_)
    picked = dask.array.map_blocks(_pick_log_proba, classifier.predict_log_proba(standardized(X_test)),
                                   codes[:, None], drop_axis=1, dtype=np.float64)
    train_accuracy, test_accuracy, test_log_loss = dask.compute(
        (classifier.predict(standardized(X_train)) == y_train).mean(),
        (classifier.predict(standardized(X_test)) == y_test).mean(),
        -picked.mean(),
    )
    metrics = {
        "dataset": str(data), "target": str(target), **_fit_metrics(classifier, n_train, n_test, fit_time),
        "train_accuracy": float(train_accuracy), "test_accuracy": float(test_accuracy),
        "test_log_loss": float(test_log_loss), "test_roc_auc": None,
        "learning_rate": classifier.learning_rate, "diverged": False,
    }
    if not quiet:
        for warning in caught:
            # Dask's and pandas' deprecation notices to each other are not the user's to act on.
            if not issubclass(warning.category, (DeprecationWarning, FutureWarning)):
                _warn(warning.message)
    model = Pipeline([("scaler", scaler), ("classifier", classifier)])
    outputs = dict.fromkeys(_TRAIN_FILES)
    outputs["learning_curve.png"] = _render_curves(classifier, Path(str(data)).name)
    outputs["metrics.json"] = _json_bytes(metrics)
    outputs["model.json"] = model_to_bytes(model, metadata=_model_metadata(model))
    paths = _write_set(out_dir, outputs)
    if json_out:
        _emit_json(metrics)
    elif not quiet:
        _report_training(metrics, paths)


def _prediction_meta(classes):
    """The empty table of one partition's predictions: column names and dtypes."""
    # Text labels as pandas' string dtype: an object column's placeholder
    # metadata is not a type Parquet can write.
    label_dtype = pd.StringDtype() if classes.dtype.kind in "OUS" else classes.dtype
    return pd.DataFrame({"prediction": pd.Series([], dtype=label_dtype),
                         **{c: pd.Series([], dtype=np.float64) for c in _probability_columns(classes)}})


def _predict_partition(partition, model, threshold, names):
    """One partition's prediction table, by the in-memory code path (same numbers as predict on a file)."""
    if len(partition) == 0:
        return _prediction_meta(model.classes_)
    X = validate_features(partition if names is not None else partition.set_axis(range(partition.shape[1]), axis=1))
    table = _prediction_table(model, X if names is not None else X.to_numpy(), threshold)
    label_dtype = _prediction_meta(model.classes_)["prediction"].dtype
    return table.astype({"prediction": label_dtype})


def _predict_on_dask(model, model_path, data, out, threshold, json_out, quiet):
    """``predict`` on Dask: each partition predicted where it lives, written as one part file.

    The folder ``out`` is written beside its destination first and renamed
    into place (replacing an earlier prediction folder) only once complete.
    """
    dask, _, _ = _dask_modules()
    frame = _read_dask_table(data)
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise DataError(f"the data lacks {len(missing)} feature columns the model was trained on: "
                            f"{', '.join(repr(c) for c in missing[:10])}; give files with the training columns")
        extra = [c for c in frame.columns if c not in set(names)]
        if extra and not quiet:
            _note(f"ignoring {len(extra)} column(s) the model was not trained on: "
                  + ", ".join(repr(c) for c in extra[:10]))
        X = frame[list(names)]
    else:
        if len(frame.columns) != model.n_features_in_:
            raise DataError(f"the data has {len(frame.columns)} feature columns but the model expects "
                            f"{model.n_features_in_}; give files with the training columns")
        X = frame
    names = None if names is None else list(names)
    predictions = X.map_partitions(_predict_partition, model, threshold, names, meta=_prediction_meta(model.classes_))
    parquet = out.suffix.lower() in (".parquet", ".pq")
    if out.exists() and not out.is_dir():
        raise _BadInput(f"--out {str(out)!r} is a file; Dask input is predicted into a folder of part files")
    if not out.parent.is_dir():
        raise _BadInput(f"--out {str(out)!r}: the folder {str(out.parent)!r} does not exist")
    staging = out.parent / f".{out.name}.{secrets.token_hex(4)}.tmp"
    try:
        if parquet:
            writes = predictions.to_parquet(str(staging), write_index=False, compute=False)
        else:
            staging.mkdir()
            writes = predictions.to_csv(str(staging / "part-*.csv"), index=False, compute=False)
        writes = list(writes) if isinstance(writes, (list, tuple)) else [writes]
        dask.compute(*writes)
        # Counted from what was written: one column read back, instead of
        # the predictions computed a second time.
        _, dd, _ = _dask_modules()
        written = (dd.read_parquet(str(staging), columns=["prediction"]) if parquet
                   else dd.read_csv(str(staging / "part-*.csv"), usecols=["prediction"],
                                    dtype={"prediction": _prediction_meta(model.classes_)["prediction"].dtype}))
        counts = written["prediction"].value_counts().compute()
        if out.exists():
            old = out.parent / f".{out.name}.{secrets.token_hex(4)}.old"
            os.replace(out, old)
            os.replace(staging, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    classes = model.classes_
    report = {
        "model": str(model_path), "data": str(data), "out": str(out), "n_predictions": int(counts.sum()),
        "classes": classes.tolist(), "threshold": threshold,
        "counts": {str(_label(label)): int(counts.get(label, 0)) for label in classes},
    }
    if json_out:
        _emit_json(report)
    elif not quiet:
        parts = len([p for p in out.iterdir() if not p.name.startswith((".", "_"))])
        click.echo(f"Wrote {report['n_predictions']} predictions to {out} ({parts} "
                   f"{'Parquet' if parquet else 'CSV'} part files)")


# -- train -----------------------------------------------------------------

_TRAIN_EXAMPLES = """\b
Examples:
  logitdescent train --data my.csv --target label --solver gd --learning-rate 0.1 --json
  logitdescent train --learning-rate 0.01 0.001 0.0001 --max-iter 2000 --tol 0
  logitdescent train --data big.parquet --target y --checkpoint --out run1   # Ctrl-C, then:
  logitdescent train --resume run1
"""

# Flags a resumed run takes from its checkpoint: giving them again is an error.
_RUN_FLAGS = ("data", "target", "test_size", "seed", "solver", "C", "l1_ratio", "penalty", "coef_bounds",
              "learning_rate", "max_iter", "tol", "batch_size", "class_weight", "no_intercept", "summary",
              "offset")


@main.command(cls=_TrainCommand, epilog=_TRAIN_EXAMPLES + "\n" + _EXIT_CODES_HELP)
@click.option("--data", metavar="FILE",
              help="CSV or Parquet file to train on (default: the built-in breast cancer data).")
@click.option("--target", metavar="COLUMN", help="The label column of --data.")
@click.option("--offset", metavar="COLUMN",
              help="A column of --data added to every score as a known term, not fitted (an exposure, a "
                   "prior model's score; two classes). The model file names it: predict and evaluate "
                   "read the same column.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default="logitdescent-out", show_default=True,
              help="Folder for model.json, metrics.json, learning_curve.png (and decision_boundary.png "
                   "for two features, summary.csv with --summary).")
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
@click.option("--learning-rate", type=_flag_type("learning_rate"), multiple=True,
              default=(_DEFAULTS["learning_rate"],), show_default=True,
              help="The lecture's alpha, for --solver gd (and the first step of sgd). Several values "
                   "(--learning-rate 0.1 0.01) fit fixed-step gradient descent once per rate and draw "
                   "every learning curve on one figure.")
@click.option("--max-iter", type=_flag_type("max_iter"), default=_DEFAULTS["max_iter"], show_default=True)
@click.option("--tol", type=_flag_type("tol"), default=_DEFAULTS["tol"], show_default=True,
              help="Stop when max |gradient| <= tol.")
@click.option("--batch-size", type=_flag_type("batch_size"), default=_DEFAULTS["batch_size"], show_default=True,
              help="Rows per mini-batch, for --solver sgd.")
@click.option("--class-weight", type=_flag_type("class_weight"), default="none", show_default=True)
@click.option("--no-intercept", is_flag=True, help="Fit without the bias b.")
@click.option("--threshold", type=_Float(0, 1), default=None, metavar="P", expose_value=False,
              callback=_remember_threshold,
              help="Two classes: store P in the model as its decision threshold, which predict "
                   "then uses (default 0.5).")
@click.option("--summary", is_flag=True,
              help="Print the Wald table (coefficients, standard errors, p-values, intervals) on the "
                   "original feature scale and write summary.csv; needs an unpenalized fit (--C inf).")
@click.option("--checkpoint", is_flag=True,
              help="Save the last iterate to OUT/checkpoint.json every --checkpoint-every seconds and on "
                   "Ctrl-C, for --resume.")
@click.option("--checkpoint-every", type=_Float(min=0), default=10.0, show_default=True, metavar="SECONDS",
              help="How often --checkpoint saves.")
@click.option("--resume", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              help="Continue the interrupted run whose checkpoint.json is in DIR (its data and flags; "
                   "writes into DIR unless --out is given).")
@click.option("--print-every", type=click.IntRange(min=0), default=100, show_default=True,
              help="Print the cost every K iterations; 0 never.")
@click.option("--json", "json_out", is_flag=True,
              help="Print metrics.json's object on stdout, nothing else; messages go to stderr.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@_cluster_options
def train(data, target, offset, out_dir, test_size, seed, print_every, quiet, json_out, summary, checkpoint,
          checkpoint_every, resume, learning_rate, workers, scheduler, **flags):
    """Fit a standardized logistic regression and save model, metrics and plots.

    The features are standardized (StandardScaler) before the fit; the model
    file holds both steps, so predict takes the original columns. A folder or
    glob of Parquet or CSV files as --data (or --workers / --scheduler) runs
    on Dask: the split, the scaler's statistics and the fit on the cluster.
    """
    ctx = click.get_current_context()
    _check_cluster_flags(workers, scheduler)
    if _on_dask(data, workers, scheduler):
        _refuse_for_dask(ctx, learning_rate, summary, checkpoint, resume, target, offset)
        classifier = _check_flags(ctx, learning_rate, summary, checkpoint, flags)
        if not quiet:
            _warn_unused_flags(ctx, classifier.ignored_params())
        show = dict(print_every=0 if quiet else print_every, quiet=quiet,
                    stream=sys.stderr if json_out else sys.stdout)
        with _dask_client(workers, scheduler):
            return _train_on_dask(classifier, data, target, test_size, seed, out_dir, show, quiet, json_out)
    start = None
    if resume is not None:
        given = [_flag(name) for name in _RUN_FLAGS if _given(ctx, name)]
        if given:
            raise click.UsageError(f"--resume takes the data and flags of the interrupted run from its "
                                   f"checkpoint; leave out {', '.join(given)}")
        start = _read_checkpoint(resume)
        arguments = start["arguments"]
        data, target, test_size, seed = (arguments[k] for k in ("data", "target", "test_size", "seed"))
        offset = arguments.get("offset")
        classifier = LogisticRegression(**_decode(arguments["params"]))
        rates = (classifier.learning_rate,)
        if not _given(ctx, "out_dir"):
            out_dir = resume
        checkpoint = True
    else:
        if (data is None) != (target is None):
            raise click.UsageError("--data and --target go together: --data FILE --target COLUMN")
        if offset is not None and data is None:
            raise click.UsageError("--offset names a column of --data: give --data FILE --target COLUMN")
        rates = learning_rate
        classifier = _check_flags(ctx, rates, summary, checkpoint, flags)
    # Each flag's value was checked by its type (the estimator's constraints);
    # what they mean together was checked above, before any data is read.
    if not quiet and resume is None:
        _warn_unused_flags(ctx, classifier.ignored_params())
    X, y = load_builtin(_BUILTIN) if data is None else load_dataset(data, target)
    offsets = None
    if offset is not None:
        if y.nunique() != 2:
            raise DataError(f"--offset takes a two-class target (one offset per row); {target!r} has "
                            f"{y.nunique()} classes")
        X, offsets = _pop_offset(X, offset, target)
    check_magnitude(X)
    X_train, X_test, y_train, y_test, *offsets = _split(X, y, test_size, seed, offsets)
    dataset = _BUILTIN if data is None else str(data)
    arguments = {"data": None if data is None else str(Path(data).resolve()), "target": target,
                 "test_size": test_size, "seed": seed, "params": _encode(classifier.get_params()), "offset": offset}
    checkpointer = None
    if checkpoint:
        checkpointer = _Checkpointer(out_dir / _CHECKPOINT, arguments, _data_digest(data), checkpoint_every, start)
    show = dict(print_every=0 if quiet else print_every, quiet=quiet,
                stream=sys.stderr if json_out else sys.stdout)
    runs = [_train_one(classifier if len(rates) == 1 else clone(classifier).set_params(learning_rate=rate),
                       X_train, y_train, (X_test, y_test), show, checkpointer,
                       prefix="" if len(rates) == 1 else f"[learning rate {rate:g}] ", offsets=offsets)
            for rate in rates]
    usable = [run for run in runs if not run["diverged"]]
    if not usable:
        what = "every --learning-rate diverged" if len(runs) > 1 else "gradient descent diverged"
        raise _Failure(f"{what}: {runs[0]['divergence']}; nothing was written")
    best = min(usable, key=lambda run: run["metrics"]["final_cost"])
    model = best["model"]
    fitted = model.named_steps["classifier"]
    if not (np.all(np.isfinite(fitted.coef_)) and np.all(np.isfinite(fitted.intercept_))):
        raise _Failure("the fit produced non-finite coefficients; nothing was written")

    metrics = {"dataset": dataset, "target": str(y.name), **best["metrics"]}
    if offset is not None:
        metrics["offset"] = offset
    if start is not None:
        metrics["resumed_from_iteration"] = start["n_iter"]
    if len(runs) > 1:
        metrics["learning_rates"] = [{"learning_rate": run["learning_rate"], **{
            key: run["metrics"][key] for key in ("diverged", "converged", "n_iter", "final_cost",
                                                   "train_accuracy", "test_accuracy")}} for run in runs]
    table = _summary_table(model, X_train, y_train, offsets[0]) if summary else None
    if not quiet:
        for warning in best["warnings"]:
            _warn(warning.message)
        for run in runs:
            if run["diverged"] and len(runs) > 1:
                _warn(f"--learning-rate {run['learning_rate']:g} diverged: {run['divergence']}")
    # Everything is rendered before anything is written, and the set is
    # swapped in at once: a failed or interrupted run leaves the folder as it was.
    outputs = dict.fromkeys(_TRAIN_FILES)
    name = Path(dataset).name
    if len(runs) == 1:
        outputs["learning_curve.png"] = _render_curves(fitted, name)
    else:
        outputs["learning_curve.png"] = render_learning_curves(
            [(f"α = {run['learning_rate']:g}: train acc {run['metrics']['train_accuracy']:.3f}, "
              f"test acc {run['metrics']['test_accuracy']:.3f}", run["model"]["classifier"].loss_curve_,
              run["diverged"]) for run in runs],
            title=f"Learning rates compared: fixed-step gradient descent\non {name} ({len(y_train)} training examples)")
    if X.shape[1] == 2 and offset is None:  # with an offset the boundary moves from row to row
        outputs["decision_boundary.png"] = render_decision_boundary(
            model, X_train, y_train, title=f"Decision boundary of the {fitted.solver_} fit on {name} (training split)")
    outputs["metrics.json"] = _json_bytes(metrics)
    if table is not None:
        outputs["summary.csv"] = table.to_csv().encode("utf-8")
    outputs["model.json"] = model_to_bytes(model, metadata=_model_metadata(model, offset))
    if checkpoint and Path(out_dir / _CHECKPOINT).exists():
        outputs[_CHECKPOINT] = None  # the run finished: its checkpoint is spent
    paths = _write_set(out_dir, outputs)
    if table is not None and not quiet:
        click.echo(_summary_text(table), err=json_out)
    if json_out:
        _emit_json(metrics)
    elif not quiet:
        _report_training(metrics, paths)


def _check_flags(ctx, rates, summary, checkpoint, flags):
    """The classifier the flags describe; a UsageError if they contradict each other."""
    if len(rates) > 1:
        if _given(ctx, "solver") and flags["solver"] != "gd":
            raise click.UsageError("several --learning-rate values compare fixed-step gradient descent: "
                                   "use --solver gd or leave --solver out")
        if any(isinstance(rate, str) for rate in rates):
            raise click.UsageError("several --learning-rate values must all be numbers, not 'auto'")
        if summary or checkpoint:
            raise click.UsageError("--summary and --checkpoint take a single --learning-rate")
        flags = {**flags, "solver": "gd"}
    try:
        classifier = LogisticRegression(**_estimator_params(learning_rate=rates[0], **flags))
        classifier.ignored_params()
    except ValueError as exc:
        raise click.UsageError(f"--penalty contradicts --l1-ratio or --C: {exc}") from exc
    if summary and math.isfinite(classifier.C):
        raise click.UsageError(
            f"--summary needs an unpenalized fit, and --C {classifier.C:g} penalizes it (Wald intervals "
            "around penalized coefficients do not cover at their level); add --C inf")
    return classifier


def _train_one(classifier, X_train, y_train, test, show, checkpointer, prefix="", offsets=(None, None)):
    """Standardize, fit ``classifier``, score; returns a dict describing the run.

    ``offsets`` are the train and test rows' offsets (None without ``--offset``).
    """
    scaler = StandardScaler().fit(X_train)
    X_scaled = scaler.transform(X_train)
    start = time.perf_counter()
    caught, classifier = _fit(classifier, X_scaled, y_train, show=show, checkpointer=checkpointer, prefix=prefix,
                              offset=offsets[0])
    fit_time = time.perf_counter() - start
    divergence = next((str(w.message) for w in caught if "diverged" in str(w.message)), None)
    model = Pipeline([("scaler", scaler), ("classifier", classifier)])
    metrics = _training_metrics(model, (X_train, y_train, offsets[0]), (*test, offsets[1]), fit_time)
    metrics["learning_rate"] = classifier.learning_rate
    metrics["diverged"] = divergence is not None
    return {"model": model, "metrics": metrics, "warnings": caught, "diverged": divergence is not None,
            "divergence": divergence, "learning_rate": classifier.learning_rate}


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
    """The learning-curve PNG of one fit."""
    title = f"Learning curve ({classifier.solver_}, {dataset_name})"
    return render_learning_curve(classifier.loss_curve_, title=title)


def _training_metrics(model, train, test, fit_time):
    """What ``metrics.json`` records about a fitted pipeline and its split.

    ``multiclass`` is None for two classes, else "multinomial" (the model
    fitted). ``final_cost`` is the cost the fit minimized. ``n_nonzero_coef``
    counts the coefficients an L1 penalty left nonzero.
    """
    (X_train, y_train, offset_train), (X_test, y_test, offset_test) = train, test
    return {
        **_fit_metrics(model.named_steps["classifier"], len(y_train), len(y_test), fit_time),
        "train_accuracy": float(accuracy_score(y_train, _predict(model, X_train, offset_train))),
        **{f"test_{name}": value for name, value in _scores(model, X_test, y_test, offset_test).items()},
    }


def _fit_metrics(classifier, n_train, n_test, fit_time):
    """The part of ``metrics.json`` that describes the fit itself."""
    return {
        "classes": classifier.classes_.tolist(),
        "n_classes": int(classifier.classes_.size),
        "multiclass": None if classifier.classes_.size == 2 else "multinomial",
        "n_train": int(n_train),
        "n_test": int(n_test),
        "n_features": int(classifier.n_features_in_),
        "solver": classifier.solver_,
        "converged": bool(classifier.converged_),
        "n_iter": int(classifier.n_iter_),
        "final_cost": float(classifier.loss_curve_[-1]),
        "n_nonzero_coef": int(np.count_nonzero(classifier.coef_)),
        "fit_time_s": round(fit_time, 6),
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


def _split(X, y, test_size, seed, offset=None):
    """``X_train, X_test, y_train, y_test, offset_train, offset_test`` (the offsets None without one)."""
    arrays = (X, y) if offset is None else (X, y, offset)
    try:
        parts = train_test_split(*arrays, test_size=test_size, random_state=seed, stratify=y)
        return parts if offset is not None else [*parts, None, None]
    except ValueError as exc:
        raise DataError(
            f"cannot hold out a stratified test split of {test_size:g}: {exc}; "
            "use more examples per class or another --test-size"
        ) from exc


@contextlib.contextmanager
def _progress(max_iter, show, prefix=""):
    """A ``callback(iteration, cost)`` driving a tqdm bar and the cost printout."""
    # disable=None: no bar when stderr is not a terminal (logs, CI, pipes).
    bar = tqdm(total=max_iter, desc="fit", unit="it", file=sys.stderr, leave=False,
               disable=True if show["quiet"] else None)
    print_every = show["print_every"]

    def callback(iteration, cost):
        bar.update(max(0, iteration - bar.n))
        if print_every and iteration % print_every == 0:
            # tqdm.write keeps the bar from tearing the line in a terminal.
            tqdm.write(f"{prefix}Cost after iteration {iteration}: {cost:.6f}", file=show["stream"])

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


def _fit(classifier, X, y, *, show, checkpointer=None, prefix="", offset=None):
    """Fit ``classifier`` on the standardized ``X`` (with ``offset``, if given).

    Returns
    -------
    caught : list of warnings.WarningMessage
        The warnings of the fit (of its last segment when checkpointing).
    classifier : LogisticRegression
        Fitted (a clone of the argument when checkpointing).
    """
    _compile_kernel()
    with _progress(classifier.max_iter, show, prefix) as callback:
        try:
            if checkpointer is not None:
                return checkpointer.fit(classifier, X, y, callback, offset)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                classifier.fit(X, y, callback=callback, offset=offset)
            return list(caught), classifier
        except ValueError as exc:
            raise _Failure(f"fitting failed: {exc}") from exc


def _report_training(metrics, paths):
    state = "converged" if metrics["converged"] else "stopped without converging"
    model = "" if metrics["multiclass"] is None else f" (multinomial, {metrics['n_classes']} classes)"
    if "learning_rates" in metrics:
        for run in metrics["learning_rates"]:
            status = "diverged" if run["diverged"] else f"final cost {run['final_cost']:.6f}"
            click.echo(f"Learning rate {run['learning_rate']:g}: {status}; train accuracy "
                       f"{run['train_accuracy']:.4f}, test accuracy {run['test_accuracy']:.4f}")
        click.echo(f"Saved the model of learning rate {metrics['learning_rate']:g} (lowest final cost)")
    click.echo(
        f"Solver {metrics['solver']} {state} after {metrics['n_iter']} iterations "
        f"in {metrics['fit_time_s']:.3f} s; final cost {metrics['final_cost']:.6f}{model}"
    )
    click.echo(f"Train accuracy: {metrics['train_accuracy']:.4f} ({metrics['n_train']} examples)")
    click.echo(f"Test accuracy:  {metrics['test_accuracy']:.4f} ({metrics['n_test']} examples)")
    click.echo("Wrote " + ", ".join(str(p) for p in paths))


# -- checkpoints -----------------------------------------------------------


class _Checkpointer:
    """Fits in segments and saves the last iterate between them, for ``--resume``.

    The estimator reports only ``(iteration, cost)`` to a callback, and
    restores its previous state when a fit is interrupted; so the fit runs as
    a chain of shorter fits, each starting from the last one's coefficients
    (``coef_init``, ``intercept_init``), sized to last about ``every``
    seconds. Fixed-step gradient descent and the Newton solvers keep no state
    beyond the iterate, so the chain makes exactly the updates of one long
    run; solvers with a memory (L-BFGS's curvature pairs, Nesterov's
    momentum, the step of ``learning_rate="auto"``) restart it at each link
    and reach the same optimum by another path, within their stopping
    precision (docs/cli.md).

    Parameters
    ----------
    path : Path
        The checkpoint file, replaced atomically at each save.
    arguments : dict
        The run's data, split and estimator parameters, for ``--resume``.
    digest : str or None
        SHA-256 of the data file, checked on resume.
    every : float
        Seconds between saves.
    start : dict or None
        A checkpoint read by :func:`_read_checkpoint`, to continue from.
    """

    # The first link is short so that the time per iteration is known early.
    FIRST_SEGMENT = 10

    def __init__(self, path, arguments, digest, every, start=None):
        self.path, self.arguments, self.digest, self.every = Path(path), arguments, digest, every
        self.coef = self.intercept = None
        self.n_iter, self.curve = 0, []
        if start is not None:
            self.coef, self.intercept = np.asarray(start["coef"]), np.asarray(start["intercept"])
            self.n_iter, self.curve = start["n_iter"], list(start["loss_curve"])

    def fit(self, classifier, X, y, callback, offset=None):
        max_iter, segment, saved_at = classifier.max_iter, self.FIRST_SEGMENT, time.monotonic()
        try:
            while True:
                k = min(segment, max_iter - self.n_iter)
                link = clone(classifier).set_params(max_iter=k)
                started = time.monotonic()
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    link.fit(X, y, coef_init=self.coef, intercept_init=self.intercept,
                             callback=self._shifted(callback), offset=offset)
                self.coef, self.intercept = link.coef_, link.intercept_
                self.curve = [*self.curve, *link.loss_curve_[1 if self.curve else 0:].tolist()]
                self.n_iter += link.n_iter_
                if link.converged_ or link.n_iter_ < k or self.n_iter >= max_iter:
                    break
                if time.monotonic() - saved_at >= self.every:
                    self.save()
                    saved_at = time.monotonic()
                took = max(time.monotonic() - started, 1e-6)
                segment = max(1, int(k * max(self.every, 0.05) / took))
        except KeyboardInterrupt:
            if self.coef is None:
                raise
            self.save()
            raise _Interrupted(
                f"interrupted; the iterate after {self.n_iter} iterations is saved in {str(self.path)!r}: "
                f"continue with '{PROG} train --resume {self.path.parent}'") from None
        # One model for the whole chain: its iteration count and loss curve.
        link.set_params(max_iter=max_iter)
        state = link.get_fitted_state()
        state["n_iter"] = self.n_iter
        state["fit"]["loss_curve"] = np.asarray(self.curve)
        link.set_fitted_state(state)
        return list(caught), link

    def _shifted(self, callback):
        offset = self.n_iter

        def shifted(iteration, cost):
            if iteration or not offset:  # a link's iteration 0 is the last one's end
                callback(offset + iteration, cost)

        return shifted

    def save(self):
        document = {
            "format": _CHECKPOINT_FORMAT, "format_version": 1, "logitdescent_version": __version__,
            "converged": False, "n_iter": int(self.n_iter),
            "coef": np.asarray(self.coef, dtype=np.float64).tolist(),
            "intercept": np.asarray(self.intercept, dtype=np.float64).tolist(),
            "loss_curve": [float(c) for c in self.curve],
            "arguments": self.arguments, "data_sha256": self.digest,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.path, _json_bytes(document))


def _read_checkpoint(folder):
    """The checkpoint in ``folder``, checked; a _BadInput naming the problem otherwise."""
    path = Path(folder) / _CHECKPOINT
    if not path.is_file():
        raise _BadInput(f"--resume {str(folder)!r}: no {_CHECKPOINT} there; "
                        "start a run with --checkpoint first")
    try:
        document = json.loads(path.read_bytes())
        assert document["format"] == _CHECKPOINT_FORMAT and document["format_version"] == 1
        coef, intercept = np.asarray(document["coef"], dtype=np.float64), np.asarray(document["intercept"])
        assert coef.ndim == 2 and intercept.ndim == 1 and np.all(np.isfinite(coef))
        assert isinstance(document["n_iter"], int) and len(document["loss_curve"]) == document["n_iter"] + 1
        arguments = document["arguments"]
        assert {"data", "target", "test_size", "seed", "params"} <= set(arguments)
    except (OSError, ValueError, KeyError, TypeError, AssertionError) as exc:
        raise _BadInput(f"--resume {str(folder)!r}: {_CHECKPOINT} is not a valid checkpoint "
                        f"({type(exc).__name__}); start the run again") from None
    data = arguments["data"]
    if data is not None and (not Path(data).is_file() or _data_digest(data) != document["data_sha256"]):
        raise _BadInput(f"--resume {str(folder)!r}: the data file {data!r} is missing or changed since "
                        "the checkpoint; resume needs the same data")
    return document


def _data_digest(data):
    if data is None:
        return None
    digest = hashlib.sha256()
    with open(data, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _encode(value):
    """Estimator parameters as plain JSON: non-finite floats and tuples tagged."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"float": repr(value)}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v) for v in value]}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode(value):
    if isinstance(value, dict) and set(value) == {"float"}:
        return float(value["float"])
    if isinstance(value, dict) and set(value) == {"tuple"}:
        return tuple(_decode(v) for v in value["tuple"])
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    return value


# -- summary on the original scale -------------------------------------------


def _summary_table(model, X_train, y_train, offset=None):
    """The Wald table of the fit, back-transformed to the original feature scale.

    The classifier saw ``z_j = (x_j - μ_j) / s_j``. Its parameters ``θ``
    (per class: ``w``, then ``b``) map linearly to the original scale:
    ``w'_j = w_j / s_j`` and ``b' = b - Σ_j w_j μ_j / s_j``, i.e. ``θ' = J θ``,
    so the covariance is ``J Σ Jᵀ`` and the z-values, p-values and intervals
    follow from ``θ'`` and the square roots of its diagonal.
    """
    from scipy import stats

    scaler, classifier = model.named_steps["scaler"], model.named_steps["classifier"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = classifier.summary(scaler.transform(X_train), np.asarray(y_train), offset=offset)
    except ValueError as exc:
        raise _Failure(f"cannot compute --summary: {exc}") from exc
    mu, s = scaler.mean_, scaler.scale_
    n = mu.size
    intercept = classifier.fit_intercept
    block = np.zeros((n + intercept, n + intercept))
    block[:n, :n] = np.diag(1.0 / s)
    if intercept:
        block[n, :n] = -mu / s
        block[n, n] = 1.0
    blocks = result.params.size // block.shape[0]
    jacobian = np.kron(np.eye(blocks), block)
    params = jacobian @ np.asarray(result.params)
    cov = jacobian @ np.asarray(result.cov_params()) @ jacobian.T
    se = np.sqrt(np.diag(cov))
    z = params / se
    crit = stats.norm.ppf(1 - result.alpha / 2)
    names = [*[str(c) for c in getattr(model, "feature_names_in_", [f"x{j}" for j in range(n)])],
             *(["intercept"] if intercept else [])]
    index = result.table.index
    if isinstance(index, pd.MultiIndex):
        index = pd.MultiIndex.from_product([index.levels[0][index.codes[0][::len(names)]], names],
                                           names=["class", "feature"])
    else:
        index = pd.Index(names, name="feature")
    return pd.DataFrame({"coef": params, "std_err": se, "z": z, "p_value": 2 * stats.norm.sf(np.abs(z)),
                         "ci_low": params - crit * se, "ci_high": params + crit * se}, index=index)


def _summary_text(table):
    return ("Wald statistics on the original feature scale (coef_j / s_j; "
            "intercept b - Σ coef_j μ_j / s_j; covariance J Σ Jᵀ):\n"
            + table.to_string(float_format=lambda v: f"{v:.6g}"))


# -- predict and evaluate --------------------------------------------------

_PREDICT_EXAMPLES = """\b
Examples:
  logitdescent predict --model logitdescent-out/model.json --data new.csv --out predictions.csv
  logitdescent predict --model model.json --data new.parquet --out predictions.parquet --threshold 0.3
  logitdescent predict --model model.json --data new.csv --out - | head
"""


@main.command(epilog=_PREDICT_EXAMPLES + "\n" + _EXIT_CODES_HELP)
@click.option("--model", "model_path", required=True, metavar="FILE", help="A model.json written by train.")
@click.option("--data", required=True, metavar="FILE", help="CSV or Parquet file of examples.")
@click.option("--out", default="predictions.csv", show_default=True, metavar="FILE",
              help="Output file: Parquet for .parquet or .pq, CSV otherwise; '-' for CSV on stdout.")
@click.option("--threshold", type=_Float(0, 1), default=None, metavar="P",
              help="Two classes: predict the second class where its probability exceeds P "
                   "(default: the model's stored threshold, else 0.5).")
@click.option("--json", "json_out", is_flag=True,
              help="Print a summary of the predictions as one JSON object on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@_cluster_options
def predict(model_path, data, out, threshold, json_out, quiet, workers, scheduler):
    """Write the predicted label and the class probabilities of every row.

    Columns are matched to the model's features by name, in any order;
    columns it was not trained on (such as the target) are ignored and listed
    once on stderr. The output holds prediction and proba_<label> for every
    class, in the model's order; each row's probabilities sum to 1. A folder
    or glob of Parquet or CSV files as --data (or --workers / --scheduler) is
    predicted on Dask, partition by partition, into the folder --out: Parquet
    part files for a name ending in .parquet or .pq, CSV part files otherwise.
    """
    _check_cluster_flags(workers, scheduler)
    on_dask = _on_dask(data, workers, scheduler)
    if json_out and out == "-":
        raise click.UsageError("--json and --out - both write to stdout; write the predictions to a file")
    if on_dask and out == "-":
        raise click.UsageError("Dask input is predicted into a folder of part files; give --out DIR, not -")
    model = _load_model(model_path)
    classes = model.classes_
    if threshold is not None and classes.size != 2:
        raise click.UsageError(f"--threshold applies to two classes; this model has {classes.size}")
    if threshold is None:
        threshold = _stored_threshold(model_path) if classes.size == 2 else None
    offset_column = _stored_offset_column(model_path)
    if on_dask:
        if offset_column is not None:
            raise _BadInput(f"this model was trained with --offset {offset_column!r}, which Dask input does not "
                            "support yet; predict a CSV or Parquet file")
        with _dask_client(workers, scheduler):
            return _predict_on_dask(model, model_path, data, Path(out), threshold, json_out, quiet)
    frame, offset = read_table(data), None
    if offset_column is not None:
        frame, offset = _pop_offset(frame, offset_column, stored=True)
    X = _model_features(model, frame, quiet=quiet)
    predictions = _prediction_table(model, X, threshold, offset)
    parquet = out != "-" and Path(out).suffix.lower() in (".parquet", ".pq")
    if parquet:
        buffer = io.BytesIO()
        predictions.to_parquet(buffer, index=False)
        content = buffer.getvalue()
    else:
        content = predictions.to_csv(index=False).encode("utf-8")
    where = _write_file(out, content)
    counts = predictions["prediction"].value_counts()
    report = {
        "model": str(model_path), "data": str(data), "out": where, "n_predictions": len(predictions),
        "classes": classes.tolist(), "threshold": threshold,
        "counts": {str(_label(label)): int(counts.get(label, 0)) for label in classes},
    }
    if json_out:
        _emit_json(report)
    elif not quiet and out != "-":
        what = (f"proba_<label> = P(y = label); predicted {_label(classes[1])!r} where "
                f"P > {threshold:g}" if classes.size == 2 else
                f"proba_<label> = P(y = label) for the {classes.size} classes")
        click.echo(f"Wrote {len(predictions)} predictions to {out} ({what})")


_EVALUATE_EXAMPLES = """\b
Examples:
  logitdescent evaluate --model logitdescent-out/model.json --data test.csv --target label
  logitdescent evaluate --model model.json --data test.parquet --target label --plots eval-plots
  logitdescent evaluate --model model.json --data test.csv --target label --json > scores.json
"""


@main.command(epilog=_EVALUATE_EXAMPLES + "\n" + _EXIT_CODES_HELP)
@click.option("--model", "model_path", required=True, metavar="FILE", help="A model.json written by train.")
@click.option("--data", required=True, metavar="FILE", help="CSV or Parquet file with features and labels.")
@click.option("--target", required=True, metavar="COLUMN", help="The label column of --data.")
@click.option("--out", default=None, metavar="FILE", help="Also write the metrics as JSON here.")
@click.option("--plots", "plots_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="DIR", help="Write roc.png, precision_recall.png, confusion_matrix.png and (two "
                                   "classes) calibration.png into DIR.")
@click.option("--json", "json_out", is_flag=True, help="Print the metrics as one JSON object on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def evaluate(model_path, data, target, out, plots_dir, json_out, quiet):
    """Print accuracy, log-loss and ROC AUC of a saved model on labelled data.

    With more than two classes, ROC AUC is the macro average of each class
    against the rest; it is undefined unless every class appears in the data.
    """
    model = _load_model(model_path)
    features, y = split_target(read_table(data), target, source=Path(data).name)
    validate_known_labels(y, model.classes_)
    offset, offset_column = None, _stored_offset_column(model_path)
    if offset_column is not None:
        features, offset = _pop_offset(features, offset_column, target, stored=True)
    X = _model_features(model, features, quiet=quiet)
    scores = _scores(model, X, y, offset)
    report = {"data": str(data), "n_examples": len(y), **scores}
    pngs = (render_evaluation(model, X, y, data_name=Path(data).name, offset=offset)
            if plots_dir is not None else None)
    if out is not None:
        _write_file(out, _json_bytes(report))
    if pngs is not None:
        _write_set(plots_dir, pngs)
    if json_out:
        _emit_json(report)
    elif not quiet:
        for name, value in scores.items():
            click.echo(f"{name}: {_undefined_roc_auc(model.classes_) if value is None else f'{value:.6f}'}")
        if pngs is not None:
            click.echo("Wrote " + ", ".join(str(plots_dir / name) for name in pngs))


# -- explain ---------------------------------------------------------------

# Nonzero on purpose: at the lecture's starting point w = 0, b = 0, every
# example has z = 0 and a = 0.5, which hides what the loop does.
_EXPLAIN_W = (0.5, -0.25)
_EXPLAIN_B = 0.1
_EXPLAIN_FEATURES = ("mean radius", "mean texture")

_EXPLAIN_EXAMPLES = """\b
Examples:
  logitdescent explain
  logitdescent explain --examples 8 --seed 3
  logitdescent explain --iterations 5 --learning-rate 0.5
"""


@main.command(epilog=_EXPLAIN_EXAMPLES + "\n" + _EXIT_CODES_HELP)
@click.option("--examples", "m", type=click.IntRange(2, 50), default=5, show_default=True,
              help="How many examples to loop over.")
@click.option("--seed", type=int, default=0, show_default=True, help="Which examples (stratified draw).")
@click.option("--iterations", type=click.IntRange(0, 1000), default=0, show_default=True, metavar="K",
              help="Then show K gradient-descent updates of w and b.")
@click.option("--learning-rate", type=_Float(min=0, min_open=True), default=1.0, show_default=True,
              help="The alpha of those updates.")
def explain(m, seed, iterations, learning_rate):
    """One step of the lecture's for-loop next to the vectorized kernel.

    On a few standardized examples with two features, prints z, a, L and dz
    per example, then J, dw and db from the loop
    (logitdescent.reference.loss_and_grad) and from the vectorized
    logitdescent.loss_and_grad, and checks that they agree. With
    --iterations K, continues with K updates w := w - alpha dw,
    b := b - alpha db, printing J, w and b after each.
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
        raise _Failure(f"the loop and the vectorized kernel disagree by {gap:.3g}")
    click.echo(f"\nLargest difference {gap:.1e}: the loop and the vectorized code agree.")
    click.echo("J = mean of L, dw = X^T dz / m, db = mean of dz, with dz = a - y.")
    if iterations:
        _explain_updates(X, y, w, b, iterations, learning_rate)


def _explain_updates(X, y, w, b, iterations, alpha):
    """K updates of w and b by the loop, each checked against the kernel's."""
    click.echo(f"\nGradient descent, alpha = {alpha:g}: w := w - alpha dw, b := b - alpha db")
    click.echo(f"{'iter':>4} {'J before':>12} {'dw1':>10} {'dw2':>10} {'db':>10} {'w1':>10} {'w2':>10} {'b':>10}")
    gap = 0.0
    for k in range(1, iterations + 1):
        J, dw, db = reference.loss_and_grad(w, b, X.tolist(), y.tolist())
        J_vec, dw_vec, db_vec = loss_and_grad(np.array(w), b, X, y)
        gap = max(gap, abs(J - J_vec), *np.abs(np.asarray(dw) - dw_vec), abs(db - float(db_vec)))
        w = [w_j - alpha * dw_j for w_j, dw_j in zip(w, dw)]
        b = b - alpha * db
        click.echo(f"{k:>4} {J:>12.8f} {dw[0]:>10.6f} {dw[1]:>10.6f} {db:>10.6f} {w[0]:>10.6f} "
                   f"{w[1]:>10.6f} {b:>10.6f}")
    if gap > 1e-12:
        raise _Failure(f"the loop and the vectorized kernel disagree by {gap:.3g}")
    J_end = reference.loss_and_grad(w, b, X.tolist(), y.tolist())[0]
    click.echo(f"After {iterations} updates J = {J_end:.8f}; loop and kernel agreed at every step "
               f"(largest difference {gap:.1e}).")


def _explain_slice(m, seed):
    """``m`` standardized examples of two built-in features, both classes present."""
    X, y = load_builtin(_BUILTIN)
    X_small, _, y_small, _ = train_test_split(
        X[list(_EXPLAIN_FEATURES)], y, train_size=m, stratify=y, random_state=seed
    )
    return StandardScaler().fit_transform(X_small), y_small.to_numpy(dtype=np.float64)


# -- bench -----------------------------------------------------------------


@main.group(epilog=_EXIT_CODES_HELP)
def bench():
    """The lecture's demonstrations, timed on this machine.

    \b
    Examples:
      logitdescent bench vectorization
      logitdescent bench vectorization --examples 2000 --features 10 --json
    """


@bench.command(epilog="""\b
Examples:
  logitdescent bench vectorization
  logitdescent bench vectorization --size 100000 --examples 1000 --features 5
  logitdescent bench vectorization --json
""")
@click.option("--size", type=click.IntRange(1, 10**8), default=1_000_000, show_default=True,
              help="Elements of the dot product.")
@click.option("--examples", type=click.IntRange(1, 10**7), default=10_000, show_default=True,
              help="Rows m of the gradient-descent data.")
@click.option("--features", type=click.IntRange(1, 10**4), default=20, show_default=True,
              help="Columns n of the gradient-descent data.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random data.")
@click.option("--json", "json_out", is_flag=True, help="Print the timings as one JSON object on stdout.")
def vectorization(size, examples, features, seed, json_out):
    """A for-loop against vectorized code: a dot product, then one gradient-descent step.

    First the lecture's demonstration: the dot product of two random vectors
    of --size elements as a Python for-loop and as numpy.dot. Then one
    iteration of gradient descent on random data of --examples x --features:
    the lecture's literal loop (logitdescent.reference) against the
    vectorized kernel (logitdescent.loss_and_grad). Prints both times and the
    speed-up, and fails (exit status 1) if the two results differ.
    """
    rng = np.random.default_rng(seed)
    a, b = rng.random(size), rng.random(size)
    a_list, b_list = a.tolist(), b.tolist()

    def loop_dot():
        c = 0.0
        for i in range(size):
            c += a_list[i] * b_list[i]
        return c

    loop_c, loop_s = _timed(loop_dot, repeat=1)
    vec_c, vec_s = _timed(lambda: float(np.dot(a, b)), repeat=5)
    # Different summation orders: agreement to rounding, relative to the sum.
    dot_gap = abs(loop_c - vec_c) / abs(vec_c)

    X = rng.standard_normal((examples, features))
    y = (rng.random(examples) < 0.5).astype(np.float64)
    w0, b0, alpha = rng.standard_normal(features) * 0.1, 0.0, 0.1
    X_list, y_list, w_list = X.tolist(), y.tolist(), w0.tolist()

    def loop_step():
        J, dw, db = reference.loss_and_grad(w_list, b0, X_list, y_list)
        return J, np.array([w - alpha * d for w, d in zip(w_list, dw)]), b0 - alpha * db

    def vectorized_step():
        J, dw, db = loss_and_grad(w0, b0, X, y)
        return float(J), w0 - alpha * dw, b0 - alpha * float(db)

    warm_up()
    (J_loop, w_loop, b_loop), step_loop_s = _timed(loop_step, repeat=1)
    (J_vec, w_vec, b_vec), step_vec_s = _timed(vectorized_step, repeat=5)
    step_gap = max(abs(J_loop - J_vec), float(np.max(np.abs(w_loop - w_vec))), abs(b_loop - b_vec))
    report = {
        "dot": {"size": size, "loop_s": loop_s, "vectorized_s": vec_s, "speedup": loop_s / vec_s,
                "loop_value": loop_c, "vectorized_value": vec_c, "relative_difference": dot_gap},
        "gradient_step": {"examples": examples, "features": features, "loop_s": step_loop_s,
                          "vectorized_s": step_vec_s, "speedup": step_loop_s / step_vec_s,
                          "cost": J_vec, "max_difference": step_gap},
        "agree": bool(dot_gap <= 1e-9 and step_gap <= 1e-9),
    }
    if json_out:
        _emit_json(report)
    else:
        click.echo(f"Dot product of {size:,} elements")
        click.echo(f"  for-loop:   {loop_s * 1e3:10.3f} ms   c = {loop_c:.10f}")
        click.echo(f"  vectorized: {vec_s * 1e3:10.3f} ms   c = {vec_c:.10f}")
        click.echo(f"  speed-up:   {loop_s / vec_s:10.1f}x")
        click.echo(f"One gradient-descent iteration, m = {examples:,} examples, n = {features} features")
        click.echo(f"  for-loop (reference):   {step_loop_s * 1e3:10.3f} ms   J = {J_loop:.12f}")
        click.echo(f"  vectorized (kernel):    {step_vec_s * 1e3:10.3f} ms   J = {J_vec:.12f}")
        click.echo(f"  speed-up:               {step_loop_s / step_vec_s:10.1f}x")
        click.echo(f"Largest difference of J, w, b after the step: {step_gap:.1e}")
    if not report["agree"]:
        raise _Failure(f"the loop and the vectorized code disagree (dot {dot_gap:.3g}, step {step_gap:.3g})")


def _timed(function, repeat):
    """``(result, best seconds of repeat runs)``."""
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return result, best
