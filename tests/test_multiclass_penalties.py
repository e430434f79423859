"""Binary and multinomial models, with L2, L1 and elastic-net penalties and
with or without weights, on every solver that handles the combination: each
must reach scikit-learn's optimum of the same objective on two real data sets.
L1 must find scikit-learn's support. scikit-learn 1.9's own parameters (C and
l1_ratio) mean the same fit here, and one binary model per class is
scikit-learn's OneVsRestClassifier over this estimator."""

import functools

import numpy as np
import pytest
from sklearn.datasets import load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler

from logitdescent import LogisticRegression

C = 0.5
PENALTY_L1_RATIO = {"l2": 0.0, "l1": 1.0, "elasticnet": 0.5}
SOLVERS_FOR = {
    "l2": ["gd", "nesterov", "lbfgs", "newton", "precond-lbfgs"],
    "l1": ["gd", "nesterov", "lbfgs"],
    "elasticnet": ["gd", "nesterov", "lbfgs"],
}


@functools.lru_cache(maxsize=None)
def dataset(name, structure):
    """Standardized iris or wine; "binary" keeps the two classes hardest to tell apart."""
    X, y = {"iris": load_iris, "wine": load_wine}[name](return_X_y=True)
    X = StandardScaler().fit_transform(X)
    if structure == "binary":
        keep = y > 0
        X, y = X[keep], y[keep]
    return X, y


def weights_for(weighting, y):
    if weighting == "sample":
        return dict(sample_weight=np.random.default_rng(0).uniform(0.2, 3.0, y.size)), {}
    if weighting == "balanced":
        return {}, dict(class_weight="balanced")
    return {}, {}


@functools.lru_cache(maxsize=None)
def sklearn_solution(name, structure, penalty, weighting):
    """scikit-learn's optimum: newton-cholesky for L2 (exact), saga otherwise."""
    X, y = dataset(name, structure)
    fit_kw, init_kw = weights_for(weighting, y)
    solver = "newton-cholesky" if penalty == "l2" else "saga"
    sk = SkLogisticRegression(
        C=C, l1_ratio=PENALTY_L1_RATIO[penalty], solver=solver, tol=1e-12, max_iter=200_000, **init_kw
    )
    sk.fit(X, y, **fit_kw)
    return sk.coef_, sk.intercept_


CASES = [
    (name, structure, penalty, weighting, solver)
    for name in ["iris", "wine"]
    for structure in ["binary", "multinomial"]
    for penalty in ["l2", "l1", "elasticnet"]
    for weighting in ["none", "sample", "balanced"]
    for solver in SOLVERS_FOR[penalty]
    # Plain ISTA needs ~1e4 iterations with L1; once per penalty is enough for it.
    if not (solver == "gd" and (weighting != "none" or name != "iris"))
]


@pytest.mark.parametrize("name, structure, penalty, weighting, solver", CASES)
def test_reaches_scikit_learn_optimum(name, structure, penalty, weighting, solver):
    X, y = dataset(name, structure)
    fit_kw, init_kw = weights_for(weighting, y)
    clf = LogisticRegression(
        C=C, l1_ratio=PENALTY_L1_RATIO[penalty], solver=solver, tol=1e-9, max_iter=50_000, **init_kw,
    ).fit(X, y, **fit_kw)
    coef, intercept = sklearn_solution(name, structure, penalty, weighting)
    theta, ref = np.append(clf.coef_, clf.intercept_), np.append(coef, intercept)
    # The smallest curvature here is >= 1/(C m) ~ 1e-2, so tol = 1e-9 on the
    # (sub)gradient puts the coefficients within ~5e-8 of the optimum; 1e-6
    # leaves room for saga's own error.
    assert np.linalg.norm(theta - ref) / np.linalg.norm(ref) < 1e-6
    if penalty != "l2":
        np.testing.assert_array_equal(clf.coef_ == 0, coef == 0)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize(
    "structure, C_value, l1_ratio",
    [(structure, C_value, l1_ratio)
     for structure in ["binary", "multinomial"]
     for C_value, l1_ratio in [(0.05, 1.0), (0.5, 0.0), (0.5, 0.3), (4.0, 0.7), (np.inf, 0.0)]
     # All of iris has a separable class (setosa): no unpenalized optimum.
     if not (structure == "multinomial" and C_value == np.inf)],
)
def test_scikit_learn_parameters_mean_the_same_fit(structure, C_value, l1_ratio):
    # A user's scikit-learn 1.9 code moves over unchanged: l1_ratio alone sets
    # the mix (l1_ratio=1 with C=0.05 is L1 in both, never a silent L2).
    X, y = dataset("iris", structure)
    params = dict(C=C_value, l1_ratio=l1_ratio)
    ours = LogisticRegression(**params, tol=1e-10, max_iter=50_000).fit(X, y)
    sk = SkLogisticRegression(**params, solver="saga", tol=1e-12, max_iter=500_000).fit(X, y)
    theta, ref = np.append(ours.coef_, ours.intercept_), np.append(sk.coef_, sk.intercept_)
    # tol 1e-10 over curvature >= 1/(C m) leaves ~1e-8 in ours; saga's own
    # stopping rule (max change of the coefficients <= 1e-12 relative) is looser.
    assert np.linalg.norm(theta - ref) / np.linalg.norm(ref) < 1e-5
    np.testing.assert_array_equal(ours.coef_ == 0, sk.coef_ == 0)


@pytest.mark.parametrize("weighting", ["none", "balanced"])
@pytest.mark.parametrize("l1_ratio", [0.0, 1.0])
def test_one_vs_rest_classifier_over_ours_matches_scikit_learns(weighting, l1_ratio):
    X, y = dataset("wine", "multinomial")
    _, init_kw = weights_for(weighting, y)
    ours = OneVsRestClassifier(LogisticRegression(C=C, l1_ratio=l1_ratio, tol=1e-10, **init_kw)).fit(X, y)
    sk = OneVsRestClassifier(SkLogisticRegression(
        C=C, l1_ratio=l1_ratio, solver="newton-cholesky" if l1_ratio == 0 else "saga",
        tol=1e-12, max_iter=200_000, **init_kw,
    )).fit(X, y)
    coef = np.vstack([e.coef_ for e in ours.estimators_])
    intercept = np.concatenate([e.intercept_ for e in ours.estimators_])
    sk_coef = np.vstack([e.coef_ for e in sk.estimators_])
    sk_intercept = np.concatenate([e.intercept_ for e in sk.estimators_])
    theta, ref = np.append(coef, intercept), np.append(sk_coef, sk_intercept)
    assert np.linalg.norm(theta - ref) / np.linalg.norm(ref) < 1e-5
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), rtol=1e-5, atol=1e-8)
    assert ours.score(X, y) == sk.score(X, y)


def test_l1_zeros_are_exact(breast_cancer_scaled):
    X, y = breast_cancer_scaled
    clf = LogisticRegression(l1_ratio=1.0, C=0.05, solver="nesterov", tol=1e-8).fit(X, y)
    zeros = np.sum(clf.coef_ == 0.0)
    assert 0 < zeros < X.shape[1]


def test_multiclass_shapes_and_probabilities():
    X, y = dataset("wine", "multinomial")
    labels = np.array(["barolo", "grignolino", "barbera"])[y]
    clf = LogisticRegression().fit(X, labels)
    assert clf.coef_.shape == (3, 13) and clf.intercept_.shape == (3,)
    np.testing.assert_array_equal(clf.classes_, np.unique(labels))
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    assert clf.score(X, labels) > 0.97


@pytest.mark.parametrize("solver", ["gd", "nesterov", "lbfgs", "newton", "sgd"])
def test_integer_weights_equal_repeated_rows(solver):
    X, y = dataset("iris", "multinomial")
    counts = np.random.default_rng(1).integers(0, 4, y.size)
    # tol 1e-11 over curvature ~4e-3 leaves ~3e-9 in the coefficients of either fit.
    tol, rtol = (0, 1e-12) if solver == "sgd" else (1e-11, 1e-8)
    kw = dict(solver=solver, tol=tol, max_iter=20_000 if solver != "sgd" else 5,
              random_state=0, batch_size=10_000)  # one SGD batch: deterministic, order-free
    weighted = LogisticRegression(**kw).fit(X, y, sample_weight=counts)
    repeated = LogisticRegression(**kw).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=rtol, atol=1e-10)


BOUND_SOLVERS = ["gd", "nesterov", "lbfgs"]


@pytest.mark.parametrize("solver", BOUND_SOLVERS)
@pytest.mark.parametrize("structure", ["binary", "multinomial"])
def test_bounds_hold_and_satisfy_kkt(solver, structure):
    X, y = dataset("wine", structure)
    lower, upper = -0.3, 0.4
    clf = LogisticRegression(C=10.0, solver=solver, coef_bounds=(lower, upper), tol=1e-9, max_iter=50_000)
    clf.fit(X, y)
    W = clf.coef_.astype(np.float64)
    assert np.all(W >= lower) and np.all(W <= upper)
    assert np.any(W == lower) and np.any(W == upper)  # the bounds are active here
    # KKT: zero gradient inside the box, pushing outward at an active bound.
    grad = _gradient(X, y, clf)
    inside = (W > lower) & (W < upper)
    assert np.max(np.abs(grad[inside])) < 1e-8
    assert np.all(grad[W == lower] >= -1e-8) and np.all(grad[W == upper] <= 1e-8)


def _gradient(X, y, clf):
    from logitdescent.objective import LogisticObjective, SoftmaxObjective

    K = clf.classes_.size
    if K == 2:
        obj = LogisticObjective(X, (y == clf.classes_[1]).astype(float), C=10.0)
    else:
        obj = SoftmaxObjective(X, np.searchsorted(clf.classes_, y), C=10.0, n_outputs=K)
    _, grad = obj.loss_grad(obj.join(clf.coef_, clf.intercept_))
    W_grad, _ = obj.split(grad)
    return W_grad


def test_bounds_agree_between_projected_gradient_and_lbfgs_b():
    X, y = dataset("iris", "multinomial")
    bounds = (np.full(4, -0.5), np.array([0.2, 0.5, 0.3, 1.0]))
    fits = [
        LogisticRegression(C=5.0, solver=s, coef_bounds=bounds, tol=1e-9, max_iter=50_000).fit(X, y)
        for s in ("nesterov", "lbfgs")
    ]
    # Two algorithms, one optimum: tol 1e-9 over curvature ~1e-3 allows ~1e-6.
    np.testing.assert_allclose(fits[0].coef_, fits[1].coef_, atol=2e-6)


@pytest.mark.parametrize("solver", ["newton", "lbfgs-newton", "precond-lbfgs"])
def test_newton_refuses_l1_and_bounds_with_a_way_out(solver):
    X, y = dataset("iris", "binary")
    for params in (dict(l1_ratio=1.0), dict(coef_bounds=(0, 1))):
        with pytest.raises(ValueError, match=f"solver='{solver}' handles the L2 penalty only.*choose solver='lbfgs' or 'nesterov'"):
            LogisticRegression(solver=solver, **params).fit(X, y)


def test_partial_fit_on_a_stream_approaches_the_full_fit():
    X, y = dataset("wine", "multinomial")
    rng = np.random.default_rng(0)
    clf = LogisticRegression(C=C, batch_size=16, random_state=0)
    for epoch in range(30):
        order = rng.permutation(y.size)
        for chunk in np.array_split(order, 4):
            clf.partial_fit(X[chunk], y[chunk], classes=np.unique(y))
    full = LogisticRegression(C=C, tol=1e-10).fit(X, y)
    assert clf.score(X, y) >= full.score(X, y) - 0.02
    # Each chunk's penalty is scaled by its own S (a quarter of the data), so the
    # stream's optimum is more strongly penalized: close, not equal.
    assert np.corrcoef(clf.coef_.ravel(), full.coef_.ravel())[0, 1] > 0.95


def test_partial_fit_needs_classes_first():
    X, y = dataset("iris", "multinomial")
    with pytest.raises(ValueError, match="classes must be given on the first call"):
        LogisticRegression().partial_fit(X, y)


def test_warm_start_path_over_C_saves_iterations():
    X, y = dataset("wine", "multinomial")
    cold, warm = [], []
    clf = LogisticRegression(solver="lbfgs", warm_start=True, tol=1e-8)
    for C_value in np.logspace(-2, 1, 6):
        warm.append(clf.set_params(C=C_value).fit(X, y).n_iter_)
        cold.append(LogisticRegression(solver="lbfgs", C=C_value, tol=1e-8).fit(X, y).n_iter_)
    assert sum(warm[1:]) < sum(cold[1:])


def test_too_few_iterations_warn():
    X, y = dataset("iris", "multinomial")
    with pytest.warns(ConvergenceWarning, match="stopped before convergence"):
        LogisticRegression(solver="gd", max_iter=3).fit(X, y)


@pytest.mark.parametrize("solver", ["auto", "lbfgs", "nesterov"])
@pytest.mark.parametrize("C_value, l1_ratio", [(0.05, 1.0), (0.5, 0.0)])
def test_multinomial_fit_is_stored_in_the_symmetric_parametrization(solver, C_value, l1_ratio):
    # Shifting every class's intercept by one constant changes no probability;
    # like scikit-learn, the stored representative has intercepts summing to 0.
    X, y = dataset("iris", "multinomial")
    clf = LogisticRegression(C=C_value, l1_ratio=l1_ratio, solver=solver, tol=1e-10, max_iter=50_000).fit(X, y)
    assert abs(clf.intercept_.sum()) < 1e-12
    sk = SkLogisticRegression(C=C_value, l1_ratio=l1_ratio, solver="saga", tol=1e-12, max_iter=500_000).fit(X, y)
    np.testing.assert_allclose(clf.intercept_, sk.intercept_, atol=1e-5)


def test_unpenalized_multinomial_coefficients_sum_to_zero_over_classes():
    X, y = dataset("wine", "multinomial")
    X = X[:, :2]  # two features: the classes overlap, so the unpenalized optimum is finite
    clf = LogisticRegression(C=np.inf, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(clf.coef_.sum(axis=0), 0.0, atol=1e-12)
    sk = SkLogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-12).fit(X, y)
    np.testing.assert_allclose(clf.coef_, sk.coef_, rtol=1e-6)
