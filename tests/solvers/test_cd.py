"""The proximal-Newton solver ("newton-cd") against independent oracles.

Oracles: glum's IRLS-CD and scikit-learn's saga at tight tolerances (the same
objective: scikit-learn's divided by C S, glum's ``alpha = 1 / (C S)`` with
its weights normalized to sum 1), the optimality (KKT) conditions checked
with the kernel's own gradient, scikit-learn's newton-cholesky for L2, and
L-BFGS-B for bounds.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from glum import GeneralizedLinearRegressor
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

from logitdescent._cd import cd_quadratic
from logitdescent.objective import LogisticObjective, SoftmaxObjective
from logitdescent.solvers import SOLVERS, choose_solver

solve = SOLVERS["newton-cd"]

# (solver tol, coefficient tolerance against the oracle). float64: the
# optimum's error is about tol / lambda_min (lambda_min ~ 0.05); glum at
# gradient_tol=1e-12 is as close. float32: the kernel's gradient is summed
# from float32 products, its rounding floor ~1e-6.
TOLERANCES = {np.float64: (1e-10, 1e-7), np.float32: (1e-5, 3e-4)}
PENALTIES = {"l1": 1.0, "elasticnet": 0.5}


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    m, n = 600, 20
    X = rng.standard_normal((m, n))
    X[:, 1] = 0.8 * X[:, 0] + 0.6 * X[:, 1]  # correlated pair: CD must share the weight
    X[rng.random((m, n)) < 0.4] = 0.0
    w_true = np.zeros(n)
    w_true[:6] = [1.5, -1.0, 0.8, 0.0, -0.6, 0.4]
    y = (rng.random(m) < 1 / (1 + np.exp(-(X @ w_true + 0.3)))).astype(float)
    s = rng.uniform(0.5, 2.0, m)
    return X, y, s


def glum_optimum(X, y, s, C, rho, fit_intercept=True):
    weight_sum = len(y) if s is None else s.sum()
    model = GeneralizedLinearRegressor(
        family="binomial", alpha=1.0 / (C * weight_sum), l1_ratio=rho, fit_intercept=fit_intercept,
        gradient_tol=1e-12, max_iter=1000,
    )
    model.fit(X, y, sample_weight=s)
    return np.append(model.coef_, model.intercept_) if fit_intercept else model.coef_.copy()


def assert_kkt(objective, theta, atol):
    """|g_j| <= l1 at zeros, g_j = -l1 sign(w_j) elsewhere; intercepts: g = 0."""
    _, grad = objective.loss_grad(theta)
    mask = objective.coef_mask
    w, g = theta[mask], grad[mask]
    zero = w == 0
    assert np.all(np.abs(g[zero]) <= objective.l1 + atol)
    np.testing.assert_allclose(g[~zero], -objective.l1 * np.sign(w[~zero]), rtol=0, atol=atol)
    np.testing.assert_allclose(grad[~mask], 0.0, atol=atol)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("penalty", PENALTIES)
def test_same_optimum_as_glum_and_kkt(problem, penalty, dtype, sparse, weighted):
    X, y, s = problem
    s = s if weighted else None
    rho, C = PENALTIES[penalty], 0.02
    Xd = X.astype(dtype)
    ref = glum_optimum(Xd.astype(np.float64), y, s, C, rho)
    tol, atol = TOLERANCES[dtype]
    objective = LogisticObjective(sp.csr_matrix(Xd) if sparse else Xd, y.astype(dtype),
                                  None if s is None else s.astype(dtype), C=C, l1_ratio=rho)
    result = solve(objective, np.zeros(objective.n_params), max_iter=100, tol=tol)
    assert result.converged, result.message
    np.testing.assert_allclose(result.x, ref, rtol=0, atol=atol)
    # Same support: the oracle's near-zero entries are zeros it rounded.
    support = np.abs(ref[:-1]) > 10 * atol
    assert np.array_equal(result.x[:-1] != 0, support)
    assert 0 < support.sum() < X.shape[1]
    assert_kkt(objective, result.x, atol=2 * tol)


@pytest.mark.parametrize("penalty", PENALTIES)
def test_same_optimum_as_saga(problem, penalty):
    X, y, _ = problem
    rho, C = PENALTIES[penalty], 0.02
    saga = SkLogisticRegression(C=C, l1_ratio=rho, solver="saga", tol=1e-12, max_iter=100_000).fit(X, y)
    ref = np.append(saga.coef_, saga.intercept_)
    objective = LogisticObjective(X, y, C=C, l1_ratio=rho)
    result = solve(objective, np.zeros(objective.n_params), max_iter=100, tol=1e-10)
    # saga's stopping rule is on the change of the coefficients: 1e-12 there
    # leaves it within ~1e-8 of the optimum on this problem.
    np.testing.assert_allclose(result.x, ref, rtol=0, atol=1e-6)
    assert np.array_equal(result.x[:-1] != 0, np.abs(ref[:-1]) > 1e-6)


def test_no_intercept_and_warm_start(problem):
    X, y, _ = problem
    ref = glum_optimum(X, y, None, 0.05, 1.0, fit_intercept=False)
    objective = LogisticObjective(X, y, C=0.05, l1_ratio=1.0, fit_intercept=False)
    cold = solve(objective, np.zeros(X.shape[1]), max_iter=100, tol=1e-10)
    np.testing.assert_allclose(cold.x, ref, atol=1e-7)
    # From the optimum of a nearby C, a few steps do.
    near = LogisticObjective(X, y, C=0.04, l1_ratio=1.0, fit_intercept=False)
    warm = solve(objective, solve(near, np.zeros(X.shape[1]), max_iter=100, tol=1e-10).x,
                 max_iter=100, tol=1e-10)
    np.testing.assert_allclose(warm.x, ref, atol=1e-7)
    assert warm.n_iter <= cold.n_iter


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_multinomial_l1_matches_saga_and_kkt(sparse):
    rng = np.random.default_rng(1)
    m, n, K = 500, 8, 3
    X = rng.standard_normal((m, n))
    W = np.zeros((K, n))
    W[:, :3] = rng.standard_normal((K, 3)) * 1.5
    y = np.array([rng.choice(K, p=p) for p in np.exp(X @ W.T) / np.exp(X @ W.T).sum(1, keepdims=True)])
    C = 0.05
    saga = SkLogisticRegression(C=C, l1_ratio=1.0, solver="saga", tol=1e-12, max_iter=100_000).fit(X, y)
    objective = SoftmaxObjective(sp.csr_matrix(X) if sparse else X, y, C=C, l1_ratio=1.0, n_outputs=K)
    result = solve(objective, np.zeros(objective.n_params), max_iter=100, tol=1e-10)
    assert result.converged, result.message
    assert result.n_iter <= 20  # Newton steps on the full softmax model, not a first-order rate
    coef, intercept = objective.split(result.x)
    np.testing.assert_allclose(coef, saga.coef_, atol=1e-6)
    # Intercepts are defined up to a common shift (unpenalized, softmax).
    np.testing.assert_allclose(intercept - intercept.mean(), saga.intercept_ - saga.intercept_.mean(), atol=1e-6)
    assert np.array_equal(coef != 0, np.abs(saga.coef_) > 1e-6)
    assert_kkt(objective, result.x, atol=2e-10)


@pytest.mark.parametrize("C", [np.inf, 0.05], ids=["none", "l2"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_without_l1_it_is_newton(problem, sparse, C):
    X, y, s = problem
    sk = SkLogisticRegression(C=C, solver="newton-cholesky", tol=1e-12, max_iter=100).fit(X, y, sample_weight=s)
    objective = LogisticObjective(sp.csr_matrix(X) if sparse else X, y, s, C=C)
    result = solve(objective, np.zeros(objective.n_params), max_iter=50, tol=1e-10)
    assert result.converged and result.n_iter <= 10
    np.testing.assert_allclose(result.x, np.append(sk.coef_, sk.intercept_), atol=1e-8)


def test_bounds_with_l1_match_lbfgs(problem):
    X, y, _ = problem
    bounds = (0.0, 0.5)  # non-negative, capped: several coefficients sit on a bound
    objective = LogisticObjective(X, y, C=0.05, l1_ratio=0.7, bounds=bounds)
    result = solve(objective, np.zeros(objective.n_params), max_iter=100, tol=1e-10)
    reference = SOLVERS["lbfgs"](LogisticObjective(X, y, C=0.05, l1_ratio=0.7, bounds=bounds),
                                 np.zeros(objective.n_params), max_iter=10_000, tol=1e-10)
    assert result.converged and reference.converged
    np.testing.assert_allclose(result.x, reference.x, atol=1e-7)
    w = result.x[:-1]
    assert np.all((w >= 0) & (w <= 0.5)) and np.any(w == 0.5) and np.any(w == 0)


def test_cost_decreases_and_history_matches_iterations(problem):
    X, y, _ = problem
    objective = LogisticObjective(X, y, C=0.02, l1_ratio=1.0)
    seen = []
    result = solve(objective, np.zeros(objective.n_params), max_iter=100, tol=1e-10,
                   callback=lambda i, cost: seen.append((i, cost)))
    history = np.asarray(result.loss_history)
    assert len(history) == result.n_iter + 1 == len(seen)
    assert np.all(np.diff(history) <= 1e-14 * history[:-1])
    J, _ = objective.loss_grad(result.x)
    assert result.fun == pytest.approx(objective.value(result.x, J), rel=1e-14)


def test_max_iter_stops_and_reports(problem):
    X, y, _ = problem
    objective = LogisticObjective(X, y, C=0.02, l1_ratio=1.0)
    result = solve(objective, np.zeros(objective.n_params), max_iter=1, tol=1e-12)
    assert result.n_iter == 1 and not result.converged and "max_iter" in result.message


def test_bad_start_is_refused(problem):
    X, y, _ = problem
    objective = LogisticObjective(X, y, C=0.02, l1_ratio=1.0)
    with pytest.raises(ValueError, match="theta0 must have shape"):
        solve(objective, np.zeros(3), max_iter=10, tol=1e-6)


def test_auto_picks_newton_cd_for_l1_only(problem):
    X, y, _ = problem
    assert choose_solver(LogisticObjective(X, y, C=1.0, l1_ratio=0.5)) == "newton-cd"
    assert choose_solver(LogisticObjective(X, y, C=1.0, l1_ratio=0.0)) != "newton-cd"


def test_auto_leaves_many_features_with_l1_to_lbfgs():
    import scipy.sparse as sp

    from logitdescent.solvers import AUTO_CD_MAX_FEATURES

    n = AUTO_CD_MAX_FEATURES + 1
    X = sp.random(50, n, density=0.01, format="csr", random_state=0)
    y = (np.arange(50) % 2).astype(float)
    assert choose_solver(LogisticObjective(X, y, C=1.0, l1_ratio=1.0)) == "lbfgs"
    assert choose_solver(LogisticObjective(X[:, :AUTO_CD_MAX_FEATURES], y, C=1.0, l1_ratio=1.0)) == "newton-cd"


@pytest.mark.parametrize("seed", range(3))
def test_quadratic_model_minimizer_satisfies_its_kkt(seed):
    # The compiled (or NumPy) inner loop on its own: random PSD model, L1 of
    # per-coordinate strengths (one coordinate free of it), a box; the
    # model's own optimality conditions.
    rng = np.random.default_rng(seed)
    p = 12
    A = rng.standard_normal((30, p))
    H = A.T @ A / 30 + 0.01 * np.eye(p)
    g, w = rng.standard_normal(p), np.where(rng.random(p) < 0.5, 0.0, rng.uniform(-0.4, 0.4, p))
    lower, upper = np.full(p, -0.5), np.full(p, 0.5)
    l1 = rng.uniform(0.1, 0.6, p)
    l1[-1] = 0.0
    d, sweeps = cd_quadratic(H, g, w, l1, lower, upper, 1e-13, 10_000)
    u = w + d
    grad = g + H @ d
    assert sweeps < 10_000 and np.all((u >= -0.5) & (u <= 0.5))
    # u = prox(u - grad): soft-threshold by l1_j, then clip, coordinate-wise.
    trial = u - grad
    trial = np.sign(trial) * np.maximum(np.abs(trial) - l1, 0)
    np.testing.assert_allclose(u, np.clip(trial, lower, upper), atol=1e-10)
