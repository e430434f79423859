"""Property-based tests (Hypothesis): the laws every fit and every evaluation obey.

Example counts come from the profile in ``conftest.py``: modest by default,
many more under ``HYPOTHESIS_PROFILE=deep``. The estimator properties fit
with L-BFGS to a tight tolerance on small problems with a penalty (so the
optimum is finite and unique), and compare optima to a tolerance scaled to
that stopping rule.
"""

import warnings

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import expit, softmax

from logitdescent import LogisticRegression, loss_and_grad, reference
from logitdescent.kernel import softmax_loss_and_grad
from logitdescent.persistence import model_from_bytes, model_to_bytes

FINITE = st.floats(-5, 5, allow_nan=False, allow_infinity=False, width=64)
C_VALUES = st.sampled_from([0.1, 1.0, 10.0, np.inf])


@st.composite
def problems(draw, max_rows=25, max_features=4, n_classes=2, weights=True):
    """``(X, y, w, b, s)``: every class present, weights in [0.1, 3]."""
    m = draw(st.integers(n_classes + 1, max_rows))
    n = draw(st.integers(1, max_features))
    X = draw(arrays(np.float64, (m, n), elements=FINITE))
    y = draw(arrays(np.int64, m, elements=st.integers(0, n_classes - 1)))
    y[:n_classes] = np.arange(n_classes)
    w = draw(arrays(np.float64, n, elements=FINITE))
    b = draw(FINITE)
    s = draw(arrays(np.float64, m, elements=st.floats(0.1, 3.0))) if weights else None
    return X, y, w, b, s


# -- the kernel ----------------------------------------------------------------


@given(problems(), C_VALUES, st.booleans())
def test_vectorized_kernel_equals_the_lecture_loop(problem, C, weighted):
    X, y, w, b, s = problem
    s = s if weighted else None
    J, dw, db = loss_and_grad(w, b, X, y.astype(np.float64), s, C=C)
    J_ref, dw_ref, db_ref = reference.loss_and_grad(w, b, X, y.astype(np.float64), s, C=C)
    np.testing.assert_allclose(J, J_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dw, dw_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(db, db_ref, rtol=1e-9, atol=1e-12)


@given(problems(n_classes=3), C_VALUES)
def test_vectorized_softmax_kernel_equals_the_loop(problem, C):
    X, y, _, _, s = problem
    rng = np.random.default_rng(X.shape[0])
    W, b = rng.standard_normal((3, X.shape[1])), rng.standard_normal(3)
    J, dW, db = softmax_loss_and_grad(W, b, X, y, s, C=C)
    J_ref, dW_ref, db_ref = reference.softmax_loss_and_grad(W, b, X, y, s, C=C)
    np.testing.assert_allclose(J, J_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dW, dW_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(db, db_ref, rtol=1e-9, atol=1e-12)


@given(problems(), C_VALUES)
def test_gradient_equals_central_finite_differences(problem, C):
    X, y, w, b, s = problem
    y = y.astype(np.float64)
    _, dw, db = loss_and_grad(w, b, X, y, s, C=C)
    h = 1e-6
    theta = np.r_[w, b]
    numeric = np.empty_like(theta)
    for k in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[k] += h
        down[k] -= h
        numeric[k] = (loss_and_grad(up[:-1], up[-1], X, y, s, C=C)[0]
                      - loss_and_grad(down[:-1], down[-1], X, y, s, C=C)[0]) / (2 * h)
    # Central differences err by O(h^2 J''') plus rounding O(eps J / h).
    np.testing.assert_allclose(np.r_[dw, db], numeric, rtol=1e-5, atol=1e-6)


# -- the estimator's invariances ---------------------------------------------------

TIGHT = dict(solver="lbfgs", tol=1e-10, max_iter=5000)


def _fit(X, y, s=None, C=1.0, **kwargs):
    return LogisticRegression(C=C, **TIGHT, **kwargs).fit(X, y, sample_weight=s)


def _close(a, b, sign=1.0, atol=1e-7):
    # Both optima meet max|gradient| <= tol on a cost at least 1/(C S)-strongly
    # convex, so each lies within about tol C S of the true one.
    np.testing.assert_allclose(a.coef_, sign * b.coef_, rtol=1e-6, atol=atol)
    np.testing.assert_allclose(a.intercept_, sign * b.intercept_, rtol=1e-6, atol=atol)


@given(problems(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(problem, random):
    X, y, _, _, s = problem
    order = list(range(len(y)))
    random.shuffle(order)
    _close(_fit(X[order], y[order], s[order]), _fit(X, y, s))


@given(problems())
def test_every_row_twice_with_half_weights_is_the_same_fit(problem):
    X, y, _, _, s = problem
    _close(_fit(np.r_[X, X], np.r_[y, y], np.r_[s, s] / 2), _fit(X, y, s))


@given(problems(), st.floats(0.01, 100.0))
def test_scaling_all_weights_is_scaling_C(problem, factor):
    # J = (1/S) sum s_i L_i + ||w||^2 / (2 C S): weights times c is C times c.
    X, y, _, _, s = problem
    atol = max(1e-7, 4 * TIGHT["tol"] * factor * s.sum())
    _close(_fit(X, y, factor * s, C=1.0), _fit(X, y, s, C=factor), atol=atol)


@given(problems())
def test_swapping_the_two_labels_flips_every_sign(problem):
    X, y, _, _, s = problem
    flipped = _fit(X, np.where(y == 1, "a", "b"), s)  # "a" (was 1) is now the negative class
    _close(flipped, _fit(X, y, s), sign=-1.0)


@given(problems(n_classes=3))
def test_relabelling_classes_permutes_the_multinomial_rows(problem):
    X, y, _, _, s = problem
    relabelled = _fit(X, np.array([2, 0, 1])[y], s)  # class k is now label perm[k]
    original = _fit(X, y, s)
    # classes_ is sorted: row j of the relabelled fit is the class whose new label is j.
    order = np.argsort([2, 0, 1])
    np.testing.assert_allclose(relabelled.coef_, original.coef_[order], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(relabelled.intercept_, original.intercept_[order], rtol=1e-6, atol=1e-7)


# -- predictions -----------------------------------------------------------------


@st.composite
def fitted_models(draw):
    n_classes = draw(st.sampled_from([2, 3]))
    X, y, _, _, s = draw(problems(n_classes=n_classes))
    C = draw(st.sampled_from([0.01, 1.0, 100.0]))
    clf = LogisticRegression(C=C, solver=draw(st.sampled_from(["lbfgs", "newton", "auto"])))
    return clf.fit(X, y, sample_weight=s), X


@given(fitted_models())
def test_predict_proba_is_a_distribution_consistent_with_the_scores(model):
    clf, X = model
    X_new = np.r_[X, 100 * X, -100 * X]  # far from the data too: probabilities saturate, stay valid
    proba = clf.predict_proba(X_new)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    Z = clf.decision_function(X_new)
    expected = np.column_stack([expit(-Z), expit(Z)]) if Z.ndim == 1 else softmax(Z, axis=1)
    np.testing.assert_allclose(proba, expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_array_equal(clf.predict(X_new), clf.classes_[proba.argmax(axis=1)])
    assert np.all(np.isfinite(clf.predict_log_proba(X_new)))


@given(problems(), st.integers(0, 2**32 - 1), st.sampled_from([1, 7, 256]))
def test_a_fixed_random_state_gives_the_same_fit(problem, seed, batch_size):
    X, y, _, _, s = problem

    def fit():
        # Whatever a run warns (SGD's noise may trip its divergence test), the
        # same seed must warn the same.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            clf = LogisticRegression(solver="sgd", random_state=seed, batch_size=batch_size,
                                     max_iter=5, tol=0).fit(X, y, sample_weight=s)
        return clf, [str(w.message) for w in caught]

    (a, warned_a), (b, warned_b) = fit(), fit()
    assert warned_a == warned_b
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)


@given(problems(), st.integers(0, 2**32 - 1))
def test_a_fixed_random_state_gives_the_same_partial_fit_stream(problem, seed):
    X, y, _, _, s = problem
    def stream():
        clf = LogisticRegression(random_state=seed, batch_size=4)
        for _ in range(3):
            clf.partial_fit(X, y, classes=[0, 1], sample_weight=s)
        return clf
    np.testing.assert_array_equal(stream().coef_, stream().coef_)


@given(fitted_models())
def test_save_then_load_predicts_identically(model):
    clf, X = model
    loaded = model_from_bytes(model_to_bytes(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    np.testing.assert_array_equal(loaded.coef_, clf.coef_)
    assert loaded.coef_.dtype == clf.coef_.dtype
