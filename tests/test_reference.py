"""The lecture's loop against numbers worked out independently: by hand, and
the course notebook's published outputs."""

import math

import numpy as np
import pytest

from logitdescent import reference

# The course's "Logistic Regression with a Neural Network mindset" notebook,
# with its X (n, m) transposed to our rows-are-examples layout.
COURSE_X = [[1.0, 3.0], [2.0, 4.0], [-1.0, -3.2]]
COURSE_Y = [1, 0, 1]


def test_propagate_matches_published_course_output():
    J, dw, db = reference.loss_and_grad([1.0, 2.0], 2.0, COURSE_X, COURSE_Y)
    assert J == pytest.approx(5.801545319394553, rel=1e-12)
    assert dw == pytest.approx([0.99845601, 2.39507239], abs=5e-9)
    assert db == pytest.approx(0.00145557813678, abs=5e-14)


def test_optimize_matches_published_course_output():
    w, b, costs = reference.gradient_descent(
        [1.0, 2.0], 2.0, COURSE_X, COURSE_Y, learning_rate=0.009, num_iterations=100
    )
    assert w == pytest.approx([0.19033591, 0.12259159], abs=5e-9)
    assert b == pytest.approx(1.92535983008, abs=5e-12)
    assert len(costs) == 100 and costs[0] == pytest.approx(5.801545319394553, rel=1e-12)


def test_two_examples_by_hand():
    # w = 0, b = 0: every a = 1/2, so J = log 2 and dz = (1/2 - 1, 1/2 - 0).
    J, dw, db = reference.loss_and_grad([0.0, 0.0], 0.0, [[2.0, 0.0], [0.0, 4.0]], [1, 0])
    assert J == pytest.approx(math.log(2), rel=1e-15)
    assert dw == pytest.approx([(2.0 * -0.5) / 2, (4.0 * 0.5) / 2], rel=1e-15)
    assert db == pytest.approx(0.0, abs=1e-16)


@pytest.mark.parametrize("z", [-1e20, -1e3, -30.0, 0.0, 30.0, 1e3, 1e20])
def test_scalar_helpers_are_stable(z):
    a = reference.sigmoid(z)
    assert 0.0 <= a <= 1.0
    assert math.isfinite(reference.log_sigmoid(z)) and reference.log_sigmoid(z) <= 0.0
    if abs(z) <= 30:
        assert reference.log_sigmoid(z) == pytest.approx(math.log(a), rel=1e-14)
