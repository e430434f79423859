"""Safe model files: JSON data only, versioned, checksummed, written atomically.

A model file holds numbers, strings and booleans, never code: loading one can
build a :class:`~logitdescent.LogisticRegression` (optionally behind the
``StandardScaler`` of a scikit-learn ``Pipeline``) and nothing else, unlike a
pickle or joblib file, which runs whatever code it names when loaded.

File layout (format version 3)::

    {
      "format": "logitdescent-model",
      "format_version": 3,
      "logitdescent_version": "0.1.0",
      "model": {"kind": "LogisticRegression", "classifier": {...}}
            or {"kind": "Pipeline", "scaler": {...}, "classifier": {...}},
      "sha256": "<hex digest of the canonical JSON of every other key>"
    }

A classifier is ``{"params": {...}, "state": {...}}``: its ``get_params()``
and the documented plain-data state of
:meth:`~logitdescent.LogisticRegression.get_fitted_state` (the fitted arrays,
``n_iter``, the fit's solver, convergence and loss curve, ``partial_fit``'s
step schedule and random generator), one entry per state key. Loading
constructs the estimator from its parameters and hands it the state through
:meth:`~logitdescent.LogisticRegression.set_fitted_state`, which checks every
field against the others and the parameters; this module never touches the
estimator's private attributes.

Arrays are stored as ``{"dtype": "<f8", "shape": [1, 30], "values": [...]}``
with the NumPy dtype string, so float32 stays float32 and labels keep their
type (int, float, bool, str). Floats are written with Python's shortest
round-tripping ``repr``, so every value comes back bit for bit and a loaded
model predicts exactly what the saved one did. JSON has no NaN or infinity:
array elements use the strings ``"nan"``, ``"inf"``, ``"-inf"`` (unambiguous
because the dtype says the array is float), and other values use
``{"float": "inf"}`` (so that ``C=np.inf`` differs from ``C="inf"``). Other
values are tagged the same way: ``{"tuple": [...]}``, ``{"list": [...]}``,
``{"dict": [[key, value], ...]}`` and ``{"array": {...}}`` (e.g.
``coef_bounds=(np.zeros(3), None)``), so each comes back as the type it was.

Older files: versions 1 and 2 stored the fitted attributes in the classifier
itself, and the parameters of logitdescent 0.1, where ``penalty`` chose the
penalty ("l2", the default, whatever ``l1_ratio`` said). They still load, their
``penalty`` turned into today's ``C`` and ``l1_ratio`` (scikit-learn 1.9's
meaning); a version-2 one-vs-rest model (``multiclass="ovr"``, more than two
classes) is refused with a message that says how to refit it.

The checksum catches corruption and accidental edits, not a deliberate forger
(who can recompute it); a forged file can still only hold data, and every field
is validated on load.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import numbers
import os
import re
import tempfile
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from . import __version__
from .estimator import LogisticRegression

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ModelFileError",
    "atomic_write_bytes",
    "fsync_directory",
    "load_model",
    "load_model_metadata",
    "model_from_bytes",
    "model_to_bytes",
    "save_model",
]

FORMAT_NAME = "logitdescent-model"
FORMAT_VERSION = 3
_TOP_LEVEL_KEYS = {"format", "format_version", "logitdescent_version", "model", "sha256"}
#: What the optional top-level "metadata" object may hold (covered by the checksum).
_METADATA_KEYS = {"decision_threshold", "offset_column"}

# Dtypes whose values JSON can carry exactly: bool, integers, floats up to
# 64 bits, fixed-width unicode, and object arrays of str (what scikit-learn
# makes of string labels and feature names). Nothing structured, no datetimes.
_DTYPE_PATTERN = re.compile(r"[<>|](b1|[iu][1248]|f[248]|U\d{1,6}|O)")
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class ModelFileError(ValueError):
    """A model file is corrupt, modified, foreign, or from a newer logitdescent."""


# -- atomic writes ---------------------------------------------------------


def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` so that readers see the old file or the new one.

    The bytes go to a temporary file in the same directory (``os.replace`` is
    only atomic within one file system), are flushed and fsynced, then renamed
    over ``path``. On any failure the temporary file is removed and an
    existing ``path`` is left untouched.

    Parameters
    ----------
    path : str or path-like
        The destination; its directory must exist.
    data : bytes
        The complete new content.

    Returns
    -------
    path : Path
    """
    path = Path(path)
    mode = _new_file_mode(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates the file 0600; give it the mode a plain open() would.
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_directory(path.parent)
    return path


def _new_file_mode(path):
    """The replaced file's mode, or what ``open(path, "w")`` would create."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)  # the only portable way to read the umask
        os.umask(umask)
        return 0o666 & ~umask


def fsync_directory(directory):
    """Make the renames in ``directory`` durable across a power loss (POSIX only)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- public API ------------------------------------------------------------


def save_model(model, path, *, metadata=None):
    """Save a fitted model as a checksummed JSON file, atomically.

    Parameters
    ----------
    model : LogisticRegression or Pipeline
        A fitted :class:`~logitdescent.LogisticRegression`, or a fitted
        ``Pipeline([("scaler", StandardScaler()), ("classifier", LogisticRegression())])``.
    path : str or path-like
        Destination file (conventionally ``*.json``); replaced if it exists.
    metadata : dict, optional
        Facts about the model's use, stored beside it and covered by the
        checksum: ``{"decision_threshold": t}`` (``0 <= t <= 1``), the
        probability above which a binary model's predictions take
        ``classes_[1]``, and ``{"offset_column": name}``, the data column
        that holds the model's offset (``train --offset``). Read back with
        :func:`load_model_metadata`.

    Returns
    -------
    path : Path

    Raises
    ------
    TypeError
        If ``model`` is not one of the supported kinds.
    ValueError
        If the model could not be loaded back, e.g. its coefficients hold
        NaN or infinity; the file is then left untouched.
    sklearn.exceptions.NotFittedError
        If ``model`` is not fitted.
    """
    # Serialize first: a model that cannot be saved never touches the file.
    return atomic_write_bytes(path, model_to_bytes(model, metadata=metadata))


def load_model(path):
    """Load a model saved by :func:`save_model`, validating every field.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    model : LogisticRegression or Pipeline
        Fitted; predicts exactly as the saved model did.

    Raises
    ------
    ModelFileError
        If the file is not a logitdescent model file, is corrupt or was
        modified (checksum mismatch), or needs a newer logitdescent.
    OSError
        If the file cannot be read.
    """
    data = Path(path).read_bytes()
    try:
        return model_from_bytes(data)
    except ModelFileError as exc:
        raise ModelFileError(f"model file {str(path)!r}: {exc}") from exc


def model_to_bytes(model, *, metadata=None):
    """The content of a model file for ``model`` (and ``metadata``); see :func:`save_model`.

    Returns
    -------
    data : bytes
        UTF-8 JSON.
    """
    document = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "logitdescent_version": __version__,
        "model": _encode_model(model),
    }
    if metadata:
        document["metadata"] = _checked_metadata(metadata, TypeError)
    document["sha256"] = _checksum(document)
    return (json.dumps(document, indent=1, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")


def model_from_bytes(data):
    """The model in the content of a model file; see :func:`load_model`.

    Parameters
    ----------
    data : bytes

    Returns
    -------
    model : LogisticRegression or Pipeline
    """
    document = _parse_json(data)
    _check_header(document)
    try:
        if document.get("sha256") != _checksum(document):
            raise ModelFileError("checksum mismatch: the file is corrupt or was modified; save the model again")
        return _decode_model(document["model"], document["format_version"])
    except RecursionError:  # JSON nested just shallowly enough to parse
        raise ModelFileError("not a logitdescent model file: its values are nested too deeply") from None


def load_model_metadata(path):
    """The metadata saved with a model (see :func:`save_model`); ``{}`` if none.

    The whole file is validated as :func:`load_model` does, so metadata are
    never read from a corrupt or modified file.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    metadata : dict

    Raises
    ------
    ModelFileError
        As :func:`load_model`.
    """
    data = Path(path).read_bytes()
    try:
        model_from_bytes(data)
        return dict(json.loads(data).get("metadata", {}))
    except ModelFileError as exc:
        raise ModelFileError(f"model file {str(path)!r}: {exc}") from exc


def _checked_metadata(metadata, error=ModelFileError):
    """``metadata`` as stored: known keys only, each value valid; else ``error``."""
    if not isinstance(metadata, dict):
        raise error(f"metadata must be a dict; got {type(metadata).__name__}")
    unknown = sorted(set(metadata) - _METADATA_KEYS)
    if unknown:
        raise error(f"metadata keys {unknown} are not known; expected some of {sorted(_METADATA_KEYS)}")
    threshold = metadata.get("decision_threshold")
    if threshold is not None and not (
        isinstance(threshold, (int, float)) and not isinstance(threshold, bool) and 0 <= threshold <= 1
    ):
        raise error(f"metadata decision_threshold must be a number in [0, 1]; got {threshold!r}")
    column = metadata.get("offset_column")
    if column is not None and not (isinstance(column, str) and column):
        raise error(f"metadata offset_column must be a column name (a non-empty string); got {column!r}")
    return {key: value if key == "offset_column" else float(value) for key, value in metadata.items()}


# -- document level --------------------------------------------------------


def _checksum(document):
    """SHA-256 of the canonical JSON of ``document`` without its ``sha256`` key.

    Canonical means sorted keys, no whitespace, ASCII only: parsing a file and
    dumping it again this way gives the same bytes, so the digest can be
    recomputed from the parsed document.
    """
    body = {key: value for key, value in document.items() if key != "sha256"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _parse_json(data):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelFileError(
            "not a logitdescent model file: it is binary, not JSON text (a pickle?)"
        ) from None
    try:
        document = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except ModelFileError:
        raise
    except (ValueError, RecursionError):
        raise ModelFileError("not a logitdescent model file: it is not valid JSON") from None
    if not isinstance(document, dict):
        raise ModelFileError("not a logitdescent model file: the JSON is not an object")
    return document


def _reject_constant(name):
    # NaN and Infinity are not JSON; this format never writes them.
    raise ModelFileError(f"not a logitdescent model file: non-standard JSON constant {name}")


def _unique_keys(pairs):
    # A repeated key would let two readers see two different models.
    document = {}
    for key, value in pairs:
        if key in document:
            raise ModelFileError(f"duplicate key {key!r} in the JSON")
        document[key] = value
    return document


def _check_header(document):
    if document.get("format") != FORMAT_NAME:
        raise ModelFileError(f"not a logitdescent model file: 'format' is not {FORMAT_NAME!r}")
    version = document.get("format_version")
    if not _is_int(version) or version < 1:
        raise ModelFileError(f"invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"format version {version} is newer than this logitdescent ({__version__}) reads "
            f"(up to {FORMAT_VERSION}); upgrade logitdescent"
        )
    _expect_keys(document, _TOP_LEVEL_KEYS | ({"metadata"} & set(document)), "the file")
    if "metadata" in document:
        _checked_metadata(document["metadata"])
    if not isinstance(document["logitdescent_version"], str):
        raise ModelFileError("logitdescent_version must be a string")


# -- values ----------------------------------------------------------------


def _is_int(value):
    # bool is an int subclass in Python, never a count or a size here.
    return isinstance(value, int) and not isinstance(value, bool)


def _expect_keys(obj, keys, where):
    if not isinstance(obj, dict):
        raise ModelFileError(f"{where} must be a JSON object")
    if set(obj) != set(keys):
        missing, extra = sorted(set(keys) - set(obj)), sorted(set(obj) - set(keys))
        raise ModelFileError(f"{where} has missing keys {missing} or unexpected keys {extra}")
    return obj


def _encode_float(x):
    x = float(x)
    if math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def _encode_param(value, where):
    """A parameter value as JSON.

    None, bools, strings, ints and finite floats are themselves; everything
    else is a one-key object naming its type: non-finite floats, tuples,
    lists, dicts (as ``[key, value]`` pairs: keys need not be strings) and
    NumPy arrays.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):  # np.str_ too
        return str(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        x = float(value)
        return x if math.isfinite(x) else {"float": _encode_float(x)}
    if isinstance(value, tuple):
        return {"tuple": [_encode_param(v, where) for v in value]}
    if isinstance(value, list):
        return {"list": [_encode_param(v, where) for v in value]}
    if isinstance(value, dict):
        return {"dict": [[_encode_param(k, where), _encode_param(v, where)] for k, v in value.items()]}
    if isinstance(value, np.ndarray):
        return {"array": _encode_array(value, where)}
    raise ValueError(
        f"cannot save parameter {where}={value!r}: only numbers, strings, booleans, None, "
        "NumPy arrays, and tuples, lists and dicts of those can be stored as data"
    )


def _decode_param(value, where):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if not (isinstance(value, dict) and len(value) == 1):
        raise ModelFileError(f"{where}: unsupported value {value!r}")
    (tag, content), = value.items()
    if tag == "float" and isinstance(content, str) and content in _NONFINITE:
        return _NONFINITE[content]
    if tag in ("tuple", "list") and isinstance(content, list):
        items = [_decode_param(v, where) for v in content]
        return tuple(items) if tag == "tuple" else items
    if tag == "dict" and isinstance(content, list):
        decoded = {}
        for pair in content:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise ModelFileError(f"{where}: dict entries must be [key, value] pairs")
            key = _decode_param(pair[0], where)
            try:
                hash(key)  # e.g. a list, an array, or a tuple holding one
            except TypeError:
                raise ModelFileError(f"{where}: a dict key must be a number, string, boolean, None or tuple") from None
            decoded[key] = _decode_param(pair[1], where)
        return decoded
    if tag == "array":
        return _decode_array(content, where, kinds="biufUO", ndim=(0, 1, 2))
    raise ModelFileError(f"{where}: unsupported value {value!r}")


def _encode_array(array, where):
    array = np.asarray(array)
    dtype = array.dtype.str
    if not _DTYPE_PATTERN.fullmatch(dtype):
        raise ValueError(f"cannot save {where}: arrays of dtype {array.dtype} are not supported")
    values = array.ravel().tolist()
    if array.dtype.kind == "f":
        values = [_encode_float(v) for v in values]
    elif array.dtype.kind == "O" and not all(isinstance(v, str) for v in values):
        raise ValueError(f"cannot save {where}: object arrays must hold only strings")
    return {"dtype": dtype, "shape": list(array.shape), "values": values}


def _encode_optional_array(array, where):
    return None if array is None else _encode_array(array, where)


def _valid_element(value, dtype):
    kind = dtype.kind
    if kind == "b":
        return isinstance(value, bool)
    if kind in "iu":
        info = np.iinfo(dtype)
        return _is_int(value) and info.min <= value <= info.max
    if kind == "f":
        return isinstance(value, float) or (isinstance(value, str) and value in _NONFINITE)
    if kind == "U":  # longer strings would be silently truncated by NumPy
        return isinstance(value, str) and len(value) <= dtype.itemsize // 4
    return isinstance(value, str)  # kind "O"


def _decode_array(obj, where, *, kinds, ndim):
    """An array from its JSON form, with its dtype kind and ndim checked.

    ``kinds`` is a string of allowed ``dtype.kind`` codes; ``ndim`` an int or
    a tuple of allowed numbers of dimensions.
    """
    obj = _expect_keys(obj, {"dtype", "shape", "values"}, where)
    if not (isinstance(obj["dtype"], str) and _DTYPE_PATTERN.fullmatch(obj["dtype"])):
        raise ModelFileError(f"{where}: unsupported dtype {obj['dtype']!r}")
    dtype = np.dtype(obj["dtype"])
    if dtype.kind not in kinds:
        raise ModelFileError(f"{where}: dtype {dtype} is not allowed here")
    shape, values = obj["shape"], obj["values"]
    ndims = (ndim,) if isinstance(ndim, int) else ndim
    if not (isinstance(shape, list) and len(shape) in ndims and all(_is_int(d) and d >= 0 for d in shape)):
        raise ModelFileError(f"{where}: shape must be a list of {ndim} non-negative integers; got {shape!r}")
    if not (isinstance(values, list) and len(values) == math.prod(shape)):
        raise ModelFileError(f"{where}: expected {math.prod(shape)} values for shape {shape}")
    if not all(_valid_element(v, dtype) for v in values):
        raise ModelFileError(f"{where}: values do not match dtype {dtype}")
    if dtype.kind == "f":
        values = [_NONFINITE[v] if isinstance(v, str) else v for v in values]
    array = np.array(values, dtype=dtype).reshape(shape)
    if dtype.kind == "f" and not np.array_equal(array.ravel().astype(np.float64), values, equal_nan=True):
        raise ModelFileError(f"{where}: values are not exactly representable as {dtype}")
    return array


def _decode_optional_array(obj, where, *, kinds, ndim):
    return None if obj is None else _decode_array(obj, where, kinds=kinds, ndim=ndim)


def _decode_int(obj, key, where, *, minimum):
    value = obj[key]
    if not (_is_int(value) and value >= minimum):
        raise ModelFileError(f"{where}.{key} must be an integer >= {minimum}; got {value!r}")
    return value


# -- estimators ------------------------------------------------------------

_CLASSIFIER_KEYS = {"params", "state"}
_OLD_CLASSIFIER_KEYS = {  # format versions 1 and 2
    1: {"params", "coef", "intercept", "classes", "n_features_in", "feature_names_in",
        "n_iter", "loss_curve", "solver", "converged"},
}
_OLD_CLASSIFIER_KEYS[2] = _OLD_CLASSIFIER_KEYS[1] | {"partial_fit"}
_OLD_PARTIAL_FIT_KEYS = {"calls", "alpha0", "rng"}
_OLD_RNG_KEYS = {"bit_generator", "key", "pos", "has_gauss", "cached_gaussian"}
_SCALER_KEYS = {"params", "mean", "var", "scale", "n_samples_seen", "n_features_in", "feature_names_in"}
_PIPELINE_STEPS = (("scaler", StandardScaler), ("classifier", LogisticRegression))


def _encode_model(model):
    if isinstance(model, LogisticRegression):
        return {"kind": "LogisticRegression", "classifier": _encode_classifier(model)}
    if isinstance(model, Pipeline) and _is_supported_pipeline(model):
        return {
            "kind": "Pipeline",
            "scaler": _encode_scaler(model.named_steps["scaler"]),
            "classifier": _encode_classifier(model.named_steps["classifier"]),
        }
    raise TypeError(
        "can only save a logitdescent LogisticRegression or a Pipeline of "
        "('scaler', StandardScaler()) and ('classifier', LogisticRegression()); "
        f"got {model!r}"
    )


def _is_supported_pipeline(pipeline):
    steps = pipeline.steps
    return len(steps) == len(_PIPELINE_STEPS) and all(
        name == expected_name and type(step) is expected_type
        for (name, step), (expected_name, expected_type) in zip(steps, _PIPELINE_STEPS)
    )


def _decode_model(obj, version):
    kind = obj.get("kind") if isinstance(obj, dict) else None
    if kind == "LogisticRegression":
        _expect_keys(obj, {"kind", "classifier"}, "model")
        return _decode_classifier(obj["classifier"], version)
    if kind == "Pipeline":
        _expect_keys(obj, {"kind", "scaler", "classifier"}, "model")
        scaler = _decode_scaler(obj["scaler"])
        classifier = _decode_classifier(obj["classifier"], version)
        if scaler.n_features_in_ != classifier.n_features_in_:
            raise ModelFileError("model: the scaler and the classifier disagree on the number of features")
        return Pipeline([("scaler", scaler), ("classifier", classifier)])
    raise ModelFileError(f"model.kind must be 'LogisticRegression' or 'Pipeline'; got {kind!r}")


def _encode_params(estimator, where):
    return {k: _encode_param(v, f"{where}.{k}") for k, v in estimator.get_params(deep=False).items()}


def _decode_params(obj, estimator_class, where):
    """Construct ``estimator_class`` from stored params, rejecting unknown names."""
    if not isinstance(obj, dict):
        raise ModelFileError(f"{where} must be a JSON object")
    return _construct(estimator_class, {k: _decode_param(v, f"{where}.{k}") for k, v in obj.items()}, where)


def _construct(estimator_class, params, where):
    unknown = sorted(set(params) - set(estimator_class().get_params(deep=False)))
    if unknown:
        raise ModelFileError(f"{where}: unknown parameters {unknown} (written by another logitdescent?)")
    return estimator_class(**params)


def _encode_feature_names(estimator, where):
    return _encode_optional_array(getattr(estimator, "feature_names_in_", None), where)


def _decode_feature_names(obj, n_features, where):
    names = _decode_optional_array(obj, where, kinds="UO", ndim=1)
    if names is not None and names.shape != (n_features,):
        raise ModelFileError(f"{where}: expected {n_features} names; got {names.shape[0]}")
    return names


def _encode_classifier(clf):
    # The estimator's documented state (plain data), never its private attributes.
    state = clf.get_fitted_state()
    try:  # the checks load_model makes: a model that could not be loaded is never saved
        clone(clf).set_fitted_state(state)
    except ValueError as exc:
        raise ValueError(f"cannot save the model: {exc}") from None
    return {
        "params": _encode_params(clf, "classifier"),
        "state": {key: _encode_param(value, f"state[{key!r}]") for key, value in state.items()},
    }


def _decode_classifier(obj, version=FORMAT_VERSION):
    where = "classifier"
    if version < 3:
        clf, state = _decode_old_classifier(obj, version)
    else:
        _expect_keys(obj, _CLASSIFIER_KEYS, where)
        clf = _decode_params(obj["params"], LogisticRegression, f"{where}.params")
        if not isinstance(obj["state"], dict):
            raise ModelFileError(f"{where}.state must be a JSON object")
        state = {key: _decode_param(value, f"{where}.state.{key}") for key, value in obj["state"].items()}
    try:  # every field, against the others and the parameters
        return clf.set_fitted_state(state)
    except ValueError as exc:  # scikit-learn's InvalidParameterError too
        raise ModelFileError(f"{where}: {exc}") from None


def _decode_old_classifier(obj, version):
    """``(estimator, state)`` from a format-1 or -2 classifier.

    Those files hold the parameters of logitdescent 0.1, where ``penalty``
    chose the penalty and ``l1_ratio`` (default 0.5) mattered only for
    "elasticnet": they become today's ``C`` and ``l1_ratio``. A one-vs-rest
    model (``multiclass="ovr"`` with more than two classes) is refused.
    """
    where = "classifier"
    _expect_keys(obj, _OLD_CLASSIFIER_KEYS[version], where)
    params = obj["params"]
    if not isinstance(params, dict):
        raise ModelFileError(f"{where}.params must be a JSON object")
    params = {k: _decode_param(v, f"{where}.params.{k}") for k, v in params.items()}
    penalty = params.pop("penalty", "l2")
    l1_ratio = params.pop("l1_ratio", 0.5)
    multiclass = params.pop("multiclass", "multinomial")
    if penalty not in ("l2", "l1", "elasticnet", None):
        raise ModelFileError(f"{where}.params.penalty: unsupported value {penalty!r}")
    if penalty is None:
        params.update(C=math.inf, l1_ratio=0.0)
    else:
        params["l1_ratio"] = {"l2": 0.0, "l1": 1.0}.get(penalty, l1_ratio)
    classes = _decode_array(obj["classes"], f"{where}.classes", kinds="biufUO", ndim=1)
    if (multiclass == "ovr" and classes.shape[0] > 2) or isinstance(obj["loss_curve"], list):
        raise ModelFileError(
            f"format version {version} holds a one-vs-rest model (multiclass='ovr'), which this "
            f"logitdescent ({__version__}) no longer fits nor loads; refit it as "
            "sklearn.multiclass.OneVsRestClassifier(logitdescent.LogisticRegression())"
        )
    clf = _construct(LogisticRegression, params, f"{where}.params")
    fitted = (obj["loss_curve"], obj["solver"], obj["converged"])
    state = {
        "classes": classes,
        "coef": _decode_array(obj["coef"], f"{where}.coef", kinds="f", ndim=2),
        "intercept": _decode_array(obj["intercept"], f"{where}.intercept", kinds="f", ndim=1),
        "n_features_in": obj["n_features_in"],
        "feature_names_in": _decode_optional_array(obj["feature_names_in"], f"{where}.feature_names_in",
                                                   kinds="UO", ndim=1),
        "n_iter": obj["n_iter"],
        "fit": None if all(value is None for value in fitted) else {
            "loss_curve": _decode_array(obj["loss_curve"], f"{where}.loss_curve", kinds="f", ndim=1),
            "solver": obj["solver"],
            "converged": obj["converged"],
        },
        "partial_fit": _decode_old_partial_fit(obj.get("partial_fit"), f"{where}.partial_fit"),
    }
    return clf, state


def _decode_old_partial_fit(obj, where):
    """A format-2 ``partial_fit`` record as the state's: one step, the generator's state as a dict."""
    if obj is None:
        return None
    obj = _expect_keys(obj, _OLD_PARTIAL_FIT_KEYS, where)
    alpha0 = obj["alpha0"]
    if not (isinstance(alpha0, list) and len(alpha0) == 1):
        raise ModelFileError(f"{where}.alpha0 must hold one step")
    rng = _expect_keys(obj["rng"], _OLD_RNG_KEYS, f"{where}.rng")
    # Scalars go as they are: set_fitted_state checks their types and values.
    return {
        "calls": obj["calls"],
        "alpha0": alpha0[0],
        "rng": {
            "bit_generator": rng["bit_generator"],
            "state": {"key": _decode_array(rng["key"], f"{where}.rng.key", kinds="u", ndim=1), "pos": rng["pos"]},
            "has_gauss": rng["has_gauss"],
            "gauss": rng["cached_gaussian"],
        },
    }


def _encode_scaler(scaler):
    check_is_fitted(scaler)
    for name in ("mean_", "var_", "scale_"):
        values = getattr(scaler, name)
        if values is not None and not np.all(np.isfinite(values)):
            raise ValueError(f"cannot save the model: the scaler's {name} holds non-finite values (NaN or infinity)")
    return {
        "params": _encode_params(scaler, "scaler"),
        "mean": _encode_optional_array(scaler.mean_, "mean_"),
        "var": _encode_optional_array(scaler.var_, "var_"),
        "scale": _encode_optional_array(scaler.scale_, "scale_"),
        # A scalar, or one count per feature when the data had NaNs.
        "n_samples_seen": _encode_array(scaler.n_samples_seen_, "n_samples_seen_"),
        "n_features_in": int(scaler.n_features_in_),
        "feature_names_in": _encode_feature_names(scaler, "feature_names_in_"),
    }


def _decode_scaler(obj):
    where = "scaler"
    _expect_keys(obj, _SCALER_KEYS, where)
    scaler = _decode_params(obj["params"], StandardScaler, f"{where}.params")
    try:
        scaler._validate_params()  # scikit-learn's own parameter constraints
    except ValueError as exc:
        raise ModelFileError(f"{where}.params: {exc}") from None

    n = _decode_int(obj, "n_features_in", where, minimum=1)
    stats = {
        key: _decode_optional_array(obj[key], f"{where}.{key}", kinds="f", ndim=1)
        for key in ("mean", "var", "scale")
    }
    for key, array in stats.items():
        if array is not None and array.shape != (n,):
            raise ModelFileError(f"{where}.{key} must have shape ({n},)")
        if array is not None and not np.all(np.isfinite(array)):
            raise ModelFileError(f"{where}.{key} holds non-finite values (NaN or infinity)")
    # transform() reads mean_ when centering and scale_ when scaling.
    if (scaler.with_mean and stats["mean"] is None) or (scaler.with_std and stats["scale"] is None):
        raise ModelFileError(f"{where}: mean or scale is missing for with_mean/with_std")
    seen = _decode_array(obj["n_samples_seen"], f"{where}.n_samples_seen", kinds="iuf", ndim=(0, 1))
    if seen.ndim == 1 and seen.shape != (n,):
        raise ModelFileError(f"{where}.n_samples_seen must be a scalar or have shape ({n},)")

    scaler.mean_, scaler.var_, scaler.scale_ = stats["mean"], stats["var"], stats["scale"]
    scaler.n_samples_seen_ = seen[()] if seen.ndim == 0 else seen
    scaler.n_features_in_ = n
    names = _decode_feature_names(obj["feature_names_in"], n, f"{where}.feature_names_in")
    if names is not None:
        scaler.feature_names_in_ = names
    return scaler
