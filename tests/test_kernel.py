"""The vectorized kernel against independent oracles: the lecture's loop,
finite differences, scikit-learn's loss module and exact limits."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn._loss.loss import HalfBinomialLoss
from sklearn.linear_model._linear_loss import LinearModelLoss

from logitdescent import loss_and_grad, reference
from logitdescent.kernel import log_loss_per_example, sigmoid

from .conftest import DTYPES, random_problem


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("C", [np.inf, 0.5])
@pytest.mark.parametrize("scale", [0.3, 3.0])
def test_vectorized_equals_lecture_loop(rng, weighted, C, scale):
    X, y, w, b, s = random_problem(rng, scale=scale)
    s = s if weighted else None
    J, dw, db = loss_and_grad(w, b, X, y, s, C=C)
    J_ref, dw_ref, db_ref = reference.loss_and_grad(w.tolist(), b, X.tolist(), y.tolist(),
                                                    None if s is None else s.tolist(), C=C)
    # Both sum the same O(40) terms in different orders: a few ulps apart.
    np.testing.assert_allclose(J, J_ref, rtol=1e-12)
    np.testing.assert_allclose(dw, dw_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(db, db_ref, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("C", [np.inf, 0.1])
def test_gradient_matches_central_differences(rng, weighted, C):
    X, y, w, b, s = random_problem(rng, m=60, n=4)
    s = s if weighted else None
    theta = np.append(w, b)

    def cost(t):
        return loss_and_grad(t[:-1], t[-1], X, y, s, C=C)[0]

    h = 1e-5  # central differences: truncation O(h^2) = 1e-10, rounding O(eps/h) = 1e-11
    numeric = np.array([(cost(theta + h * e) - cost(theta - h * e)) / (2 * h) for e in np.eye(theta.size)])
    _, dw, db = loss_and_grad(w, b, X, y, s, C=C)
    analytic = np.append(dw, db)
    rel_err = np.linalg.norm(analytic - numeric) / np.linalg.norm(analytic)
    assert rel_err < 1e-7


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("C", [np.inf, 2.0])
def test_matches_scikit_learn_loss_module(rng, weighted, C):
    X, y, w, b, s = random_problem(rng, m=80, n=6)
    s = s if weighted else None
    S = X.shape[0] if s is None else s.sum()
    sk_loss = LinearModelLoss(base_loss=HalfBinomialLoss(), fit_intercept=True)
    J_sk, g_sk = sk_loss.loss_gradient(
        np.append(w, b), X, y, sample_weight=None if s is None else s / S * X.shape[0],
        l2_reg_strength=0.0 if np.isinf(C) else 1.0 / (C * S),
    )
    J, dw, db = loss_and_grad(w, b, X, y, s, C=C)
    np.testing.assert_allclose(J, J_sk, rtol=1e-12)
    np.testing.assert_allclose(np.append(dw, db), g_sk, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("z", [1e3, 1e20, -1e3, -1e20, 745.2, -745.2])
@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_scores_give_exact_limits(z, dtype):
    # One example, one feature x = 1, so the score is exactly w.
    z = np.array(z, dtype=dtype)
    X = np.ones((2, 1), dtype=dtype)
    y = np.array([1.0, 0.0], dtype=dtype)
    L = log_loss_per_example(np.array([z, z]), y)
    assert np.all(np.isfinite(L))
    if z > 0:  # a = 1: no loss when y = 1, a loss of z when y = 0
        assert L[0] <= np.finfo(dtype).tiny and L[1] == z
    else:
        assert L[0] == -z and L[1] <= np.finfo(dtype).tiny
    J, dw, db = loss_and_grad(np.array([z]), 0.0, X, y)
    assert np.isfinite(J) and np.all(np.isfinite(dw)) and np.isfinite(db)
    np.testing.assert_allclose(J, abs(float(z)) / 2, rtol=1e-6)
    # dz = a - y = (1 - 1, 1 - 0) or (0 - 1, 0 - 0): the mean of dz * x is +-1/2.
    assert db == (0.5 if z > 0 else -0.5) and dw[0] == db
    assert sigmoid(z) in (0.0, 1.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_is_preserved(rng, dtype):
    X, y, w, b, _ = random_problem(rng, dtype=dtype)
    J, dw, db = loss_and_grad(w, b, X, y)
    assert dw.dtype == dtype and isinstance(J, float) and isinstance(db, float)


def test_float32_agrees_with_float64(rng):
    X, y, w, b, s = random_problem(rng, m=500, n=8)
    J64, dw64, db64 = loss_and_grad(w, b, X, y, s, C=1.0)
    J32, dw32, db32 = loss_and_grad(w.astype(np.float32), b, X.astype(np.float32),
                                    y.astype(np.float32), s.astype(np.float32), C=1.0)
    # float32 rounding of the inputs alone moves the result by ~1e-7 relative.
    np.testing.assert_allclose(J32, J64, rtol=1e-5)
    np.testing.assert_allclose(dw32, dw64, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_equals_dense(rng, fmt):
    X, y, w, b, s = random_problem(rng, m=50, n=7)
    X[rng.random(X.shape) < 0.6] = 0.0
    dense = loss_and_grad(w, b, X, y, s, C=3.0)
    sparse = loss_and_grad(w, b, sp.csr_matrix(X).asformat(fmt), y, s, C=3.0)
    np.testing.assert_allclose(sparse[0], dense[0], rtol=1e-13)
    np.testing.assert_allclose(sparse[1], dense[1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sparse[2], dense[2], rtol=1e-12, atol=1e-15)


def test_inputs_are_not_modified(rng):
    X, y, w, b, s = random_problem(rng)
    for arr in (X, y, w, s):
        arr.flags.writeable = False  # any write would raise
    copies = [a.copy() for a in (X, y, w, s)]
    loss_and_grad(w, b, X, y, s, C=1.0)
    for before, after in zip(copies, (X, y, w, s)):
        np.testing.assert_array_equal(before, after)


def test_penalty_never_touches_intercept(rng):
    X, y, w, b, _ = random_problem(rng)
    _, _, db_free = loss_and_grad(w, b, X, y)
    _, _, db_pen = loss_and_grad(w, b, X, y, C=1e-3)
    assert db_free == db_pen


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(w=np.zeros(3)), r"w must have shape \(5,\)"),
        (dict(y=np.zeros(7)), r"y must have shape \(40,\)"),
        (dict(sample_weight=np.ones(3)), r"sample_weight must have shape \(40,\)"),
    ],
)
def test_shape_errors_name_the_argument(rng, bad, match):
    X, y, w, b, _ = random_problem(rng)
    args = dict(w=w, b=b, X=X, y=y, sample_weight=None) | bad
    with pytest.raises(ValueError, match=match):
        loss_and_grad(**args)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("C", [np.inf, 0.5])
def test_softmax_vectorized_equals_lecture_loop(rng, weighted, C):
    from logitdescent.kernel import softmax_loss_and_grad

    X = rng.standard_normal((40, 5))
    W, b = rng.standard_normal((4, 5)), rng.standard_normal(4)
    y = rng.integers(0, 4, 40)
    s = rng.uniform(0.1, 3.0, 40) if weighted else None
    J, dW, db = softmax_loss_and_grad(W, b, X, y, s, C=C)
    J_ref, dW_ref, db_ref = reference.softmax_loss_and_grad(
        W.tolist(), b.tolist(), X.tolist(), y.tolist(), None if s is None else s.tolist(), C=C
    )
    np.testing.assert_allclose(J, J_ref, rtol=1e-12)
    np.testing.assert_allclose(dW, dW_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(db, db_ref, rtol=1e-12, atol=1e-15)


def test_softmax_with_two_classes_is_the_sigmoid_model(rng):
    # softmax([z, 0]) = [sigmoid(z), 1 - sigmoid(z)]: with W = [w, 0] the costs agree.
    from logitdescent.kernel import softmax_loss_and_grad

    X, y, w, b, _ = random_problem(rng)
    J_sig, _, _ = loss_and_grad(w, b, X, y)
    J_soft, _, _ = softmax_loss_and_grad(np.vstack([np.zeros_like(w), w]), np.array([0.0, b]), X, y.astype(int))
    np.testing.assert_allclose(J_soft, J_sig, rtol=1e-13)


@pytest.mark.parametrize("z", [1e3, 1e20])
def test_softmax_extreme_scores_are_finite(z):
    from logitdescent.kernel import softmax_loss_and_grad

    X = np.ones((2, 1))
    J, dW, db = softmax_loss_and_grad(np.array([[z], [-z], [0.0]]), np.zeros(3), X, np.array([0, 1]))
    assert np.isfinite(J) and np.all(np.isfinite(dW)) and np.all(np.isfinite(db))
    assert J == pytest.approx(z, rel=1e-12)  # example 1 is wrong by 2z, example 0 right: mean z


# -- the two evaluation paths -------------------------------------------------
# A C-ordered dense X takes the compiled single pass (where Numba is
# available), the same X in Fortran order the NumPy path: the public function
# must give the same numbers either way. Without Numba both are NumPy and the
# tests still hold.

from logitdescent.kernel import evaluation_traits, numpy_loss_and_grad, softmax_loss_and_grad  # noqa: E402


def _both_orders(X):
    return np.ascontiguousarray(X), np.asfortranarray(X)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(1, 1), (37, 5), (3001, 23), (700, 300)])
def test_both_paths_equal_the_lecture_loop(rng, dtype, weighted, shape):
    m, n = shape
    X = rng.standard_normal(shape).astype(dtype)
    y = (rng.random(m) < 0.5).astype(dtype)
    w, b = rng.standard_normal(n) / np.sqrt(n) * 3, 0.4
    s = rng.uniform(0.1, 3.0, m).astype(dtype) if weighted else None
    X64 = X.astype(np.float64)
    J_ref, dw_ref, db_ref = numpy_loss_and_grad(w, b, X64, y.astype(np.float64),
                                                None if s is None else s.astype(np.float64), 0.1)
    if m * n <= 200:  # the literal loop: the independent oracle, on what it can afford
        J_loop, dw_loop, db_loop = reference.loss_and_grad(
            w.tolist(), b, X64.tolist(), y.tolist(), None if s is None else s.tolist(), C=1 / (0.1 * (m if s is None else s.astype(np.float64).sum())))
        np.testing.assert_allclose([J_ref, db_ref], [J_loop, db_loop], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(dw_ref, dw_loop, rtol=1e-12, atol=1e-15)
    S = m if s is None else float(s.astype(np.float64).sum())
    for Xo in _both_orders(X):
        J, dw, db = loss_and_grad(w, b, Xo, y, s, C=1 / (0.1 * S))
        assert dw.dtype == dtype
        # float64: the two paths sum in different orders, ~1e-14 apart. float32:
        # the compiled pass computes in float64 (J to ~1e-15 of the float64
        # oracle), the NumPy path in float32 (~1e-6); dw is rounded to float32.
        exact = evaluation_traits(Xo).compute_dtype == np.float64
        rtol = 1e-12 if exact else 2e-5
        np.testing.assert_allclose(J, J_ref, rtol=rtol)
        np.testing.assert_allclose(db, db_ref, rtol=rtol, atol=1e-6 if not exact else 1e-15)
        atol = 1e-15 if dtype == np.float64 else 4 * np.finfo(np.float32).eps * np.abs(dw_ref).max()
        np.testing.assert_allclose(dw, dw_ref, rtol=rtol if dtype == np.float64 else 1e-4, atol=atol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape, K", [((1, 1), 2), ((41, 5), 4), ((2999, 17), 10), ((400, 300), 3)])
def test_softmax_both_paths_equal_the_lecture_loop(rng, dtype, weighted, shape, K):
    m, n = shape
    X = rng.standard_normal(shape).astype(dtype)
    y = rng.integers(0, K, m)
    W, b = rng.standard_normal((K, n)) / np.sqrt(n) * 2, rng.standard_normal(K)
    s = rng.uniform(0.1, 3.0, m).astype(dtype) if weighted else None
    s64 = None if s is None else s.astype(np.float64)
    if m * n <= 300:
        J_ref, dW_ref, db_ref = reference.softmax_loss_and_grad(
            W.tolist(), b.tolist(), X.astype(np.float64).tolist(), y.tolist(), None if s is None else s64.tolist(), C=2.0)
    else:  # the NumPy path on float64, itself tested against the loop above
        J_ref, dW_ref, db_ref = softmax_loss_and_grad(W, b, np.asfortranarray(X, dtype=np.float64), y, s64, C=2.0)
    for Xo in _both_orders(X):
        J, dW, db = softmax_loss_and_grad(W, b, Xo, y, s, C=2.0)
        assert dW.dtype == dtype and dW.shape == (K, n) and db.shape == (K,)
        exact = evaluation_traits(Xo).compute_dtype == np.float64
        rtol = 1e-12 if exact else 2e-5
        np.testing.assert_allclose(J, J_ref, rtol=rtol)
        np.testing.assert_allclose(db, db_ref, rtol=rtol, atol=1e-15 if exact else 1e-6)
        atol = 1e-15 if dtype == np.float64 else 4 * np.finfo(np.float32).eps * np.abs(dW_ref).max()
        np.testing.assert_allclose(dW, dW_ref, rtol=rtol if dtype == np.float64 else 1e-4, atol=atol)


@pytest.mark.parametrize("kernel", ["binary", "softmax"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_results_are_bit_identical_for_any_thread_count(rng, kernel, dtype):
    # Large enough (several MB) that every thread takes part.
    m, n, K = 40_000, 30, 3
    X = rng.standard_normal((m, n)).astype(dtype)
    s = rng.uniform(0.5, 2.0, m).astype(dtype)
    if kernel == "binary":
        y = (rng.random(m) < 0.5).astype(dtype)
        w = rng.standard_normal(n)
        runs = [loss_and_grad(w, 0.1, X, y, s, C=1.0, n_threads=t) for t in (1, 2, 3, 4)]
    else:
        y = rng.integers(0, K, m)
        W, b = rng.standard_normal((K, n)), rng.standard_normal(K)
        runs = [softmax_loss_and_grad(W, b, X, y, s, C=1.0, n_threads=t) for t in (1, 2, 3, 4)]
    for J, dw, db in runs[1:]:
        assert J == runs[0][0]
        np.testing.assert_array_equal(dw, runs[0][1])
        np.testing.assert_array_equal(db, runs[0][2])


@pytest.mark.parametrize("kernel", ["binary", "softmax"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("order", ["C", "F"])
def test_kernels_neither_copy_nor_write_their_inputs(rng, kernel, dtype, order, monkeypatch):
    m, n, K = 4_000, 200, 3  # the NumPy path's (m, K) temporaries stay small against X
    X = np.asarray(rng.standard_normal((m, n)), dtype=dtype, order=order)
    s = rng.uniform(0.5, 2.0, m).astype(dtype)
    if kernel == "binary":
        y = (rng.random(m) < 0.5).astype(dtype)
        coef, intercept, run = rng.standard_normal(n), 0.3, loss_and_grad
    else:
        y = rng.integers(0, K, m)
        coef, intercept, run = rng.standard_normal((K, n)), rng.standard_normal(K), softmax_loss_and_grad
    inputs = (coef, X, y, s)
    before = [a.copy() for a in inputs]
    for a in inputs:
        a.flags.writeable = False  # a write raises
    J, grad, db = run(coef, intercept, X, y, s, C=1.0)
    for a, b in zip(inputs, before):
        assert a.tobytes() == b.tobytes()
        assert not np.shares_memory(grad, a) and not np.shares_memory(np.asarray(db), a)
    # Nothing as large as X is allocated: a copy of X would be.
    import tracemalloc

    tracemalloc.start()
    run(coef, intercept, X, y, s, C=1.0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < X.nbytes / 4


@pytest.mark.parametrize("dtype", DTYPES)
def test_evaluation_traits_name_the_path(dtype):
    X = np.ones((10, 3), dtype=dtype)
    for other in (sp.csr_matrix(X), np.asfortranarray(X), X[:, ::2]):  # always the NumPy path
        assert evaluation_traits(other) == (dtype, True)
    compiled = not evaluation_traits(X).uses_blas
    assert evaluation_traits(X).compute_dtype == (np.float64 if compiled else dtype)


def test_warm_up_reports_compile_times():
    from logitdescent.kernel import warm_up

    times = warm_up()
    if evaluation_traits(np.ones((2, 2))).uses_blas:  # no compiled kernels here
        assert times == {}
    else:
        assert set(times) == {"binary", "softmax"} and all(t >= 0 for t in times.values())


# -- offset: a known term in every score ------------------------------------
# Oracle: an offset is a feature column whose weight is fixed at 1, so the
# kernel with offset o at (w, b) equals the kernel on [X o] at ([w, 1], b).


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("order", ["C", "F"])
def test_offset_equals_a_column_with_weight_one(rng, dtype, weighted, order):
    m, n = 3001, 7
    X = rng.standard_normal((m, n)).astype(dtype)
    o = 2.0 * rng.standard_normal(m)
    y = (rng.random(m) < 0.5).astype(dtype)
    s = rng.uniform(0.1, 3.0, m).astype(dtype) if weighted else None
    w, b = rng.standard_normal(n) / 2, 0.3
    Xo = np.asarray(np.column_stack([X, o.astype(dtype)]), order=order)
    X = np.asarray(X, order=order)
    J, dw, db = loss_and_grad(w, b, X, y, s, C=2.0, offset=o)
    J_col, dw_col, db_col = loss_and_grad(np.append(w, 1.0), b, Xo, y, s, C=np.inf)
    S = m if s is None else float(s.astype(np.float64).sum())
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(J, J_col + 0.5 * np.dot(w, w) / (2.0 * S), rtol=rtol)
    np.testing.assert_allclose(db, db_col, rtol=rtol, atol=1e-7)
    np.testing.assert_allclose(dw, dw_col[:n] + w / (2.0 * S), rtol=1e-4 if dtype == np.float32 else 1e-12,
                               atol=1e-7 if dtype == np.float32 else 1e-15)


@pytest.mark.parametrize("order", ["C", "F"])
def test_softmax_offset_equals_columns_with_fixed_weights(rng, order):
    m, n, K = 2999, 6, 4
    X = rng.standard_normal((m, n))
    o = rng.standard_normal((m, K))
    y = rng.integers(0, K, m)
    W, b = rng.standard_normal((K, n)) / 2, rng.standard_normal(K)
    # One extra column per class, weight 1 in its own class's row only.
    Xo = np.asarray(np.column_stack([X, o]), order=order)
    Wo = np.hstack([W, np.eye(K)])
    J, dW, db = softmax_loss_and_grad(W, b, np.asarray(X, order=order), y, offset=o)
    J_col, dW_col, db_col = softmax_loss_and_grad(Wo, b, Xo, y)
    np.testing.assert_allclose(J, J_col, rtol=1e-12)
    np.testing.assert_allclose(dW, dW_col[:, :n], rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(db, db_col, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("offset, error, match", [
    (np.zeros(5), ValueError, r"offset must have shape \(40,\)"),
    (np.full(40, np.nan), ValueError, "offset contains NaN"),
    (np.array(["a"] * 40), TypeError, "offset must hold numbers"),
])
def test_bad_offsets_are_named(rng, offset, error, match):
    X, y, w, b, _ = random_problem(rng)
    with pytest.raises(error, match=match):
        loss_and_grad(w, b, X, y, offset=offset)
