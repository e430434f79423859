"""What every solver shares: the result record, the stopping rule, the warning."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning

__all__ = ["SolverResult", "gradient_converged", "sufficient_decrease", "warn_not_converged"]


@dataclass
class SolverResult:
    """The outcome of a solver run, with scipy's ``OptimizeResult`` field names.

    Attributes
    ----------
    x : ndarray of shape (n_params,)
        The final ``theta = [w, b]``.
    fun : float
        The cost at ``x``.
    grad_max : float
        ``max |dJ/dtheta|`` at ``x``: the quantity of the stopping rule.
    n_iter : int
        Parameter updates made.
    loss_history : list of float
        The cost at the start and after every update: ``n_iter + 1`` entries.
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


def gradient_converged(grad, tol):
    """The one stopping rule of every solver: ``max |gradient| <= tol``.

    ``tol = 0`` never stops early, so fixed-step gradient descent runs exactly
    ``max_iter`` updates, as the lecture's loop does.
    """
    return tol > 0 and float(np.max(np.abs(grad), initial=0.0)) <= tol


def sufficient_decrease(J_new, J_old, required_decrease, cost_rtol):
    """Whether ``J_new <= J_old - required_decrease``, up to the cost's rounding.

    The line-search and backtracking test of every solver that has one.
    ``cost_rtol`` is the objective's relative rounding error in a cost: near
    the optimum a step's true decrease (~ grad^2 / L) falls below that noise,
    and a test blind to it would shrink the step for nothing.
    """
    return J_new <= J_old - required_decrease + cost_rtol * abs(J_old)


def warn_not_converged(result, solver_name):
    """scikit-learn's ConvergenceWarning, with the numbers needed to act on it."""
    warnings.warn(
        f"Solver {solver_name!r} stopped before convergence after {result.n_iter} "
        f"iterations: max |gradient| = {result.grad_max:.3g} > tol ({result.message}). "
        "Increase max_iter, scale the features, or choose solver='auto'.",
        ConvergenceWarning,
        stacklevel=3,
    )
