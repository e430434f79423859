"""The compiled single-pass kernel equals the NumPy kernel and the lecture's loop."""

import numpy as np
import pytest
import scipy.sparse as sp

from logitdescent import _fused, reference
from logitdescent.kernel import numpy_loss_and_grad, penalty_strength
from logitdescent.objective import LogisticObjective

from .conftest import random_problem

pytestmark = pytest.mark.skipif(not _fused.is_available(), reason="Numba is not installed")


def both_kernels(w, b, X, y, s, l2):
    fused = _fused.fused_loss_and_grad(w, b, X, y, s, l2)
    Xd = np.asarray(X, dtype=np.float64)  # the NumPy kernel in float64 is the reference
    numpy = numpy_loss_and_grad(w.astype(np.float64), b, Xd, y.astype(np.float64),
                                None if s is None else s.astype(np.float64), l2)
    return fused, numpy


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("l2", [0.0, 0.01])
@pytest.mark.parametrize("shape", [(7, 3), (1000, 13), (5000, 130), (603, 300)])
def test_fused_equals_numpy_float64(rng, order, weighted, l2, shape):
    X, y, w, b, s = random_problem(rng, m=shape[0], n=shape[1], scale=0.3)
    X = np.asarray(X, order=order)
    (J, dw, db), (J_np, dw_np, db_np) = both_kernels(w, b, X, y, s if weighted else None, l2)
    # Different summation orders of the same float64 terms: a few ulps apart.
    np.testing.assert_allclose(J, J_np, rtol=1e-13)
    np.testing.assert_allclose(dw, dw_np, rtol=1e-11, atol=1e-15)
    np.testing.assert_allclose(db, db_np, rtol=1e-11, atol=1e-15)
    assert dw.dtype == np.float64


@pytest.mark.parametrize("order", ["C", "F"])
# Long rows: smaller weights keep the scores z ~ 1 (600 features), off the sigmoid's flat tails.
@pytest.mark.parametrize("shape, scale", [((3000, 17), 1.0), ((1003, 600), 0.1)],
                         ids=["short-rows", "long-rows-pipelined"])
def test_fused_float32_computes_in_float64(rng, order, shape, scale):
    X, y, w, b, s = random_problem(rng, m=shape[0], n=shape[1], dtype=np.float32, scale=scale)
    X = np.asarray(X, order=order)
    (J, dw, db), (J_np, dw_np, db_np) = both_kernels(w.astype(np.float64), b, X, y, s, 0.0)
    assert dw.dtype == np.float32
    # Same float32 inputs, float64 arithmetic in both: only dw's final rounding differs.
    np.testing.assert_allclose(J, J_np, rtol=1e-13)
    np.testing.assert_allclose(dw, dw_np, rtol=2e-7, atol=1e-12)
    np.testing.assert_allclose(db, db_np, rtol=1e-11)


def test_fused_equals_lecture_loop(rng):
    X, y, w, b, s = random_problem(rng, m=60, n=4)
    l2 = penalty_strength(0.5, s.sum())
    J, dw, db = _fused.fused_loss_and_grad(w, b, X, y, s, l2)
    J_ref, dw_ref, db_ref = reference.loss_and_grad(w.tolist(), b, X.tolist(), y.tolist(), s.tolist(), C=0.5)
    np.testing.assert_allclose(J, J_ref, rtol=1e-12)
    np.testing.assert_allclose(dw, dw_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(db, db_ref, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("z", [1e3, 1e20, -1e3, -1e20])
def test_fused_extreme_scores(z):
    X = np.ones((4, 1))
    y = np.array([1.0, 0.0, 1.0, 0.0])
    J, dw, db = _fused.fused_loss_and_grad(np.array([z]), 0.0, X, y, None, 0.0)
    assert np.isfinite(J) and np.all(np.isfinite(dw)) and np.isfinite(db)
    assert J == pytest.approx(abs(z) / 2, rel=1e-12)
    assert db == (0.5 if z > 0 else -0.5)


@pytest.mark.parametrize("shape, dtype, scale", [((220_000, 20), np.float64, 1.0), ((20_000, 600), np.float32, 0.1)],
                         ids=["short-rows", "long-float32-rows-pipelined"])
def test_fused_is_deterministic_across_thread_counts(rng, shape, dtype, scale):
    X, y, w, b, s = random_problem(rng, m=shape[0], n=shape[1], dtype=dtype, scale=scale)
    assert X.nbytes > _fused._MIN_PARALLEL_BYTES  # large enough for the threads to take part
    results = [_fused.fused_loss_and_grad(w, b, X, y, s, 0.0, n_threads=t) for t in (1, 2, 3)]
    for J, dw, db in results[1:]:
        assert J == results[0][0] and db == results[0][2]
        np.testing.assert_array_equal(dw, results[0][1])


def test_fused_never_copies_or_writes_inputs(rng):
    X, y, w, b, s = random_problem(rng, m=2000, n=8)
    for arr in (X, y, w, s):
        arr.flags.writeable = False
    before = X.copy()
    _fused.fused_loss_and_grad(w, b, X, y, s, 0.1)
    np.testing.assert_array_equal(X, before)


def test_supports_only_what_it_can_take_without_a_copy(rng):
    X = rng.standard_normal((50, 6))
    assert _fused.supports(X) and _fused.supports(np.asfortranarray(X))
    assert not _fused.supports(X[:, ::2])  # strided view
    assert not _fused.supports(sp.csr_matrix(X))
    assert not _fused.supports(X.astype(np.int64))


def test_objective_picks_the_fused_kernel_where_it_applies(rng):
    X, y, *_ = random_problem(rng, m=100, n=4)
    assert LogisticObjective(X, y)._use_fused
    assert not LogisticObjective(sp.csr_matrix(X), y)._use_fused
    assert not LogisticObjective(X, y, kernel="numpy")._use_fused
    with pytest.raises(ValueError, match="kernel='fused' needs"):
        LogisticObjective(sp.csr_matrix(X), y, kernel="fused")


def test_warm_up_compiles_every_kernel():
    times = _fused.warm_up()
    assert {"float64/C", "float64/F", "float32/C", "float32/F", "float32/C long rows"} <= times.keys()
    assert _fused._work_c_pipelined.signatures and _fused._work_c.signatures and _fused._work_f.signatures
