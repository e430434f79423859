"""No solver copies X: fit allocates O(m + n^2) beyond the data, never O(m n).

tracemalloc sees every NumPy allocation, so a single copy of X (or a scaled
copy, or a column of ones stacked onto it) would show as a peak of X.nbytes.
"""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from logitdescent import LogisticRegression
from logitdescent.solvers import SOLVERS

M, N = 50_000, 50


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((M, N))
    y = (X[:, 0] + rng.standard_normal(M) > 0).astype(int)
    return X, y


def fit_peak_bytes(estimator, X, y):
    estimator.fit(X[:500], y[:500])  # imports, compilation and caches outside the measurement
    tracemalloc.start()
    try:
        estimator.fit(X, y)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", ["auto", *sorted(SOLVERS)])
def test_fit_allocates_no_copy_of_X(data, solver, dtype):
    X, y = data
    X = X.astype(dtype)
    estimator = LogisticRegression(solver=solver, max_iter=5, tol=0, batch_size=4096)
    # The goal: X.nbytes / 10, plus a handful of length-m float64 vectors
    # (scores, residuals, labels, weights) and the n x n Hessian with its
    # 1 MiB row blocks.
    allowance = X.nbytes / 10 + 8 * (8 * M) + 3 * 2**20 + 8 * (N + 1) ** 2
    assert fit_peak_bytes(estimator, X, y) <= allowance


def test_sparse_fit_is_never_densified(data):
    X, y = data
    X_sparse = sp.random(M, 2_000, density=0.005, format="csr", random_state=0)
    estimator = LogisticRegression(solver="lbfgs", max_iter=5, tol=0)
    dense_bytes = M * 2_000 * 8
    assert fit_peak_bytes(estimator, X_sparse, y) < dense_bytes / 50
