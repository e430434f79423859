"""The BLAS thread policy the estimator enters around each solve.

Observed from inside real fits (a callback reads threadpoolctl's view of the
BLAS libraries after every iteration), with BLAS first set to two threads so
that "one thread" is a change to see.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_info, threadpool_limits

from logitdescent import LogisticRegression
from logitdescent._blas import HESSIAN_SOLVERS, SMALL_X_BYTES, blas_context
from logitdescent.kernel import evaluation_traits
from logitdescent.objective import LogisticObjective


def blas_threads():
    return sorted(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")


@pytest.fixture
def two_blas_threads():
    """BLAS on two threads for the test; the threads it had before restored after it."""
    if not blas_threads():
        pytest.skip("no BLAS library that threadpoolctl can see")
    with threadpool_limits(limits=2, user_api="blas"):
        before = blas_threads()
        assert set(before) == {2}
        yield before


def threads_during_fit(clf, X, y):
    """The BLAS thread counts seen after every iteration of ``clf.fit(X, y)``."""
    seen = set()
    clf.fit(X, y, callback=lambda iteration, cost: seen.update(blas_threads()))
    assert seen, "the callback never ran"
    return seen


def binary_problem(m, n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    y = (X[:, 0] + rng.standard_normal(m) > 0).astype(int)
    return X, y


@pytest.fixture(scope="module")
def large_dense():
    """Just over ``SMALL_X_BYTES`` of float64: the policy then depends on kernel and solver."""
    return binary_problem(SMALL_X_BYTES // (8 * 100) + 1, 100)


@pytest.mark.parametrize("solver", ["gd", "lbfgs", "newton", "sgd"])
@pytest.mark.parametrize("classes", [2, 3])
def test_fit_on_small_data_runs_blas_on_one_thread_and_restores_it(two_blas_threads, solver, classes):
    X, y = binary_problem(200, 4)
    y = y if classes == 2 else np.arange(200) % 3
    clf = LogisticRegression(solver=solver, max_iter=5, tol=0, random_state=0)
    assert threads_during_fit(clf, X, y) == {1}
    assert blas_threads() == two_blas_threads


def test_a_failed_fit_restores_blas_threads_too(two_blas_threads):
    X, y = binary_problem(200, 4)

    def interrupt(iteration, cost):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        LogisticRegression().fit(X, y, callback=interrupt)
    assert blas_threads() == two_blas_threads


def test_partial_fit_restores_blas_threads(two_blas_threads):
    X, y = binary_problem(200, 4)
    LogisticRegression(random_state=0).partial_fit(X, y, classes=[0, 1]).partial_fit(X, y)
    assert blas_threads() == two_blas_threads


def test_large_x_with_a_blas_kernel_keeps_its_threads(two_blas_threads, large_dense):
    X, y = large_dense
    X = sp.csr_matrix(X)  # sparse X runs on the NumPy/SciPy kernel, BLAS-based
    assert evaluation_traits(X).uses_blas and X.data.nbytes > SMALL_X_BYTES
    for solver in ("lbfgs", "newton"):
        clf = LogisticRegression(solver=solver, max_iter=2, tol=0)
        assert threads_during_fit(clf, X, y) == set(two_blas_threads), solver


def test_large_x_on_the_compiled_kernel_quiets_blas_unless_hessians_need_it(two_blas_threads, large_dense):
    X, y = large_dense
    if evaluation_traits(X).uses_blas:
        pytest.skip("the compiled kernel is unavailable here (no Numba)")
    # First-order solvers: BLAS's busy-waiting threads would compete with the kernel's own.
    assert threads_during_fit(LogisticRegression(solver="lbfgs", max_iter=2, tol=0), X, y) == {1}
    for solver in sorted(HESSIAN_SOLVERS):  # BLAS-3 Hessian products want every thread
        clf = LogisticRegression(solver=solver, max_iter=2, tol=0)
        assert threads_during_fit(clf, X, y) == set(two_blas_threads), solver
    assert blas_threads() == two_blas_threads


@pytest.mark.parametrize("order", ["first in, first out", "last in, first out"])
def test_overlapping_contexts_restore_blas_threads_in_any_order(two_blas_threads, order):
    # Two fits in two threads: the limit is process-wide, so it must hold
    # until the last one ends, then go.
    X, y = binary_problem(50, 3)
    objective = LogisticObjective(X, y.astype(float))  # small: limited
    first, second = blas_context(objective, "lbfgs"), blas_context(objective, "newton")
    first.__enter__()
    second.__enter__()
    assert blas_threads() == [1] * len(two_blas_threads)
    ending = [first, second] if order == "first in, first out" else [second, first]
    ending[0].__exit__(None, None, None)
    assert set(blas_threads()) == {1}
    ending[1].__exit__(None, None, None)
    assert blas_threads() == two_blas_threads
