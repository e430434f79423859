"""The solvers' view of the kernel: Hessian, Lipschitz estimates, mini-batches."""

import numpy as np
import pytest
import scipy.sparse as sp

from logitdescent import loss_and_grad
from logitdescent.objective import LogisticObjective

from .conftest import random_problem


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
def test_hessian_is_the_jacobian_of_the_gradient(rng, fit_intercept, sparse):
    X, y, w, b, s = random_problem(rng, m=70, n=4)
    objective = LogisticObjective(sp.csr_matrix(X) if sparse else X, y, s, C=0.7, fit_intercept=fit_intercept)
    theta = objective.join(w, b)
    h = 1e-6
    numeric = np.column_stack([
        (objective.loss_grad(theta + h * e)[1] - objective.loss_grad(theta - h * e)[1]) / (2 * h)
        for e in np.eye(objective.n_params)
    ])
    np.testing.assert_allclose(objective.hessian(theta), numeric, rtol=1e-7, atol=1e-9)


def test_blocked_hessian_equals_one_block(rng, monkeypatch):
    import logitdescent.objective as module

    X, y, w, b, s = random_problem(rng, m=501, n=6)
    objective = LogisticObjective(X, y, s, C=2.0)
    theta = objective.join(w, b)
    whole = objective.hessian(theta)
    monkeypatch.setattr(module, "HESSIAN_BLOCK_MIN_BYTES", 7 * 6 * 8)  # 7-row blocks, ragged tail
    monkeypatch.setattr(module, "HESSIAN_BLOCK_MAX_BYTES", 7 * 6 * 8)
    np.testing.assert_allclose(objective.hessian(theta), whole, rtol=1e-13, atol=1e-15)


def test_lipschitz_estimate_is_close_to_the_true_constant(rng):
    X = rng.standard_normal((400, 8)) * np.logspace(-1, 1, 8)
    objective = LogisticObjective(X, np.zeros(400), C=1.0)
    X1 = np.column_stack([X, np.ones(400)])
    exact = np.linalg.eigvalsh(X1.T @ X1 / 400).max() / 4 + objective.l2
    # A few power iterations with 10% slack: within [0.9, 1.2] of the truth;
    # the solvers backtrack if it is low.
    assert 0.9 * exact <= objective.lipschitz_bound() <= 1.2 * exact


def test_example_lipschitz_bounds_every_example(rng):
    X, y, w, b, s = random_problem(rng)
    objective = LogisticObjective(X, y, s, C=1.0)
    per_example = (s / s.mean()) * ((X**2).sum(axis=1) + 1) / 4 + objective.l2
    assert objective.example_lipschitz_max() == pytest.approx(per_example.max(), rel=1e-12)


def test_subset_is_the_cost_of_those_rows_with_the_full_penalty(rng):
    X, y, w, b, s = random_problem(rng, m=50)
    objective = LogisticObjective(X, y, s, C=0.5)
    rows = np.array([3, 7, 8, 20, 41])
    batch = objective.subset(rows)
    J, dw, db = loss_and_grad(w, b, X[rows], y[rows], s[rows])
    lam = objective.l2
    J_batch, g_batch = batch.loss_grad(objective.join(w, b))
    assert J_batch == pytest.approx(J + lam / 2 * w @ w, rel=1e-14)
    np.testing.assert_allclose(g_batch, np.append(dw + lam * w, db), rtol=1e-13)


def test_softmax_hessian_is_the_jacobian_of_the_gradient(rng):
    from logitdescent.objective import SoftmaxObjective

    X = rng.standard_normal((80, 3))
    y = rng.integers(0, 3, 80)
    objective = SoftmaxObjective(X, y, rng.uniform(0.5, 2, 80), C=0.7, n_outputs=3)
    theta = rng.standard_normal(objective.n_params) * 0.3
    theta -= np.tile(theta.reshape(3, 4).mean(axis=0), 3)  # centered rows, as the solvers keep them
    h = 1e-6
    numeric = np.column_stack([
        (objective.loss_grad(theta + h * e)[1] - objective.loss_grad(theta - h * e)[1]) / (2 * h)
        for e in np.eye(objective.n_params)
    ])
    # hessian() adds c P along softmax's flat directions (it leaves Newton steps unchanged); remove it.
    H = objective.hessian(theta)
    flat = np.zeros_like(H)
    for column in range(4):
        index = column + 4 * np.arange(3)
        flat[np.ix_(index, index)] = 1.0 / 3
    shift = (H - numeric)[0, 4]  # an entry only the flat-direction term touches
    np.testing.assert_allclose(H - 3 * shift * flat, numeric, rtol=1e-6, atol=1e-8)


def test_the_latest_evaluation_is_remembered_not_recomputed(rng):
    X, y, w, b, s = random_problem(rng, m=60, n=4)
    objective = LogisticObjective(X, y, s, C=1.0)
    theta = objective.join(w, b)
    J, grad = objective.loss_grad(theta)
    expected = grad.copy()
    grad[:] = 0.0  # the caller owns its copy: the remembered one is untouched
    passes = objective.n_evals
    J_again, grad_again = objective.loss_grad(theta.copy())
    assert objective.n_evals == passes and J_again == J
    np.testing.assert_array_equal(grad_again, expected)
    objective.loss_grad(theta + 1e-3)  # any other point is a new pass
    assert objective.n_evals == passes + 1
