"""Solver registry: every solver is ``solve(objective, theta0, *, max_iter, tol, ...)``.

Solvers never do I/O and never know which backend computed the gradient; they
all share one stopping rule (:func:`gradient_converged`) and one result record
(:class:`SolverResult`). A solver's extra options are the keyword arguments of
its ``solve`` beyond the common ones, listed in :data:`SOLVER_OPTIONS`.
"""

from __future__ import annotations

import inspect

from . import gd, hybrid, lbfgs, nesterov, newton, sgd
from ._common import SolverResult, gradient_converged, warn_not_converged

SOLVERS = {
    "gd": gd.solve,
    "nesterov": nesterov.solve,
    "lbfgs": lbfgs.solve,
    "newton": newton.solve,
    "lbfgs-newton": hybrid.solve,
    "sgd": sgd.solve,
}

_COMMON = {"objective", "theta0", "max_iter", "tol", "callback"}

#: Options each solver takes besides the common ones.
SOLVER_OPTIONS = {
    name: tuple(p for p in inspect.signature(func).parameters if p not in _COMMON)
    for name, func in SOLVERS.items()
}

#: Up to this many parameters a Hessian costs about as much as a few passes
#: over X (BLAS-3 runs far closer to peak than a bandwidth-bound pass): Newton.
AUTO_NEWTON_MAX_PARAMS = 64
#: Up to this many, L-BFGS with a switch to Newton if it turns out slow.
AUTO_HYBRID_MAX_PARAMS = 512


def choose_solver(objective):
    """The ``solver="auto"`` rule (docs/solvers.md gives the benchmark evidence).

    - L1 term or bounds, or more than ``AUTO_HYBRID_MAX_PARAMS`` parameters:
      "lbfgs" (Newton cannot take the first; its Hessian is too dear for the
      second).
    - Up to ``AUTO_NEWTON_MAX_PARAMS``: "newton", whose iteration count does
      not depend on how badly the features are scaled.
    - Between: "lbfgs-newton", L-BFGS that hands over to Newton when the
      problem proves badly conditioned.
    """
    if objective.has_prox or objective.n_params > AUTO_HYBRID_MAX_PARAMS:
        return "lbfgs"
    if objective.n_params <= AUTO_NEWTON_MAX_PARAMS:
        return "newton"
    return "lbfgs-newton"


__all__ = [
    "SOLVERS",
    "SOLVER_OPTIONS",
    "SolverResult",
    "choose_solver",
    "gradient_converged",
    "warn_not_converged",
]
