"""The preconditioned L-BFGS solver: what preconditioning buys, and its edge cases.

The shared solver tables (test_solvers.py, test_multiclass_penalties.py) run
it on well-conditioned problems, where it is plain L-BFGS; the preconditioned
branch is tested here, dense and CSR, float64 and float32, with and without
(zero) weights.
"""

import numpy as np
import pytest

from logitdescent import LogisticRegression
from logitdescent.objective import LogisticObjective
from logitdescent.solvers import SOLVERS, choose_solver, precond


def correlated_problem(m=4000, n=80, cond=1e4, seed=0):
    """Features with covariance eigenvalues from 1 down to 1/cond: a badly conditioned Hessian."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    X = (rng.standard_normal((m, n)) * np.sqrt(np.logspace(0, -np.log10(cond), n))) @ Q.T
    w = rng.standard_normal(n)
    w *= 1.5 / np.std(X @ w)
    y = (rng.random(m) < 1 / (1 + np.exp(-(X @ w)))).astype(np.float64)
    return X, y


def test_preconditioning_removes_the_dependence_on_conditioning():
    X, y = correlated_problem()
    objective = LogisticObjective(X, y, C=10.0)
    theta0 = np.zeros(objective.n_params)
    plain = SOLVERS["lbfgs"](objective, theta0, max_iter=5000, tol=1e-8)
    objective.n_evals = 0
    pre = SOLVERS["precond-lbfgs"](objective, theta0, max_iter=5000, tol=1e-8)
    assert plain.converged and pre.converged
    # Measured: plain L-BFGS 376 iterations, preconditioned 9 with 10
    # evaluations (a sample of 32 p rows, 2592 of the 4000 here); Newton 5.
    assert plain.n_iter > 300
    assert pre.n_iter <= 20 and objective.n_evals <= 30
    assert pre.fun <= plain.fun + objective.cost_rtol * plain.fun


def test_well_conditioned_data_get_plain_lbfgs():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5000, 80))
    y = (rng.random(5000) < 0.5).astype(float)
    L, condition = precond.preconditioner(LogisticObjective(X, y, C=1.0), np.zeros(81))
    # iid features: condition ~1; the 2560-row sample's noise makes it ~2.
    assert L is None and 1.0 < condition < 3.0
    X_bad, y_bad = correlated_problem(m=5000, n=80, cond=1e3)
    L, condition = precond.preconditioner(LogisticObjective(X_bad, y_bad, C=1.0), np.zeros(81))
    assert L is not None and condition > 500
    np.testing.assert_array_equal(L, np.tril(L))


def test_the_sketch_is_a_fixed_uniform_sample():
    rows = precond.sketch_rows(100_000, 101)
    assert rows.size == precond.SKETCH_ROWS_PER_PARAM * 101
    assert np.all(np.diff(rows) > 0)  # sorted, without repeats
    np.testing.assert_array_equal(rows, precond.sketch_rows(100_000, 101))  # reproducible fits
    assert precond.sketch_rows(1000, 101) is None  # fewer rows than the sample: all of them


def test_fits_are_reproducible():
    X, y = correlated_problem(m=6000, n=70)
    fits = [LogisticRegression(solver="precond-lbfgs", tol=1e-8).fit(X, y) for _ in range(2)]
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)


def test_singular_sample_hessian_falls_back_gracefully():
    # Unpenalized, duplicated columns: the Hessian is singular. The ridge makes
    # the factor exist; the fit still reaches a stationary point.
    rng = np.random.default_rng(1)
    base = rng.standard_normal((500, 40))
    X = np.hstack([base, base])
    y = (rng.random(500) < 0.5).astype(float)
    objective = LogisticObjective(X, y, C=np.inf)
    assert precond.preconditioner(objective, np.zeros(objective.n_params))[0] is not None
    clf = LogisticRegression(solver="precond-lbfgs", C=np.inf, tol=1e-6, max_iter=2000).fit(X, y)
    assert clf.converged_
    # No curvature at all (all-zero data, no intercept, no penalty): no
    # factor, plain L-BFGS steps, and the fit still runs.
    flat = LogisticObjective(np.zeros((50, 70)), y[:50], C=np.inf, fit_intercept=False)
    assert precond.preconditioner(flat, np.zeros(70))[0] is None
    assert SOLVERS["precond-lbfgs"](flat, np.zeros(70), max_iter=10, tol=1e-8).converged


def test_a_stalled_line_search_hands_over_to_newton(monkeypatch):
    # tol far below the float64 cost's rounding floor for L-BFGS-B's line
    # search: the Newton finish must take over and converge.
    calls = []
    newton_solve = precond.newton.solve
    monkeypatch.setattr(precond.newton, "solve", lambda *a, **k: calls.append(1) or newton_solve(*a, **k))
    X, y = correlated_problem(m=3000, n=70, cond=1e3)
    objective = LogisticObjective(X, y, C=1.0)
    result = SOLVERS["precond-lbfgs"](objective, np.zeros(objective.n_params), max_iter=500, tol=1e-13)
    assert calls == [1]
    assert result.converged, result.message
    assert len(result.loss_history) == result.n_iter + 1


def test_auto_picks_it_between_newton_and_lbfgs():
    rng = np.random.default_rng(0)
    for n, expected in [(30, "newton"), (63, "newton"), (64, "precond-lbfgs"), (511, "precond-lbfgs"),
                        (512, "lbfgs")]:
        objective = LogisticObjective(rng.standard_normal((20, n)), np.arange(20) % 2.0, C=1.0)
        assert choose_solver(objective) == expected, n


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weights", ["none", "positive", "with-zeros"])
def test_the_preconditioned_branch_reaches_scikit_learn_optimum(sparse, dtype, weights):
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression

    X, y = correlated_problem(m=4000, n=80, cond=1e4, seed=2)
    rng = np.random.default_rng(3)
    s = {"none": None, "positive": rng.uniform(0.5, 2.0, 4000),
         "with-zeros": np.where(rng.random(4000) < 0.7, 0.0, rng.uniform(0.5, 2.0, 4000))}[weights]
    Xd = X.astype(dtype)
    ref = SkLogisticRegression(C=10.0, solver="newton-cholesky", tol=1e-12, max_iter=100)
    ref.fit(Xd.astype(np.float64), y, sample_weight=s)
    objective = LogisticObjective(sp.csr_matrix(Xd) if sparse else Xd, y.astype(dtype), s, C=10.0)
    L, condition = precond.preconditioner(objective, np.zeros(81))
    assert L is not None and condition > 100  # the branch under test
    tol, rtol = (1e-9, 1e-6) if dtype == np.float64 else (1e-6, 1e-3)
    result = SOLVERS["precond-lbfgs"](objective, np.zeros(81), max_iter=500, tol=tol)
    assert result.converged, result.message
    theta_ref = np.append(ref.coef_, ref.intercept_)
    assert np.linalg.norm(result.x - theta_ref) / np.linalg.norm(theta_ref) < rtol


def test_weightless_rows_are_never_sampled_and_bad_weights_fall_back():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((20_000, 100))
    y = (rng.random(20_000) < 0.5).astype(float)
    s = np.zeros(20_000)
    s[rng.choice(20_000, 500, replace=False)] = 1.0  # 500 weighted rows, fewer than 32 p
    rows = precond.sketch_rows(20_000, 101, sample_weight=s)
    np.testing.assert_array_equal(rows, np.flatnonzero(s))
    assert np.all(s[precond.sketch_rows(20_000, 10, sample_weight=s)] > 0)
    clf = LogisticRegression(tol=1e-8).fit(X, y, sample_weight=s)  # auto: precond-lbfgs
    assert clf.solver_ == "precond-lbfgs" and clf.converged_
    # A negative weight (scikit-learn accepts them) never enters the sample,
    # whose Hessian would otherwise take the square root of a negative number.
    s_negative = np.ones(20_000)
    s_negative[7] = -1.0
    assert 7 not in precond.sketch_rows(20_000, 700, sample_weight=s_negative)
    L, condition = precond.preconditioner(LogisticObjective(X, y, s_negative, C=1.0), np.zeros(101))
    assert np.isfinite(condition)


def test_a_poor_preconditioner_hands_over_to_newton(monkeypatch):
    calls = []
    newton_solve = precond.newton.solve
    monkeypatch.setattr(precond.newton, "solve", lambda *a, **k: calls.append(1) or newton_solve(*a, **k))
    monkeypatch.setattr(precond, "HANDOVER_ITER", 3)
    X, y = correlated_problem(m=3000, n=70, cond=1e3)
    objective = LogisticObjective(X, y, C=1.0)
    result = SOLVERS["precond-lbfgs"](objective, np.zeros(objective.n_params), max_iter=500, tol=1e-8)
    assert calls == [1] and result.converged
    assert result.n_iter > 3  # three L-BFGS iterations, then Newton's
