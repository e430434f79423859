"""The CLI on a folder of Parquet (or CSV) files, fitted and predicted on Dask.

Oracles: the in-memory pipeline the CLI builds (StandardScaler, then
LogisticRegression) fitted on the same training rows, and the in-memory
``predict`` command on the concatenated CSV with the same model file.
"""

import json

import numpy as np
import pytest

dd = pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")

import pandas as pd  # noqa: E402
from click.testing import CliRunner  # noqa: E402
from scipy.special import expit  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from logitdescent import LogisticRegression  # noqa: E402
from logitdescent.backends import dask as ld_dask  # noqa: E402
from logitdescent.cli import main  # noqa: E402
from logitdescent.persistence import load_model  # noqa: E402

M, PARTS = 900, 3
FEATURES = ["a", "b", "c"]
TOL = 1e-10


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _table(multinomial=False, seed=0):
    """Features on different scales (standardization matters), overlapping classes."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((M, 3)) * [1.0, 5.0, 0.2] + [0.0, 3.0, 1.0]
    z = X @ np.array([1.0, -0.3, 2.0]) - 1.0
    if multinomial:
        scores = np.column_stack([z, -z, 0.5 * X[:, 0]]) + rng.gumbel(size=(M, 3))
        label = np.array(["cat", "dog", "eel"])[np.argmax(scores, axis=1)]
    else:
        label = np.where(rng.random(M) < expit(z), "pos", "neg")
    frame = pd.DataFrame(X, columns=FEATURES)
    frame["label"] = label
    return frame


def _write_parts(frame, folder, kind):
    folder.mkdir()
    for i in range(PARTS):
        part = frame.iloc[i * M // PARTS : (i + 1) * M // PARTS]
        if kind == "parquet":
            part.to_parquet(folder / f"part{i}.parquet", index=False)
        else:
            part.to_csv(folder / f"part{i}.csv", index=False)
    return folder


def _training_rows(files, kind):
    """The rows the CLI trains on: the backend's split of the same files, as pandas."""
    frame = dd.read_parquet(files) if kind == "parquet" else dd.read_csv(files)
    X_train, _, y_train, _ = ld_dask.train_test_split(frame[FEATURES], frame["label"], test_size=0.25,
                                                      random_state=0)
    return pd.DataFrame(X_train.compute(), columns=FEATURES), y_train.compute()


def _assert_model_equals_in_memory(model_path, X_train, y_train, **params):
    saved = load_model(model_path)
    scaler = StandardScaler().fit(X_train)
    np.testing.assert_allclose(saved["scaler"].mean_, scaler.mean_, rtol=1e-12)
    np.testing.assert_allclose(saved["scaler"].scale_, scaler.scale_, rtol=1e-12)
    assert saved["scaler"].n_samples_seen_ == len(y_train)
    np.testing.assert_array_equal(saved.feature_names_in_, FEATURES)
    in_memory = LogisticRegression(tol=TOL, **params).fit(scaler.transform(X_train), y_train)
    fitted = saved["classifier"]
    np.testing.assert_array_equal(fitted.classes_, in_memory.classes_)
    theta = np.column_stack([in_memory.coef_, in_memory.intercept_])
    gap = np.max(np.abs(np.column_stack([fitted.coef_, fitted.intercept_]) - theta)) / np.max(np.abs(theta))
    assert gap <= 1e-8
    return saved


def test_train_on_parquet_folder_and_predict_partitioned(tmp_path, dask_cluster):
    frame = _table()
    folder = _write_parts(frame, tmp_path / "data", "parquet")
    frame.to_csv(tmp_path / "all.csv", index=False)
    out = tmp_path / "run"
    result = invoke("train", "--data", folder, "--target", "label", "--out", out, "--tol", TOL,
                    "--workers", 2, "--json")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["n_train"] + metrics["n_test"] == M and metrics["converged"]
    assert metrics["test_roc_auc"] is None and 0.6 < metrics["test_accuracy"] <= 1
    assert sorted(p.name for p in out.iterdir()) == ["learning_curve.png", "metrics.json", "model.json"]
    X_train, y_train = _training_rows(sorted(str(p) for p in folder.iterdir()), "parquet")
    assert len(y_train) == metrics["n_train"]
    saved = _assert_model_equals_in_memory(out / "model.json", X_train, y_train)
    assert np.isclose(metrics["train_accuracy"], np.mean(saved.predict(X_train) == y_train), rtol=1e-12)

    # Predict on the running cluster into a partitioned Parquet folder ...
    predicted = tmp_path / "predictions.parquet"
    result = invoke("predict", "--model", out / "model.json", "--data", f"{folder}/*.parquet", "--out", predicted,
                    "--scheduler", dask_cluster.scheduler_address, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n_predictions"] == M
    parts = sorted(p.name for p in predicted.iterdir())
    assert parts == [f"part.{i}.parquet" for i in range(PARTS)]
    on_dask = pd.read_parquet(predicted)
    # ... equal to the in-memory predict of the same model on the concatenated CSV.
    assert invoke("predict", "--model", out / "model.json", "--data", tmp_path / "all.csv",
                  "--out", tmp_path / "memory.csv", "-q").exit_code == 0
    in_memory = pd.read_csv(tmp_path / "memory.csv")
    assert list(on_dask.columns) == list(in_memory.columns) == ["prediction", "proba_neg", "proba_pos"]
    np.testing.assert_array_equal(on_dask["prediction"].astype(str), in_memory["prediction"])
    np.testing.assert_allclose(on_dask[["proba_neg", "proba_pos"]], in_memory[["proba_neg", "proba_pos"]],
                               rtol=1e-12, atol=1e-15)
    # A second run replaces the folder whole.
    assert invoke("predict", "--model", out / "model.json", "--data", folder, "--out", predicted, "-q").exit_code == 0
    assert sorted(p.name for p in predicted.iterdir()) == parts


def test_multinomial_csv_glob_on_threads(tmp_path):
    frame = _table(multinomial=True)
    folder = _write_parts(frame, tmp_path / "data", "csv")
    out = tmp_path / "run"
    result = invoke("train", "--data", f"{folder}/*.csv", "--target", "label", "--out", out, "--tol", TOL,
                    "--C", 0.5, "-q")
    assert result.exit_code == 0, result.output
    X_train, y_train = _training_rows(sorted(str(p) for p in folder.iterdir()), "csv")
    _assert_model_equals_in_memory(out / "model.json", X_train, y_train, C=0.5)
    predicted = tmp_path / "predictions"
    assert invoke("predict", "--model", out / "model.json", "--data", folder, "--out", predicted, "-q").exit_code == 0
    written = pd.concat([pd.read_csv(predicted / f"part-{i}.csv") for i in range(PARTS)], ignore_index=True)
    expected = load_model(out / "model.json").predict_proba(frame[FEATURES])
    np.testing.assert_allclose(written[["proba_cat", "proba_dog", "proba_eel"]], expected, rtol=1e-12, atol=1e-15)


def _assert_one_line_error(result, code, message):
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("logitdescent: error: "), result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.output


def test_workers_and_scheduler_conflict(tmp_path):
    for command in (["train", "--data", tmp_path, "--target", "label"],
                    ["predict", "--model", tmp_path / "m.json", "--data", tmp_path]):
        result = invoke(*command, "--workers", 2, "--scheduler", "tcp://127.0.0.1:8786")
        _assert_one_line_error(result, 2, "--workers starts a local cluster and --scheduler names a running one")


def test_bad_dask_inputs_are_one_line_errors(tmp_path):
    frame = _table()
    mixed = _write_parts(frame, tmp_path / "mixed", "parquet")
    frame.to_csv(mixed / "extra.csv", index=False)
    _assert_one_line_error(invoke("train", "--data", mixed, "--target", "label", "--out", tmp_path / "o"), 2,
                           "mixes Parquet and CSV files")
    folder = _write_parts(frame, tmp_path / "data", "parquet")
    _assert_one_line_error(invoke("train", "--data", folder, "--target", "nope", "--out", tmp_path / "o"), 2,
                           "target column 'nope' not found")
    _assert_one_line_error(invoke("train", "--data", folder, "--target", "label", "--summary", "--C", "inf",
                                  "--out", tmp_path / "o"), 2, "--summary cannot be used with Dask input")
    _assert_one_line_error(invoke("train", "--data", f"{tmp_path}/none*.parquet", "--target", "label",
                                  "--out", tmp_path / "o"), 2, "matches no file")
    _assert_one_line_error(invoke("train", "--data", folder, "--target", "label", "--solver", "sgd",
                                  "--out", tmp_path / "o"), 1, "solver='lbfgs'")
    text = frame.assign(b=frame["b"].astype(str) + "x")
    _assert_one_line_error(invoke("train", "--data", _write_parts(text, tmp_path / "text", "parquet"),
                                  "--target", "label", "--out", tmp_path / "o"), 2, "'b' are not numeric")
    assert not (tmp_path / "o").exists()
