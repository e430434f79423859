"""Faults during CLI runs: Ctrl-C, a full disk, outputs that are not regular files."""

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from logitdescent.cli import main

TRAIN_FILES = ("learning_curve.png", "metrics.json", "model.json")


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir())}


def assert_one_line_error(result, exit_code):
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("logitdescent: error: "), result.stderr


@pytest.fixture(scope="module")
def earlier(tmp_path_factory):
    out = tmp_path_factory.mktemp("earlier") / "out"
    assert invoke("train", "--out", out, "-q").exit_code == 0
    return out


@pytest.fixture
def previous_run(earlier, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(earlier, out)
    return out


def test_sigint_during_train_exits_130_and_keeps_the_old_model(previous_run):
    script = Path(sys.executable).with_name("logitdescent")
    if not script.exists():
        pytest.skip("the console script is not installed next to this Python")
    before = snapshot(previous_run)
    # A long fixed-step run with a cost line per iteration, so we know it is fitting.
    process = subprocess.Popen(
        [script, "train", "--out", previous_run, "--solver", "gd", "--learning-rate", "0.01",
         "--max-iter", "100000000", "--tol", "0", "--print-every", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout.readline().startswith("Cost after iteration 0")
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        # Drain stdout so the child never blocks on a full pipe.
        _, stderr = process.communicate(timeout=30)
        stopped = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert stopped < 2.0  # a second to stop, plus the pipe
    assert stderr.splitlines() == ["logitdescent: error: interrupted; nothing was written or replaced"]
    assert snapshot(previous_run) == before  # byte-identical, and no temporary files


def test_disk_full_while_writing_leaves_the_old_set(previous_run, monkeypatch):
    import logitdescent.cli as cli

    real = os.fsync
    calls = []

    def fill_up(fd):
        calls.append(fd)
        if len(calls) == 2:  # the second staged file: the disk fills up
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(cli.os, "fsync", fill_up)
    before = snapshot(previous_run)
    result = invoke("train", "--out", previous_run, "--C", "0.5", "-q")
    assert_one_line_error(result, 1)
    assert "No space left on device" in result.stderr
    assert snapshot(previous_run) == before


def test_failed_rename_rolls_back_files_already_replaced(previous_run, monkeypatch):
    import logitdescent.cli as cli

    real = os.replace

    def refuse_model(src, dst):
        if Path(dst).name == "model.json":
            raise OSError(errno.EIO, "Input/output error", str(dst))
        return real(src, dst)

    monkeypatch.setattr(cli.os, "replace", refuse_model)
    before = snapshot(previous_run)
    result = invoke("train", "--out", previous_run, "--C", "0.5", "-q")
    assert_one_line_error(result, 1)
    assert snapshot(previous_run) == before  # metrics.json and the plot were put back


def test_model_json_that_is_a_folder_leaves_the_set(previous_run):
    (previous_run / "model.json").unlink()
    (previous_run / "model.json").mkdir()
    before = snapshot_names = sorted(p.name for p in previous_run.iterdir())
    metrics = (previous_run / "metrics.json").read_bytes()
    result = invoke("train", "--out", previous_run, "-q")
    assert_one_line_error(result, 1)
    assert "model.json" in result.stderr and "not a regular file" in result.stderr
    assert sorted(p.name for p in previous_run.iterdir()) == before == snapshot_names
    assert (previous_run / "metrics.json").read_bytes() == metrics


def test_failed_first_run_leaves_no_folder(tmp_path, monkeypatch):
    import logitdescent.cli as cli

    monkeypatch.setattr(cli.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space")))
    result = invoke("train", "--out", tmp_path / "new", "-q")
    assert_one_line_error(result, 1)
    assert not (tmp_path / "new").exists()


@pytest.fixture(scope="module")
def data_csv(earlier, tmp_path_factory):
    from logitdescent.data import load_builtin

    X, _ = load_builtin()
    path = tmp_path_factory.mktemp("data") / "x.csv"
    X.head(20).to_csv(path, index=False)
    return path


def test_predict_streams_to_a_named_pipe(earlier, data_csv, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    result = invoke("predict", "--model", earlier / "model.json", "--data", data_csv, "--out", fifo, "-q")
    received = reader.communicate(timeout=30)[0].decode()
    assert result.exit_code == 0, result.output
    assert received.splitlines()[0] == "prediction,proba_0,proba_1" and len(received.splitlines()) == 21
    assert fifo.is_fifo()  # still a pipe, not replaced by a regular file


def test_predict_to_a_device_writes_through_it(earlier, data_csv):
    result = invoke("predict", "--model", earlier / "model.json", "--data", data_csv, "--out", "/dev/null", "-q")
    assert result.exit_code == 0, result.output
    assert Path("/dev/null").is_char_device()


def test_predict_out_naming_a_folder_names_out(earlier, data_csv, tmp_path):
    result = invoke("predict", "--model", earlier / "model.json", "--data", data_csv, "--out", tmp_path)
    assert_one_line_error(result, 2)
    assert f"--out {str(tmp_path)!r} is a folder" in result.stderr
    assert list(tmp_path.iterdir()) == []
