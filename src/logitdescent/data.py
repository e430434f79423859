"""Datasets: the built-in example, CSV/Parquet files, and validation with clear errors.

Everything here returns pandas objects: a DataFrame ``X`` of shape (m, n) with
one example per row and named feature columns, and a Series ``y`` of shape
(m,) with the labels. Problems in the data raise :class:`DataError` with a
one-line message that names the problem and says how to fix it, so that the
CLI can print it as it is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils.multiclass import type_of_target

__all__ = [
    "BUILTIN_DATASETS",
    "MAX_MAGNITUDE",
    "DataError",
    "check_magnitude",
    "features_for_model",
    "load_builtin",
    "load_dataset",
    "read_table",
    "split_target",
    "validate_features",
    "validate_known_labels",
    "validate_target",
]

BUILTIN_DATASETS = ("breast_cancer",)

#: The largest feature magnitude training accepts. Standardizing sums squares
#: of the values over all rows: below 1e100 that sum stays far from float64's
#: 1.8e308 for any number of rows, while values near 1e154 already overflow to
#: inf and turn the scale (and the coefficients) into nonsense.
MAX_MAGNITUDE = 1e100

# Delimiters a CSV file written by another tool may use instead of a comma.
_OTHER_DELIMITERS = (";", "\t", "|")

# How many column names or labels an error message lists before "...": enough
# to spot a typo, short enough to stay on one line.
_MAX_LISTED = 10


class DataError(ValueError):
    """The data cannot be used as given; the message says why and what to do."""


def _plain(value):
    """A NumPy scalar as the Python value it holds: ``2.0``, not ``np.float64(2.0)``, in messages."""
    return value.item() if isinstance(value, np.generic) else value


def _listing(values, limit=_MAX_LISTED):
    """``'a', 'b', ... (40 in all)``: a one-line, truncated list for messages."""
    values = list(values)
    shown = ", ".join(repr(_plain(v)) for v in values[:limit])
    if len(values) > limit:
        shown += f", ... ({len(values)} in all)"
    return shown


def load_builtin(name="breast_cancer"):
    """A dataset that ships with scikit-learn, with its feature names.

    Parameters
    ----------
    name : {"breast_cancer"}, default="breast_cancer"
        The Wisconsin diagnostic breast cancer data: 569 examples, 30
        features; ``y = 1`` is benign, ``y = 0`` malignant.

    Returns
    -------
    X : DataFrame of shape (569, 30)
    y : Series of shape (569,)
    """
    if name not in BUILTIN_DATASETS:
        raise DataError(f"unknown built-in dataset {name!r}; choose one of {_listing(BUILTIN_DATASETS)}")
    # Imported here: only callers of the built-in data pay for sklearn.datasets.
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    return bunch.data, bunch.target


def read_table(path):
    """Read a CSV or Parquet file into a DataFrame, with one-line errors.

    Parameters
    ----------
    path : str or path-like
        ``*.csv`` (optionally compressed, e.g. ``*.csv.gz``), ``*.parquet`` or
        ``*.pq``. The first CSV row holds the column names; a UTF-8 byte
    order mark before it is dropped.

    Returns
    -------
    frame : DataFrame of shape (m, k)
        Column names are strings.

    Raises
    ------
    DataError
        If the file is missing, unreadable, of an unknown type, or empty; if
        two columns share a name; or if a CSV file is evidently delimited by
        something other than commas.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"data file not found: {str(path)!r}; check the path")
    if path.is_dir():
        raise DataError(f"{str(path)!r} is a directory, not a data file; give a .csv or .parquet file")
    reader = _reader_for(path)
    try:
        frame = reader(path)
    except ImportError as exc:
        raise DataError(
            f"reading Parquet needs pyarrow, which is not installed ({exc}); "
            "run `pip install pyarrow` or convert the file to CSV"
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"data file {str(path)!r} is empty; it needs a header row and data rows") from exc
    except (OSError, ValueError) as exc:
        # ParserError, UnicodeDecodeError and pyarrow's ArrowInvalid are all
        # ValueErrors; a one-line summary beats pandas' multi-line traceback.
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DataError(f"cannot read {str(path)!r}: {reason}; check that the file is valid") from exc
    # Parquet allows non-string column names; scikit-learn only tracks string ones.
    frame.columns = [str(c) for c in frame.columns]
    if reader is _read_csv:
        _check_delimiter(frame, path)
    return frame


def _read_csv(path):
    # utf-8-sig: a byte order mark (Excel writes one) would otherwise become
    # part of the first column's name.
    frame = pd.read_csv(path, encoding="utf-8-sig")
    # pandas renames a repeated header "x" to "x.1" silently; the raw first
    # row tells whether the file itself repeats a name.
    header = pd.read_csv(path, encoding="utf-8-sig", header=None, nrows=1, dtype=str).iloc[0].tolist()
    repeated = sorted({str(name) for name in header if header.count(name) > 1})
    if repeated:
        raise DataError(
            f"data file {str(path)!r} repeats the column name(s) {_listing(repeated)}; "
            "give every column a unique name"
        )
    return frame


def _check_delimiter(frame, path):
    if frame.shape[1] != 1:
        return
    name = frame.columns[0]
    for delimiter in _OTHER_DELIMITERS:
        if delimiter in name:
            raise DataError(
                f"data file {str(path)!r} reads as a single column {name!r}: it looks delimited by "
                f"{delimiter!r}, but CSV files must be comma-separated; convert it"
            )


def _reader_for(path):
    suffixes = [s.lower() for s in path.suffixes]
    if ".csv" in suffixes:
        return _read_csv
    if suffixes and suffixes[-1] in (".parquet", ".pq"):
        return pd.read_parquet
    raise DataError(
        f"unsupported data file type {path.name!r}; use a .csv or .parquet file"
    )


def load_dataset(path, target):
    """Read a file and split it into validated features and target.

    Parameters
    ----------
    path : str or path-like
        A CSV or Parquet file, see :func:`read_table`.
    target : str
        The name of the label column; every other column is a feature.

    Returns
    -------
    X : DataFrame of shape (m, n)
        Numeric, finite features.
    y : Series of shape (m,)
        Class labels (two or more classes) without missing values.

    Raises
    ------
    DataError
        On any problem with the file, the target or the features.
    """
    features, y = split_target(read_table(path), target, source=Path(path).name)
    # The target first: a wrong --target is the likelier mistake, and its
    # message is the more useful one.
    y = validate_target(y)
    return validate_features(features), y


def split_target(frame, target, source="the data"):
    """Separate the target column from the feature columns.

    Parameters
    ----------
    frame : DataFrame of shape (m, k)
    target : str
        The label column.
    source : str, default="the data"
        What to call ``frame`` in error messages (e.g. the file name).

    Returns
    -------
    features : DataFrame of shape (m, k - 1)
        Not yet validated.
    y : Series of shape (m,)
        Not yet validated.

    Raises
    ------
    DataError
        If ``target`` is not a column, or it is the only one.
    """
    if target not in frame.columns:
        raise DataError(
            f"target column {target!r} not found in {source!r}; "
            f"available columns: {_listing(frame.columns)}"
        )
    if frame.shape[1] == 1:
        raise DataError(f"{source!r} has no feature columns besides the target {target!r}")
    return frame.drop(columns=[target]), frame[target]


def validate_features(X):
    """Check that every feature column is numeric and finite.

    Parameters
    ----------
    X : DataFrame of shape (m, n)

    Returns
    -------
    X : DataFrame of shape (m, n)
        The same object, unchanged.

    Raises
    ------
    DataError
        If there are no rows or columns, a column is not numeric, or a value
        is missing (NaN) or infinite.
    """
    if X.shape[0] == 0:
        raise DataError("the data has no rows; give a file with at least one example per class")
    if X.shape[1] == 0:
        raise DataError("the data has no feature columns")
    for name in X.columns:
        _check_numeric(X[name], name)
    _check_no_missing(X.isna().sum(), "missing (NaN) values", "fill or drop those rows")
    # Only float columns can hold inf; bool and integer columns cannot.
    floats = X.select_dtypes(include="floating")
    infinite = pd.Series(np.isinf(floats.to_numpy(dtype=np.float64)).sum(axis=0), index=floats.columns)
    _check_no_missing(infinite, "infinite values", "replace or drop those rows")
    return X


def check_magnitude(X, limit=MAX_MAGNITUDE):
    """Check that no feature is too large in magnitude to standardize safely.

    Parameters
    ----------
    X : DataFrame of shape (m, n)
        Numeric, finite features (see :func:`validate_features`).
    limit : float, default=MAX_MAGNITUDE

    Returns
    -------
    X : DataFrame of shape (m, n)
        The same object, unchanged.

    Raises
    ------
    DataError
        Naming the first column with a value of magnitude above ``limit``
        and that magnitude.
    """
    if X.shape[0] == 0:
        return X
    # max |x| never overflows, unlike the squares a variance sums.
    numbers = X.select_dtypes(include="number")  # bool columns are 0/1
    largest = numbers.abs().max(axis=0).astype(np.float64)
    too_large = largest[largest > limit]
    if not too_large.empty:
        name, magnitude = too_large.index[0], float(too_large.iloc[0])
        more = f" (and {len(too_large) - 1} more columns)" if len(too_large) > 1 else ""
        raise DataError(
            f"feature column {name!r} has values of magnitude {magnitude:.3g}{more}, beyond the "
            f"{limit:.0e} that standardization handles without overflow; rescale the column "
            "(e.g. express it in larger units)"
        )
    return X


def _check_numeric(column, name):
    # bool counts as numeric: scikit-learn reads True/False as 1/0.
    if pd.api.types.is_numeric_dtype(column.dtype):
        return
    as_numbers = pd.to_numeric(column, errors="coerce")
    offending = column[as_numbers.isna() & column.notna()]
    example = f", e.g. {offending.iloc[0]!r}" if len(offending) else ""
    raise DataError(
        f"feature column {name!r} is not numeric (dtype {column.dtype}{example}); "
        "encode it as numbers or drop the column"
    )


def _check_no_missing(counts, what, fix):
    """Raise for the first column with a nonzero count in ``counts``."""
    bad = counts[counts > 0]
    if bad.empty:
        return
    more = f" (and {len(bad) - 1} more columns)" if len(bad) > 1 else ""
    raise DataError(f"feature column {bad.index[0]!r} has {int(bad.iloc[0])} {what}{more}; {fix}")


def validate_target(y):
    """Check that the target holds class labels, at least two classes, no missing values.

    Any number of classes from two up is accepted: two fit the binary model,
    more the multinomial (or one-vs-rest) one.

    Parameters
    ----------
    y : Series of shape (m,)

    Returns
    -------
    y : Series of shape (m,)
        The same object, unchanged.

    Raises
    ------
    DataError
        If the target is empty, has missing values, continuous values, labels
        of mixed types, or a single class.
    """
    name = y.name
    _check_target_not_missing(y)
    try:
        classes = pd.unique(y)
        kind = type_of_target(y.to_numpy())
    except (TypeError, ValueError) as exc:  # a column of lists; strings mixed with numbers
        raise DataError(f"target column {name!r} cannot be read as class labels: {exc}") from exc
    if kind == "continuous":
        raise DataError(
            f"target column {name!r} holds continuous values (e.g. {_plain(classes[0])!r}); "
            "logistic regression needs class labels"
        )
    if kind not in ("binary", "multiclass"):  # e.g. "unknown": a column of lists
        raise DataError(f"target column {name!r} cannot be read as class labels (it is {kind!r})")
    if len(classes) == 1:
        raise DataError(
            f"target column {name!r} has a single class ({_plain(classes[0])!r}); "
            "training needs examples of at least two classes"
        )
    return y


def _check_target_not_missing(y):
    if len(y) == 0:
        raise DataError(f"target column {y.name!r} is empty; the data has no rows")
    n_missing = int(y.isna().sum())
    if n_missing:
        raise DataError(f"target column {y.name!r} has {n_missing} missing values; drop those rows")


def validate_known_labels(y, classes):
    """Check that every label in ``y`` is one a fitted model knows.

    Parameters
    ----------
    y : Series of shape (m,)
        True labels, e.g. of a test file.
    classes : ndarray of shape (n_classes,)
        The model's ``classes_``.

    Returns
    -------
    y : Series of shape (m,)
        The same object, unchanged.

    Raises
    ------
    DataError
        If ``y`` is empty, has missing values, or holds other labels.
    """
    _check_target_not_missing(y)
    unknown = pd.unique(y[~np.isin(y.to_numpy(), classes)])
    if len(unknown):
        raise DataError(
            f"target column {y.name!r} has labels the model was not trained on: {_listing(unknown)} "
            f"(model classes: {_listing(classes)}); check the --target column"
        )
    return y


def features_for_model(frame, *, feature_names=None, n_features, target=None):
    """Pick the columns a fitted model expects, in the order it expects them.

    Parameters
    ----------
    frame : DataFrame of shape (m, k)
        The data as read from a file; may hold a target or other columns.
    feature_names : array-like of str of shape (n_features,), default=None
        The model's ``feature_names_in_``, if it was fitted on named columns.
        Columns not named here (the target among them) are ignored.
    n_features : int
        The model's ``n_features_in_``.
    target : str, default=None
        A column to drop first when the model has no feature names.

    Returns
    -------
    X : DataFrame of shape (m, n_features)
        Validated by :func:`validate_features`.

    Raises
    ------
    DataError
        If named features are missing or the column count does not match.
    """
    if feature_names is not None:
        missing = [name for name in feature_names if name not in frame.columns]
        if missing:
            raise DataError(
                f"the data lacks {len(missing)} feature columns the model was trained on: "
                f"{_listing(missing)}; give a file with the training columns"
            )
        X = frame[list(feature_names)]
    else:
        X = frame.drop(columns=[target]) if target is not None and target in frame.columns else frame
        if X.shape[1] != n_features:
            raise DataError(
                f"the data has {X.shape[1]} feature columns but the model expects {n_features}; "
                "give a file with the training columns"
            )
    return validate_features(X)
