"""Tests of the ``logitdescent`` command line, end to end in temporary folders."""

import contextlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
from sklearn.model_selection import train_test_split

from logitdescent import LogisticRegression
from logitdescent.cli import main
from logitdescent.data import load_builtin
from logitdescent.persistence import load_model
from logitdescent.plots import render_learning_curve

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
OUTPUTS = ("model.json", "metrics.json", "learning_curve.png")


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_line_error(result, exit_code):
    assert result.exit_code == exit_code, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("logitdescent: error: ")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One default ``train`` run, shared: its out folder and its result."""
    out = tmp_path_factory.mktemp("train") / "out"
    result = invoke("train", "--out", out)
    assert result.exit_code == 0, result.output
    return out, result


@pytest.fixture(scope="module")
def cancer_csv(tmp_path_factory):
    """The built-in data as a user's file: named labels in a ``diagnosis`` column."""
    X, y = load_builtin()
    frame = X.assign(diagnosis=np.where(y == 1, "benign", "malignant"))
    path = tmp_path_factory.mktemp("data") / "cancer.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def previous_run(trained, tmp_path):
    """An out folder holding an earlier run's files, to check nothing is clobbered."""
    out = tmp_path / "out"
    shutil.copytree(trained[0], out)
    return out


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# -- train -----------------------------------------------------------------


def test_train_writes_model_metrics_and_plot(trained):
    out, result = trained
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["dataset"] == "breast_cancer"
    assert metrics["n_train"] + metrics["n_test"] == 569
    assert metrics["n_test"] == 143  # --test-size 0.25
    assert metrics["test_accuracy"] > 0.93
    assert metrics["train_accuracy"] > 0.95
    assert 0 < metrics["test_log_loss"] < 0.2
    assert 0.95 < metrics["test_roc_auc"] <= 1
    assert metrics["converged"] is True
    assert metrics["n_iter"] >= 1 and metrics["fit_time_s"] >= 0
    assert 0 < metrics["final_cost"] < np.log(2)
    assert isinstance(metrics["solver"], str)
    assert (out / "learning_curve.png").read_bytes().startswith(PNG_MAGIC)
    assert "Cost after iteration 0: 0.693147" in result.stdout
    assert f"Test accuracy:  {metrics['test_accuracy']:.4f}" in result.stdout


def test_saved_model_reproduces_the_reported_test_accuracy(trained):
    out, _ = trained
    model = load_model(out / "model.json")
    metrics = json.loads((out / "metrics.json").read_text())
    X, y = load_builtin()
    # The same split as ``train``: stratified, seed 0, 25 % held out.
    _, X_test, _, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    assert model.named_steps["scaler"].n_features_in_ == 30
    assert accuracy_score(y_test, model.predict(X_test)) == metrics["test_accuracy"]
    assert log_loss(y_test, model.predict_proba(X_test)) == pytest.approx(metrics["test_log_loss"], rel=1e-12)


def test_train_quiet_prints_nothing(tmp_path):
    result = invoke("train", "--quiet", "--out", tmp_path)
    assert result.exit_code == 0
    assert result.output == ""
    assert (tmp_path / "model.json").exists()


def test_flags_map_onto_estimator_parameters(tmp_path):
    result = invoke(
        "train", "--out", tmp_path, "--solver", "gd", "--learning-rate", "0.5", "--max-iter", "30",
        "--tol", "0", "--C", "inf", "--penalty", "none", "--class-weight", "balanced", "--no-intercept",
        "--print-every", "10", "--test-size", "0.3", "--seed", "1",
    )
    assert result.exit_code == 0, result.output
    classifier = load_model(tmp_path / "model.json").named_steps["classifier"]
    expected = LogisticRegression(
        solver="gd", learning_rate=0.5, max_iter=30, tol=0.0, C=np.inf,
        class_weight="balanced", fit_intercept=False,
    ).get_params()
    assert classifier.get_params() == expected
    assert classifier.n_iter_ == 30 and classifier.intercept_[0] == 0
    printed = [line for line in result.stdout.splitlines() if line.startswith("Cost after iteration")]
    assert [line.split(":")[0] for line in printed] == [f"Cost after iteration {i}" for i in (0, 10, 20, 30)]
    assert json.loads((tmp_path / "metrics.json").read_text())["n_test"] == 171


def test_convergence_warning_is_one_line_on_stderr(tmp_path):
    result = invoke("train", "--out", tmp_path, "--solver", "gd", "--max-iter", "5", "--print-every", "0")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("logitdescent: warning: ")
    assert len(result.stderr.splitlines()) == 1
    assert json.loads((tmp_path / "metrics.json").read_text())["converged"] is False


def test_train_on_a_csv_file(tmp_path, cancer_csv):
    result = invoke("train", "--data", cancer_csv, "--target", "diagnosis", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["dataset"] == str(cancer_csv)
    assert metrics["target"] == "diagnosis"
    assert metrics["classes"] == ["benign", "malignant"]
    assert metrics["test_accuracy"] > 0.93
    model = load_model(tmp_path / "model.json")
    assert "diagnosis" not in model.feature_names_in_


def test_train_defaults_are_the_estimators(trained):
    classifier = load_model(trained[0] / "model.json").named_steps["classifier"]
    assert classifier.get_params() == LogisticRegression().get_params()
    metrics = json.loads((trained[0] / "metrics.json").read_text())
    assert metrics["n_classes"] == 2 and metrics["multiclass"] is None
    assert "final_cost_per_class" not in metrics


# -- more than two classes -------------------------------------------------

IRIS_CLASSES = ["setosa", "versicolor", "virginica"]


@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory):
    """Iris as a user's file: four features and a ``species`` column of names."""
    from sklearn.datasets import load_iris

    bunch = load_iris(as_frame=True)
    frame = bunch.data.assign(species=np.asarray(IRIS_CLASSES)[bunch.target])
    path = tmp_path_factory.mktemp("iris") / "iris.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def iris_trained(tmp_path_factory, iris_csv):
    out = tmp_path_factory.mktemp("iris-train") / "out"
    result = invoke("train", "--data", iris_csv, "--target", "species", "--out", out)
    assert result.exit_code == 0, result.output
    return out, result


def iris_test_split(iris_csv):
    frame = pd.read_csv(iris_csv)
    X, y = frame.drop(columns=["species"]), frame["species"]
    _, X_test, _, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    return X_test, y_test


def test_train_multiclass_csv_end_to_end(iris_trained, iris_csv):
    out, result = iris_trained
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["classes"] == IRIS_CLASSES
    assert metrics["n_classes"] == 3 and metrics["multiclass"] == "multinomial"
    assert metrics["n_train"] + metrics["n_test"] == 150 and metrics["n_test"] == 38
    assert metrics["test_accuracy"] > 0.85 and metrics["train_accuracy"] > 0.85
    assert 0 < metrics["test_log_loss"] < 0.5
    assert 0.9 < metrics["test_roc_auc"] <= 1
    assert metrics["converged"] is True
    assert 0 < metrics["final_cost"] < np.log(3)
    assert "Cost after iteration 0: 1.098612" in result.stdout  # log 3: the softmax at W = 0
    assert "(multinomial, 3 classes)" in result.stdout
    assert (out / "learning_curve.png").read_bytes().startswith(PNG_MAGIC)

    # The saved model reproduces the reported test metrics exactly.
    model = load_model(out / "model.json")
    classifier = model.named_steps["classifier"]
    assert classifier.coef_.shape == (3, 4) and classifier.intercept_.shape == (3,)
    X_test, y_test = iris_test_split(iris_csv)
    proba = model.predict_proba(X_test)
    assert accuracy_score(y_test, model.predict(X_test)) == metrics["test_accuracy"]
    assert log_loss(y_test, proba, labels=IRIS_CLASSES) == pytest.approx(metrics["test_log_loss"], rel=1e-12)
    expected_auc = roc_auc_score(y_test, proba, multi_class="ovr", labels=IRIS_CLASSES)
    assert metrics["test_roc_auc"] == pytest.approx(expected_auc, rel=1e-12)


def test_predict_multiclass_writes_one_probability_column_per_class(iris_trained, iris_csv, tmp_path):
    model_path = iris_trained[0] / "model.json"
    out = tmp_path / "predictions.csv"
    result = invoke("predict", "--model", model_path, "--data", iris_csv, "--out", out)
    assert result.exit_code == 0, result.output
    assert "proba_<label>" in result.stdout
    predictions = pd.read_csv(out)
    assert list(predictions.columns) == ["prediction", *(f"proba_{c}" for c in IRIS_CLASSES)]
    proba = predictions.drop(columns=["prediction"]).to_numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    model = load_model(model_path)
    X = pd.read_csv(iris_csv)[model.feature_names_in_]
    np.testing.assert_array_equal(predictions["prediction"], model.predict(X))
    np.testing.assert_array_equal(proba, model.predict_proba(X))  # exact: floats are written with repr
    assert (predictions["prediction"] == pd.read_csv(iris_csv)["species"]).mean() > 0.9


def test_evaluate_multiclass(iris_trained, iris_csv, tmp_path):
    model_path = iris_trained[0] / "model.json"
    out = tmp_path / "eval.json"
    result = invoke("evaluate", "--model", model_path, "--data", iris_csv, "--target", "species", "--out", out)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(iris_csv)
    X, y = frame.drop(columns=["species"]), frame["species"]
    model = load_model(model_path)
    proba = model.predict_proba(X)
    written = json.loads(out.read_text())
    assert written["n_examples"] == 150
    assert written["accuracy"] == accuracy_score(y, model.predict(X)) > 0.9
    assert written["log_loss"] == pytest.approx(log_loss(y, proba, labels=IRIS_CLASSES), rel=1e-12)
    assert written["roc_auc"] == pytest.approx(
        roc_auc_score(y, proba, multi_class="ovr", labels=IRIS_CLASSES), rel=1e-12)
    for name in ("accuracy", "log_loss", "roc_auc"):
        assert f"{name}: {written[name]:.6f}" in result.stdout

    # Without every class, the one-vs-rest AUC is undefined; the rest still works.
    two = write(tmp_path, "two.csv", frame[frame["species"] != "setosa"])
    result = invoke("evaluate", "--model", model_path, "--data", two, "--target", "species", "--out", out)
    assert result.exit_code == 0, result.output
    assert "roc_auc: undefined (not every class is present)" in result.stdout
    written = json.loads(out.read_text())
    assert written["roc_auc"] is None and written["n_examples"] == 100
    assert 0 < written["accuracy"] <= 1 and written["log_loss"] > 0


def test_new_flags_reach_the_estimator(iris_csv, tmp_path):
    result = invoke(
        "train", "--data", iris_csv, "--target", "species", "--out", tmp_path, "--quiet",
        "--l1-ratio", "0.25", "--solver", "sgd",
        "--batch-size", "16", "--coef-bounds", "-inf", "0.75", "--max-iter", "20", "--tol", "0",
        "--learning-rate", "0.05",
    )
    assert result.exit_code == 0, result.output
    # What the file says, exactly: the tuple of bounds with its infinity.
    params = json.loads((tmp_path / "model.json").read_text())["model"]["classifier"]["params"]
    assert params["penalty"] == "deprecated" and params["l1_ratio"] == 0.25
    assert params["batch_size"] == 16 and params["solver"] == "sgd"
    assert params["coef_bounds"] == {"tuple": [{"float": "-inf"}, 0.75]}
    classifier = load_model(tmp_path / "model.json").named_steps["classifier"]
    assert classifier.get_params() == LogisticRegression(
        l1_ratio=0.25, solver="sgd", batch_size=16,
        coef_bounds=(-np.inf, 0.75), max_iter=20, tol=0.0, learning_rate=0.05,
    ).get_params()
    assert type(classifier.coef_bounds) is tuple
    assert classifier.coef_.max() <= 0.75 and classifier.n_iter_ == 20


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--C", "inf"], {"C": np.inf}),
        (["--penalty", "none"], {"C": np.inf}),  # the deprecated alias, as the parameters it means
        (["--l1-ratio", "1", "--C", "0.05"], {"l1_ratio": 1.0, "C": 0.05}),
        (["--penalty", "l1", "--C", "0.05"], {"l1_ratio": 1.0, "C": 0.05}),
        (["--penalty", "elasticnet", "--l1-ratio", "0.5", "--C", "0.05"], {"l1_ratio": 0.5, "C": 0.05}),
        (["--coef-bounds", "0", "inf"], {"coef_bounds": (0.0, np.inf)}),
    ],
    ids=["no penalty", "penalty none", "l1", "penalty l1", "penalty elasticnet", "non-negative"],
)
def test_penalty_and_bounds_flags(cancer_csv, tmp_path, flags, expected):
    result = invoke("train", "--data", cancer_csv, "--target", "diagnosis", "--out", tmp_path, "-q", *flags)
    assert result.exit_code == 0, result.output
    classifier = load_model(tmp_path / "model.json").named_steps["classifier"]
    assert classifier.get_params() == LogisticRegression(**expected).get_params()
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["n_nonzero_coef"] == np.count_nonzero(classifier.coef_)
    if expected.get("l1_ratio"):  # a strong L1 penalty zeroes coefficients exactly
        assert 0 < metrics["n_nonzero_coef"] < 30
    if "coef_bounds" in expected:
        assert classifier.coef_.min() >= 0


@pytest.mark.parametrize(
    "flags, notes",
    [
        (["--batch-size", "8", "--learning-rate", "0.1"],
         ["--learning-rate is ignored unless --solver is one of 'gd', 'sgd'",
          "--batch-size is ignored unless --solver is 'sgd'"]),
        (["--solver", "gd", "--batch-size", "8", "--learning-rate", "0.1", "--max-iter", "3", "--tol", "0"],
         ["--batch-size is ignored unless --solver is 'sgd'"]),
        (["--C", "inf", "--l1-ratio", "0.3"], ["--l1-ratio is ignored unless --C is a float in the range (0.0, inf)"]),
        (["--penalty", "none", "--l1-ratio", "0.3"],
         ["--l1-ratio is ignored unless --C is a float in the range (0.0, inf)"]),
        # Flags that are used draw no note.
        (["--solver", "sgd", "--batch-size", "64", "--l1-ratio", "0.3", "--max-iter", "3", "--tol", "0"], []),
    ],
    ids=["auto solver", "gd", "no penalty", "penalty none", "all used"],
)
def test_flags_the_fit_ignores_are_noted(tmp_path, flags, notes):
    result = invoke("train", "--out", tmp_path, "--print-every", "0", *flags)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    # Without a penalty the built-in training split is linearly separable: the fit says so.
    separation = [line for line in lines if "Complete separation" in line]
    assert len(separation) == (1 if {"inf", "none"} & set(flags) else 0)
    assert [line for line in lines if line not in separation] == [
        f"logitdescent: warning: {note}" for note in notes]
    # Still passed on, one to one.
    classifier = load_model(tmp_path / "model.json").named_steps["classifier"]
    if "--batch-size" in flags:
        assert classifier.batch_size == int(flags[flags.index("--batch-size") + 1])
    # And never when quiet.
    assert invoke("train", "--out", tmp_path, "-q", *flags).output == ""


def test_flags_left_at_their_defaults_draw_no_note(tmp_path):
    result = invoke("train", "--out", tmp_path, "--print-every", "0", "--solver", "lbfgs")
    assert result.exit_code == 0 and result.stderr == ""


def test_train_compiles_the_kernel_through_the_public_warm_up(tmp_path, monkeypatch):
    import logitdescent.cli as cli
    import logitdescent.kernel

    calls = []
    monkeypatch.setattr(cli, "warm_up", lambda: calls.append("warm_up") or logitdescent.kernel.warm_up())
    assert invoke("train", "--out", tmp_path, "-q").exit_code == 0
    assert calls == ["warm_up"]


# -- predict, evaluate, explain --------------------------------------------


def test_predict_writes_labels_and_probabilities(trained, cancer_csv, tmp_path):
    model_path = trained[0] / "model.json"
    out = tmp_path / "predictions.csv"
    # The file still holds the target column: it is ignored, not an error.
    result = invoke("predict", "--model", model_path, "--data", cancer_csv, "--out", out)
    assert result.exit_code == 0, result.output
    predictions = pd.read_csv(out)
    assert list(predictions.columns) == ["prediction", "proba_0", "proba_1"]
    model = load_model(model_path)
    # The same input as the command's (the memory layout of X decides the
    # summation order of X @ w, hence the last bit of the scores).
    X = pd.read_csv(cancer_csv)[model.feature_names_in_]
    np.testing.assert_array_equal(predictions["prediction"], model.predict(X))
    # CSV floats are written with repr: the probabilities come back exactly.
    np.testing.assert_array_equal(predictions[["proba_0", "proba_1"]], model.predict_proba(X))
    # The target column is the one extra column, named once on stderr.
    assert result.stderr.splitlines() == [
        "logitdescent: note: ignoring 1 column(s) the model was not trained on: 'diagnosis'"]


def test_predict_with_a_model_fitted_without_feature_names(tmp_path):
    from logitdescent.persistence import save_model

    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]])
    model = save_model(LogisticRegression().fit(X, [0, 1, 0, 1]), tmp_path / "m.json")
    good = write(tmp_path, "good.csv", {"p": X[:, 0], "q": X[:, 1]})
    result = invoke("predict", "--model", model, "--data", good, "--out", "-")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 5
    wide = write(tmp_path, "wide.csv", {"p": X[:, 0], "q": X[:, 1], "r": X[:, 0]})
    result = invoke("predict", "--model", model, "--data", wide, "--out", "-")
    assert_one_line_error(result, 2)
    assert "has 3 feature columns but the model expects 2" in result.stderr


def test_predict_to_stdout(trained, cancer_csv):
    result = invoke("predict", "--model", trained[0] / "model.json", "--data", cancer_csv, "--out", "-")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "prediction,proba_0,proba_1" and len(lines) == 570


def test_evaluate_prints_and_writes_metrics(trained, cancer_csv, tmp_path):
    model_path = trained[0] / "model.json"
    # The built-in labels (0/1) as the target of the file.
    X, y = load_builtin()
    data = tmp_path / "labelled.csv"
    X.assign(label=y).to_csv(data, index=False)
    out = tmp_path / "eval.json"
    result = invoke("evaluate", "--model", model_path, "--data", data, "--target", "label", "--out", out)
    assert result.exit_code == 0, result.output
    model = load_model(model_path)
    proba = model.predict_proba(X)
    written = json.loads(out.read_text())
    assert written["n_examples"] == 569
    assert written["accuracy"] == accuracy_score(y, model.predict(X))
    assert written["log_loss"] == pytest.approx(log_loss(y, proba), rel=1e-12)
    assert written["roc_auc"] == pytest.approx(roc_auc_score(y, proba[:, 1]), rel=1e-12)
    for name in ("accuracy", "log_loss", "roc_auc"):
        assert f"{name}: {written[name]:.6f}" in result.stdout


def test_explain_shows_loop_and_vectorized_agree():
    result = invoke("explain", "--examples", "4")
    assert result.exit_code == 0, result.output
    assert "the loop and the vectorized code agree" in result.stdout
    table = [line.split() for line in result.stdout.splitlines()]
    header = next(row for row in table if row[:1] == ["i"])
    assert header == ["i", "x1", "x2", "y", "z", "a", "L", "dz"]
    J_row = next(row for row in table if row[:1] == ["J"])
    assert J_row[1] == J_row[2] or abs(float(J_row[1]) - float(J_row[2])) < 1e-12


# -- bad input: one line, exit status, nothing clobbered -------------------


def write(folder, name, content):
    """A data file: a dict of columns or a DataFrame becomes a CSV, str or bytes are written as is."""
    path = folder / name
    if isinstance(content, (dict, pd.DataFrame)):
        pd.DataFrame(content).to_csv(path, index=False)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    return path


# Bad data files for ``train --data a.csv --target y`` (None: no file at all).
BAD_TRAIN_DATA = {
    "missing file": None,
    "empty file": "",
    "missing target column": {"x": [1, 2], "z": [0, 1]},
    "non-numeric column": {"x": ["a", "b"], "y": [0, 1]},
    "NaN feature": {"x": [1, None], "y": [0, 1]},
    "NaN target": {"x": [1, 2, 3], "y": [0, 1, None]},
    "single class": {"x": [1, 2], "y": [1, 1]},
    "continuous target": {"x": [1, 2, 3, 4], "y": [0.5, 1.5, 2.25, 3.125]},
    "one example per class": {"x": [1, 2, 3], "y": [0, 1, 2]},
    "too few per class": {"x": [1, 2, 3], "y": [0, 1, 1]},
}

BAD_TRAIN_FLAGS = {
    "bad solver": ["--solver", "magic"],
    "bad C": ["--C", "0"],
    "bad learning rate": ["--learning-rate", "-1"],
    "bad max-iter": ["--max-iter", "-5"],
    "bad penalty": ["--penalty", "l3"],
    "NaN C": ["--C", "nan"],
    "NaN tol": ["--tol", "nan"],
    "l1-ratio above 1": ["--l1-ratio", "1.5"],
    "negative l1-ratio": ["--l1-ratio", "-0.1"],
    "NaN l1-ratio": ["--l1-ratio", "nan"],
    "removed --multiclass": ["--multiclass", "ovr"],  # OneVsRestClassifier in Python instead
    "penalty contradicting l1-ratio": ["--penalty", "l2", "--l1-ratio", "1"],
    "penalty contradicting C": ["--penalty", "none", "--C", "0.5"],
    "penalty hidden default": ["--penalty", "deprecated"],
    "non-integer max-iter": ["--max-iter", "2.5"],
    "zero batch size": ["--batch-size", "0"],
    "fractional batch size": ["--batch-size", "1.5"],
    "bounds reversed": ["--coef-bounds", "1", "-1"],
    "bounds NaN": ["--coef-bounds", "nan", "1"],
    "bounds not numbers": ["--coef-bounds", "low", "high"],
    "bounds infeasible": ["--coef-bounds", "inf", "inf"],
    "one bound only": ["--coef-bounds", "0"],
    "bad test size": ["--test-size", "1.5"],
    "data without target": ["--data", "absent.csv"],
    "unknown option": ["--frobnicate"],
}


@pytest.mark.parametrize("content", BAD_TRAIN_DATA.values(), ids=BAD_TRAIN_DATA.keys())
def test_bad_train_data_is_one_line_and_clobbers_nothing(tmp_path, previous_run, content):
    before = snapshot(previous_run)
    data = write(tmp_path, "a.csv", content)
    result = invoke("train", "--out", previous_run, "--data", data, "--target", "y")
    assert_one_line_error(result, 2)  # bad input
    assert snapshot(previous_run) == before


@pytest.mark.parametrize("flags", BAD_TRAIN_FLAGS.values(), ids=BAD_TRAIN_FLAGS.keys())
def test_bad_train_flags_are_usage_errors(previous_run, flags):
    before = snapshot(previous_run)
    result = invoke("train", "--out", previous_run, *flags)
    assert_one_line_error(result, 2)
    assert result.stdout == ""  # refused before any data was read or fitted
    assert "--help" in result.stderr  # usage errors point to the help
    assert snapshot(previous_run) == before


def test_incompatible_solver_and_penalty_is_one_line(previous_run):
    before = snapshot(previous_run)
    result = invoke("train", "--out", previous_run, "--solver", "newton", "--l1-ratio", "1")
    assert_one_line_error(result, 1)
    assert "fitting failed" in result.stderr and "L2 penalty only" in result.stderr
    assert snapshot(previous_run) == before


def test_fitting_error_is_one_line(previous_run, monkeypatch):
    def refuse(self, X, y, **kwargs):
        raise ValueError("solver refused\nwith a second line")

    monkeypatch.setattr(LogisticRegression, "fit", refuse)
    before = snapshot(previous_run)
    result = invoke("train", "--out", previous_run)
    assert_one_line_error(result, 1)
    assert "fitting failed: solver refused with a second line" in result.stderr
    assert snapshot(previous_run) == before


def test_failed_write_keeps_the_previous_model(previous_run, monkeypatch):
    import logitdescent.persistence as persistence

    def crash(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(persistence.os, "fsync", crash)
    model_before = (previous_run / "model.json").read_bytes()
    result = invoke("train", "--out", previous_run, "--C", "0.5")
    assert_one_line_error(result, 1)
    assert "No space left on device" in result.stderr
    assert (previous_run / "model.json").read_bytes() == model_before
    assert sorted(p.name for p in previous_run.iterdir()) == sorted(OUTPUTS)


def test_bugs_are_not_disguised_as_input_errors(monkeypatch, tmp_path):
    def bug(*args, **kwargs):
        raise RuntimeError("a genuine bug")

    monkeypatch.setattr("logitdescent.cli.render_learning_curve", bug)
    result = invoke("train", "--out", tmp_path)
    assert isinstance(result.exception, RuntimeError)


def corrupt_model(path, folder):
    """A copy of a model file with one edited number: the checksum no longer matches."""
    corrupt = folder / "corrupt.json"
    corrupt.write_text(path.read_text().replace('"n_iter": ', '"n_iter": 1', 1))
    return corrupt


def nan_copy(csv, folder):
    nan = folder / "nan.csv"
    pd.read_csv(csv).assign(**{"mean radius": np.nan}).to_csv(nan, index=False)
    return nan


# Each case turns (tmp_path, a good model, a good data file) into a bad pair.
BAD_PREDICT = {
    "missing model": lambda d, model, data: (d / "absent.json", data),
    "corrupt model": lambda d, model, data: (corrupt_model(model, d), data),
    "pickle as model": lambda d, model, data: (write(d, "m.pkl", b"\x80\x04K\x01."), data),
    "missing data": lambda d, model, data: (model, d / "absent.csv"),
    "missing features": lambda d, model, data: (model, write(d, "few.csv", {"mean radius": [1.0]})),
    "NaN in data": lambda d, model, data: (model, nan_copy(data, d)),
}


@pytest.mark.parametrize("make_pair", BAD_PREDICT.values(), ids=BAD_PREDICT.keys())
def test_bad_predict_input_is_one_line(tmp_path, trained, cancer_csv, make_pair):
    model, data = make_pair(tmp_path, trained[0] / "model.json", cancer_csv)
    out = tmp_path / "predictions.csv"
    result = invoke("predict", "--model", model, "--data", data, "--out", out)
    assert_one_line_error(result, 2)  # bad input
    assert not out.exists()


def test_missing_option_is_a_usage_error(cancer_csv):
    assert_one_line_error(invoke("predict", "--data", cancer_csv), 2)


@pytest.mark.parametrize(
    "target, message",
    [("nope", "target column 'nope' not found"), ("mean radius", "labels the model was not trained on")],
)
def test_bad_evaluate_input_is_one_line(trained, cancer_csv, tmp_path, target, message):
    out = tmp_path / "eval.json"
    result = invoke("evaluate", "--model", trained[0] / "model.json", "--data", cancer_csv,
                    "--target", target, "--out", out)
    assert_one_line_error(result, 2)
    assert message in result.stderr
    assert not out.exists()


# -- the installed entry point ---------------------------------------------


def test_console_script_reports_errors_in_one_line(tmp_path):
    script = Path(sys.executable).with_name("logitdescent")
    if not script.exists():
        pytest.skip("the console script is not installed next to this Python")
    completed = subprocess.run(
        [script, "train", "--out", tmp_path, "--data", tmp_path / "absent.csv", "--target", "y"],
        capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 2  # bad input
    assert completed.stderr.splitlines() == [
        f"logitdescent: error: data file not found: {str(tmp_path / 'absent.csv')!r}; check the path"
    ]
    assert completed.stdout == ""
    assert list(tmp_path.iterdir()) == []


# -- the lecture's demonstrations ------------------------------------------


def test_bench_vectorization_results_agree():
    result = invoke("bench", "vectorization", "--size", 20000, "--examples", 300, "--features", 4, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    dot, step = report["dot"], report["gradient_step"]
    assert report["agree"] is True
    assert dot["size"] == 20000 and dot["relative_difference"] <= 1e-12
    assert dot["loop_value"] == pytest.approx(dot["vectorized_value"], rel=1e-12)
    assert step["max_difference"] <= 1e-12 and (step["examples"], step["features"]) == (300, 4)
    assert dot["speedup"] == pytest.approx(dot["loop_s"] / dot["vectorized_s"])
    assert dot["loop_s"] > 0 and step["loop_s"] > 0
    # The human-readable form names both times and the speed-up.
    text = invoke("bench", "vectorization", "--size", 1000, "--examples", 50, "--features", 3).stdout
    assert "for-loop" in text and "vectorized" in text and text.count("speed-up") == 2


def test_several_learning_rates_give_several_curves(tmp_path, monkeypatch):
    import logitdescent.cli as cli

    drawn = []
    real = cli.render_learning_curves
    monkeypatch.setattr(cli, "render_learning_curves", lambda curves, **kw: drawn.append(curves) or real(curves, **kw))
    result = invoke("train", "--out", tmp_path, "--learning-rate", "1", "0.1", "1e4", "--max-iter", "40",
                    "--tol", "0", "--print-every", "0")
    assert result.exit_code == 0, result.output
    (curves,) = drawn
    assert len(curves) == 3
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    rates = metrics["learning_rates"]
    assert [r["learning_rate"] for r in rates] == [1.0, 0.1, 1e4]
    assert [r["diverged"] for r in rates] == [False, False, True]
    assert [diverged for _, _, diverged in curves] == [False, False, True]
    # Each rate's accuracies are in its legend label and in metrics.json.
    for (label, curve, _), rate in zip(curves, rates):
        assert f"train acc {rate['train_accuracy']:.3f}" in label and f"test acc {rate['test_accuracy']:.3f}" in label
        assert len(curve) == rate["n_iter"] + 1
    assert rates[0]["n_iter"] == rates[1]["n_iter"] == 40
    # The model saved is the lowest final cost's; the diverging rate is named on stderr.
    assert metrics["learning_rate"] == 1.0 and metrics["final_cost"] == rates[0]["final_cost"]
    assert "--learning-rate 10000 diverged" in result.stderr
    assert load_model(tmp_path / "model.json").named_steps["classifier"].learning_rate == 1.0


def test_several_learning_rates_need_gd(tmp_path):
    result = invoke("train", "--out", tmp_path, "--learning-rate", "0.1", "0.01", "--solver", "lbfgs")
    assert_one_line_error(result, 2)
    assert "use --solver gd" in result.stderr and list(tmp_path.iterdir()) == []


def test_a_single_diverging_rate_fails_and_writes_nothing(previous_run):
    before = snapshot(previous_run)
    result = invoke("train", "--out", previous_run, "--solver", "gd", "--learning-rate", "1e300")
    assert_one_line_error(result, 1)
    assert "gradient descent diverged" in result.stderr
    assert snapshot(previous_run) == before


def test_explain_iterations_shows_the_updates():
    result = invoke("explain", "--examples", 6, "--iterations", 3, "--learning-rate", 0.5)
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines()]
    start = next(i for i, row in enumerate(rows) if row[:2] == ["iter", "J"])
    updates = rows[start + 1:start + 4]
    assert [int(row[0]) for row in updates] == [1, 2, 3]
    costs = [float(row[1]) for row in updates]
    assert costs[0] > costs[1] > costs[2]  # a small enough step lowers J
    # Each w, b is the previous one minus alpha times the printed gradient.
    w1 = 0.5 - 0.5 * float(updates[0][2])
    assert float(updates[0][5]) == pytest.approx(w1, abs=1e-6)
    assert "loop and kernel agreed at every step" in result.stdout


# -- plots -------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_feature_csv(tmp_path_factory):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2)) * [3, 10] + [50, 200]
    y = np.where((X[:, 0] - 50) / 3 - (X[:, 1] - 200) / 10 + rng.normal(size=200) > 0, "yes", "no")
    path = tmp_path_factory.mktemp("two") / "two.csv"
    pd.DataFrame({"height": X[:, 0], "weight": X[:, 1], "label": y}).to_csv(path, index=False)
    return path


def test_two_features_draw_the_decision_boundary(tmp_path, two_feature_csv):
    result = invoke("train", "--data", two_feature_csv, "--target", "label", "--out", tmp_path, "-q")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "decision_boundary.png").read_bytes().startswith(PNG_MAGIC)
    # Data with more features draws none, and a later run into the same folder removes the stale one.
    assert invoke("train", "--out", tmp_path, "-q").exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(OUTPUTS)


def test_evaluate_plots(trained, iris_trained, iris_csv, tmp_path):
    X, y = load_builtin()
    data = write(tmp_path, "labelled.csv", X.assign(label=y))
    result = invoke("evaluate", "--model", trained[0] / "model.json", "--data", data,
                    "--target", "label", "--plots", tmp_path / "binary")
    assert result.exit_code == 0, result.output
    names = ["calibration.png", "confusion_matrix.png", "precision_recall.png", "roc.png"]
    assert sorted(p.name for p in (tmp_path / "binary").iterdir()) == names
    assert all((tmp_path / "binary" / n).read_bytes().startswith(PNG_MAGIC) for n in names)
    result = invoke("evaluate", "--model", iris_trained[0] / "model.json", "--data", iris_csv,
                    "--target", "species", "--plots", tmp_path / "multi")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "multi").iterdir()) == names[1:]  # calibration is binary


# -- machine-readable output -------------------------------------------------


def test_train_json_is_metrics_json(tmp_path):
    result = invoke("train", "--out", tmp_path, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads((tmp_path / "metrics.json").read_text())
    assert len(result.stdout.splitlines()) == 1
    assert "Cost after iteration 0" in result.stderr  # messages moved to stderr


def test_evaluate_json_matches_out(trained, tmp_path):
    out = tmp_path / "eval.json"
    X, y = load_builtin()
    data = write(tmp_path, "labelled.csv", X.assign(label=y))
    result = invoke("evaluate", "--model", trained[0] / "model.json", "--data", data,
                    "--target", "label", "--out", out, "--json", "-q")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads(out.read_text())
    assert json.loads(result.stdout)["n_examples"] == 569


def test_predict_json_summary(trained, cancer_csv, tmp_path):
    out = tmp_path / "p.csv"
    result = invoke("predict", "--model", trained[0] / "model.json", "--data", cancer_csv, "--out", out,
                    "--json", "-q")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    predictions = pd.read_csv(out)
    assert report["n_predictions"] == len(predictions) == 569 and report["threshold"] == 0.5
    assert report["counts"] == {str(k): int(v) for k, v in predictions["prediction"].value_counts().items()}


def test_predict_matches_columns_by_name_in_any_order(trained, cancer_csv, tmp_path):
    frame = pd.read_csv(cancer_csv)
    shuffled = frame[list(reversed(frame.columns))].assign(id=np.arange(len(frame)))
    data = write(tmp_path, "shuffled.parquet", None)
    shuffled.to_parquet(data)
    out = tmp_path / "p.parquet"
    result = invoke("predict", "--model", trained[0] / "model.json", "--data", data, "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stderr.count("\n") == 1 and "'diagnosis', 'id'" in result.stderr
    expected = pd.read_csv(cancer_csv)
    reference_run = invoke("predict", "--model", trained[0] / "model.json", "--data", cancer_csv, "--out", "-")
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_csv(io.StringIO(reference_run.stdout)))
    assert len(expected) == len(pd.read_parquet(out))
    # A missing column is named.
    few = write(tmp_path, "few.csv", frame.drop(columns=["mean radius"]))
    result = invoke("predict", "--model", trained[0] / "model.json", "--data", few, "--out", "-")
    assert_one_line_error(result, 2)
    assert "'mean radius'" in result.stderr


def test_predict_threshold(trained, cancer_csv):
    model = trained[0] / "model.json"
    default = pd.read_csv(io.StringIO(invoke("predict", "--model", model, "--data", cancer_csv, "--out", "-").stdout))
    strict = pd.read_csv(io.StringIO(invoke("predict", "--model", model, "--data", cancer_csv, "--out", "-",
                                            "--threshold", "0.99").stdout))
    np.testing.assert_array_equal(default["prediction"], np.where(default["proba_1"] > 0.5, 1, 0))
    np.testing.assert_array_equal(strict["prediction"], np.where(strict["proba_1"] > 0.99, 1, 0))
    assert (strict["prediction"] == 1).sum() < (default["prediction"] == 1).sum()


def test_train_stores_the_threshold_predict_uses(tmp_path, cancer_csv):
    assert invoke("train", "--out", tmp_path, "--threshold", "0.9", "-q").exit_code == 0
    model = tmp_path / "model.json"
    stored = pd.read_csv(io.StringIO(invoke("predict", "--model", model, "--data", cancer_csv, "--out", "-").stdout))
    np.testing.assert_array_equal(stored["prediction"], np.where(stored["proba_1"] > 0.9, 1, 0))
    assert ((stored["proba_1"] > 0.5) & (stored["proba_1"] <= 0.9)).any()  # the stored threshold mattered
    given = pd.read_csv(io.StringIO(invoke("predict", "--model", model, "--data", cancer_csv, "--out", "-",
                                           "--threshold", "0.5").stdout))  # a given one wins
    np.testing.assert_array_equal(given["prediction"], np.where(given["proba_1"] > 0.5, 1, 0))


def test_train_threshold_needs_two_classes(tmp_path):
    frame = pd.DataFrame({"a": np.arange(30.0), "b": np.arange(30.0) % 7, "label": np.arange(30) % 3})
    path = write(tmp_path, "three.csv", frame)
    result = invoke("train", "--data", path, "--target", "label", "--out", tmp_path / "out",
                    "--threshold", "0.4", "-q")
    assert_one_line_error(result, 2)
    assert "--threshold applies to two classes" in result.stderr
    assert not (tmp_path / "out" / "model.json").exists()


# -- interrupt and resume ----------------------------------------------------


def test_resume_reaches_the_uninterrupted_coefficients(tmp_path, monkeypatch):
    flags = ["--solver", "gd", "--learning-rate", "0.5", "--max-iter", "300", "--tol", "0", "-q"]
    assert invoke("train", "--out", tmp_path / "whole", *flags).exit_code == 0
    whole = load_model(tmp_path / "whole" / "model.json").named_steps["classifier"]

    # Interrupt the checkpointed run at iteration 120 (what Ctrl-C raises).
    import logitdescent.cli as cli

    real = cli._progress

    @contextlib.contextmanager
    def interrupting(*args, **kwargs):
        with real(*args, **kwargs) as callback:
            def stop(iteration, cost):
                if iteration == 120:
                    raise KeyboardInterrupt
                callback(iteration, cost)
            yield stop

    monkeypatch.setattr(cli, "_progress", interrupting)
    monkeypatch.setattr(cli._Checkpointer, "FIRST_SEGMENT", 7)
    run = tmp_path / "run"
    result = invoke("train", "--out", run, "--checkpoint", "--checkpoint-every", "0", *flags)
    assert_one_line_error(result, 130)
    assert "--resume" in result.stderr
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.json"]
    saved = json.loads((run / "checkpoint.json").read_text())
    assert saved["converged"] is False and 0 < saved["n_iter"] < 120
    monkeypatch.setattr(cli, "_progress", real)

    result = invoke("train", "--resume", run, "-q")
    assert result.exit_code == 0, result.output
    resumed = load_model(run / "model.json").named_steps["classifier"]
    np.testing.assert_allclose(resumed.coef_, whole.coef_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(resumed.intercept_, whole.intercept_, rtol=0, atol=1e-10)
    assert resumed.n_iter_ == whole.n_iter_ == 300
    np.testing.assert_allclose(resumed.loss_curve_, whole.loss_curve_, rtol=1e-12)
    assert "checkpoint.json" not in {p.name for p in run.iterdir()}  # spent
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["resumed_from_iteration"] == saved["n_iter"]


@pytest.mark.parametrize("solver", ["lbfgs", "nesterov", "newton"])
def test_resume_with_a_memory_solver_reaches_the_same_coefficients(tmp_path, monkeypatch, two_feature_csv,
                                                                   solver):
    import logitdescent.cli as cli

    # L-BFGS's curvature pairs and Nesterov's momentum are lost at each link
    # of the chain: the same optimum by another path. At tol=1e-12 on this
    # well-conditioned problem both runs stop within ~1e-11 of it.
    flags = ["--data", two_feature_csv, "--target", "label", "--solver", solver, "--tol", "1e-12",
             "--max-iter", "2000", "-q"]
    assert invoke("train", "--out", tmp_path / "whole", *flags).exit_code == 0
    monkeypatch.setattr(cli._Checkpointer, "FIRST_SEGMENT", 3)
    result = invoke("train", "--out", tmp_path / "chain", "--checkpoint", "--checkpoint-every", "0", *flags)
    assert result.exit_code == 0, result.output
    whole = load_model(tmp_path / "whole" / "model.json").named_steps["classifier"]
    chain = load_model(tmp_path / "chain" / "model.json").named_steps["classifier"]
    assert whole.converged_ and chain.converged_
    assert chain.n_iter_ > 3  # it did run as a chain of several links
    np.testing.assert_allclose(chain.coef_, whole.coef_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(chain.intercept_, whole.intercept_, rtol=0, atol=1e-10)


def test_resume_refuses_flags_and_missing_checkpoints(tmp_path):
    result = invoke("train", "--resume", tmp_path, "--solver", "gd")
    assert_one_line_error(result, 2)
    assert "leave out --solver" in result.stderr
    result = invoke("train", "--resume", tmp_path)
    assert_one_line_error(result, 2)
    assert "no checkpoint.json" in result.stderr


# -- --summary -----------------------------------------------------------------


def test_summary_needs_c_inf(previous_run):
    before = snapshot(previous_run)
    result = invoke("train", "--out", previous_run, "--summary")
    assert_one_line_error(result, 2)
    assert "add --C inf" in result.stderr
    assert snapshot(previous_run) == before


def test_summary_on_the_original_scale_matches_statsmodels(tmp_path, two_feature_csv):
    import statsmodels.api as sm

    result = invoke("train", "--data", two_feature_csv, "--target", "label", "--out", tmp_path,
                    "--C", "inf", "--summary", "--tol", "1e-10", "--print-every", "0")
    assert result.exit_code == 0, result.output
    assert "original feature scale" in result.stdout
    table = pd.read_csv(tmp_path / "summary.csv", index_col=0)
    assert list(table.index) == ["height", "weight", "intercept"]
    frame = pd.read_csv(two_feature_csv)
    X_train, _, y_train, _ = train_test_split(frame[["height", "weight"]], frame["label"], test_size=0.25,
                                              random_state=0, stratify=frame["label"])
    fit = sm.Logit((y_train == "yes").astype(float), sm.add_constant(X_train)).fit(disp=0, tol=1e-12)
    order = ["height", "weight", "const"]
    np.testing.assert_allclose(table["coef"], fit.params[order], rtol=1e-6)
    np.testing.assert_allclose(table["std_err"], fit.bse[order], rtol=1e-6)
    np.testing.assert_allclose(table["p_value"], fit.pvalues[order], rtol=1e-5)


# -- --offset ------------------------------------------------------------------


@pytest.fixture(scope="module")
def offset_csv(tmp_path_factory):
    """Three features, a known per-row term ``exposure`` in the scores, a binary label."""
    rng = np.random.default_rng(0)
    m = 600
    X = rng.normal(size=(m, 3)) * [1, 2, 5] + [0, 1, 10]
    exposure = rng.normal(size=m)
    z = (X - [0, 1, 10]) / [1, 2, 5] @ [1.0, -1.0, 0.5] + exposure
    y = np.where(rng.random(m) < 1 / (1 + np.exp(-z)), "yes", "no")
    path = tmp_path_factory.mktemp("offset") / "offset.csv"
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "exposure": exposure, "label": y}).to_csv(path, index=False)
    return path


def test_offset_trains_predicts_and_evaluates_with_the_same_column(tmp_path, offset_csv):
    import statsmodels.api as sm
    from sklearn.model_selection import train_test_split

    out = tmp_path / "run"
    result = invoke("train", "--data", offset_csv, "--target", "label", "--offset", "exposure", "--out", out,
                    "--C", "inf", "--tol", "1e-10", "--summary", "--json")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["offset"] == "exposure" and metrics["n_features"] == 3
    # The summary (original feature scale) is statsmodels' Logit with the offset, on the same training split.
    frame = pd.read_csv(offset_csv)
    train, _ = train_test_split(frame, test_size=0.25, random_state=0, stratify=frame["label"])
    ref = sm.Logit((train["label"] == "yes").astype(int), sm.add_constant(train[["a", "b", "c"]], prepend=False),
                   offset=train["exposure"]).fit(method="newton", tol=1e-12, disp=0)
    table = pd.read_csv(out / "summary.csv", index_col=0)
    np.testing.assert_allclose(table["coef"], ref.params, rtol=1e-8)
    np.testing.assert_allclose(table["std_err"], ref.bse, rtol=1e-6)

    # predict reads the column the model file names and adds it to the scores.
    assert invoke("predict", "--model", out / "model.json", "--data", offset_csv, "--out", tmp_path / "p.csv",
                  "-q").exit_code == 0
    predicted = pd.read_csv(tmp_path / "p.csv")
    model = load_model(out / "model.json")
    expected = model.predict_proba(frame[["a", "b", "c"]], offset=frame["exposure"])[:, 1]
    np.testing.assert_allclose(predicted["proba_yes"], expected, rtol=1e-12)
    assert not np.allclose(expected, model.predict_proba(frame[["a", "b", "c"]])[:, 1])

    result = invoke("evaluate", "--model", out / "model.json", "--data", offset_csv, "--target", "label", "--json",
                    "--plots", tmp_path / "plots")
    assert result.exit_code == 0, result.output
    accuracy = np.mean(np.where(expected > 0.5, "yes", "no") == frame["label"])
    assert json.loads(result.stdout)["accuracy"] == pytest.approx(accuracy)
    assert (tmp_path / "plots" / "roc.png").read_bytes().startswith(PNG_MAGIC)

    # Without the column, predict and evaluate refuse, naming it.
    frame.drop(columns="exposure").to_csv(tmp_path / "no_exposure.csv", index=False)
    for command in (["predict", "--out", tmp_path / "q.csv"], ["evaluate", "--target", "label"]):
        result = invoke(*command, "--model", out / "model.json", "--data", tmp_path / "no_exposure.csv")
        assert_one_line_error(result, 2)
        assert "trained with --offset 'exposure'" in result.stderr


@pytest.mark.parametrize("flags, message", [
    (["--offset", "nosuch"], "no offset column 'nosuch'"),
    (["--offset", "label"], "is the --target column"),
])
def test_bad_offset_flags_are_one_line_errors(tmp_path, offset_csv, flags, message):
    result = invoke("train", "--data", offset_csv, "--target", "label", *flags, "--out", tmp_path / "run")
    assert_one_line_error(result, 2)
    assert message in result.stderr
    assert not (tmp_path / "run").exists()


def test_offset_needs_data_and_two_classes(tmp_path, iris_csv):
    result = invoke("train", "--offset", "x", "--out", tmp_path)
    assert_one_line_error(result, 2)
    assert "--offset names a column of --data" in result.stderr
    result = invoke("train", "--data", iris_csv, "--target", "species", "--offset", "sepal width (cm)",
                    "--out", tmp_path)
    assert_one_line_error(result, 2)
    assert "--offset takes a two-class target" in result.stderr
