"""LogisticRegression against scikit-learn's optima, the lecture's updates,
label handling and parameter errors."""

import functools
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

from logitdescent.separation import SeparationWarning
from logitdescent import LogisticRegression, reference
from logitdescent.estimator import resolve_penalty
from logitdescent.solvers import SOLVER_OPTIONS

from .conftest import DTYPES


def sklearn_optimum(X, y, C, solver, sample_weight=None):
    """scikit-learn's solution at a tolerance tighter than anything tested here."""
    tol = 1e-14 if solver == "lbfgs" else 1e-12
    sk = SkLogisticRegression(C=C, solver=solver, tol=tol, max_iter=100_000)
    return sk.fit(X, y, sample_weight=sample_weight)


def relative_error(est, ref):
    theta, theta_ref = np.append(est.coef_, est.intercept_), np.append(ref.coef_, ref.intercept_)
    return np.linalg.norm(theta - theta_ref) / np.linalg.norm(theta_ref)


@pytest.mark.parametrize("C", [1.0, 100.0])
def test_default_solver_reaches_scikit_learn_optimum_on_raw_data(breast_cancer, C):
    # Raw features span 1e-3 .. 4e3. sklearn's newton-cholesky reaches the
    # exact optimum there (its lbfgs stalls at max |gradient| ~1e-4).
    X, y = breast_cancer
    ours = LogisticRegression(C=C, tol=1e-10).fit(X, y)
    assert ours.converged_
    assert relative_error(ours, sklearn_optimum(X, y, C, "newton-cholesky")) < 1e-6


@pytest.mark.parametrize("solver", ["auto", "newton", "lbfgs"])
def test_reaches_scikit_learn_lbfgs_optimum_on_scaled_data(breast_cancer_scaled, solver):
    X, y = breast_cancer_scaled
    ours = LogisticRegression(solver=solver, tol=1e-9, max_iter=10_000).fit(X, y)
    ref = sklearn_optimum(X, y, 1.0, "lbfgs")
    # sklearn's lbfgs stops by its ftol at max |gradient| ~1e-8, which with the
    # smallest Hessian eigenvalue ~1/(C m) bounds its own error near 1e-6.
    assert relative_error(ours, ref) < 1e-6
    # Against the exact optimum (newton-cholesky, gradient ~1e-17) ours is closer:
    # max |gradient| <= 1e-9 with lambda_min ~1/569 allows ~1e-7 relative.
    assert relative_error(ours, sklearn_optimum(X, y, 1.0, "newton-cholesky")) < 3e-7


@pytest.mark.parametrize("spelling", [dict(C=np.inf), dict(C=np.inf, l1_ratio=1.0)])
def test_unpenalized_fit_reaches_unpenalized_optimum(diabetes_binary, spelling):
    X, y = diabetes_binary
    ours = LogisticRegression(tol=1e-10, **spelling).fit(X, y)
    ref = sklearn_optimum(X, y, np.inf, "newton-cholesky")
    assert relative_error(ours, ref) < 1e-8


def test_weighted_fit_reaches_scikit_learn_optimum(breast_cancer_scaled, rng):
    X, y = breast_cancer_scaled
    s = rng.uniform(0.2, 5.0, y.size)
    ours = LogisticRegression(C=0.5, tol=1e-10).fit(X, y, sample_weight=s)
    ref = sklearn_optimum(X, y, 0.5, "newton-cholesky", sample_weight=s)
    assert relative_error(ours, ref) < 1e-8


def test_class_weight_equals_sample_weight(breast_cancer_scaled):
    X, y = breast_cancer_scaled
    weights = {0: 3.0, 1: 0.5}
    by_class = LogisticRegression(class_weight=weights, tol=1e-10).fit(X, y)
    by_sample = LogisticRegression(tol=1e-10).fit(X, y, sample_weight=np.where(y == 0, 3.0, 0.5))
    np.testing.assert_allclose(by_class.coef_, by_sample.coef_, rtol=1e-12)
    balanced = LogisticRegression(class_weight="balanced", tol=1e-10).fit(X, y)
    ref = SkLogisticRegression(class_weight="balanced", solver="newton-cholesky", tol=1e-12).fit(X, y)
    assert relative_error(balanced, ref) < 1e-8
    # With sample weights, "balanced" weighs the classes by their total weight (scikit-learn 1.9).
    s = np.random.default_rng(0).uniform(0.1, 5.0, y.size)
    balanced = LogisticRegression(class_weight="balanced", tol=1e-10).fit(X, y, sample_weight=s)
    ref = SkLogisticRegression(class_weight="balanced", solver="newton-cholesky", tol=1e-12).fit(X, y, sample_weight=s)
    assert relative_error(balanced, ref) < 1e-8


COURSE_X = np.array([[1.0, 3.0], [2.0, 4.0], [-1.0, -3.2]])
COURSE_Y = np.array([1, 0, 1])


def test_gd_reproduces_the_course_notebook():
    # Published: optimize(w=[1, 2], b=2, num_iterations=100, learning_rate=0.009).
    clf = LogisticRegression(C=np.inf, solver="gd", learning_rate=0.009, max_iter=100, tol=0)
    with pytest.warns(SeparationWarning, match="'x0'"):  # x0 <= 1 is class 1: the data are separable
        clf.fit(COURSE_X, COURSE_Y, coef_init=[1.0, 2.0], intercept_init=2.0)
    np.testing.assert_allclose(clf.coef_[0], [0.19033591, 0.12259159], atol=5e-9)
    np.testing.assert_allclose(clf.intercept_[0], 1.92535983008, atol=5e-12)
    assert clf.n_iter_ == 100 and clf.loss_curve_.shape == (101,)
    # The course's predict(): w = [0.1124579, 0.23106775], b = -0.3.
    clf.coef_, clf.intercept_ = np.array([[0.1124579, 0.23106775]]), np.array([-0.3])
    np.testing.assert_array_equal(clf.predict([[1.0, 1.2], [-1.1, 2.0], [-3.2, 0.1]]), [1, 1, 0])


@pytest.mark.parametrize("k", [0, 1, 7])
@pytest.mark.parametrize("C", [np.inf, 0.3])
def test_fixed_step_gd_makes_exactly_k_lecture_updates(rng, k, C):
    X = rng.standard_normal((30, 3))
    y = (rng.random(30) < 0.5).astype(int)
    alpha = 0.5
    clf = LogisticRegression(C=C, solver="gd", learning_rate=alpha, max_iter=k, tol=0).fit(X, y)
    # By hand: the lecture's loop, k times, starting from zeros.
    w, b, costs = reference.gradient_descent(
        [0.0] * 3, 0.0, X.tolist(), y.tolist(), learning_rate=alpha, num_iterations=k, C=C
    )
    np.testing.assert_allclose(clf.coef_[0], w, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(clf.intercept_[0], b, rtol=1e-12, atol=1e-15)
    assert clf.n_iter_ == k
    np.testing.assert_allclose(clf.loss_curve_[:k], costs, rtol=1e-12)


def test_auto_step_decreases_cost_at_every_update(breast_cancer):
    X, y = breast_cancer  # raw: Lipschitz constant dominated by features ~1e3
    with pytest.warns(ConvergenceWarning):
        clf = LogisticRegression(solver="gd", max_iter=300).fit(X, y)
    assert np.all(np.diff(clf.loss_curve_) < 0)


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["benign", "malignant"]),
        np.array([False, True]),
        np.array([-1, 1]),
        np.array([1, 2]),
    ],
    ids=["str", "bool", "pm1", "12"],
)
def test_labels_round_trip_through_classes(breast_cancer_scaled, labels):
    X, y01 = breast_cancer_scaled
    y = labels[y01]
    clf = LogisticRegression().fit(X, y)
    np.testing.assert_array_equal(clf.classes_, labels)
    pred = clf.predict(X)
    assert pred.dtype == labels.dtype
    assert np.mean(pred == y) > 0.98
    # classes_[1] is the positive class: its probability is sigmoid(z).
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1], 1 / (1 + np.exp(-clf.decision_function(X))))


def test_single_class_is_an_error():
    with pytest.raises(ValueError, match="at least 2 classes"):
        LogisticRegression().fit(np.ones((4, 2)), [1, 1, 1, 1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_is_preserved(breast_cancer_scaled, dtype):
    X, y = breast_cancer_scaled
    clf = LogisticRegression(tol=1e-4).fit(X.astype(dtype), y)
    assert clf.coef_.dtype == dtype and clf.intercept_.dtype == dtype
    assert clf.predict_proba(X.astype(dtype)).dtype == dtype


def test_probabilities_are_stable_for_huge_scores():
    clf = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    X_far = np.array([[-1e300], [1e300]])
    proba, log_proba = clf.predict_proba(X_far), clf.predict_log_proba(X_far)
    np.testing.assert_array_equal(proba, [[1.0, 0.0], [0.0, 1.0]])
    assert log_proba[0, 0] == 0.0 and log_proba[1, 1] == 0.0
    assert np.all(np.isfinite(log_proba))


def test_warm_start_continues_from_previous_solution(breast_cancer_scaled):
    X, y = breast_cancer_scaled
    clf = LogisticRegression(warm_start=True, tol=1e-8).fit(X, y)
    clf.fit(X, y)
    assert clf.n_iter_ == 0


def test_without_intercept(breast_cancer_scaled):
    X, y = breast_cancer_scaled
    ours = LogisticRegression(fit_intercept=False, tol=1e-10).fit(X, y)
    ref = SkLogisticRegression(fit_intercept=False, solver="newton-cholesky", tol=1e-12).fit(X, y)
    assert ours.intercept_[0] == 0.0
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-7)


def test_verbose_prints_cost_like_the_lecture(capsys, breast_cancer_scaled):
    X, y = breast_cancer_scaled
    LogisticRegression(solver="gd", learning_rate=0.1, max_iter=200, tol=0, verbose=100).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"Cost after iteration {i}" for i in (0, 100, 200)]


def test_callback_sees_every_recorded_cost(breast_cancer_scaled):
    X, y = breast_cancer_scaled
    seen = []
    clf = LogisticRegression(solver="gd", learning_rate=0.1, max_iter=20, tol=0)
    clf.fit(X, y, callback=lambda i, J: seen.append((i, J)))
    assert [i for i, _ in seen] == list(range(21))
    np.testing.assert_array_equal([J for _, J in seen], clf.loss_curve_)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(penalty="l3"), "'penalty' parameter of LogisticRegression must be"),
        (dict(C=0.0), r"'C' parameter of LogisticRegression must be a float in the range \(0.0, inf\]"),
        (dict(C="1"), "'C' parameter"),
        (dict(l1_ratio=1.5), "'l1_ratio' parameter of LogisticRegression must be a float in the range"),
        (dict(solver="sag"), "'solver' parameter of LogisticRegression must be a str among"),
        (dict(learning_rate=-0.1), "'learning_rate' parameter of LogisticRegression must be a float"),
        (dict(learning_rate="fast"), "'learning_rate' parameter .* or a str among {'auto'}"),
        (dict(max_iter=-1), "'max_iter' parameter of LogisticRegression must be an int in the range"),
        (dict(tol=-1e-3), "'tol' parameter of LogisticRegression must be a float in the range"),
        (dict(batch_size=0), "'batch_size' parameter"),
        (dict(coef_bounds=(0, 1, 2)), r"coef_bounds must be a pair \(lower, upper\)"),
        (dict(coef_bounds=(1, 0)), "coef_bounds must have lower <= upper"),
        (dict(coef_bounds=("low", None)), "coef_bounds lower must be numbers or None"),
        (dict(coef_bounds=(None, np.zeros(3))), r"coef_bounds upper must be a scalar or have shape \(1,\)"),
    ],
)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_bad_parameters_name_argument_and_fix(params, match, method):
    clf = LogisticRegression(**params)
    fit = clf.fit if method == "fit" else functools.partial(clf.partial_fit, classes=[0, 1])
    with pytest.raises(ValueError, match=match):
        fit([[0.0], [1.0]], [0, 1])


@pytest.mark.parametrize(
    "penalty, C, l1_ratio, expected",
    [
        ("l2", 0.5, 0.0, (0.5, 0.0)),
        ("l1", 0.5, 0.0, (0.5, 1.0)),  # penalty="l1" alone: l1_ratio's default does not contradict it
        ("l1", 0.5, 1.0, (0.5, 1.0)),
        ("elasticnet", 0.5, 0.3, (0.5, 0.3)),
        (None, 1.0, 0.0, (np.inf, 0.0)),
        (None, np.inf, 0.0, (np.inf, 0.0)),
    ],
)
def test_penalty_alias_means_what_scikit_learn_fits(diabetes_binary, penalty, C, l1_ratio, expected):
    X, y = diabetes_binary  # not separable: the unpenalized optimum is finite
    with pytest.warns(FutureWarning, match="'penalty' is deprecated"):
        aliased = LogisticRegression(penalty=penalty, C=C, l1_ratio=l1_ratio, tol=1e-10).fit(X, y)
    C_, l1_ratio_ = expected
    plain = LogisticRegression(C=C_, l1_ratio=l1_ratio_, tol=1e-10).fit(X, y)
    np.testing.assert_array_equal(aliased.coef_, plain.coef_)
    if penalty != "elasticnet":  # scikit-learn 1.9 fits its alias whatever l1_ratio says
        sk_kw = dict(solver="saga", tol=1e-12, max_iter=100_000) if expected[1] else dict(solver="newton-cholesky", tol=1e-12)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", (FutureWarning, UserWarning))
            sk = SkLogisticRegression(penalty=penalty, C=C, l1_ratio=l1_ratio, **sk_kw).fit(X, y)
        assert relative_error(aliased, sk) < 1e-5


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(penalty="l2", l1_ratio=1.0), r"penalty='l2' means l1_ratio=0, which contradicts l1_ratio=1.0"),
        (dict(penalty="l2", l1_ratio=0.5), "contradicts l1_ratio=0.5"),
        (dict(penalty="l1", l1_ratio=0.5), r"penalty='l1' means l1_ratio=1, which contradicts"),
        (dict(penalty=None, C=0.1), r"penalty=None means C=np.inf, which contradicts C=0.1"),
    ],
)
def test_penalty_contradicting_l1_ratio_or_C_is_refused(params, match):
    with pytest.raises(ValueError, match=match), pytest.warns(FutureWarning):
        LogisticRegression(**params).fit([[0.0], [1.0]], [0, 1])
    with pytest.raises(ValueError, match=match):
        resolve_penalty(params.get("penalty"), params.get("C", 1.0), params.get("l1_ratio", 0.0))


def test_default_fit_gives_no_deprecation_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LogisticRegression(C=0.3, l1_ratio=0.5).fit([[0.0], [1.0], [2.0]], [0, 1, 1])


@pytest.mark.parametrize(
    "params, ignored",
    [
        (dict(), {"learning_rate", "batch_size", "random_state"}),
        (dict(solver="gd"), {"batch_size", "random_state"}),
        (dict(solver="sgd"), set()),
        (dict(solver="sgd", C=np.inf), {"l1_ratio", "penalty_factor"}),
        (dict(solver="sgd", penalty=None), {"l1_ratio", "penalty_factor"}),
    ],
)
def test_ignored_params_follow_the_solver_options(params, ignored):
    found = LogisticRegression(**params).ignored_params()
    assert set(found) == ignored
    for name, (other, condition) in found.items():
        # The solvers that take an option are the registry's, as fit passes them.
        if other == "solver":
            takers = {s for s, options in SOLVER_OPTIONS.items() if name in options}
            assert all(repr(s) in condition for s in takers)


def test_bad_initial_coefficients_are_explained():
    with pytest.raises(ValueError, match=r"coef_init must have shape \(2,\) or \(1, 2\)"):
        LogisticRegression().fit(COURSE_X, COURSE_Y, coef_init=[1.0, 2.0, 3.0])


@pytest.mark.parametrize("container", ["dense", "float32", "csr"])
@pytest.mark.parametrize("solver", ["auto", "gd", "nesterov", "lbfgs", "newton", "lbfgs-newton", "precond-lbfgs", "sgd"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_X_is_a_clear_error_from_the_first_pass(solver, container, bad):
    import warnings

    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    X[17, 2] = bad
    X = {"dense": X, "float32": X.astype(np.float32), "csr": sp.csr_matrix(X)}[container]
    y = np.arange(60) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from NumPy before the error
        for labels in (y, np.arange(60) % 3):  # binary, multinomial
            with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
                LogisticRegression(solver=solver, max_iter=5).fit(X, labels)


def test_a_failed_fit_leaves_the_estimator_as_it_was():
    from sklearn.exceptions import NotFittedError

    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 3))
    y = np.array(["a", "b", "c"])[np.arange(90) % 3]
    bad = X.copy()
    bad[5, 1] = np.nan
    fresh = LogisticRegression()
    with pytest.raises(ValueError, match="Input X contains NaN"):
        fresh.fit(bad, y)
    with pytest.raises(NotFittedError):
        fresh.predict(X)
    fitted = LogisticRegression().fit(X, y)
    before = {k: np.copy(v) if isinstance(v, np.ndarray) else v for k, v in vars(fitted).items()}
    with pytest.raises(ValueError, match="Input X contains NaN"):
        fitted.fit(bad, y[:90] != "c")  # two classes this time: nothing of it may stick
    assert vars(fitted).keys() == before.keys()
    for key, value in before.items():
        np.testing.assert_array_equal(getattr(fitted, key), value)
    np.testing.assert_array_equal(fitted.predict(X), LogisticRegression().fit(X, y).predict(X))


# -- the fitted state as plain data ------------------------------------------


def _fitted_models():
    """Fitted estimators of every kind the state must carry, by name."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((90, 3))
    y2 = (X[:, 0] + rng.standard_normal(90) > 0).astype(int)
    y3 = np.array(["a", "b", "c"])[np.arange(90) % 3]
    frame = pd.DataFrame(X, columns=["u", "v", "w"])
    streamed = LogisticRegression(random_state=0, batch_size=16)
    streamed.partial_fit(X[:45], y3[:45], classes=["a", "b", "c"]).partial_fit(X[45:], y3[45:])
    return X, {
        "binary": (LogisticRegression(C=0.5).fit(X, y2), y2),
        "multinomial float32": (LogisticRegression(tol=1e-4).fit(X.astype(np.float32), y3), y3),
        "feature names": (LogisticRegression(l1_ratio=1.0, C=0.2).fit(frame, y2), y2),
        "partial_fit only": (streamed, y3),
        "fit, then partial_fit": (LogisticRegression(random_state=1).fit(X, y2).partial_fit(X, y2), y2),
    }


def _is_plain(value):
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return value is None or isinstance(value, (bool, int, float, str, np.ndarray))


@pytest.mark.parametrize("name", list(_fitted_models()[1]))
def test_fitted_state_round_trips_predictions_and_the_stream(name):
    X, models = _fitted_models()
    model, y = models[name]
    X_in = pd.DataFrame(X, columns=["u", "v", "w"]) if name == "feature names" else X
    X_in = X_in.astype(np.float32) if "float32" in name else X_in
    state = model.get_fitted_state()
    assert _is_plain(state)
    restored = clone(model).set_fitted_state(state)
    for method in ("predict", "predict_proba", "decision_function"):
        assert getattr(restored, method)(X_in).tolist() == getattr(model, method)(X_in).tolist()
    for attribute in ("coef_", "intercept_", "classes_", "n_iter_", "n_features_in_", "loss_curve_",
                      "solver_", "converged_", "feature_names_in_"):
        assert hasattr(restored, attribute) == hasattr(model, attribute), attribute
        if hasattr(model, attribute):
            np.testing.assert_array_equal(getattr(restored, attribute), getattr(model, attribute))
    assert restored.coef_.dtype == model.coef_.dtype
    # partial_fit's schedule and random stream continue exactly.
    for m in (model, restored):
        m.partial_fit(X_in, y)
    assert restored.coef_.tobytes() == model.coef_.tobytes()
    assert restored.intercept_.tobytes() == model.intercept_.tobytes()


def test_fitted_state_is_a_copy_and_feeds_warm_start(breast_cancer_scaled):
    X, y = breast_cancer_scaled
    model = LogisticRegression(tol=1e-8).fit(X, y)
    state = model.get_fitted_state()
    coef = model.coef_.copy()
    state["coef"][...] = 0.0
    np.testing.assert_array_equal(model.coef_, coef)
    restored = LogisticRegression(tol=1e-8, warm_start=True).set_fitted_state(model.get_fitted_state())
    assert restored.fit(X, y).n_iter_ == 0  # starts at the optimum it was given


def test_set_fitted_state_replaces_every_fitted_attribute():
    X, models = _fitted_models()
    fitted, _ = models["binary"]
    streamed, _ = models["partial_fit only"]
    target = clone(fitted).set_fitted_state(fitted.get_fitted_state())
    target.set_fitted_state(streamed.get_fitted_state())
    assert not hasattr(target, "loss_curve_") and target.classes_.tolist() == ["a", "b", "c"]
    assert target.get_fitted_state()["partial_fit"]["calls"] == 2


def _edited_state(edit):
    X, models = _fitted_models()
    model, _ = models["fit, then partial_fit"]
    state = model.get_fitted_state()
    edit(state)
    return clone(model), state


BAD_STATES = {
    "missing key": (lambda s: s.pop("n_iter"), r"state has missing keys \['n_iter'\]"),
    "extra key": (lambda s: s.update(extra=1), r"unexpected keys \['extra'\]"),
    "coef shape": (lambda s: s.update(coef=np.zeros((2, 3))), r"state\['coef'\] must have shape \(1, 3\)"),
    "intercept dtype": (lambda s: s.update(intercept=s["intercept"].astype(np.float32)), "of one dtype"),
    "int coef": (lambda s: s.update(coef=np.zeros((1, 3), dtype=int)), r"state\['coef'\] must be a 2-d ndarray"),
    "one class": (lambda s: s.update(classes=np.array([1, 1])), "at least two distinct labels"),
    "bool n_iter": (lambda s: s.update(n_iter=True), r"state\['n_iter'\] must be an integer"),
    "calls": (lambda s: s["partial_fit"].update(calls=7), r"\['calls'\] must equal state\['n_iter'\]"),
    "alpha0": (lambda s: s["partial_fit"].update(alpha0=-1.0), r"\['alpha0'\] must be a positive finite float"),
    "rng pos": (lambda s: s["partial_fit"]["rng"]["state"].update(pos=10**9), r"\['rng'\] is not a valid MT19937"),
    "neither fit": (lambda s: s.update(fit=None, partial_fit=None), "cannot both be None"),
    "solver": (lambda s: s["fit"].update(solver="magic"), r"\['solver'\] must be one of"),
    "names": (lambda s: s.update(feature_names_in=np.array(["a"])), r"\['feature_names_in'\] must be None or 3"),
}


@pytest.mark.parametrize("edit, match", BAD_STATES.values(), ids=BAD_STATES.keys())
def test_bad_fitted_state_is_refused_naming_the_field(edit, match):
    target, state = _edited_state(edit)
    with pytest.raises(ValueError, match=match):
        target.set_fitted_state(state)
    assert not hasattr(target, "coef_")  # nothing was set


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(C=-1.0), "'C' parameter"),
        (dict(penalty="l2", l1_ratio=1.0), "contradicts l1_ratio"),
        (dict(coef_bounds=(np.zeros(5), None)), "the parameters do not fit state"),
    ],
)
def test_fitted_state_must_fit_the_parameters(params, match):
    target, state = _edited_state(lambda s: None)
    with pytest.raises(ValueError, match=match):
        target.set_params(**params).set_fitted_state(state)


def test_warnings_point_at_the_users_call():
    X, y = COURSE_X, COURSE_Y
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LogisticRegression(penalty="l2", solver="gd", max_iter=1).fit(X, y)
        LogisticRegression(penalty="l2").partial_fit(X, y, classes=[0, 1])
    assert {(w.category, w.filename) for w in caught} == {
        (FutureWarning, __file__), (ConvergenceWarning, __file__)}
    assert len(caught) == 3
