"""L-BFGS first, Newton if the problem turns out to be badly conditioned.

L-BFGS costs one pass over X per iteration and, on well-conditioned data,
converges in ten or so; its iteration count grows with the condition number.
Newton's iteration count does not, but each iteration forms an ``O(m n^2)``
Hessian. Conditioning is expensive to measure up front, so this solver
measures it by trying: it runs up to ``PROBE_ITERATIONS`` L-BFGS iterations
and, if those do not meet the stopping rule, finishes with Newton from where
L-BFGS stopped (its quadratic convergence then needs only a few Hessians).
The cost history and iteration count cover both phases.
"""

from __future__ import annotations

from . import lbfgs, newton
from ._common import CostHistory, finish, require_smooth

#: L-BFGS iterations before handing over to Newton. Well-conditioned problems
#: (condition ~2) reach a 1e-8 relative cost gap within them; on a condition
#: ~1e3 problem L-BFGS needs ~300 iterations where Newton needs 4 (see
#: benchmarks/RESULTS.md), so a longer probe only delays the switch.
PROBE_ITERATIONS = 10


def solve(objective, theta0, *, max_iter, tol, callback=None):
    """Minimize ``objective`` by L-BFGS, then Newton if L-BFGS is slow.

    Parameters
    ----------
    objective : LinearObjective
        Smooth (no L1 term or bounds): Newton needs that.
    theta0 : ndarray of shape (n_params,)
    max_iter : int
        Maximum number of iterations of both phases together.
    tol : float
        Stop when ``max |grad| <= tol``.
    callback : callable, optional
        ``callback(iteration, cost)`` after every iteration of either phase.

    Returns
    -------
    SolverResult
    """
    require_smooth(objective, "lbfgs-newton")
    history = CostHistory(objective, callback)
    first = lbfgs.solve(objective, theta0, max_iter=min(PROBE_ITERATIONS, max_iter), tol=tol,
                        callback=_forward(history))
    if first.converged or first.n_iter >= max_iter:
        return first
    second = newton.solve(objective, first.x, max_iter=max_iter - first.n_iter, tol=tol,
                          callback=_forward(history, skip_first=True))
    J, grad = objective.loss_grad(second.x)
    return finish(objective, second.x, J, grad, first.n_iter + second.n_iter, history, tol, second.message)


def _forward(history, skip_first=False):
    """A phase's callback that appends to the shared history (minus its repeated start)."""
    def record(iteration, cost):
        if not (skip_first and iteration == 0):
            history.record_cost(cost)
    return record
