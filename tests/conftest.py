"""Shared fixtures: one global seed, the dtypes and the real data sets the oracles use."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.preprocessing import StandardScaler

SEED = 0

DTYPES = [np.float64, np.float32]


@pytest.fixture
def rng():
    return np.random.default_rng(SEED)


def random_problem(rng, m=40, n=5, dtype=np.float64, scale=1.0):
    """A small random problem with both classes present and scores of order ``scale``."""
    X = rng.standard_normal((m, n)).astype(dtype)
    y = (rng.random(m) < 0.5).astype(dtype)
    y[:2] = [0, 1]
    w = (scale * rng.standard_normal(n)).astype(dtype)
    b = float(rng.standard_normal())
    s = rng.uniform(0.1, 3.0, m).astype(dtype)
    return X, y, w, b, s


@pytest.fixture(scope="session")
def breast_cancer():
    """Raw breast-cancer data: 569 x 30, feature scales from 1e-3 to 4e3."""
    return load_breast_cancer(return_X_y=True)


@pytest.fixture(scope="session")
def breast_cancer_scaled(breast_cancer):
    X, y = breast_cancer
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="session")
def diabetes_binary():
    """Diabetes progression above its median: real, 442 x 10 and not separable,
    so the unpenalized optimum is finite."""
    X, t = load_diabetes(return_X_y=True)
    return X, (t > np.median(t)).astype(int)
