"""Data sets of the benchmark, generated fast (chunked ``default_rng`` draws) with fixed seeds."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

#: Elements drawn per chunk: large enough for full speed, small enough for cache-friendly transforms.
CHUNK_ELEMS = 1 << 22


def normal_matrix(rng, m, n, dtype=np.float64, transform=None):
    """``(m, n)`` standard normal in ``dtype`` (times ``transform`` (n, n) if given), C order."""
    X = np.empty((m, n), dtype=dtype)
    rows = max(1, CHUNK_ELEMS // n)
    for s in range(0, m, rows):
        e = min(m, s + rows)
        Z = rng.standard_normal((e - s, n), dtype=dtype)
        X[s:e] = Z if transform is None else Z @ transform.astype(dtype)
    return X


def logistic_labels(rng, z):
    """0/1 labels (float64) drawn from ``P(y = 1) = sigmoid(z)``."""
    return (rng.random(z.shape[0]) < expit(z)).astype(np.float64)


def well_conditioned(m, n, seed=0):
    """(a): iid N(0, 1) features, logits ``x.w + b`` with standard deviation ~1.5."""
    rng = np.random.default_rng(seed)
    X = normal_matrix(rng, m, n)
    w = rng.standard_normal(n) * (1.5 / np.sqrt(n))
    y = logistic_labels(rng, X @ w + 0.25)
    return X, y


def correlated(m, n, cond=1e3, seed=1):
    """(b): features ``Z T`` with covariance ``Q diag(s) Q^T``, ``s`` log-spaced from 1 to 1/cond.

    The Hessian at the optimum is about ``E[a(1-a)] Cov`` (features have mean
    0, so the intercept decouples), hence condition number ~``cond``; the
    benchmark measures and prints the achieved value.
    """
    rng = np.random.default_rng(seed)
    s = np.logspace(0.0, -np.log10(cond), n)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    T = np.sqrt(s)[:, None] * Q.T  # Cov(Z T) = T^T T = Q diag(s) Q^T
    X = normal_matrix(rng, m, n, transform=T)
    w = rng.standard_normal(n)
    w *= 1.5 / np.sqrt(float(w @ (Q @ (s * (Q.T @ w)))))  # std(X w) = 1.5
    y = logistic_labels(rng, X @ w + 0.25)
    return X, y


def wide(m, n, seed=2):
    """(c): as (a) with many features."""
    return well_conditioned(m, n, seed=seed)


def sparse_csr(m, n, density=0.01, seed=3, intercept=0.25):
    """(d) and the L1 problem: CSR float64, N(0, 1) nonzeros, logits with std ~1.5."""
    rng = np.random.default_rng(seed)
    X = sp.random(m, n, density=density, format="csr", dtype=np.float64, rng=rng,
                  data_rvs=lambda k: rng.standard_normal(k))
    X.sort_indices()
    nnz_row = max(1.0, density * n)
    w = rng.standard_normal(n) * (1.5 / np.sqrt(nnz_row))
    y = logistic_labels(rng, X @ w + intercept)
    return X, y


def sparse_l1(m, n, density=0.01, seed=4, frac_active=0.1):
    """L1 problem: sparse CSR X, a sparse true ``w`` (``frac_active`` of the features), no intercept."""
    rng = np.random.default_rng(seed)
    X = sp.random(m, n, density=density, format="csr", dtype=np.float64, rng=rng,
                  data_rvs=lambda k: rng.standard_normal(k))
    X.sort_indices()
    active = rng.random(n) < frac_active
    nnz_active_row = max(1.0, density * n * frac_active)
    w = np.where(active, rng.standard_normal(n) * (2.0 / np.sqrt(nnz_active_row)), 0.0)
    y = logistic_labels(rng, X @ w)
    return X, y


def breast_cancer():
    """(e): scikit-learn's breast cancer data, raw (unscaled)."""
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    return np.ascontiguousarray(X, dtype=np.float64), y.astype(np.float64)


def digits_standardized():
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    return np.ascontiguousarray(StandardScaler().fit_transform(X)), y.astype(np.int64)


def multinomial(m, n, k, seed=5):
    """Synthetic softmax data: N(0, 1) features, ``W`` (k, n) with logits of std ~1.5."""
    rng = np.random.default_rng(seed)
    X = normal_matrix(rng, m, n)
    W = rng.standard_normal((k, n)) * (1.5 / np.sqrt(n))
    b = rng.standard_normal(k) * 0.25
    y = np.empty(m, dtype=np.int64)
    rows = max(1, CHUNK_ELEMS // max(n, k))
    for s in range(0, m, rows):  # Gumbel-max: argmax(Z + G) ~ softmax(Z)
        e = min(m, s + rows)
        Z = X[s:e] @ W.T + b
        Z -= np.log(-np.log(rng.random((e - s, k))))
        y[s:e] = Z.argmax(axis=1)
    return X, y


def nbytes(X):
    """Bytes of the data of a dense or CSR matrix."""
    if sp.issparse(X):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes
