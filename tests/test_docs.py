"""The examples in the docstrings and the README run and say what they claim."""

import doctest
import re
from pathlib import Path

import pytest

import logitdescent.estimator
import logitdescent.kernel

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize("module", [logitdescent.kernel, logitdescent.estimator])
def test_docstring_examples(module):
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0


def test_readme_python_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})


def _readme_parameter_rows():
    """``{first cell: row}`` of the README's Library parameter table."""
    rows = re.findall(r"^\| (`[^|]+`) \|(.*)\|$", README.read_text(), flags=re.M)
    return {cell: rest for cell, rest in rows}


def test_readme_parameter_table_covers_every_estimator_parameter():
    from logitdescent import LogisticRegression

    named = {name for cell in _readme_parameter_rows() for name in re.findall(r"`(\w+)`", cell)}
    assert set(LogisticRegression().get_params()) <= named


def test_readme_lists_the_registry_solvers():
    from logitdescent.solvers import SOLVERS

    listed = set(re.findall(r'`"([\w-]+)"`', _readme_parameter_rows()["`solver`"]))
    assert listed == {"auto", *SOLVERS}


def test_readme_cli_section_names_every_train_flag():
    from logitdescent.cli import train

    cli_section = README.read_text().split("## CLI", 1)[1].split("\n## ", 1)[0]
    flags = {option for param in train.params for option in param.opts if option.startswith("--")}
    flags -= {"--data", "--target", "--out", "--test-size", "--seed", "--print-every", "--quiet", "--help"}
    assert {flag for flag in flags if flag not in cli_section} == set()
