"""The CLI's bad-input catalogue: each case a file, a flag or a path, and its exact outcome.

Refused input: the exit status (2 for bad usage or input, 1 for a failure)
and one line on stderr naming the problem, with nothing written. Accepted
input that needs cleaning (a byte order mark, CRLF line ends): the same
model as the run on the cleaned file.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from logitdescent.cli import main

GOOD = "a,b,y\n" + "".join(f"{i % 7},{(i * 3) % 5},{i % 2}\n" for i in range(40))


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_refused(result, exit_code, message):
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("logitdescent: error: ") and message in lines[0], lines[0]


def rows(n, label=lambda i: i % 2, a=lambda i: i % 7):
    return "".join(f"{a(i)},{(i * 3) % 5},{label(i)}\n" for i in range(n))


# -- training data files: (file name, content, exit status, message) ------------

TRAIN_FILES = {
    "missing file": ("a.csv", None, 2, "data file not found"),
    "empty file": ("a.csv", "", 2, "is empty"),
    "header only": ("a.csv", "a,b,y\n", 2, "is empty; the data has no rows"),
    "missing target": ("a.csv", "a,b,z\n" + rows(10), 2, "target column 'y' not found"),
    "target the only column": ("a.csv", "y\n" + "0\n1\n" * 5, 2, "no feature columns besides the target"),
    "non-numeric column": ("a.csv", "a,b,y\n" + "x,1,0\ny,2,1\n" * 5, 2, "feature column 'a' is not numeric"),
    "mixed numbers and words": ("a.csv", "a,b,y\n" + "1,1,0\nfoo,2,1\n" * 5, 2, "feature column 'a' is not numeric"),
    "NaN feature": ("a.csv", "a,b,y\n" + "1,,0\n2,3,1\n" * 5, 2, "feature column 'b' has 5 missing (NaN) values"),
    "NaN string feature": ("a.csv", "a,b,y\n" + "1,nan,0\n2,3,1\n" * 5, 2, "missing (NaN) values"),
    "inf feature": ("a.csv", "a,b,y\n" + "1,inf,0\n2,3,1\n" * 5, 2, "feature column 'b' has 5 infinite values"),
    "-inf feature": ("a.csv", "a,b,y\n" + "1,-inf,0\n2,3,1\n" * 5, 2, "infinite values"),
    "NaN target": ("a.csv", "a,b,y\n" + "1,1,\n2,3,1\n3,3,0\n" * 4, 2, "target column 'y' has 4 missing values"),
    "one class": ("a.csv", "a,b,y\n" + rows(10, label=lambda i: 1), 2, "has a single class (1)"),
    "one string class": ("a.csv", "a,b,y\n" + rows(10, label=lambda i: "cat"), 2, "single class ('cat')"),
    "continuous target": ("a.csv", "a,b,y\n" + rows(10, label=lambda i: i + 0.5), 2, "holds continuous values"),
    "too few per class": ("a.csv", "a,b,y\n1,1,0\n2,2,1\n3,3,1\n", 2, "cannot hold out a stratified test split"),
    "one example per class": ("a.csv", "a,b,y\n1,1,0\n2,2,1\n3,3,2\n", 2, "cannot hold out a stratified"),
    "duplicate headers": ("a.csv", "a,a,y\n" + rows(10), 2, "repeats the column name(s) 'a'"),
    "semicolons": ("a.csv", "a;b;y\n" + rows(10).replace(",", ";"), 2, "looks delimited by ';'"),
    "tabs": ("a.csv", "a\tb\ty\n" + rows(10).replace(",", "\t"), 2, "looks delimited by '\\t'"),
    "pipes": ("a.csv", "a|b|y\n" + rows(10).replace(",", "|"), 2, "looks delimited by '|'"),
    "ragged rows": ("a.csv", "a,b,y\n1,2,0\n1,2,3,4,5\n", 2, "cannot read"),
    "binary garbage": ("a.csv", b"\xff\xfe\x00\x01\x02" * 50, 2, "cannot read"),
    "unknown extension": ("a.txt", GOOD, 2, "unsupported data file type 'a.txt'"),
    "no extension": ("data", GOOD, 2, "unsupported data file type 'data'"),
    "corrupt parquet": ("a.parquet", b"PAR1 not really", 2, "cannot read"),
    "huge feature 1e160": ("a.csv", "a,b,y\n" + rows(20, a=lambda i: f"{i}e160"), 2,
                           "feature column 'a' has values of magnitude 1.9e+161"),
    "huge feature 1e307": ("a.csv", "a,b,y\n" + rows(20, a=lambda i: f"{i % 9}e307"), 2,
                           "feature column 'a' has values of magnitude 8e+307"),
    "folder as data": ("adir", "DIR", 2, "is a directory, not a data file"),
    "list-like target": ("a.parquet", "PARQUET_LISTS", 2, "cannot be read as class labels"),
}


def make_file(folder, name, content):
    path = folder / name
    if content is None:
        return path
    if content == "DIR":
        path.mkdir()
    elif content == "PARQUET_LISTS":
        pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "y": [[1], [2], [1], [2]]}).to_parquet(path)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


@pytest.mark.parametrize("name, content, code, message", TRAIN_FILES.values(), ids=TRAIN_FILES.keys())
def test_bad_training_file(tmp_path, name, content, code, message):
    data = make_file(tmp_path, name, content)
    out = tmp_path / "out"
    assert_refused(invoke("train", "--data", data, "--target", "y", "--out", out, "-q"), code, message)
    assert not out.exists()


# -- flags: (arguments, message); every one a usage error (exit status 2) -------

BAD_FLAGS = {
    "unknown solver": (["--solver", "magic"], "'magic' is not one of"),
    "C zero": (["--C", "0"], "--C"),
    "C negative": (["--C", "-1"], "--C"),
    "C word": (["--C", "lots"], "--C"),
    "C NaN": (["--C", "nan"], "--C"),
    "negative learning rate": (["--learning-rate", "-1"], "'-1' is not a float in the range (0.0, inf) or 'auto'"),
    "zero learning rate": (["--learning-rate", "0"], "--learning-rate"),
    "NaN learning rate": (["--learning-rate", "nan"], "--learning-rate"),
    "learning rate word": (["--learning-rate", "fast"], "--learning-rate"),
    "several rates with auto": (["--learning-rate", "0.1", "auto"], "must all be numbers"),
    "several rates with lbfgs": (["--solver", "lbfgs", "--learning-rate", "0.1", "0.2"], "use --solver gd"),
    "several rates with summary": (["--learning-rate", "0.1", "0.2", "--summary"], "single --learning-rate"),
    "several rates with checkpoint": (["--learning-rate", "0.1", "0.2", "--checkpoint"], "single --learning-rate"),
    "negative max-iter": (["--max-iter", "-5"], "--max-iter"),
    "fractional max-iter": (["--max-iter", "2.5"], "--max-iter"),
    "NaN tol": (["--tol", "nan"], "--tol"),
    "negative tol": (["--tol", "-1"], "--tol"),
    "l1-ratio above 1": (["--l1-ratio", "1.5"], "--l1-ratio"),
    "l1-ratio NaN": (["--l1-ratio", "nan"], "--l1-ratio"),
    "bad penalty": (["--penalty", "l3"], "--penalty"),
    "penalty contradicts l1-ratio": (["--penalty", "l2", "--l1-ratio", "1"], "contradicts"),
    "zero batch size": (["--batch-size", "0"], "--batch-size"),
    "bounds reversed": (["--coef-bounds", "1", "-1"], "must not exceed HIGH"),
    "bounds infeasible": (["--coef-bounds", "inf", "inf"], "no coefficient would fit"),
    "bounds one value": (["--coef-bounds", "0"], "--coef-bounds"),
    "test size 0": (["--test-size", "0"], "--test-size"),
    "test size 1": (["--test-size", "1"], "--test-size"),
    "seed word": (["--seed", "abc"], "--seed"),
    "class weight": (["--class-weight", "heavy"], "--class-weight"),
    "data without target": (["--data", "a.csv"], "--data and --target go together"),
    "target without data": (["--target", "y"], "--data and --target go together"),
    "summary with penalty": (["--summary"], "add --C inf"),
    "resume with flags": (["--resume", ".", "--tol", "0.1"], "leave out --tol"),
    "negative checkpoint interval": (["--checkpoint-every", "-1"], "--checkpoint-every"),
    "negative print-every": (["--print-every", "-1"], "--print-every"),
    "unknown option": (["--frobnicate"], "No such option"),
    "removed multiclass": (["--multiclass", "ovr"], "No such option"),
    "out is a file": (["--out", "FILE"], "is a file"),
}


@pytest.mark.parametrize("flags, message", BAD_FLAGS.values(), ids=BAD_FLAGS.keys())
def test_bad_train_flag(tmp_path, flags, message):
    (tmp_path / "FILE").write_text("x")
    flags = [str(tmp_path / "FILE") if f == "FILE" else f for f in flags]
    result = invoke("train", *flags)
    assert_refused(result, 2, message)
    assert result.stdout == "" and "--help" in result.stderr


# -- predict and evaluate: models, data and outputs -------------------------


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    data = folder / "good.csv"
    data.write_text(GOOD)
    assert invoke("train", "--data", data, "--target", "y", "--out", folder / "out", "-q").exit_code == 0
    return folder / "out" / "model.json"


def other_json(folder, content):
    path = folder / "m.json"
    path.write_text(content)
    return path


def edited_model(model, folder):
    path = folder / "m.json"
    path.write_text(model.read_text().replace('"n_iter": ', '"n_iter": 1', 1))
    return path


# (how to make the model path, data content, extra arguments, exit status, message)
PREDICT = {
    "missing model": (lambda m, d: d / "absent.json", GOOD, [], 2, "model file not found"),
    "model is a folder": (lambda m, d: d, GOOD, [], 2, "is not a file"),
    "empty model": (lambda m, d: other_json(d, ""), GOOD, [], 2, "model file"),
    "not JSON": (lambda m, d: other_json(d, "hello"), GOOD, [], 2, "model file"),
    "JSON list": (lambda m, d: other_json(d, "[1, 2]"), GOOD, [], 2, "model file"),
    "other JSON": (lambda m, d: other_json(d, '{"format": "x"}'), GOOD, [], 2, "not a logitdescent model file"),
    "metrics.json as model": (lambda m, d: m.parent / "metrics.json", GOOD, [], 2, "not a logitdescent model file"),
    "edited model": (edited_model, GOOD, [], 2, "checksum mismatch"),
    "pickle as model": (lambda m, d: other_json(d, "\x80\x04K\x01."), GOOD, [], 2, "model file"),
    "missing feature column": (lambda m, d: m, "a,y\n1,0\n", [], 2, "lacks 1 feature columns"),
    "NaN feature": (lambda m, d: m, "a,b\n1,\n", [], 2, "feature column 'b' has 1 missing"),
    "non-numeric feature": (lambda m, d: m, "a,b\n1,x\n", [], 2, "feature column 'b' is not numeric"),
    "empty data": (lambda m, d: m, "", [], 2, "is empty"),
    "header-only data": (lambda m, d: m, "a,b\n", [], 2, "the data has no rows"),
    "duplicate headers": (lambda m, d: m, "a,b,b\n1,2,3\n", [], 2, "repeats the column name(s) 'b'"),
    "out is a folder": (lambda m, d: m, GOOD, ["--out", "DIR"], 2, "is a folder"),
    "out folder missing": (lambda m, d: m, GOOD, ["--out", "DIR/none/p.csv"], 2, "does not exist"),
    "threshold above 1": (lambda m, d: m, GOOD, ["--threshold", "1.5"], 2, "--threshold"),
    "threshold NaN": (lambda m, d: m, GOOD, ["--threshold", "nan"], 2, "--threshold"),
    "json with stdout": (lambda m, d: m, GOOD, ["--json", "--out", "-"], 2, "both write to stdout"),
}


@pytest.mark.parametrize("make_model, content, extra, code, message", PREDICT.values(), ids=PREDICT.keys())
def test_bad_predict(tmp_path, model, make_model, content, extra, code, message):
    data = tmp_path / "data.csv"
    data.write_text(content)
    extra = [a.replace("DIR", str(tmp_path)) for a in extra]
    out = tmp_path / "p.csv"
    args = ["--out", out] if "--out" not in extra else []
    model_path = make_model(model, tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = invoke("predict", "--model", model_path, "--data", data, "-q", *args, *extra)
    assert_refused(result, code, message)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_unwritable_out_names_out(tmp_path, model):
    import os

    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    data = tmp_path / "data.csv"
    data.write_text(GOOD)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    result = invoke("predict", "--model", model, "--data", data, "--out", locked / "p.csv")
    assert_refused(result, 1, f"cannot write --out {str(locked / 'p.csv')!r}")


EVALUATE = {
    "missing target": ("a,b\n1,2\n", "y", 2, "target column 'y' not found"),
    "unknown label": ("a,b,y\n1,2,7\n", "y", 2, "labels the model was not trained on: 7"),
    "NaN label": ("a,b,y\n1,2,\n3,4,1\n", "y", 2, "has 1 missing values"),
    "target is a feature": (GOOD, "a", 2, "labels the model was not trained on"),
    "empty data": ("", "y", 2, "is empty"),
}


@pytest.mark.parametrize("content, target, code, message", EVALUATE.values(), ids=EVALUATE.keys())
def test_bad_evaluate(tmp_path, model, content, target, code, message):
    data = tmp_path / "data.csv"
    data.write_text(content)
    out = tmp_path / "e.json"
    result = invoke("evaluate", "--model", model, "--data", data, "--target", target, "--out", out,
                    "--plots", tmp_path / "plots")
    assert_refused(result, code, message)
    assert not out.exists() and not (tmp_path / "plots").exists()


# -- accepted input that needs cleaning: the same as the cleaned file's run ----

ACCEPTED = {
    "byte order mark": ("\ufeff" + GOOD).encode("utf-8"),
    "CRLF line ends": GOOD.replace("\n", "\r\n").encode(),
    "quoted header": GOOD.replace("a,b,y", '"a","b","y"', 1).encode(),
    "labels as strings": GOOD.replace(",0\n", ",0\n").encode(),
    "trailing blank lines": (GOOD + "\n\n").encode(),
}


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clean")
    (folder / "a.csv").write_text(GOOD)
    result = invoke("train", "--data", folder / "a.csv", "--target", "y", "--out", folder / "out", "-q", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), (folder / "out" / "model.json").read_text()


@pytest.mark.parametrize("content", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_accepted_input_equals_the_clean_run(tmp_path, clean_run, content):
    (tmp_path / "a.csv").write_bytes(content)
    result = invoke("train", "--data", tmp_path / "a.csv", "--target", "y", "--out", tmp_path / "out", "-q", "--json")
    assert result.exit_code == 0, result.output
    metrics, model = clean_run
    got = json.loads(result.stdout)
    for key in ("fit_time_s", "dataset"):
        got.pop(key), metrics.get(key)
    assert got == {k: v for k, v in metrics.items() if k not in ("fit_time_s", "dataset")}
    strip = lambda text: json.loads(text)["model"]  # noqa: E731 - the fitted content, not the version header
    assert strip((tmp_path / "out" / "model.json").read_text()) == strip(model)


def test_catalogue_size():
    cases = len(TRAIN_FILES) + len(BAD_FLAGS) + len(PREDICT) + len(EVALUATE) + len(ACCEPTED) + 1
    assert cases >= 70, cases
