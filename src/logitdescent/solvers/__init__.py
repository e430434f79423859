"""Solver registry: every solver is ``solve(objective, theta0, *, max_iter, tol, ...)``.

Solvers never do I/O and never know which backend computed the gradient; they
all share one stopping rule (:func:`gradient_converged`) and one result record
(:class:`SolverResult`). A solver's extra options are the keyword arguments of
its ``solve`` beyond the common ones, listed in :data:`SOLVER_OPTIONS`.
"""

from __future__ import annotations

import inspect

from . import cd, gd, hybrid, lbfgs, nesterov, newton, precond, sgd
from ._common import SolverResult, gradient_converged, warn_not_converged

SOLVERS = {
    "gd": gd.solve,
    "nesterov": nesterov.solve,
    "lbfgs": lbfgs.solve,
    "newton": newton.solve,
    "lbfgs-newton": hybrid.solve,
    "precond-lbfgs": precond.solve,
    "sgd": sgd.solve,
    "newton-cd": cd.solve,
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
#: Up to this many, L-BFGS preconditioned by a subsampled Hessian (its sample
#: of 32 p rows costs O(p^3) to form and factor: small against a pass over X).
AUTO_PRECOND_MAX_PARAMS = 512


#: Up to this many features an L1 term goes to "newton-cd"; above, to "lbfgs".
AUTO_CD_MAX_FEATURES = 2000


def choose_solver(objective):
    """The ``solver="auto"`` rule (docs/solvers.md gives the benchmark evidence).

    - L1 or elastic-net term: "newton-cd", proximal Newton with coordinate
      descent on working sets (binary and multinomial, dense and sparse), up
      to ``AUTO_CD_MAX_FEATURES`` features; beyond, "lbfgs": the working
      sets' Gram matrices grow with the square of the nonzeros (the 1e5 x 1e4
      sparse set of benchmarks/RESULTS.md, section 5).
    - Bounds without L1, or more than ``AUTO_PRECOND_MAX_PARAMS`` parameters:
      "lbfgs" (the Newton-type solvers cannot take the first; for the second
      even a subsampled Hessian costs more than the passes it saves).
    - Up to ``AUTO_NEWTON_MAX_PARAMS``: "newton", whose iteration count does
      not depend on how badly the features are scaled.
    - Between: "precond-lbfgs", L-BFGS on a problem that a subsampled
      Hessian's Cholesky factor has made well-conditioned: about as fast as
      L-BFGS on well-conditioned data, 3-4x faster than Newton on badly
      conditioned data.
    """
    if objective.l1 > 0 and objective.n_features <= AUTO_CD_MAX_FEATURES:
        return "newton-cd"
    if objective.has_prox or objective.n_params > AUTO_PRECOND_MAX_PARAMS:
        return "lbfgs"
    if objective.n_params <= AUTO_NEWTON_MAX_PARAMS:
        return "newton"
    return "precond-lbfgs"


__all__ = [
    "SOLVERS",
    "SOLVER_OPTIONS",
    "SolverResult",
    "choose_solver",
    "gradient_converged",
    "warn_not_converged",
]
