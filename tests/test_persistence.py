"""Tests of logitdescent.persistence: exact round trips, validation, atomic writes."""

import json
import os
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from logitdescent import LogisticRegression, persistence
from logitdescent.persistence import (
    FORMAT_VERSION,
    ModelFileError,
    atomic_write_bytes,
    load_model,
    model_from_bytes,
    model_to_bytes,
    save_model,
)

RNG_SEED = 0


@pytest.fixture(scope="module")
def Xy():
    """A small, noisy binary problem (not separable, so every fit converges)."""
    rng = np.random.default_rng(RNG_SEED)
    X = rng.normal(size=(60, 3))
    y01 = (X @ [1.0, -2.0, 0.5] + rng.normal(scale=1.5, size=60) > 0).astype(int)
    return X, y01


def assert_predicts_identically(original, loaded, X):
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        expected, actual = getattr(original, method)(X), getattr(loaded, method)(X)
        assert actual.dtype == expected.dtype, method
        if expected.dtype == object:  # labels; tobytes would compare pointers
            assert actual.tolist() == expected.tolist(), method
        else:  # bit for bit: tobytes also tells -0.0 from 0.0
            assert actual.tobytes() == expected.tobytes(), method
    np.testing.assert_array_equal(loaded.classes_, original.classes_)


LABELS = {
    "int": np.array([3, 7]),
    "str": np.array(["ham", "spam"]),
    "object str": np.array(["no", "yes"], dtype=object),
    "bool": np.array([False, True]),
    "float": np.array([-1.0, 2.0]),
}


@pytest.mark.parametrize("labels", LABELS.values(), ids=LABELS.keys())
def test_round_trip_predicts_bit_identically(tmp_path, Xy, labels):
    X, y01 = Xy
    model = LogisticRegression().fit(X, labels[y01])
    loaded = load_model(save_model(model, tmp_path / "model.json"))
    assert type(loaded) is LogisticRegression
    assert_predicts_identically(model, loaded, X)
    assert loaded.classes_.dtype == model.classes_.dtype
    for attribute in ("coef_", "intercept_", "loss_curve_"):
        assert getattr(loaded, attribute).tobytes() == getattr(model, attribute).tobytes()
    assert (loaded.n_iter_, loaded.solver_, loaded.converged_, loaded.n_features_in_) == (
        model.n_iter_, model.solver_, model.converged_, model.n_features_in_)


def test_float32_model_stays_float32(tmp_path, Xy):
    X, y01 = Xy
    X32 = X.astype(np.float32)
    # float32 gradients are only accurate to about 1e-7 relative, so a looser tol.
    model = LogisticRegression(tol=1e-4).fit(X32, y01)
    assert model.coef_.dtype == np.float32
    loaded = load_model(save_model(model, tmp_path / "m.json"))
    assert loaded.coef_.dtype == np.float32 and loaded.intercept_.dtype == np.float32
    assert_predicts_identically(model, loaded, X32)


def test_pipeline_with_feature_names_round_trips(tmp_path, Xy):
    X, y01 = Xy
    frame = pd.DataFrame(X * [1.0, 100.0, 0.01] + 5.0, columns=["alpha", "beta", "gamma"])
    pipeline = Pipeline([("scaler", StandardScaler()), ("classifier", LogisticRegression())]).fit(frame, y01)
    loaded = load_model(save_model(pipeline, tmp_path / "p.json"))
    assert isinstance(loaded, Pipeline)
    assert [name for name, _ in loaded.steps] == ["scaler", "classifier"]
    np.testing.assert_array_equal(loaded.feature_names_in_, ["alpha", "beta", "gamma"])
    for attribute in ("mean_", "var_", "scale_"):
        assert getattr(loaded[0], attribute).tobytes() == getattr(pipeline[0], attribute).tobytes()
    assert loaded[0].n_samples_seen_ == pipeline[0].n_samples_seen_
    assert_predicts_identically(pipeline, loaded, frame)


def test_parameters_round_trip_with_exact_types(tmp_path, Xy):
    X, y01 = Xy
    model = LogisticRegression(
        penalty=None, C=np.inf, solver="gd", learning_rate=0.5, max_iter=40, tol=0.0,
        class_weight={0: 1.0, 1: 2.5}, fit_intercept=False, random_state=3,
    ).fit(X, y01)
    loaded = load_model(save_model(model, tmp_path / "m.json"))
    params, expected = loaded.get_params(), model.get_params()
    assert params == expected
    assert {k: type(v) for k, v in params.items()} == {k: type(v) for k, v in expected.items()}
    assert loaded.C == np.inf


def test_file_is_standard_json_with_header_and_checksum(tmp_path, Xy):
    X, y01 = Xy
    path = save_model(LogisticRegression(C=np.inf).fit(X, y01), tmp_path / "m.json")

    def reject(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")

    document = json.loads(path.read_text(), parse_constant=reject)
    assert document["format"] == "logitdescent-model"
    assert document["format_version"] == FORMAT_VERSION
    assert isinstance(document["logitdescent_version"], str)
    assert len(document["sha256"]) == 64
    assert document["model"]["classifier"]["params"]["C"] == {"float": "inf"}


def test_non_finite_array_values_round_trip():
    # The format's escape for NaN and inf inside float arrays, end to end.
    array = np.array([np.nan, np.inf, -np.inf, -0.0, 1e-310], dtype=np.float64)
    encoded = persistence._encode_array(array, "a")
    assert encoded["values"][:3] == ["nan", "inf", "-inf"]
    decoded = persistence._decode_array(json.loads(json.dumps(encoded)), "a", kinds="f", ndim=1)
    assert decoded.tobytes() == array.tobytes()


# -- more than two classes, penalties, bounds ------------------------------


@pytest.fixture(scope="module")
def iris():
    """Iris, standardized, with its species names as labels."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])
    return StandardScaler().fit_transform(X), names[y]


def round_trip(model, tmp_path):
    return load_model(save_model(model, tmp_path / "model.json"))


def assert_same_fit(original, loaded):
    """Every fitted attribute, bit for bit, with its type and dtype."""
    for attribute in ("coef_", "intercept_"):
        expected, actual = getattr(original, attribute), getattr(loaded, attribute)
        assert actual.dtype == expected.dtype and actual.shape == expected.shape
        assert actual.tobytes() == expected.tobytes(), attribute
    assert loaded.classes_.dtype == original.classes_.dtype
    assert loaded.classes_.tolist() == original.classes_.tolist()
    expected, actual = original.loss_curve_, loaded.loss_curve_
    assert type(actual) is type(expected)
    for e, a in zip(expected, actual) if isinstance(expected, list) else [(expected, actual)]:
        assert a.tobytes() == e.tobytes()
    assert (loaded.n_iter_, loaded.solver_, loaded.converged_, loaded.n_features_in_) == (
        original.n_iter_, original.solver_, original.converged_, original.n_features_in_)
    assert_params_identical(loaded.get_params(), original.get_params())


def assert_params_identical(actual, expected):
    """Equal values of equal types, recursing into tuples, lists, dicts and arrays."""
    assert type(actual) is type(expected), (actual, expected)
    if isinstance(expected, np.ndarray):
        assert actual.dtype == expected.dtype and actual.shape == expected.shape
        assert actual.tobytes() == expected.tobytes()
    elif isinstance(expected, (tuple, list)):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_params_identical(a, e)
    elif isinstance(expected, dict):
        assert list(actual) == list(expected)
        for key in expected:
            assert_params_identical(actual[key], expected[key])
    else:
        assert actual == expected or (actual != actual and expected != expected)  # NaN


def test_multinomial_round_trip(tmp_path, iris):
    X, y = iris
    model = LogisticRegression().fit(X, y)
    assert model.coef_.shape == (3, 4)
    loaded = round_trip(model, tmp_path)
    assert_same_fit(model, loaded)
    assert_predicts_identically(model, loaded, X)


def test_one_vs_rest_round_trip_keeps_the_list_of_curves(tmp_path, iris):
    X, y = iris
    model = LogisticRegression(multiclass="ovr", class_weight="balanced").fit(X, y)
    assert isinstance(model.loss_curve_, list) and len({len(c) for c in model.loss_curve_}) > 1
    loaded = round_trip(model, tmp_path)
    assert isinstance(loaded.loss_curve_, list) and len(loaded.loss_curve_) == 3
    assert_same_fit(model, loaded)
    assert_predicts_identically(model, loaded, X)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["loss_curve"].pop(), "3 > 2 curves"),
        (lambda c: c.update(n_iter=c["n_iter"] + 1), "n_iter \\+ 1"),
        (lambda c: c["loss_curve"][0].update(shape=[0], values=[]), "empty"),
        (lambda c: c.update(coef=c["coef"] | {"shape": [1, 12]}), "coef must have shape \\(3, 4\\)"),
    ],
    ids=["a curve missing", "n_iter", "empty curve", "one row for three classes"],
)
def test_forged_one_vs_rest_file_is_rejected(tmp_path, iris, edit, message):
    X, y = iris
    path = save_model(LogisticRegression(multiclass="ovr").fit(X, y), tmp_path / "m.json")
    rewrite(path, lambda d: edit(d["model"]["classifier"]), fix_checksum=True)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


def test_l1_model_keeps_its_exact_zeros(tmp_path, iris):
    X, y = iris
    model = LogisticRegression(penalty="l1", C=0.05).fit(X, y)
    zeros = model.coef_ == 0
    assert zeros.any() and not zeros.all()
    loaded = round_trip(model, tmp_path)
    np.testing.assert_array_equal(loaded.coef_ == 0, zeros)
    assert_same_fit(model, loaded)  # tobytes: -0.0 stays -0.0
    assert_predicts_identically(model, loaded, X)


def test_elastic_net_one_vs_rest_round_trip(tmp_path, iris):
    X, y = iris
    model = LogisticRegression(penalty="elasticnet", l1_ratio=0.3, C=0.2, multiclass="ovr").fit(X, y)
    loaded = round_trip(model, tmp_path)
    assert (loaded.penalty, loaded.l1_ratio, loaded.multiclass) == ("elasticnet", 0.3, "ovr")
    assert_same_fit(model, loaded)
    assert_predicts_identically(model, loaded, X)


BOUNDS = {
    "scalars with inf": (-0.5, np.inf),
    "None and a scalar": (None, 0.25),
    "list of ints": [0, 1],
    "per-feature arrays": (np.array([-1.0, 0.0, -1.0, 0.0]), None),
    "per-class array": (np.full((3, 4), -0.75), np.array([1.0, 1.0, np.inf, 0.5])),
}


@pytest.mark.parametrize("bounds", BOUNDS.values(), ids=BOUNDS.keys())
def test_bounded_model_round_trips(tmp_path, iris, bounds):
    X, y = iris
    model = LogisticRegression(coef_bounds=bounds).fit(X, y)
    loaded = round_trip(model, tmp_path)
    assert_params_identical(loaded.coef_bounds, bounds)
    assert_same_fit(model, loaded)
    assert_predicts_identically(model, loaded, X)
    # The bounds still constrain a refit of the loaded model.
    refit = loaded.fit(X, y)
    assert refit.coef_.tobytes() == model.coef_.tobytes()


def test_float32_multiclass_stays_float32(tmp_path, iris):
    X, y = iris
    X32 = X.astype(np.float32)
    model = LogisticRegression(tol=1e-4, multiclass="ovr").fit(X32, y)
    loaded = round_trip(model, tmp_path)
    assert loaded.coef_.dtype == np.float32 and loaded.intercept_.dtype == np.float32
    assert_same_fit(model, loaded)
    assert_predicts_identically(model, loaded, X32)


MULTICLASS_LABELS = {
    "int": np.array([10, 20, 30]),
    "negative int8": np.array([-3, 0, 5], dtype=np.int8),
    "float": np.array([-1.0, 0.0, 2.0]),
    "uint16": np.array([1, 2, 60000], dtype=np.uint16),
    "object str": np.array(["a", "bb", "ccc"], dtype=object),
    "unicode": np.array(["λ", "µ", "日本"]),
}


@pytest.mark.parametrize("labels", MULTICLASS_LABELS.values(), ids=MULTICLASS_LABELS.keys())
def test_multiclass_labels_keep_their_type(tmp_path, iris, labels):
    X, y = iris
    codes = np.searchsorted(np.unique(y), y)
    model = LogisticRegression(max_iter=50, tol=1e-4).fit(X, labels[codes])
    loaded = round_trip(model, tmp_path)
    assert loaded.classes_.dtype == model.classes_.dtype
    assert_predicts_identically(model, loaded, X)


def test_partial_fit_state_round_trips(tmp_path, iris):
    """A loaded model continues a stream exactly as the saved one would have."""
    X, y = iris
    batches = [slice(k, None, 3) for k in range(3)]
    for model in (
        LogisticRegression(multiclass="ovr", random_state=0),  # only ever partial_fit
        LogisticRegression(random_state=1).fit(X, y),  # fit, then partial_fit
    ):
        if not hasattr(model, "classes_"):
            model.partial_fit(X[batches[0]], y[batches[0]], classes=np.unique(y))
        model.partial_fit(X[batches[1]], y[batches[1]])
        loaded = round_trip(model, tmp_path)
        assert loaded.n_iter_ == model.n_iter_
        assert_predicts_identically(model, loaded, X)
        for m in (model, loaded):
            m.partial_fit(X[batches[2]], y[batches[2]])
        assert loaded.coef_.tobytes() == model.coef_.tobytes()
        assert loaded.intercept_.tobytes() == model.intercept_.tobytes()


def test_loaded_model_warm_starts_from_its_coefficients(tmp_path, iris):
    X, y = iris
    model = LogisticRegression(warm_start=True).fit(X, y)
    loaded = round_trip(model, tmp_path)
    loaded.set_params(max_iter=0, tol=0.0).fit(X, y)  # zero steps from the warm start
    assert loaded.coef_.tobytes() == model.coef_.tobytes()


# A version-1 file as logitdescent 0.1 wrote it (binary, before multiclass and
# coef_bounds): a pipeline of 2 features, string labels, C=inf and a dict of
# class weights. PROBA_V1 is what that version predicted on X_V1.
MODEL_V1 = (
    '{"format":"logitdescent-model","format_version":1,"logitdescent_version":"0.1.0","model":{"classifier":'
    '{"classes":{"dtype":"<U3","shape":[2],"values":["no","yes"]},"coef":{"dtype":"<f8","shape":[1,2],"values"'
    ':[0.4503642534857946,-1.8937542022854181]},"converged":false,"feature_names_in":null,"intercept":{"dtype":'
    '"<f8","shape":[1],"values":[-0.46624458368343674]},"loss_curve":{"dtype":"<f8","shape":[4],"values":'
    '[0.6931471805599453,0.3354776134097171,0.2597357577419326,0.22203691682066892]},"n_features_in":2,'
    '"n_iter":3,"params":{"C":{"float":"inf"},"batch_size":256,"class_weight":{"dict":[["no",2.0],["yes",1.0]]}'
    ',"fit_intercept":true,"learning_rate":"auto","max_iter":3,"penalty":null,"random_state":null,"solver":'
    '"gd","tol":0.0,"verbose":0,"warm_start":false},"solver":"gd"},"kind":"Pipeline","scaler":'
    '{"feature_names_in":{"dtype":"|O","shape":[2],"values":["a","b"]},"mean":{"dtype":"<f8","shape":[2],'
    '"values":[2.5,0.9166666666666666]},"n_features_in":2,"n_samples_seen":{"dtype":"<f8","shape":[],"values":'
    '[6.0]},"params":{"copy":true,"with_mean":true,"with_std":true},"scale":{"dtype":"<f8","shape":[2],"values":'
    '[1.707825127659933,1.3043729868748775]},"var":{"dtype":"<f8","shape":[2],"values":[2.9166666666666665,'
    '1.701388888888889]}}},"sha256":"cff24b370f74bdecbf9f35885d16a231c441ea113f75889e9107e5e33f6a4c92"}'
)
X_V1 = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "b": [1.0, 0.5, 2.0, -1.0, 0.0, 3.0]})
PROBA_V1 = [0.2233069641288218, 0.43613415939673555, 0.10239102515335695, 0.9204386173589896,
            0.7790566741318113, 0.05563675869611529]


def test_version_1_files_still_load(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(MODEL_V1)
    model = load_model(path)
    classifier = model.named_steps["classifier"]
    # The parameters version 1 had, and the defaults (what it fitted) for the rest.
    assert classifier.get_params() == LogisticRegression(
        penalty=None, C=np.inf, solver="gd", max_iter=3, tol=0.0, class_weight={"no": 2.0, "yes": 1.0},
    ).get_params()
    assert (classifier.l1_ratio, classifier.multiclass, classifier.coef_bounds) == (0.5, "multinomial", None)
    assert classifier.coef_.tolist() == [[0.4503642534857946, -1.8937542022854181]]
    assert classifier.classes_.tolist() == ["no", "yes"] and classifier.n_iter_ == 3
    np.testing.assert_allclose(model.predict_proba(X_V1)[:, 1], PROBA_V1, rtol=1e-14)
    # Saved again, it is a current file that round trips exactly.
    again = save_model(model, tmp_path / "new.json")
    assert json.loads(again.read_text())["format_version"] == FORMAT_VERSION == 2
    assert_predicts_identically(model, load_model(again), X_V1)


def test_version_1_files_cannot_hold_version_2_keys(tmp_path):
    document = json.loads(MODEL_V1)
    document["model"]["classifier"]["partial_fit"] = None
    document["sha256"] = persistence._checksum(document)
    with pytest.raises(ModelFileError, match="unexpected keys \\['partial_fit'\\]"):
        model_from_bytes(json.dumps(document).encode())


def test_parameter_encoding_is_tagged_and_exact():
    values = {
        "tuple": (1, None, -np.inf), "list": [0.5, "a"], "nested": ((1.5, [True]),),
        "array": np.array([[1.0, -0.0], [np.nan, np.inf]], dtype=np.float32),
        "int array": np.arange(3, dtype=np.uint8), "0-d array": np.array(2.5),
        "dict": {1: (2, 3), "k": None},
    }
    for name, value in values.items():
        encoded = json.loads(json.dumps(persistence._encode_param(value, name), allow_nan=False))
        assert_params_identical(persistence._decode_param(encoded, name), value)
    assert persistence._encode_param((0, np.inf), "b") == {"tuple": [0, {"float": "inf"}]}
    # NumPy scalars are stored as the Python values they equal.
    assert persistence._encode_param((np.float64(1.5), np.int64(2), np.str_("x")), "c") == {"tuple": [1.5, 2, "x"]}


# -- rejecting bad files ---------------------------------------------------


@pytest.fixture
def saved(tmp_path, Xy):
    X, y01 = Xy
    return save_model(LogisticRegression().fit(X, y01), tmp_path / "model.json")


def rewrite(path, edit, *, fix_checksum):
    """Apply ``edit`` to the parsed file; optionally recompute the checksum (a forger)."""
    document = json.loads(path.read_text())
    edit(document)
    if fix_checksum:
        document["sha256"] = persistence._checksum(document)
    path.write_text(json.dumps(document))


def test_tampered_value_fails_the_checksum(saved):
    def double_first_weight(document):
        document["model"]["classifier"]["coef"]["values"][0] *= 2

    rewrite(saved, double_first_weight, fix_checksum=False)
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        load_model(saved)


def test_flipped_byte_is_detected(saved):
    data = bytearray(saved.read_bytes())
    position = data.index(b'"n_iter": ') + len(b'"n_iter": ')
    data[position] = ord("9") if data[position] != ord("9") else ord("8")
    saved.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        load_model(saved)


def test_foreign_json_is_rejected(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"format": "something-else", "weights": [1, 2]}))
    with pytest.raises(ModelFileError, match="not a logitdescent model file"):
        load_model(path)


def test_newer_format_version_asks_for_an_upgrade(saved):
    rewrite(saved, lambda d: d.update(format_version=FORMAT_VERSION + 1), fix_checksum=True)
    with pytest.raises(ModelFileError, match="newer .* upgrade logitdescent"):
        load_model(saved)


@pytest.mark.parametrize("version", [0, "1", True, None, 1.0])
def test_invalid_format_version_is_rejected(saved, version):
    rewrite(saved, lambda d: d.update(format_version=version), fix_checksum=True)
    with pytest.raises(ModelFileError, match="format_version"):
        load_model(saved)


class _Exploit:
    """Unpickling this runs ``os.system``: what a pickle-based format allows."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("protocol", [0, pickle.HIGHEST_PROTOCOL])
def test_pickle_payload_is_rejected_without_running_it(tmp_path, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.json"
    path.write_bytes(pickle.dumps(_Exploit(marker), protocol=protocol))
    with pytest.raises(ModelFileError, match="not a logitdescent model file"):
        load_model(path)
    assert not marker.exists()


def _set(keys, value):
    def edit(document):
        node = document["model"]
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return edit


# Files a forger could write (valid checksum): each must still be refused.
FORGED = {
    "coef shape": _set(["classifier", "coef", "shape"], [1, 2]),
    "values count": _set(["classifier", "coef", "values"], [0.5]),
    "object dtype with non-strings": _set(["classifier", "classes"], {"dtype": "|O", "shape": [2], "values": [1, 2]}),
    "structured dtype": _set(["classifier", "classes", "dtype"], "|V8"),
    "one class": _set(["classifier", "classes"], {"dtype": "<i8", "shape": [2], "values": [1, 1]}),
    "int out of range": _set(["classifier", "classes"], {"dtype": "|i1", "shape": [2], "values": [0, 300]}),
    "bool as count": _set(["classifier", "n_iter"], True),
    "loss curve length": _set(["classifier", "n_iter"], 999),
    "bad parameter": _set(["classifier", "params", "C"], -1.0),
    "unknown parameter": _set(["classifier", "params", "exec"], "print('hi')"),
    "unknown kind": _set(["kind"], "RandomForest"),
    "extra key": _set(["classifier", "code"], "import os"),
    "string for float": _set(["classifier", "intercept", "values"], ["0.1"]),
    "list for float": _set(["classifier", "intercept", "values"], [[0.1]]),
    "curve list for one model": _set(["classifier", "loss_curve"], []),
    "no fit and no partial_fit":
        lambda d: d["model"]["classifier"].update(loss_curve=None, solver=None, converged=None),
    "missing partial_fit key": lambda d: d["model"]["classifier"].pop("partial_fit"),
    "partial_fit not matching n_iter": _set(["classifier", "partial_fit"], {"calls": 99, "alpha0": [0.1], "rng": None}),
    "unknown parameter tag": _set(["classifier", "params", "coef_bounds"], {"set": [0, 1]}),
    "two tags": _set(["classifier", "params", "coef_bounds"], {"tuple": [0, 1], "list": [0, 1]}),
    "bounds of a bad shape": _set(["classifier", "params", "coef_bounds"],
                                  {"tuple": [{"array": {"dtype": "<f8", "shape": [2], "values": [0.0, 1.0]}}, None]}),
    "bounds reversed": _set(["classifier", "params", "coef_bounds"], {"tuple": [1.0, -1.0]}),
    "bounds not a pair": _set(["classifier", "params", "coef_bounds"], {"tuple": [1.0]}),
    "bounds of strings": _set(["classifier", "params", "coef_bounds"],
                              {"tuple": [{"array": {"dtype": "<U1", "shape": [], "values": ["a"]}}, None]}),
    "three classes, one coef row": _set(["classifier", "classes"], {"dtype": "<i8", "shape": [3], "values": [0, 1, 2]}),
    "duplicate of three": _set(["classifier", "classes"], {"dtype": "<i8", "shape": [3], "values": [0, 1, 1]}),
}


@pytest.mark.parametrize("edit", FORGED.values(), ids=FORGED.keys())
def test_forged_content_is_rejected(saved, edit):
    rewrite(saved, edit, fix_checksum=True)
    with pytest.raises(ModelFileError):
        load_model(saved)


def _set_rng(key, value):
    def edit(document):
        document["model"]["classifier"]["partial_fit"]["rng"][key] = value
    return edit


# Forged partial_fit states: NumPy would index the generator's key with pos unchecked.
FORGED_PARTIAL_FIT = {
    "pos past the key": _set_rng("pos", 625),
    "negative pos": _set_rng("pos", -1),
    "huge pos": _set_rng("pos", 10**30),
    "has_gauss not 0/1": _set_rng("has_gauss", 7),
    "short key": _set_rng("key", {"dtype": "<u4", "shape": [2], "values": [1, 2]}),
    "signed key": _set_rng("key", {"dtype": "<i4", "shape": [624], "values": [1] * 624}),
    "other generator": _set_rng("bit_generator", "PCG64"),
    "alpha0 count": _set(["classifier", "partial_fit", "alpha0"], [0.1, 0.2]),
    "alpha0 not floats": _set(["classifier", "partial_fit", "alpha0"], ["fast"]),
}


@pytest.mark.parametrize("edit", FORGED_PARTIAL_FIT.values(), ids=FORGED_PARTIAL_FIT.keys())
def test_forged_partial_fit_state_is_rejected(tmp_path, Xy, edit):
    X, y01 = Xy
    path = save_model(LogisticRegression(random_state=0).partial_fit(X, y01, classes=[0, 1]), tmp_path / "m.json")
    load_model(path)  # the genuine file loads
    rewrite(path, edit, fix_checksum=True)
    with pytest.raises(ModelFileError, match="partial_fit"):
        load_model(path)


@pytest.mark.parametrize("content", [b"", b"\x80\x04binary", b"[1, 2]", b'{"a": NaN}', b'{"a": 1, "a": 2}', b"{" * 100000])
def test_malformed_json_is_rejected(content):
    with pytest.raises(ModelFileError):
        model_from_bytes(content)


def test_error_message_names_the_file(saved):
    saved.write_text("{}")
    with pytest.raises(ModelFileError, match="model.json"):
        load_model(saved)


def test_only_supported_models_can_be_saved(Xy, tmp_path):
    X, y01 = Xy
    with pytest.raises(TypeError, match="can only save"):
        model_to_bytes(SklearnLogisticRegression().fit(X, y01))
    with pytest.raises(TypeError, match="can only save"):
        model_to_bytes(Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(X, y01))
    with pytest.raises(NotFittedError):
        save_model(LogisticRegression(), tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


# -- atomic writes ---------------------------------------------------------


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_failed_write_keeps_the_old_file_and_leaves_no_temp(saved, Xy, monkeypatch, failing):
    X, y01 = Xy
    before = saved.read_bytes()
    listing = sorted(saved.parent.iterdir())

    def crash(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr(persistence.os, failing, crash)
    with pytest.raises(OSError, match="disk on fire"):
        save_model(LogisticRegression(C=0.01).fit(X, y01), saved)
    monkeypatch.undo()
    assert saved.read_bytes() == before
    assert sorted(saved.parent.iterdir()) == listing
    load_model(saved)


def test_atomic_write_replaces_and_keeps_the_mode(tmp_path):
    path = tmp_path / "f.bin"
    atomic_write_bytes(path, b"one")
    os.chmod(path, 0o640)
    atomic_write_bytes(path, b"two")
    assert path.read_bytes() == b"two"
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]
