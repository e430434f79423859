"""What every solver shares: the result record, the stopping rule, the history,
the sufficient-decrease test and the convergence warning."""

from __future__ import annotations

import contextlib
import threading
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning

__all__ = [
    "CostHistory",
    "SolverResult",
    "finish",
    "gradient_converged",
    "quiet_blas",
    "require_smooth",
    "sufficient_decrease",
    "warn_not_converged",
]


@dataclass
class SolverResult:
    """The outcome of a solver run, with scipy's ``OptimizeResult`` field names.

    Attributes
    ----------
    x : ndarray of shape (n_params,)
        The final ``theta``.
    fun : float
        The full cost at ``x`` (smooth part plus L1 term).
    grad_max : float
        ``max |optimality(x)|``: the quantity of the stopping rule.
    n_iter : int
        Parameter updates made (epochs for SGD).
    loss_history : list of float
        The full cost at the start and after every update: ``n_iter + 1`` entries.
    converged : bool
        Whether the stopping rule ``grad_max <= tol`` holds.
    message : str
        Why the solver stopped.
    """

    x: np.ndarray
    fun: float
    grad_max: float
    n_iter: int
    loss_history: list = field(default_factory=list)
    converged: bool = False
    message: str = ""


def gradient_converged(optimality, tol):
    """The one stopping rule of every solver: ``max |optimality| <= tol``.

    ``optimality`` is the gradient for smooth, unconstrained problems, and its
    generalization ``theta - prox(theta - grad)`` with L1 or bounds (see
    ``LinearObjective.optimality``). ``tol = 0`` never stops early, so
    fixed-step gradient descent runs exactly ``max_iter`` updates, as the
    lecture's loop does.
    """
    return tol > 0 and float(np.max(np.abs(optimality), initial=0.0)) <= tol


def require_smooth(objective, solver_name):
    """Refuse an L1 term or bounds (Newton-type solvers), naming the way out."""
    if objective.has_prox:
        raise ValueError(
            f"solver='{solver_name}' handles the L2 penalty only; for L1, elastic-net or "
            "coefficient bounds choose solver='lbfgs' or 'nesterov'."
        )


def sufficient_decrease(J_new, J_old, required_decrease, cost_rtol):
    """Whether ``J_new <= J_old - required_decrease``, up to the cost's rounding.

    The line-search and backtracking test of every solver that has one.
    ``cost_rtol`` is the objective's relative rounding error in a cost: near
    the optimum a step's true decrease (~ grad^2 / L) falls below that noise,
    and a test blind to it would shrink the step for nothing.
    """
    return J_new <= J_old - required_decrease + cost_rtol * abs(J_old)


class CostHistory:
    """The full cost after every update, reported to the callback as it grows."""

    def __init__(self, objective, callback=None):
        self.objective = objective
        self.callback = callback
        self.costs = []

    def record(self, theta, smooth_cost):
        self.record_cost(self.objective.value(theta, smooth_cost))

    def record_cost(self, cost):
        self.costs.append(cost)
        if self.callback is not None:
            self.callback(len(self.costs) - 1, cost)


def finish(objective, theta, smooth_cost, grad, n_iter, history, tol, message):
    """The :class:`SolverResult` at ``theta``, with the shared stopping rule applied."""
    optimality = objective.optimality(theta, grad)
    converged = gradient_converged(optimality, tol)
    return SolverResult(
        x=theta,
        fun=objective.value(theta, smooth_cost),
        grad_max=float(np.max(np.abs(optimality), initial=0.0)),
        n_iter=n_iter,
        loss_history=history.costs,
        converged=converged,
        message="gradient below tol" if converged else message,
    )


def warn_not_converged(result, solver_name, stacklevel=3):
    """scikit-learn's ConvergenceWarning, with the numbers needed to act on it.

    ``stacklevel`` 3 points at the caller of the function that calls this one.
    """
    warnings.warn(
        f"Solver {solver_name!r} stopped before convergence after {result.n_iter} "
        f"iterations: max |gradient| = {result.grad_max:.3g} > tol ({result.message}). "
        "Increase max_iter, scale the features, or choose solver='auto'.",
        ConvergenceWarning,
        stacklevel=stacklevel,
    )


#: X of at most this many bytes: every BLAS call of a fit is small, and waking
#: BLAS's threads costs more than they save (multinomial L-BFGS on the
#: 1797 x 64 digits data, tol=1e-6: 56 ms against 796 ms with 2 BLAS threads
#: on a 2-core Xeon; benchmarks/RESULTS.md, section 5).
SMALL_X_BYTES = 4 * 2**20

_blas_lock = threading.Lock()
_blas_state = {"controller": None, "limiter": None, "depth": 0}


@contextlib.contextmanager
def _one_blas_thread():
    """BLAS on one thread, shared by every fit running at the same time.

    threadpoolctl's limit is process-wide: the first fit to enter sets it,
    the last to leave restores the original (a plain nested ``limit`` would
    let a fit that ends first restore the limit of one that started later,
    leaving BLAS on one thread for good).
    """
    with _blas_lock:
        if _blas_state["depth"] == 0:
            if _blas_state["controller"] is None:
                from threadpoolctl import ThreadpoolController

                _blas_state["controller"] = ThreadpoolController()  # inspects the loaded libraries once
            _blas_state["limiter"] = _blas_state["controller"].limit(limits=1, user_api="blas")
        _blas_state["depth"] += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_state["depth"] -= 1
            if _blas_state["depth"] == 0:
                _blas_state["limiter"].restore_original_limits()
                _blas_state["limiter"] = None


def quiet_blas(objective, *, iterations_use_blas=False):
    """Context manager: BLAS on one thread while a solver iterates, where that is faster.

    OpenBLAS's threads busy-wait for a while after every call. Between two
    passes of the fused kernel (which runs on its own threads), the small
    BLAS calls of a solver's bookkeeping (L-BFGS-B's, a triangular solve)
    wake them, and they then compete with the kernel for the cores: on 2
    cores a 42 ms evaluation of 1e6 x 100 float64 data took 55-85 ms inside
    L-BFGS-B, 42 ms with BLAS on one thread. So BLAS gets one thread

    - while a first-order solver iterates on the fused kernel, and
    - for any solver when X is small (``SMALL_X_BYTES``), where threading a
      BLAS call costs more than the call.

    ``iterations_use_blas``: the iterations themselves run big BLAS-3 work
    (Newton's Hessian), so only the small-X rule applies. The limit is
    process-wide (BLAS has one thread pool): BLAS calls of other threads run
    on one thread too while a fit is inside this context.
    """
    small = objective.data_nbytes <= SMALL_X_BYTES
    if not (small or (not iterations_use_blas and not objective.kernel_uses_blas)):
        return contextlib.nullcontext()
    return _one_blas_thread()
