"""logistic_path: the grid, the exact smallest useful C, warm starts, screening."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from glum import GeneralizedLinearRegressor
from sklearn.exceptions import ConvergenceWarning

from logitdescent.objective import LogisticObjective
from logitdescent.path import logistic_path, smallest_useful_C


@pytest.fixture(scope="module")
def binary():
    rng = np.random.default_rng(3)
    m, n = 400, 30
    X = rng.standard_normal((m, n))
    X[:, 1:] += 0.5 * X[:, :-1]  # correlated neighbours
    w = np.zeros(n)
    w[[0, 4, 9, 17]] = [1.2, -0.8, 0.6, 0.5]
    y = np.where(rng.random(m) < 1 / (1 + np.exp(-(X @ w - 0.4))), "yes", "no")  # string labels
    s = rng.uniform(0.5, 2.0, m)
    return X, y, s


@pytest.fixture(scope="module")
def multiclass():
    rng = np.random.default_rng(4)
    m, n, K = 450, 6, 3
    X = rng.standard_normal((m, n))
    W = np.zeros((K, n))
    W[:, :2] = [[1.5, 0.0], [-1.0, 1.0], [0.0, -1.5]]
    P = np.exp(X @ W.T)
    P /= P.sum(1, keepdims=True)
    y = np.array([rng.choice(K, p=p) for p in P]) + 10  # labels 10, 11, 12
    return X, y


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("rho", [1.0, 0.5])
def test_first_point_all_zero_and_the_next_not(binary, rho, weighted, fit_intercept):
    X, y, s = binary
    s = s if weighted else None
    coefs, Cs, n_iter = logistic_path(X, y, Cs=5, l1_ratio=rho, sample_weight=s,
                                      fit_intercept=fit_intercept, tol=1e-10)
    n = X.shape[1]
    assert coefs.shape == (5, n + fit_intercept) and Cs.shape == n_iter.shape == (5,)
    assert np.all(coefs[0, :n] == 0) and np.any(coefs[1, :n] != 0)
    c_min = smallest_useful_C(X, y, l1_ratio=rho, sample_weight=s, fit_intercept=fit_intercept)
    np.testing.assert_allclose(Cs, c_min * np.geomspace(1, 1e3, 5))
    # Exact: just above C_min one coefficient leaves zero.
    near, _, _ = logistic_path(X, y, Cs=[c_min * (1 - 1e-6), c_min * (1 + 1e-3)], l1_ratio=rho,
                               sample_weight=s, fit_intercept=fit_intercept, tol=1e-12)
    assert np.all(near[0, :n] == 0) and np.count_nonzero(near[1, :n]) == 1


def test_first_point_multinomial(multiclass):
    X, y = multiclass
    coefs, Cs, _ = logistic_path(X, y, Cs=4, l1_ratio=1.0, tol=1e-10)
    assert coefs.shape == (4, 3, X.shape[1] + 1)
    assert np.all(coefs[0, :, :-1] == 0) and np.any(coefs[1, :, :-1] != 0)
    # The intercept-only optimum: softmax of the intercepts gives the class frequencies.
    b = coefs[0, :, -1]
    np.testing.assert_allclose(np.exp(b) / np.exp(b).sum(), np.bincount(y - 10) / len(y), atol=1e-10)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("rho", [1.0, 0.5])
def test_every_point_matches_glum(binary, rho, sparse):
    X, y, _ = binary
    target = (y == "yes").astype(float)
    coefs, Cs, _ = logistic_path(sp.csr_matrix(X) if sparse else X, y, Cs=6, l1_ratio=rho, tol=1e-10)
    for C, coef in zip(Cs, coefs):
        glum = GeneralizedLinearRegressor(family="binomial", alpha=1 / (C * len(y)), l1_ratio=rho,
                                          gradient_tol=1e-12, max_iter=1000).fit(X, target)
        ref = np.append(glum.coef_, glum.intercept_)
        np.testing.assert_allclose(coef, ref, atol=1e-7)
        assert np.array_equal(coef[:-1] != 0, np.abs(ref[:-1]) > 1e-6)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_screening_never_drops_a_nonzero(binary, sparse):
    X, y, _ = binary
    X = sp.csr_matrix(X) if sparse else X
    screened, Cs, _ = logistic_path(X, y, Cs=12, l1_ratio=1.0, tol=1e-10)
    full, _, _ = logistic_path(X, y, Cs=Cs, l1_ratio=1.0, tol=1e-10, screen=False)
    np.testing.assert_allclose(screened, full, atol=1e-8)
    assert np.array_equal(screened != 0, full != 0)
    # And the KKT conditions hold for every coordinate, screened or not.
    target = (y == "yes").astype(float)
    for C, theta in zip(Cs, screened):
        objective = LogisticObjective(X, target, C=C, l1_ratio=1.0)
        _, grad = objective.loss_grad(theta)
        zero = theta[:-1] == 0
        assert np.all(np.abs(grad[:-1][zero]) <= objective.l1 + 1e-10)


def test_explicit_grid_order_is_kept_and_float32_stays(binary):
    X, y, _ = binary
    grid = np.array([0.5, 0.01, 0.05])
    coefs32, Cs, _ = logistic_path(X.astype(np.float32), y, Cs=grid, l1_ratio=1.0, tol=1e-5)
    coefs64, _, _ = logistic_path(X, y, Cs=np.sort(grid), l1_ratio=1.0, tol=1e-10)
    assert coefs32.dtype == np.float32
    np.testing.assert_array_equal(Cs, grid)
    np.testing.assert_allclose(coefs32, coefs64[[2, 0, 1]], atol=5e-4)


def test_l2_path_uses_the_sklearn_grid(binary):
    X, y, _ = binary
    coefs, Cs, _ = logistic_path(X, y, Cs=3, l1_ratio=0.0, tol=1e-8)
    np.testing.assert_allclose(Cs, np.logspace(-4, 4, 3))
    assert np.all(coefs[:, :-1] != 0)
    assert smallest_useful_C(X, y, l1_ratio=0.0) == np.inf


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"Cs": 0}, "Cs must be a positive int"),
        ({"Cs": [1.0, -2.0]}, "Cs must be a positive int"),
        ({"l1_ratio": 1.5}, "l1_ratio must be a float in"),
        ({"solver": "nope"}, "solver must be one of"),
        ({"tol": -1.0}, "tol must be a non-negative"),
        ({"eps": 2.0}, "eps must be a float in"),
    ],
)
def test_bad_arguments_are_named(binary, kwargs, match):
    X, y, _ = binary
    with pytest.raises(ValueError, match=match):
        logistic_path(X, y, **kwargs)


def test_one_class_is_refused(binary):
    X, _, _ = binary
    with pytest.raises(ValueError, match="at least 2 classes"):
        logistic_path(X, np.ones(X.shape[0]), l1_ratio=1.0)


@pytest.mark.parametrize("rho", [1.0, 0.5])
def test_penalty_factors_along_the_path_match_glum(binary, rho):
    # glum's P1 = P2 = f is the same objective: every point of the path agrees.
    X, y, _ = binary
    target = (y == "yes").astype(float)
    f = np.random.default_rng(7).uniform(0.3, 3.0, X.shape[1])
    f[[2, 9]] = 0.0  # two features unpenalized
    coefs, Cs, _ = logistic_path(X, y, Cs=5, l1_ratio=rho, tol=1e-10, penalty_factor=f)
    for C, coef in zip(Cs, coefs):
        glum = GeneralizedLinearRegressor(family="binomial", alpha=1 / (C * len(y)), l1_ratio=rho, P1=f, P2=f,
                                          gradient_tol=1e-12, max_iter=1000)
        with warnings.catch_warnings():
            # glum's line search may stop at the cost's rounding floor short of 1e-12: still ~1e-9 close.
            warnings.simplefilter("ignore", ConvergenceWarning)
            glum.fit(X, target)
        np.testing.assert_allclose(coef, np.append(glum.coef_, glum.intercept_), atol=1e-7)
    # Unpenalized features are never zeroed, even at the strongest penalty.
    assert np.all(coefs[:, [2, 9]] != 0)


def test_smallest_useful_C_with_penalty_factors_is_exact(binary):
    X, y, _ = binary
    f = np.random.default_rng(8).uniform(0.3, 3.0, X.shape[1])
    c_min = smallest_useful_C(X, y, l1_ratio=1.0, penalty_factor=f)
    assert c_min != pytest.approx(smallest_useful_C(X, y, l1_ratio=1.0))
    near, _, _ = logistic_path(X, y, Cs=[c_min * (1 - 1e-6), c_min * (1 + 1e-3)], l1_ratio=1.0, tol=1e-12,
                               penalty_factor=f)
    n = X.shape[1]
    assert np.all(near[0, :n] == 0) and np.count_nonzero(near[1, :n]) == 1
    with pytest.raises(ValueError, match=r"penalty_factor must have shape \(30,\)"):
        smallest_useful_C(X, y, penalty_factor=f[:3])
