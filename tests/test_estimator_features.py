"""Two model features glum and glmnet users rely on: ``offset`` and ``penalty_factor``.

Oracles: statsmodels' ``Logit(..., offset=...)`` on a data set it ships; the
identity "an offset is a feature whose coefficient is fixed" (coefficient
bounds pin it); the identities "factor f on the L1 term is the column
divided by f" and "factor f on the L2 term is the column divided by
sqrt(f)"; and, for factors of 0, the optimality conditions themselves,
checked with the public kernel's gradient.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from logitdescent import LogisticRegression, loss_and_grad
from logitdescent.persistence import load_model, save_model

sm = pytest.importorskip("statsmodels.api")

#: Solvers that take an L1 term, and those that take only L2.
L1_SOLVERS = ["newton-cd", "lbfgs", "nesterov", "gd"]
L2_SOLVERS = L1_SOLVERS + ["newton", "lbfgs-newton", "precond-lbfgs"]


def _statsmodels_offset_fit(X, y, offset):
    # Newton from statsmodels' default start overshoots into a singular
    # Hessian on these data: start it from its own BFGS answer.
    model = sm.Logit(y, sm.add_constant(X, prepend=False), offset=offset)
    start = model.fit(method="bfgs", disp=0, maxiter=1000).params
    return model.fit(method="newton", start_params=start, tol=1e-12, disp=0)


@pytest.fixture(scope="module")
def fair():
    """statsmodels' fair data: affairs (yes/no), log(years married) as the exposure offset.

    Standardized, so that tol=1e-10 on the gradient puts every solver (L-BFGS
    included) within ~1e-10 of the optimum; statsmodels fits the same X.
    """
    frame = sm.datasets.fair.load_pandas().data
    X = frame[["rate_marriage", "age", "children", "religious", "educ"]].to_numpy(dtype=np.float64)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = (frame["affairs"].to_numpy() > 0).astype(int)
    return X, y, np.log(frame["yrs_married"].to_numpy())


@pytest.fixture(scope="module")
def problem():
    """Well-conditioned synthetic data (plain gradient descent converges in well under a second)."""
    rng = np.random.default_rng(0)
    m, n = 2000, 8
    X = rng.standard_normal((m, n))
    w = np.array([1.5, -1.0, 0.0, 0.0, 0.5, 0.0, -0.3, 0.2])
    y = (rng.random(m) < 1 / (1 + np.exp(-(X @ w + 0.3)))).astype(int)
    return X, y, rng.uniform(0.3, 3.0, n)


# -- offset -----------------------------------------------------------------


@pytest.mark.parametrize("solver", ["auto", "newton", "lbfgs", "newton-cd", "precond-lbfgs"])
def test_offset_fit_equals_statsmodels(fair, solver):
    X, y, offset = fair
    ref = _statsmodels_offset_fit(X, y, offset)
    model = LogisticRegression(C=np.inf, solver=solver, tol=1e-10, max_iter=10_000).fit(X, y, offset=offset)
    np.testing.assert_allclose(np.append(model.coef_, model.intercept_), ref.params, rtol=1e-8)


def test_offset_summary_equals_statsmodels(fair):
    X, y, offset = fair
    ref = _statsmodels_offset_fit(X, y, offset)
    model = LogisticRegression(C=np.inf, tol=1e-10).fit(X, y, offset=offset)
    ours = model.summary(X, y, offset=offset)
    for column, expected in [("coef", ref.params), ("std_err", ref.bse), ("z", ref.tvalues),
                             ("p_value", ref.pvalues)]:
        np.testing.assert_allclose(ours.table[column], expected, rtol=1e-8)
    np.testing.assert_allclose(ours.table[["ci_low", "ci_high"]], ref.conf_int(), rtol=1e-8)
    for name, ref_name in [("log_likelihood", "llf"), ("aic", "aic"), ("bic", "bic")]:
        assert getattr(ours, name) == pytest.approx(getattr(ref, ref_name), rel=1e-10), name
    # The null model keeps the offset. statsmodels fits its intercept by
    # Nelder-Mead then BFGS at their default tolerances; ours by Newton to
    # convergence, so the two agree to statsmodels' precision, ~1e-9.
    for name, ref_name in [("null_log_likelihood", "llnull"), ("pseudo_r2", "prsquared")]:
        assert getattr(ours, name) == pytest.approx(getattr(ref, ref_name), rel=1e-8), name
    null = sm.Logit(y, np.ones((y.size, 1)), offset=offset).fit(method="newton", tol=1e-14, disp=0)
    assert ours.null_log_likelihood == pytest.approx(null.llf, rel=1e-12)
    assert ours.null_log_likelihood != pytest.approx(model.summary(X, y).null_log_likelihood, rel=1e-3)


@pytest.mark.parametrize("classes", [2, 3])
def test_offset_is_a_column_with_a_fixed_coefficient(problem, classes):
    X, y, _ = problem
    rng = np.random.default_rng(1)
    if classes == 3:
        y = y + (X[:, 2] > 0.5)
    K = 1 if classes == 2 else classes
    offset = rng.standard_normal((X.shape[0], K))
    model = LogisticRegression(C=0.5, tol=1e-10).fit(X, y, offset=offset[:, 0] if K == 1 else offset)
    # The same model with the offset as K more columns, their coefficients pinned to the identity.
    lower = np.full((K, X.shape[1] + K), -np.inf)
    lower[:, X.shape[1]:] = np.eye(K)
    upper = -lower
    upper[:, X.shape[1]:] = np.eye(K)
    pinned = LogisticRegression(C=0.5, solver="lbfgs", tol=1e-10, coef_bounds=(lower, upper))
    pinned.fit(np.hstack([X, offset]), y)
    # The pinned block's penalty is a constant, so the free coefficients share the optimum.
    np.testing.assert_allclose(model.coef_, pinned.coef_[:, : X.shape[1]], rtol=0, atol=1e-8)
    np.testing.assert_allclose(model.intercept_, pinned.intercept_, rtol=0, atol=1e-8)


def test_predictions_take_the_offset(problem):
    X, y, _ = problem
    offset = np.linspace(-2, 2, X.shape[0])
    model = LogisticRegression().fit(X, y, offset=offset)
    z = model.decision_function(X, offset=offset)
    np.testing.assert_allclose(z, model.decision_function(X) + offset, rtol=1e-12)
    np.testing.assert_allclose(model.predict_proba(X, offset=offset)[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-12)
    np.testing.assert_allclose(model.predict_log_proba(X, offset=offset), np.log(model.predict_proba(X, offset)),
                               rtol=1e-10)
    assert np.array_equal(model.predict(X, offset=offset), model.classes_[(z > 0).astype(int)])


@pytest.mark.parametrize("container", ["csr", "float32"])
def test_offset_on_sparse_and_float32_data(problem, container):
    X, y, _ = problem
    offset = np.sin(np.arange(X.shape[0]))
    dense = LogisticRegression(tol=1e-9).fit(X, y, offset=offset)
    data = sp.csr_matrix(X) if container == "csr" else X.astype(np.float32)
    other = LogisticRegression(tol=1e-9 if container == "csr" else 1e-5).fit(data, y, offset=offset)
    assert other.coef_.dtype == (np.float32 if container == "float32" else np.float64)
    # float32: its gradient's rounding (~1e-7 relative) bounds how close the fit gets.
    np.testing.assert_allclose(other.coef_, dense.coef_, rtol=0, atol=1e-8 if container == "csr" else 3e-4)


@pytest.mark.parametrize("offset, classes, match", [
    (np.zeros(7), 2, r"offset must have shape \(2000,\)"),
    (np.full(2000, np.inf), 2, "offset contains NaN or infinity"),
    (np.zeros(2000), 3, r"one column per class"),
])
def test_bad_offsets_are_explained(problem, offset, classes, match):
    X, y, _ = problem
    if classes == 3:
        y = y + (X[:, 2] > 0.5)
    with pytest.raises(ValueError, match=match):
        LogisticRegression().fit(X, y, offset=offset)


def test_dask_input_refuses_an_offset(problem):
    da = pytest.importorskip("dask.array")
    X, y, _ = problem
    with pytest.raises(ValueError, match="offset is not supported with Dask input"):
        LogisticRegression().fit(da.from_array(X, chunks=500), da.from_array(y, chunks=500), offset=np.zeros(2000))


# -- penalty_factor ---------------------------------------------------------


@pytest.mark.parametrize("solver", L1_SOLVERS)
def test_l1_factors_equal_rescaled_columns(problem, solver):
    # f_j |w_j| = |w_j'| with w_j' = f_j w_j, the coefficient of the column x_j / f_j.
    X, y, f = problem
    params = dict(C=0.02, l1_ratio=1.0, solver=solver, tol=1e-10, max_iter=100_000)
    model = LogisticRegression(penalty_factor=f, **params).fit(X, y)
    rescaled = LogisticRegression(**params).fit(X / f, y)
    assert model.converged_ and np.sum(model.coef_ == 0) >= 2
    np.testing.assert_allclose(model.coef_, rescaled.coef_ / f, rtol=0, atol=1e-8)
    np.testing.assert_array_equal(model.coef_ == 0, rescaled.coef_ == 0)


@pytest.mark.parametrize("solver", L2_SOLVERS)
def test_l2_factors_equal_rescaled_columns(problem, solver):
    # f_j w_j^2 = w_j'^2 with w_j' = sqrt(f_j) w_j, the coefficient of x_j / sqrt(f_j).
    X, y, f = problem
    params = dict(C=0.01, solver=solver, tol=1e-10, max_iter=100_000)
    model = LogisticRegression(penalty_factor=f, **params).fit(X, y)
    rescaled = LogisticRegression(**params).fit(X / np.sqrt(f), y)
    np.testing.assert_allclose(model.coef_, rescaled.coef_ / np.sqrt(f), rtol=0, atol=1e-8)


def _kkt_violation(model, X, y, l1_ratio, f):
    """The largest violation of the penalized optimality conditions, from the public kernel."""
    w, b = model.coef_[0], float(model.intercept_[0])
    S = X.shape[0]
    _, dw, db = loss_and_grad(w, b, X, y.astype(np.float64))
    l1, l2 = l1_ratio / (model.C * S), (1 - l1_ratio) / (model.C * S)
    g = dw + l2 * f * w
    bound = l1 * f
    violation = np.where(w != 0, np.abs(g + bound * np.sign(w)), np.maximum(np.abs(g) - bound, 0))
    return max(float(violation.max()), abs(db))


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("solver", ["newton-cd", "lbfgs", "nesterov"])
def test_zero_factors_leave_features_unpenalized(problem, solver, l1_ratio):
    X, y, f = problem
    f = f.copy()
    f[[0, 3]] = 0.0  # a strong feature and a null one, both free
    model = LogisticRegression(C=0.005, l1_ratio=l1_ratio, penalty_factor=f, solver=solver, tol=1e-10,
                               max_iter=100_000).fit(X, y)
    assert _kkt_violation(model, X, y, l1_ratio, f) < 1e-9
    # Unpenalized, the strong feature keeps (almost) its maximum-likelihood size.
    plain = LogisticRegression(C=0.005, l1_ratio=l1_ratio, solver=solver, tol=1e-10, max_iter=100_000).fit(X, y)
    assert abs(model.coef_[0, 0]) > abs(plain.coef_[0, 0])


@pytest.mark.parametrize("solver", ["newton-cd", "lbfgs"])
def test_multinomial_l1_factors_equal_rescaled_columns(problem, solver):
    X, y, f = problem
    y = y + (X[:, 2] > 0.5)
    params = dict(C=0.05, l1_ratio=1.0, solver=solver, tol=1e-10, max_iter=100_000)
    model = LogisticRegression(penalty_factor=f, **params).fit(X, y)
    rescaled = LogisticRegression(**params).fit(X / f, y)
    np.testing.assert_allclose(model.coef_, rescaled.coef_ / f, rtol=0, atol=1e-7)


def test_sparse_data_take_penalty_factors(problem):
    X, y, f = problem
    params = dict(C=0.02, l1_ratio=0.5, penalty_factor=f, tol=1e-10)
    dense = LogisticRegression(**params).fit(X, y)
    sparse = LogisticRegression(**params).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=0, atol=1e-9)


@pytest.mark.parametrize("factor, match", [
    (np.ones(3), r"penalty_factor must have shape \(8,\)"),
    (np.r_[-1.0, np.ones(7)], "penalty_factor must be finite and non-negative; got -1.0 for feature 0"),
    (np.r_[np.ones(7), np.nan], "finite and non-negative; got nan for feature 7"),
])
def test_bad_penalty_factors_are_explained(problem, factor, match):
    X, y, _ = problem
    with pytest.raises(ValueError, match=match):
        LogisticRegression(penalty_factor=factor).fit(X, y)


def test_penalty_factors_survive_a_model_file(problem, tmp_path):
    X, y, f = problem
    model = LogisticRegression(C=0.05, penalty_factor=f).fit(X, y)
    save_model(model, tmp_path / "model.json")
    loaded = load_model(tmp_path / "model.json")
    np.testing.assert_array_equal(loaded.penalty_factor, f)
    np.testing.assert_array_equal(loaded.fit(X, y).coef_, model.coef_)
