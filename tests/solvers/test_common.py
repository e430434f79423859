"""What the solvers share: the BLAS thread policy while they iterate."""

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from logitdescent import _fused
from logitdescent.objective import LogisticObjective
from logitdescent.solvers._common import SMALL_X_BYTES, quiet_blas


def blas_threads():
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


@pytest.fixture(scope="module")
def large_problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((SMALL_X_BYTES // (8 * 100) + 1, 100))
    return X, (rng.random(X.shape[0]) < 0.5).astype(float)


def test_small_data_runs_blas_on_one_thread():
    objective = LogisticObjective(np.ones((50, 3)), np.arange(50) % 2.0, kernel="numpy")
    for uses_blas in (False, True):
        with quiet_blas(objective, iterations_use_blas=uses_blas):
            assert set(blas_threads()) <= {1}


@pytest.mark.skipif(not _fused.is_available(), reason="needs numba")
def test_fused_kernel_iterations_keep_blas_off_the_cores(large_problem):
    before = blas_threads()
    objective = LogisticObjective(*large_problem, kernel="fused")
    assert not objective.kernel_uses_blas
    with quiet_blas(objective):
        assert set(blas_threads()) <= {1}
    assert blas_threads() == before  # restored on exit
    with quiet_blas(objective, iterations_use_blas=True):  # Newton's Hessians want BLAS's threads
        assert blas_threads() == before


def test_blas_kernel_on_large_data_keeps_its_threads(large_problem):
    before = blas_threads()
    objective = LogisticObjective(*large_problem, kernel="numpy")
    assert objective.kernel_uses_blas
    with quiet_blas(objective):
        assert blas_threads() == before


def test_overlapping_fits_restore_blas_threads_whatever_order_they_end_in():
    # Two fits in two threads: the first to start ends first. The limit is
    # process-wide, so it must hold until the last one ends, then go.
    before = blas_threads()
    objective = LogisticObjective(np.ones((50, 3)), np.arange(50) % 2.0, kernel="numpy")  # small: limited
    first, second = quiet_blas(objective), quiet_blas(objective)
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert set(blas_threads()) <= {1}
    second.__exit__(None, None, None)
    assert blas_threads() == before
