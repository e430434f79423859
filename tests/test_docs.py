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
