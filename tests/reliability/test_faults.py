"""Faults in the library: killed saves, failing disks, corrupt and hostile model files.

Each test simulates one fault and asserts the promise of docs/reliability.md:
the previous model file survives a save that dies (no file is lost or left
half-written), a damaged or foreign file is refused with a message that
names the problem (or, where the damage changes nothing, loads the very same
model), and nothing in a model file is ever run. The CLI's faults are
``test_cli_faults.py``.
"""

import hashlib
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from logitdescent import LogisticRegression
from logitdescent.persistence import ModelFileError, load_model, model_from_bytes, model_to_bytes, save_model

RNG = np.random.default_rng(7)
X = RNG.standard_normal((50, 3))
Y = (X[:, 0] - X[:, 1] + 0.5 * RNG.standard_normal(50) > 0).astype(int)
MODEL = LogisticRegression(C=0.5).fit(X, Y)
OTHER = LogisticRegression(C=50.0).fit(X, 1 - Y)
DATA = model_to_bytes(MODEL)


def _predicts_like(model, reference):
    np.testing.assert_array_equal(model.predict_proba(X), reference.predict_proba(X))


def _document():
    return json.loads(DATA)


def _resealed(document):
    """The bytes of ``document`` with a correct checksum: only the content is wrong."""
    body = {key: value for key, value in document.items() if key != "sha256"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    document["sha256"] = hashlib.sha256(canonical.encode("ascii")).hexdigest()
    return json.dumps(document).encode()


def _loads_same_or_is_refused(data):
    """A damaged file must be refused, or (damage that changes no value) load the same model."""
    try:
        loaded = model_from_bytes(data)
    except ModelFileError as exc:
        assert str(exc)  # a message, naming the problem
        return "refused"
    _predicts_like(loaded, MODEL)
    np.testing.assert_array_equal(loaded.coef_, MODEL.coef_)
    return "same"


# -- a save killed, failing or racing ----------------------------------------------

KILLED_SAVER = textwrap.dedent("""
    import os, sys, time
    from logitdescent.persistence import model_from_bytes, save_model

    path, where, source = sys.argv[1:4]
    with open(source, "rb") as f:
        model = model_from_bytes(f.read())
    real = getattr(os, where, None)

    def hang(*args):  # the save is under way: say so, and wait for the kill
        print("saving", flush=True)
        time.sleep(60)
        return real(*args)

    if where != "loop":
        setattr(os, where, hang)
        save_model(model, path)
    else:
        print("saving", flush=True)
        while True:
            save_model(model, path)
""")


def _kill_mid_save(tmp_path, where, delay=0.0):
    path = tmp_path / "model.json"
    save_model(MODEL, path)
    before = path.read_bytes()
    source = tmp_path / "other.bin"
    source.write_bytes(model_to_bytes(OTHER))
    # The child only saves: no kernel to compile, so it starts quickly.
    process = subprocess.Popen([sys.executable, "-c", KILLED_SAVER, str(path), where, str(source)],
                               stdout=subprocess.PIPE, text=True, env={**os.environ, "LOGITDESCENT_NO_NUMBA": "1"})
    try:
        assert process.stdout.readline().strip() == "saving"
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    source.unlink()
    return path, before


@pytest.mark.parametrize("where", ["fsync", "replace"])
def test_sigkill_in_the_middle_of_a_save_leaves_the_old_model(tmp_path, where):
    # Killed with the new bytes written to the temporary file (fsync) or about
    # to be renamed over the old one (replace): the old file is untouched.
    path, before = _kill_mid_save(tmp_path, where)
    assert path.read_bytes() == before
    _predicts_like(load_model(path), MODEL)


@pytest.mark.parametrize("delay", [0.2])
def test_sigkill_at_a_random_moment_of_repeated_saves_leaves_a_whole_model(tmp_path, delay):
    path, _ = _kill_mid_save(tmp_path, "loop", delay=delay)
    loaded = load_model(path)  # the old model or the new one, whole, never a mix
    assert loaded.C in (0.5, 50.0)
    expected = MODEL if loaded.C == 0.5 else OTHER
    np.testing.assert_allclose(loaded.coef_, expected.coef_, rtol=1e-12)
    np.testing.assert_allclose(loaded.intercept_, expected.intercept_, rtol=1e-12)


@pytest.mark.parametrize("failing", ["write", "fsync", "replace"])
def test_a_failing_disk_during_save_leaves_the_old_model_and_no_temporary_file(tmp_path, monkeypatch, failing):
    path = tmp_path / "model.json"
    save_model(MODEL, path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    if failing == "write":
        real_fdopen = os.fdopen

        class Full:
            def __init__(self, fd, mode):
                self.file = real_fdopen(fd, mode)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.file.close()

            def write(self, data):
                self.file.write(data[: len(data) // 2])  # half of it reaches the disk
                fail()

        monkeypatch.setattr(os, "fdopen", Full)
    else:
        monkeypatch.setattr(os, failing, fail)
    with pytest.raises(OSError, match="No space left on device"):
        save_model(OTHER, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]
    _predicts_like(load_model(path), MODEL)


def test_concurrent_saves_leave_one_whole_model(tmp_path):
    path = tmp_path / "model.json"
    threads = [threading.Thread(target=save_model, args=(model, path)) for model in (MODEL, OTHER) * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    loaded = load_model(path)
    assert loaded.C in (0.5, 50.0)
    _predicts_like(loaded, MODEL if loaded.C == 0.5 else OTHER)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]


def test_saving_into_a_missing_directory_fails_cleanly(tmp_path):
    with pytest.raises(FileNotFoundError):
        save_model(MODEL, tmp_path / "missing" / "model.json")
    assert list(tmp_path.iterdir()) == []


# -- damaged files ---------------------------------------------------------------


@pytest.mark.parametrize("needle", ['"coef"', '"sha256"', '"format_version": 3', '"classes"', '"C"'])
@pytest.mark.parametrize("bit", [0, 3, 6])
def test_a_flipped_bit_at_a_known_place_is_refused(needle, bit):
    data = bytearray(DATA)
    index = DATA.index(needle.encode()) + 2
    data[index] ^= 1 << bit
    assert _loads_same_or_is_refused(bytes(data)) == "refused"


def test_a_flipped_bit_in_a_coefficient_is_refused_by_the_checksum():
    value = repr(float(MODEL.coef_[0, 0])).encode()
    data = bytearray(DATA)
    index = DATA.index(value) + len(value) - 1  # the last digit
    data[index] ^= 1
    with pytest.raises(ModelFileError, match=r"checksum mismatch: the file is corrupt or was modified"):
        model_from_bytes(bytes(data))


@given(st.integers(0, len(DATA) - 1), st.integers(0, 7))
def test_any_flipped_bit_is_refused_or_changes_nothing(index, bit):
    data = bytearray(DATA)
    data[index] ^= 1 << bit
    _loads_same_or_is_refused(bytes(data))


@pytest.mark.parametrize("keep", [0, 1, 10, len(DATA) // 2, len(DATA) - 3])
def test_a_truncated_file_is_refused(tmp_path, keep):
    path = tmp_path / "model.json"
    path.write_bytes(DATA[:keep])
    with pytest.raises(ModelFileError, match=r"model\.json.*not (valid JSON|a logitdescent model file)"):
        load_model(path)


@given(st.integers(0, len(DATA) - 1))
def test_any_truncation_is_refused_or_changes_nothing(keep):
    _loads_same_or_is_refused(DATA[:keep])


def test_a_file_from_a_newer_schema_is_refused_naming_the_versions():
    document = _document()
    document["format_version"] = 4
    with pytest.raises(ModelFileError, match=r"format version 4 is newer than this logitdescent .*\(up to 3\); upgrade"):
        model_from_bytes(_resealed(document))


# -- hostile files: nothing is ever run --------------------------------------------


class _Payload:
    """Unpickling this creates the marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_a_pickle_renamed_model_json_is_refused_and_never_run(tmp_path, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.json"
    path.write_bytes(pickle.dumps(_Payload(marker), protocol=protocol))
    pickle.loads(pickle.dumps(_Payload(tmp_path / "control"), protocol=protocol)).close()
    assert (tmp_path / "control").exists()  # the payload works when unpickled...
    with pytest.raises(ModelFileError, match=r"not a logitdescent model file: .*(a pickle\?|not valid JSON)"):
        load_model(path)
    assert not marker.exists()  # ...and load_model never unpickles it


def test_a_json_file_naming_a_class_to_build_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    document = _document()
    document["model"]["classifier"]["params"]["C"] = {"py/reduce": [{"py/function": "builtins.open"},
                                                                    {"py/tuple": [str(marker), "w"]}]}
    with pytest.raises(ModelFileError, match=r"classifier\.params\.C: unsupported value"):
        model_from_bytes(_resealed(document))
    document = _document()
    document["model"]["kind"] = "os.system"
    with pytest.raises(ModelFileError, match=r"model\.kind must be 'LogisticRegression' or 'Pipeline'"):
        model_from_bytes(_resealed(document))
    assert not marker.exists()


def _state(document):
    return document["model"]["classifier"]["state"]


WRONG_CONTENT = [
    pytest.param(lambda s: s["coef"]["array"].update(shape=[1, 5], values=[0.0] * 5),
                 r"state\['coef'\] must have shape \(1, 3\)", id="coef-shape"),
    pytest.param(lambda s: s["coef"]["array"].update(shape=[3], values=[0.0] * 3),
                 r"state\['coef'\] must be a 2-d ndarray", id="coef-1d"),
    pytest.param(lambda s: s["coef"]["array"].update(shape=[1, 4]), r"expected 4 values for shape \[1, 4\]",
                 id="coef-shape-vs-values"),
    pytest.param(lambda s: s["intercept"]["array"].update(shape=[2], values=[0.0, 0.0]),
                 r"state\['intercept'\] \(1,\)", id="intercept-shape"),
    pytest.param(lambda s: s["classes"]["array"].update(shape=[1], values=[0]), r"at least two distinct labels",
                 id="one-class"),
    pytest.param(lambda s: s.update(n_features_in=-3), r"n_features_in'\] must be an integer >= 1", id="n-features"),
    pytest.param(lambda s: s["coef"]["array"]["values"].__setitem__(0, "nan"),
                 r"state\['coef'\] holds non-finite values \(NaN or infinity\)", id="coef-nan"),
    pytest.param(lambda s: s["coef"]["array"]["values"].__setitem__(1, "-inf"),
                 r"state\['coef'\] holds non-finite values", id="coef-inf"),
    pytest.param(lambda s: s["intercept"]["array"]["values"].__setitem__(0, "inf"),
                 r"state\['intercept'\] holds non-finite values", id="intercept-inf"),
    pytest.param(lambda s: dict(s["fit"]["dict"])["loss_curve"]["array"]["values"].__setitem__(0, "nan"),
                 r"loss_curve'\] holds non-finite values", id="loss-curve-nan"),
    pytest.param(lambda s: s["coef"]["array"].update(dtype="|O"), r"classifier\.state\.coef: values do not match dtype object",
                 id="coef-object-dtype"),
    pytest.param(lambda s: s["coef"]["array"].update(dtype="<c16"), r"unsupported dtype '<c16'", id="coef-complex"),
]


@pytest.mark.parametrize(("damage", "match"), WRONG_CONTENT)
def test_valid_json_with_wrong_content_is_refused_naming_the_field(damage, match):
    document = _document()
    damage(_state(document))
    with pytest.raises(ModelFileError, match=match):
        model_from_bytes(_resealed(document))


def test_a_non_standard_nan_constant_is_refused():
    data = DATA.replace(repr(float(MODEL.intercept_[0])).encode(), b"NaN", 1)
    with pytest.raises(ModelFileError, match=r"non-standard JSON constant NaN"):
        model_from_bytes(data)


def test_a_pipeline_with_a_non_finite_scaler_is_refused():
    pipeline = make_pipeline(StandardScaler(), LogisticRegression())
    pipeline.steps = [("scaler", pipeline.steps[0][1]), ("classifier", pipeline.steps[1][1])]
    pipeline.fit(X, Y)
    document = json.loads(model_to_bytes(pipeline))
    document["model"]["scaler"]["scale"]["values"][1] = "inf"
    with pytest.raises(ModelFileError, match=r"scaler\.scale holds non-finite values"):
        model_from_bytes(_resealed(document))
    pipeline.named_steps["scaler"].mean_[0] = np.nan
    with pytest.raises(ValueError, match=r"cannot save the model: the scaler's mean_ holds non-finite"):
        model_to_bytes(pipeline)


# -- non-finite models are never written ---------------------------------------------


@pytest.mark.parametrize(("attribute", "value"), [("coef_", np.nan), ("coef_", np.inf), ("intercept_", -np.inf)])
def test_save_refuses_a_non_finite_model_and_keeps_the_old_file(tmp_path, attribute, value):
    path = tmp_path / "model.json"
    save_model(MODEL, path)
    before = path.read_bytes()
    broken = LogisticRegression(C=0.5).fit(X, Y)
    getattr(broken, attribute).flat[0] = value  # as a buggy solver or a user's edit might leave it
    with pytest.raises(ValueError, match=rf"cannot save the model: state\['{attribute[:-1]}'\] holds non-finite"):
        save_model(broken, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]


def test_set_fitted_state_refuses_non_finite_coefficients():
    state = MODEL.get_fitted_state()
    state["coef"] = np.full_like(state["coef"], np.nan)
    with pytest.raises(ValueError, match=r"state\['coef'\] holds non-finite values"):
        LogisticRegression().set_fitted_state(state)
