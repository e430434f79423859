"""The library half of the bad-input catalogue (issue 19).

Every case states its exact outcome:

- ``ERRORS``: bad input refused with this exception type and a message that
  names the problem (the argument and, where there is one, the fix);
- ``WARNED``: accepted with a warning that names the cause and the fix, and a
  model with nothing non-finite in it (diverging steps, separation,
  degenerate scale);
- ``EQUIVALENT``: accepted input equal to the fit on its cleaned equivalent
  (lists and arrays, int and float, pandas and NumPy, zero weights and
  dropped rows...).

The CLI half is ``tests/reliability/test_cli_bad_inputs.py``; the faults
(kills, corrupt files) are ``test_faults.py``. docs/reliability.md counts them.
"""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from logitdescent import LogisticRegression
from logitdescent.persistence import model_from_bytes, model_to_bytes
from logitdescent.separation import DegenerateScaleWarning, SeparationWarning

RNG = np.random.default_rng(19)
X = RNG.standard_normal((40, 3))
Y = (X[:, 0] + 0.7 * RNG.standard_normal(40) > 0).astype(int)
Y3 = np.arange(40) % 3
W = RNG.uniform(0.5, 2.0, 40)


def _with(column, factor, dtype=np.float64):
    """X with one column multiplied by ``factor``."""
    out = X.astype(dtype)
    out[:, column] = (X[:, column] * factor).astype(dtype)
    return out


def _nan_at(value, dtype=np.float64):
    out = X.astype(dtype)
    out[5, 1] = value
    return out


def _fit(X_=X, y=Y, **kwargs):
    fit_kwargs = {k: kwargs.pop(k) for k in ("sample_weight", "coef_init", "intercept_init") if k in kwargs}
    return lambda: LogisticRegression(**kwargs).fit(X_, y, **fit_kwargs)


def _fitted(**kwargs):
    return LogisticRegression(**kwargs).fit(X, Y)


def _with_state(coef, intercept=(0.0,)):
    """A fitted model with the given coefficients (through the public state)."""
    state = _fitted().get_fitted_state()
    state["coef"] = np.array([coef], dtype=np.float64)
    state["intercept"] = np.array(intercept, dtype=np.float64)
    state["n_features_in"] = len(coef)
    return LogisticRegression().set_fitted_state(state)


def _param(name, value):
    """A bad parameter value: scikit-learn's InvalidParameterError naming it."""
    return pytest.param(_fit(**{name: value}), InvalidParameterError, rf"'{name}' parameter", id=f"{name}={value!r}")


NAN_IN_X = r"Input X contains NaN"
TOO_LARGE = r"X has values too large to fit in float\d+: column {}.* up to {}"

ERRORS = [
    # -- X ------------------------------------------------------------------
    pytest.param(_fit(None), TypeError, r"X is None; expected .*\(n_samples, n_features\)", id="X-None"),
    pytest.param(_fit(X[:, 0]), ValueError, r"Expected 2D array, got 1D array.*reshape", id="X-1d"),
    pytest.param(_fit(X[:, :, None]), ValueError, r"Found array with dim 3", id="X-3d"),
    pytest.param(_fit(3.0), ValueError, r"Expected 2D array, got scalar", id="X-scalar"),
    pytest.param(_fit(X[:0], Y[:0]), ValueError, r"0 sample\(s\)", id="X-no-rows"),
    pytest.param(_fit(X[:, :0]), ValueError, r"0 feature\(s\)", id="X-no-columns"),
    pytest.param(_fit(np.array([["a", "b", "c"]] * 40)), ValueError, r"could not convert string to float: .*'a'",
                 id="X-strings"),
    pytest.param(_fit(np.array([[1.0, None, 2.0]] * 40, dtype=object)), ValueError, NAN_IN_X, id="X-object-None"),
    pytest.param(_fit(X + 1j), ValueError, r"Complex data not supported", id="X-complex"),
    pytest.param(_fit(X[:30]), ValueError, r"inconsistent numbers of samples: \[30, 40\]", id="X-rows-vs-y"),
    pytest.param(_fit(_nan_at(np.nan)), ValueError, NAN_IN_X, id="X-nan"),
    pytest.param(_fit(_nan_at(np.nan, np.float32)), ValueError, NAN_IN_X, id="X-nan-float32"),
    pytest.param(_fit(_nan_at(np.inf)), ValueError, r"Input X contains infinity", id="X-inf"),
    pytest.param(_fit(_nan_at(-np.inf)), ValueError, r"Input X contains infinity", id="X-minus-inf"),
    pytest.param(_fit(sp.csr_matrix(_nan_at(np.nan))), ValueError, NAN_IN_X, id="X-nan-sparse"),
    pytest.param(_fit(_nan_at(np.nan), solver="gd"), ValueError, NAN_IN_X, id="X-nan-gd"),
    pytest.param(_fit(_nan_at(np.nan), y=Y3), ValueError, NAN_IN_X, id="X-nan-multinomial"),
    # Huge finite columns: named with their magnitude, never a NaN or an all-zero model.
    pytest.param(_fit(_with(1, 1e307)), ValueError, TOO_LARGE.format(1, r"\d\.\d+e\+307"), id="X-1e307"),
    pytest.param(_fit(_with(2, 1e160)), ValueError, TOO_LARGE.format(2, r"\d\.\d+e\+160"), id="X-1e160"),
    *[
        pytest.param(_fit(_with(2, 1e160), solver=solver), ValueError, TOO_LARGE.format(2, r".*e\+160"),
                     id=f"X-1e160-{solver}")
        for solver in ("gd", "nesterov", "lbfgs", "newton", "lbfgs-newton", "precond-lbfgs", "newton-cd", "sgd")
    ],
    pytest.param(_fit(_with(2, 1e160), C=np.inf), ValueError, TOO_LARGE.format(2, r".*e\+160"),
                 id="X-1e160-unpenalized"),
    pytest.param(_fit(_with(2, 1e200), y=Y3), ValueError, TOO_LARGE.format(2, r".*e\+200"), id="X-1e200-multinomial"),
    pytest.param(_fit(sp.csr_matrix(_with(2, 1e300))), ValueError, TOO_LARGE.format(2, r".*e\+300"),
                 id="X-1e300-sparse"),
    pytest.param(_fit(_with(2, 1e25, np.float32)), ValueError, r"too large to fit in float32: column 2 .*e\+25",
                 id="X-1e25-float32"),
    pytest.param(_fit(pd.DataFrame(_with(1, 1e307), columns=["a", "big", "c"])), ValueError,
                 r"column 1 \('big'\) up to .*e\+307", id="X-1e307-named-column"),
    pytest.param(_fit(_with(0, 1e307) * np.array([1, 1e307, 1])), ValueError,
                 r"column 0 up to .*e\+307, column 1 up to", id="X-two-huge-columns"),
    # -- y ------------------------------------------------------------------
    pytest.param(_fit(y=None), ValueError, r"requires y to be passed, but the target y is None", id="y-None"),
    pytest.param(_fit(y=np.c_[Y, Y]), ValueError, r"y should be a 1d array, got an array of shape \(40, 2\)",
                 id="y-2d"),
    pytest.param(_fit(y=np.zeros(40)), ValueError, r"at least 2 classes .* only one class: 0\.0", id="y-one-class"),
    pytest.param(_fit(y=["a", 1] * 20), ValueError, r"y mixes strings and non-strings \(e\.g\. 'a' and 1 of type int\)",
                 id="y-mixed-list"),
    pytest.param(_fit(y=np.array(["a", 1] * 20, dtype=object)), ValueError, r"y mixes strings and non-strings",
                 id="y-mixed-object-array"),
    pytest.param(_fit(y=pd.Series(["a", 2.5] * 20)), ValueError, r"y mixes strings .* 2\.5 of type float",
                 id="y-mixed-series"),
    pytest.param(_fit(y=[None] + ["a", "b"] * 19 + ["a"]), ValueError, r"y holds None \(a missing label\) at index 0",
                 id="y-None-label"),
    pytest.param(_fit(y=np.r_[np.nan, Y[1:]]), ValueError, r"Input y contains NaN", id="y-nan"),
    pytest.param(_fit(y=np.r_[np.inf, Y[1:]]), ValueError, r"Input y contains infinity", id="y-inf"),
    pytest.param(_fit(y=X[:, 0]), ValueError, r"Unknown label type: continuous", id="y-continuous"),
    pytest.param(_fit(y=Y[:30]), ValueError, r"inconsistent numbers of samples", id="y-short"),
    # -- sample_weight ------------------------------------------------------
    pytest.param(_fit(sample_weight=np.r_[-1.0, np.ones(39)]), ValueError,
                 r"sample_weight must be non-negative; got 1 negative weight\(s\), the first -1 at index 0",
                 id="weight-one-negative"),
    pytest.param(_fit(sample_weight=-np.ones(40)), ValueError, r"sample_weight must be non-negative; got 40",
                 id="weight-all-negative"),
    pytest.param(_fit(sample_weight=np.r_[np.ones(39), -1e-300]), ValueError, r"non-negative.* at index 39",
                 id="weight-tiny-negative"),
    pytest.param(_fit(sample_weight=np.zeros(40)), ValueError, r"[Ss]ample weights must contain at least one non-zero",
                 id="weight-all-zero"),
    pytest.param(_fit(sample_weight=np.ones(3)), ValueError, r"sample_weight\.shape == \(3,\), expected \(40,\)",
                 id="weight-wrong-length"),
    pytest.param(_fit(sample_weight=np.ones((40, 2))), ValueError, r"Sample weights must be 1D", id="weight-2d"),
    pytest.param(_fit(sample_weight=np.r_[np.nan, np.ones(39)]), ValueError, r"Input sample_weight contains NaN",
                 id="weight-nan"),
    pytest.param(_fit(sample_weight=np.r_[np.inf, np.ones(39)]), ValueError, r"Input sample_weight contains infinity",
                 id="weight-inf"),
    pytest.param(_fit(sample_weight=np.full(40, 1e308)), ValueError, r"sample_weight sums to infinity; divide",
                 id="weight-sum-overflows"),
    pytest.param(_fit(sample_weight=["a"] * 40), ValueError, r"could not convert string to float", id="weight-strings"),
    pytest.param(_fit(class_weight={0: 0, 1: 0}), ValueError, r"all weights are zero", id="class-weight-all-zero"),
    pytest.param(_fit(class_weight={0: -1, 1: 1}), ValueError,
                 r"class_weight must be finite and non-negative; got -1 for class 0", id="class-weight-negative"),
    pytest.param(_fit(class_weight={0: np.nan, 1: 1}), ValueError, r"class_weight must be finite.* nan for class 0",
                 id="class-weight-nan"),
    pytest.param(_fit(class_weight={5: 1}), ValueError, r"classes, \[0, 1\], are not in class_weight",
                 id="class-weight-unknown-label"),
    # -- parameters (one table: scikit-learn's InvalidParameterError names each) --
    *[_param(name, value) for name, value in [
        ("C", 0), ("C", -1.0), ("C", "1"), ("C", np.nan), ("C", None),
        ("l1_ratio", -0.1), ("l1_ratio", 1.5), ("l1_ratio", np.nan),
        ("fit_intercept", "yes"), ("solver", "adam"), ("solver", None),
        ("learning_rate", 0), ("learning_rate", -1e-3), ("learning_rate", np.inf), ("learning_rate", np.nan),
        ("learning_rate", "fast"),
        ("max_iter", -1), ("max_iter", 1.5), ("max_iter", "10"),
        ("tol", -1e-6), ("tol", np.inf), ("tol", np.nan),
        ("class_weight", "auto"), ("class_weight", [1, 2]),
        ("coef_bounds", "x"), ("warm_start", "no"), ("verbose", -1), ("random_state", "seed"),
        ("batch_size", 0), ("batch_size", 1.5), ("penalty", "l3"),
    ]],
    pytest.param(_fit(coef_bounds=(1,)), ValueError, r"coef_bounds must be a pair \(lower, upper\)", id="bounds-one"),
    pytest.param(_fit(coef_bounds=("a", None)), ValueError, r"coef_bounds lower must be numbers", id="bounds-strings"),
    pytest.param(_fit(coef_bounds=(1, 0)), ValueError, r"lower <= upper", id="bounds-crossed"),
    pytest.param(_fit(coef_bounds=(np.zeros(5), None)), ValueError, r"shape \(3,\) or \(1, 3\); got shape \(5,\)",
                 id="bounds-shape"),
    pytest.param(_fit(penalty="l2", l1_ratio=1.0), ValueError, r"penalty='l2' means l1_ratio=0, which contradicts",
                 id="penalty-contradicts-l1_ratio",
                 marks=pytest.mark.filterwarnings("ignore:'penalty' is deprecated:FutureWarning")),
    pytest.param(_fit(penalty=None, C=2.0), ValueError, r"penalty=None means C=np.inf, which contradicts C=2.0",
                 id="penalty-None-contradicts-C",
                 marks=pytest.mark.filterwarnings("ignore:'penalty' is deprecated:FutureWarning")),
    # -- starting points ----------------------------------------------------
    pytest.param(_fit(coef_init=np.ones(2)), ValueError, r"coef_init must have shape \(3,\) or \(1, 3\).*got \(2,\)",
                 id="coef_init-shape"),
    pytest.param(_fit(y=Y3, coef_init=np.ones(3)), ValueError, r"coef_init must have shape \(3, 3\)",
                 id="coef_init-shape-multinomial"),
    pytest.param(_fit(intercept_init=[1, 2]), ValueError, r"intercept_init must have 1 value\(s\); got shape \(2,\)",
                 id="intercept_init-shape"),
    pytest.param(_fit(coef_init=[np.nan, 0, 0]), ValueError, r"cost at the starting coefficients is nan.*coef_init",
                 id="coef_init-nan"),
    pytest.param(_fit(X * 1e10, coef_init=np.full(3, 1e300)), ValueError,
                 r"cost at the starting coefficients is (nan|inf)", id="coef_init-overflowing"),
    pytest.param(_fit(coef_init=["a", "b", "c"]), ValueError, r"could not convert string to float",
                 id="coef_init-strings"),
    # -- prediction ---------------------------------------------------------
    pytest.param(lambda: LogisticRegression().predict(X), NotFittedError, r"not fitted yet.*Call 'fit'",
                 id="predict-before-fit"),
    pytest.param(lambda: LogisticRegression().predict_proba(X), NotFittedError, r"not fitted yet",
                 id="predict_proba-before-fit"),
    pytest.param(lambda: LogisticRegression().get_fitted_state(), NotFittedError, r"not fitted yet",
                 id="state-before-fit"),
    pytest.param(lambda: _fitted().predict(X[:, :2]), ValueError, r"X has 2 features, but LogisticRegression is "
                 r"expecting 3", id="predict-feature-count"),
    pytest.param(lambda: _fitted().predict(None), TypeError, r"X is None", id="predict-None"),
    pytest.param(lambda: _fitted().decision_function(_nan_at(np.nan)), ValueError, NAN_IN_X, id="predict-nan"),
    pytest.param(lambda: LogisticRegression().fit(pd.DataFrame(X, columns=list("abc")), Y).predict(
        pd.DataFrame(X, columns=list("bac"))), ValueError, r"feature names should match", id="predict-column-order"),
    # 2e308 - 2e308 is 0, but overflows to inf, -inf or NaN by the order of the sum.
    pytest.param(lambda: _with_state([2.0, 2.0]).predict_proba(np.array([[1e308, -1e308]])), ValueError,
                 r"scores of X's row\(s\) \[0\] overflow float64", id="predict-overflow-cancelling"),
    pytest.param(lambda: _with_state([2.0, 2.0]).predict(sp.csr_matrix([[1e308, -1e308]])), ValueError,
                 r"scores of X's row\(s\) \[0\] overflow", id="predict-overflow-sparse"),
    pytest.param(lambda: _with_state([2.0, 2.0]).predict(np.array([[0.0, 0.0], [1e308, 1e308]])), ValueError,
                 r"scores of X's row\(s\) \[1\] overflow", id="predict-overflow-second-row"),
    # -- partial_fit --------------------------------------------------------
    pytest.param(lambda: LogisticRegression().partial_fit(X, Y), ValueError, r"classes must be given on the first call",
                 id="partial_fit-no-classes"),
    pytest.param(lambda: LogisticRegression().partial_fit(X, Y, classes=[0]), ValueError,
                 r"classes must hold at least 2 labels", id="partial_fit-one-class"),
    pytest.param(lambda: LogisticRegression().partial_fit(X, Y, classes=[0, 1]).partial_fit(X, Y, classes=[0, 2]),
                 ValueError, r"differs from the classes of the first call", id="partial_fit-classes-change"),
    pytest.param(lambda: LogisticRegression().partial_fit(X, Y, classes=[0, 2]), ValueError,
                 r"y contains labels not in classes", id="partial_fit-unknown-label"),
    pytest.param(lambda: LogisticRegression().partial_fit(X, Y, classes=[0, 1], sample_weight=-np.ones(40)),
                 ValueError, r"sample_weight must be non-negative", id="partial_fit-negative-weight"),
    pytest.param(lambda: LogisticRegression().partial_fit(None, Y, classes=[0, 1]), TypeError, r"X is None",
                 id="partial_fit-X-None"),
    pytest.param(lambda: LogisticRegression().partial_fit(X, ["a", 1] * 20, classes=["a", 1]), ValueError,
                 r"classes mixes strings and non-strings \(e\.g\. 'a' and 1", id="partial_fit-mixed-classes"),
    pytest.param(lambda: LogisticRegression().partial_fit(X, ["a", 1] * 20, classes=np.array(["a", 1], object)),
                 ValueError, r"classes mixes strings and non-strings", id="partial_fit-mixed-object-classes"),
]


@pytest.mark.parametrize(("call", "error", "match"), ERRORS)
def test_bad_input_is_refused_with_a_clear_message(call, error, match):
    with pytest.raises(error, match="(?s)" + match):  # messages may span lines
        call()


@pytest.mark.parametrize("bad", [_nan_at(np.nan), _with(1, 1e307), None])
def test_a_refused_fit_leaves_the_fitted_model_as_it_was(bad):
    clf = _fitted()
    before = clf.get_fitted_state()
    with pytest.raises((ValueError, TypeError)):
        clf.fit(bad, Y)
    after = clf.get_fitted_state()
    np.testing.assert_array_equal(after["coef"], before["coef"])
    np.testing.assert_array_equal(after["intercept"], before["intercept"])


# -- accepted with a warning that names the cause ----------------------------


def _assert_finite_and_saveable(clf):
    assert np.all(np.isfinite(clf.coef_)) and np.all(np.isfinite(clf.intercept_))
    assert np.all(np.isfinite(clf.loss_curve_))
    loaded = model_from_bytes(model_to_bytes(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


DIVERGING = [
    pytest.param(dict(solver="gd", learning_rate=1e4), id="gd-1e4"),
    pytest.param(dict(solver="gd", learning_rate=1e300), id="gd-1e300"),
    pytest.param(dict(solver="gd", learning_rate=1e4, tol=0.0), id="gd-1e4-tol0"),
    pytest.param(dict(solver="gd", learning_rate=1e4, C=np.inf, max_iter=50), id="gd-1e4-unpenalized"),
    pytest.param(dict(solver="gd", learning_rate=1e4, l1_ratio=1.0), id="gd-1e4-l1"),
    pytest.param(dict(solver="sgd", learning_rate=1e300, random_state=0), id="sgd-1e300"),
    pytest.param(dict(solver="sgd", learning_rate=1e4, random_state=0), id="sgd-1e4"),
]


@pytest.mark.parametrize("params", DIVERGING)
def test_diverging_fixed_step_warns_and_keeps_a_finite_model(params):
    data_y = Y3 if params.get("l1_ratio") else Y
    with pytest.warns(ConvergenceWarning, match=r"diverged: the cost .* use learning_rate='auto'"):
        clf = LogisticRegression(**params).fit(X, data_y)
    assert not clf.converged_
    _assert_finite_and_saveable(clf)
    # The cost never went above its start: the stored iterate is the last good one.
    assert clf.loss_curve_.max() <= clf.loss_curve_[0] * (1 + 1e-12)


def test_diverging_partial_fit_warns_and_keeps_the_previous_coefficients():
    clf = LogisticRegression(learning_rate=0.01, random_state=0).partial_fit(X, Y, classes=[0, 1])
    before = clf.coef_.copy()
    clf.set_params(learning_rate=1e300)
    # The step schedule was fixed by the first call: a fresh estimator diverges.
    fresh = LogisticRegression(learning_rate=1e300, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"partial_fit diverged.*learning_rate='auto'"):
        fresh.partial_fit(X, Y, classes=[0, 1])
    np.testing.assert_array_equal(fresh.coef_, 0.0)
    assert np.all(np.isfinite(clf.coef_)) and np.array_equal(clf.coef_, before)


@pytest.mark.parametrize("solver", ["auto", "lbfgs", "gd", "newton"])
def test_separated_classes_warn_and_do_not_claim_convergence(solver):
    y = (X[:, 0] > 0).astype(int)
    with pytest.warns(SeparationWarning, match=r"Complete separation: feature\(s\) 'x0'.*Use a penalty"):
        clf = LogisticRegression(C=np.inf, solver=solver).fit(X, y)
    assert clf.converged_ is False and clf.separation_
    _assert_finite_and_saveable(clf)


@pytest.mark.parametrize("solver", ["auto", "lbfgs", "gd", "nesterov"])
def test_tiny_scale_warns_naming_the_features(solver):
    with pytest.warns(DegenerateScaleWarning, match=r"every feature of X has all \|values\| <= 1e-06.*Rescale X"):
        LogisticRegression(C=np.inf, solver=solver).fit(X * 1e-300, Y)


def test_one_tiny_feature_is_named():
    with pytest.warns(DegenerateScaleWarning, match=r"feature\(s\) 'x2' has all \|values\|"):
        LogisticRegression(C=np.inf).fit(_with(2, 1e-12), Y)


def test_column_vector_y_warns_and_fits_as_1d():
    with pytest.warns(DataConversionWarning, match=r"column-vector y"):
        clf = LogisticRegression().fit(X, Y[:, None])
    np.testing.assert_array_equal(clf.coef_, _fitted().coef_)


# -- accepted: equal to the fit on the cleaned equivalent -----------------------

TIGHT = dict(solver="lbfgs", tol=1e-10, max_iter=10_000)


def _same(a, b, exact):
    if exact:
        np.testing.assert_array_equal(a.coef_, b.coef_)
        np.testing.assert_array_equal(a.intercept_, b.intercept_)
    else:
        np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-6, atol=1e-8)


def _pair(raw, clean, exact=True, params=None, id=None):
    """``raw()`` and ``clean()`` give ``(X, y, sample_weight)`` that must fit the same model."""
    return pytest.param(raw, clean, exact, params or {}, id=id)


KEEP = np.ones(40, bool)
KEEP[[3, 7, 11]] = False

EQUIVALENT = [
    _pair(lambda: (X.tolist(), Y.tolist(), None), lambda: (X, Y, None), id="lists"),
    _pair(lambda: (tuple(map(tuple, X)), tuple(Y), None), lambda: (X, Y, None), id="tuples"),
    _pair(lambda: (np.round(X * 10).astype(int), Y, None), lambda: (np.round(X * 10), Y, None), id="int-X"),
    _pair(lambda: (np.round(X * 10).astype(np.int8), Y, None), lambda: (np.round(X * 10), Y, None), id="int8-X"),
    _pair(lambda: (X > 0, Y, None), lambda: ((X > 0).astype(float), Y, None), id="bool-X"),
    _pair(lambda: (pd.DataFrame(X, columns=list("abc")), pd.Series(Y), None), lambda: (X, Y, None), id="pandas"),
    _pair(lambda: (pd.DataFrame(X).astype("Float64"), Y, None), lambda: (X, Y, None), id="pandas-nullable-float"),
    _pair(lambda: (np.asfortranarray(X), Y, None), lambda: (X, Y, None), id="fortran-order"),
    _pair(lambda: (np.repeat(X, 2, axis=1)[:, ::2], Y, None), lambda: (X, Y, None), id="strided-view"),
    _pair(lambda: (sp.csr_matrix(X), Y, None), lambda: (X, Y, None), exact=False, id="sparse-csr"),
    _pair(lambda: (sp.csc_matrix(X), Y, None), lambda: (X, Y, None), exact=False, id="sparse-csc"),
    _pair(lambda: (X, Y.astype(float), None), lambda: (X, Y, None), id="float-labels"),
    _pair(lambda: (X, Y.astype(bool), None), lambda: (X, Y, None), id="bool-labels"),
    _pair(lambda: (X, np.where(Y == 1, 1, -1), None), lambda: (X, Y, None), id="labels-minus-one-one"),
    _pair(lambda: (X, np.where(Y == 1, "yes", "no"), None), lambda: (X, Y, None), id="string-labels"),
    _pair(lambda: (X, np.where(Y == 1, "yes", "no").astype(object), None), lambda: (X, Y, None),
          id="object-string-labels"),
    _pair(lambda: (X, pd.Categorical(np.where(Y == 1, "b", "a")), None), lambda: (X, Y, None),
          id="categorical-labels"),
    _pair(lambda: (X, Y, np.ones(40)), lambda: (X, Y, None), id="unit-weights"),
    _pair(lambda: (X, Y, W.tolist()), lambda: (X, Y, W), id="weights-list"),
    _pair(lambda: (X, Y, np.where(KEEP, W, 0.0)), lambda: (X[KEEP], Y[KEEP], W[KEEP]), exact=False,
          params=TIGHT, id="zero-weight-rows-vs-dropped"),
    _pair(lambda: (X, Y, 2.0 * np.ones(40)), lambda: (np.r_[X, X], np.r_[Y, Y], None), exact=False, params=TIGHT,
          id="weight-two-vs-duplicated-rows"),
    # The penalty is divided by the total weight (scikit-learn's C convention), so
    # scaling every weight leaves the fit unchanged only without a penalty.
    _pair(lambda: (X, Y, 1e6 * W), lambda: (X, Y, W), exact=False, params={**TIGHT, "C": np.inf}, id="weights-scaled"),
    _pair(lambda: (X, Y, None), lambda: (X, Y, None), params=dict(learning_rate=0.5),
          id="ignored-learning-rate"),
    _pair(lambda: (np.c_[X, np.zeros(40)], Y, None), lambda: (X, Y, None), params=TIGHT, exact=False,
          id="all-zero-column"),
]


@pytest.mark.parametrize(("raw", "clean", "exact", "params"), EQUIVALENT)
def test_accepted_input_fits_like_its_cleaned_equivalent(raw, clean, exact, params):
    Xr, yr, sr = raw()
    Xc, yc, sc = clean()
    a = LogisticRegression(**params).fit(Xr, yr, sample_weight=sr)
    b = LogisticRegression(**params).fit(Xc, yc, sample_weight=sc)
    X_eval = X
    if a.coef_.shape != b.coef_.shape:  # the extra all-zero column: its coefficient is 0
        np.testing.assert_allclose(a.coef_[:, -1], 0.0, atol=1e-12)
        a = LogisticRegression().set_fitted_state(
            {**a.get_fitted_state(), "coef": a.coef_[:, :-1], "n_features_in": 3, "feature_names_in": None})
    _same(a, b, exact)
    # The labels come back as the user gave them, in the same places.
    np.testing.assert_array_equal(np.unique(np.asarray(yr)), a.classes_)
    if hasattr(a, "feature_names_in_"):
        X_eval = pd.DataFrame(X_eval, columns=a.feature_names_in_)
    np.testing.assert_array_equal(a.predict(X_eval) == a.classes_[1], b.predict(X) == b.classes_[1])


def test_int_X_predicts_like_float_X():
    Xi = np.round(X * 10).astype(int)
    clf = LogisticRegression().fit(Xi, Y)
    np.testing.assert_array_equal(clf.predict_proba(Xi), clf.predict_proba(Xi.astype(float)))


def test_zero_weight_rows_do_not_move_the_model_whatever_their_values():
    base = LogisticRegression(**TIGHT).fit(X, Y, sample_weight=np.where(KEEP, W, 0.0))
    flipped = Y.copy()
    flipped[~KEEP] = 1 - flipped[~KEEP]
    moved = LogisticRegression(**TIGHT).fit(X, flipped, sample_weight=np.where(KEEP, W, 0.0))
    _same(base, moved, exact=False)
