"""BLAS threads around a solve: the estimator's context, entered once per fit.

OpenBLAS's threads busy-wait for a while after every call. Between two passes
of the compiled kernel (which runs on threads of its own) the small BLAS calls
of a solver's bookkeeping (L-BFGS-B's, a triangular solve) wake them and they
compete with the kernel for the cores; and on a small X every BLAS call costs
less than waking its threads. So while a fit runs BLAS gets one thread

- for any solver when X is small (``SMALL_X_BYTES``), and
- for solvers whose iterations need no BLAS-3 work when the kernel itself
  does not run on BLAS (:func:`logitdescent.kernel.uses_blas`).

Solvers that form Hessians (``HESSIAN_SOLVERS``) keep BLAS's threads on large
X. benchmarks/RESULTS.md (kernel and multinomial sections) has the figures.
"""

from __future__ import annotations

import contextlib
import threading

__all__ = ["blas_context", "SMALL_X_BYTES", "HESSIAN_SOLVERS"]

#: X of at most this many bytes: every BLAS call of a fit is small.
SMALL_X_BYTES = 4 * 2**20

#: Solvers whose iterations are dominated by BLAS-3 Hessian products.
HESSIAN_SOLVERS = frozenset({"newton", "lbfgs-newton"})

_lock = threading.Lock()
_state = {"controller": None, "limiter": None, "depth": 0}


@contextlib.contextmanager
def _one_blas_thread():
    """BLAS on one thread, shared by every fit running at the same time.

    threadpoolctl's limit is process-wide: the first fit to enter sets it,
    the last to leave restores the original (a plain nested ``limit`` would
    let a fit that ends first restore the limit of one that started later,
    leaving BLAS on one thread for good).
    """
    with _lock:
        if _state["depth"] == 0:
            if _state["controller"] is None:
                from threadpoolctl import ThreadpoolController

                _state["controller"] = ThreadpoolController()  # inspects the loaded libraries once
            _state["limiter"] = _state["controller"].limit(limits=1, user_api="blas")
        _state["depth"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0:
                _state["limiter"].restore_original_limits()
                _state["limiter"] = None


def blas_context(objective, solver):
    """Context manager for one solve of ``objective`` by ``solver`` (a registry name).

    Parameters
    ----------
    objective : LinearObjective
        Provides ``data_nbytes`` and ``kernel_uses_blas``.
    solver : str
        The solver that will run.
    """
    if objective.data_nbytes <= SMALL_X_BYTES:
        return _one_blas_thread()
    if solver in HESSIAN_SOLVERS or objective.kernel_uses_blas:
        return contextlib.nullcontext()
    return _one_blas_thread()
