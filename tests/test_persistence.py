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
}


@pytest.mark.parametrize("edit", FORGED.values(), ids=FORGED.keys())
def test_forged_content_is_rejected(saved, edit):
    rewrite(saved, edit, fix_checksum=True)
    with pytest.raises(ModelFileError):
        load_model(saved)


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
