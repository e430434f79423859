"""Tests of logitdescent.data: the built-in dataset, file loading, and its errors."""

import re

import numpy as np
import pandas as pd
import pytest

from logitdescent.data import (
    DataError,
    features_for_model,
    load_builtin,
    load_dataset,
    read_table,
    validate_known_labels,
)


def write_csv(path, columns):
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


@pytest.fixture
def good_csv(tmp_path):
    return write_csv(tmp_path / "good.csv", {"x1": [0.5, 1.5, 2.5, 3.5], "x2": [1, 0, 1, 0], "y": ["a", "b", "a", "b"]})


def test_builtin_breast_cancer_has_named_features_and_binary_target():
    X, y = load_builtin()
    assert X.shape == (569, 30)
    assert list(X.columns[:2]) == ["mean radius", "mean texture"]
    assert len(y) == 569
    assert sorted(y.unique()) == [0, 1]


def test_unknown_builtin_is_a_data_error():
    with pytest.raises(DataError, match="unknown built-in dataset 'iris'"):
        load_builtin("iris")


def test_load_dataset_splits_features_from_target(good_csv):
    X, y = load_dataset(good_csv, "y")
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert list(X.columns) == ["x1", "x2"]
    assert y.name == "y"
    assert y.tolist() == ["a", "b", "a", "b"]
    np.testing.assert_array_equal(X["x1"], [0.5, 1.5, 2.5, 3.5])


def test_compressed_csv_is_read(tmp_path):
    path = tmp_path / "data.csv.gz"
    pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]}).to_csv(path, index=False)
    X, y = load_dataset(path, "y")
    assert X.shape == (2, 1) and y.tolist() == [0, 1]


def test_parquet_round_trip(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "data.parquet"
    pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]}).to_parquet(path)
    X, y = load_dataset(path, "y")
    assert X["x"].tolist() == [1.0, 2.0, 3.0] and y.tolist() == [0, 1, 0]


def test_parquet_without_engine_says_what_to_install(tmp_path, monkeypatch):
    path = tmp_path / "data.parquet"
    path.write_bytes(b"PAR1")

    def no_engine(*args, **kwargs):
        raise ImportError("Unable to find a usable engine")

    monkeypatch.setattr(pd, "read_parquet", no_engine)
    with pytest.raises(DataError, match="pip install pyarrow"):
        read_table(path)


# Each case: file name, file content (str, bytes, a dict of columns, or None
# for no file), target, and a piece of the expected message.
BAD_FILES = {
    "missing file": ("absent.csv", None, "y", "data file not found"),
    "directory": ("folder.csv", "DIR", "y", "is a directory"),
    "unsupported type": ("data.xlsx", "x,y\n1,0\n", "y", "unsupported data file type"),
    "undecodable": ("data.csv", b"x,y\n\xff\xfe\x00\x81,0\n", "y", "cannot read"),
    "empty file": ("data.csv", "", "y", "is empty"),
    "no rows": ("data.csv", "x,y\n", "y", "is empty; the data has no rows"),
    "missing target": ("data.csv", {"x": [1, 2], "z": [0, 1]}, "y", "target column 'y' not found"),
    "only the target": ("data.csv", {"y": [0, 1]}, "y", "no feature columns"),
    "non-numeric feature": ("data.csv", {"x": [1, 2], "word": ["a", "b"], "y": [0, 1]}, "y",
                            "feature column 'word' is not numeric"),
    "NaN feature": ("data.csv", {"x": [1.0, None, None], "y": [0, 1, 0]}, "y",
                    "feature column 'x' has 2 missing (NaN) values"),
    "inf feature": ("data.csv", {"x": [1.0, np.inf, 2.0], "y": [0, 1, 0]}, "y",
                    "feature column 'x' has 1 infinite values"),
    "NaN target": ("data.csv", {"x": [1, 2, 3], "y": [0, None, 1]}, "y", "target column 'y' has 1 missing values"),
    "single class": ("data.csv", {"x": [1, 2, 3], "y": [1, 1, 1]}, "y", "single class"),
    "continuous target": ("data.csv", {"x": [1, 2, 3], "y": [0.5, 1.5, 2.25]}, "y",
                          "continuous values (e.g. 0.5)"),
    "single numeric class": ("data.csv", {"x": [1, 2], "y": [7, 7]}, "y", "single class (7)"),
}


@pytest.mark.parametrize("name, content, target, message", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_files_raise_one_line_data_errors(tmp_path, name, content, target, message):
    path = tmp_path / name
    if content == "DIR":
        path.mkdir()
    elif isinstance(content, dict):
        write_csv(path, content)
    elif isinstance(content, str):
        path.write_text(content)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(DataError, match=re.escape(message)) as info:
        load_dataset(path, target)
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "labels",
    [["a", "b", "c", "a", "b", "c"], [0, 1, 2, 3, 0, 1], [2.0, -1.0, 0.0, 2.0, -1.0, 0.0]],
    ids=["str", "int", "float"],
)
def test_more_than_two_classes_are_accepted(tmp_path, labels):
    path = write_csv(tmp_path / "multi.csv", {"x": np.arange(6.0), "y": labels})
    X, y = load_dataset(path, "y")
    assert X.shape == (6, 1)
    assert y.tolist() == labels
    assert y.nunique() == len(set(labels)) > 2


def test_single_class_message_asks_for_two(tmp_path):
    path = write_csv(tmp_path / "one.csv", {"x": [1.0, 2.0], "y": ["a", "a"]})
    with pytest.raises(DataError, match=r"single class \('a'\); training needs examples of at least two"):
        load_dataset(path, "y")


def test_mixed_label_types_are_a_data_error():
    from logitdescent.data import validate_target

    with pytest.raises(DataError, match="cannot be read as class labels"):
        validate_target(pd.Series([1, "a", 2.5], name="y", dtype=object))


def test_missing_target_lists_columns_truncated(tmp_path):
    path = write_csv(tmp_path / "wide.csv", {f"c{i}": [0, 1] for i in range(40)})
    with pytest.raises(DataError) as info:
        load_dataset(path, "label")
    message = str(info.value)
    assert "'c0', 'c1'" in message and "(40 in all)" in message
    assert "'c39'" not in message


def test_nan_error_mentions_other_bad_columns(tmp_path):
    path = write_csv(tmp_path / "d.csv", {"a": [None, 1.0], "b": [1.0, None], "y": [0, 1]})
    with pytest.raises(DataError, match=r"'a' has 1 missing \(NaN\) values \(and 1 more columns\)"):
        load_dataset(path, "y")


def test_bool_features_count_as_numeric(tmp_path):
    path = write_csv(tmp_path / "d.csv", {"flag": [True, False, True], "y": [0, 1, 0]})
    X, _ = load_dataset(path, "y")
    assert X["flag"].dtype == bool


def test_features_for_model_selects_named_columns_in_model_order():
    frame = pd.DataFrame({"b": [1.0, 2.0], "y": ["p", "q"], "a": [3.0, 4.0]})
    X = features_for_model(frame, feature_names=np.array(["a", "b"], dtype=object), n_features=2)
    assert list(X.columns) == ["a", "b"]


def test_features_for_model_reports_missing_names():
    frame = pd.DataFrame({"a": [1.0]})
    with pytest.raises(DataError, match="lacks 1 feature columns .*'b'"):
        features_for_model(frame, feature_names=["a", "b"], n_features=2)


def test_features_for_model_without_names_checks_the_count():
    frame = pd.DataFrame({"a": [1.0], "b": [2.0], "y": [0]})
    assert features_for_model(frame, n_features=2, target="y").shape == (1, 2)
    with pytest.raises(DataError, match="has 3 feature columns but the model expects 2"):
        features_for_model(frame, n_features=2)


def test_unknown_labels_are_named():
    y = pd.Series(["a", "b", "z"], name="label")
    with pytest.raises(DataError, match="not trained on: 'z'"):
        validate_known_labels(y, np.array(["a", "b"], dtype=object))
    assert validate_known_labels(y[:2], np.array(["a", "b"], dtype=object)) is not None


def test_read_table_drops_a_byte_order_mark(tmp_path):
    from logitdescent.data import read_table

    path = tmp_path / "a.csv"
    path.write_bytes("\ufeffa,b\n1,2\n".encode())
    assert list(read_table(path).columns) == ["a", "b"]


@pytest.mark.parametrize("header, message", [("a,a,y", "repeats the column name(s) 'a'"),
                                             ("a;b;y", "looks delimited by ';'")])
def test_read_table_refuses_repeated_names_and_other_delimiters(tmp_path, header, message):
    from logitdescent.data import DataError, read_table

    path = tmp_path / "a.csv"
    path.write_text(header + "\n" + header.replace("a", "1").replace("b", "2").replace("y", "0") + "\n")
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_table(path)


def test_check_magnitude_names_the_column():
    import pandas as pd

    from logitdescent.data import DataError, check_magnitude

    ok = pd.DataFrame({"x": [1e99, -1e99], "flag": [True, False]})
    assert check_magnitude(ok) is ok
    with pytest.raises(DataError, match=r"'big' has values of magnitude 1e\+160"):
        check_magnitude(pd.DataFrame({"x": [1.0, 2.0], "big": [1e160, 0.0]}))
