"""Solver registry: every solver is ``solve(objective, theta0, *, max_iter, tol, ...)``.

Solvers never do I/O and never know which backend computed the gradient; they
all share one stopping rule (:func:`gradient_converged`) and one result record
(:class:`SolverResult`). A solver's extra options are the keyword arguments of
its ``solve`` beyond the common ones, listed in :data:`SOLVER_OPTIONS`.
"""

from __future__ import annotations

import inspect

from . import gd, lbfgs, nesterov, newton, sgd
from ._common import SolverResult, gradient_converged, warn_not_converged

SOLVERS = {
    "gd": gd.solve,
    "nesterov": nesterov.solve,
    "lbfgs": lbfgs.solve,
    "newton": newton.solve,
    "sgd": sgd.solve,
}

_COMMON = {"objective", "theta0", "max_iter", "tol", "callback"}

#: Options each solver takes besides the common ones.
SOLVER_OPTIONS = {
    name: tuple(p for p in inspect.signature(func).parameters if p not in _COMMON)
    for name, func in SOLVERS.items()
}

#: Above this many parameters the auto rule leaves Newton for L-BFGS.
AUTO_NEWTON_MAX_PARAMS = 500


def choose_solver(objective):
    """The ``solver="auto"`` rule (see docs/solvers.md for the evidence).

    Newton's iterations do not depend on conditioning, and its ``O(m n^2)``
    Hessian pass is cheap while ``n`` is moderate; past that, or with an L1
    term or bounds (which Newton does not handle), L-BFGS.
    """
    if objective.has_prox or objective.n_params > AUTO_NEWTON_MAX_PARAMS:
        return "lbfgs"
    return "newton"


__all__ = [
    "SOLVERS",
    "SOLVER_OPTIONS",
    "SolverResult",
    "choose_solver",
    "gradient_converged",
    "warn_not_converged",
]
