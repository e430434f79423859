"""Time-to-optimum machinery shared by sections 2 and 5.

Every run is scored by one function (``logitdescent.loss_and_grad`` /
``softmax_loss_and_grad`` on the run's ``coef_`` and ``intercept_``), so all
solvers are compared on the same objective ``J`` (mean log-loss + penalty /
(C m): scikit-learn's objective divided by ``C m``). The target is
``(J - J*) / J* <= 1e-8``.

logitdescent solvers run once with ``tol=1e-10`` and a callback that records
``(seconds since fit() was called, J)`` after every iteration; their time to
target is the first recorded time within the target. scikit-learn has no such
callback, so its solvers run at a sequence of tolerances (1e-3 ... 1e-10) and
the time to target is that of the fastest run whose result is within target;
the runs along the sequence are deterministic prefixes of the same iterate
sequence, so "reached" is monotone in ``tol`` and a binary search over the
sequence finds that run. The same tol sequence is applied to logitdescent
"auto" as a like-for-like row.
"""

from __future__ import annotations

import gc
import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .common import fmt_gap, fmt_ratio, fmt_time, log, median, perf

TARGET = 1e-8
TOL_GRID = (1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10)
REF_TOL = 1e-10
#: Seconds the headline re-timing may take per problem (at least 3 rounds are run).
HEADLINE_BUDGET_S = 30.0
BIG_ITER = 1_000_000
#: Pause before each timed fit on data of at least SETTLE_MIN_BYTES, for both
#: libraries: OpenBLAS's threads busy-wait ~0.1 s after a call, and a fit that
#: starts while the previous fit's threads still spin runs slower (the fused
#: kernel: 57 ms instead of 44 ms per pass at 1e6 x 100). Every large fit
#: starts on a quiet machine; small fits (breast cancer, digits: milliseconds)
#: run back to back as before.
SETTLE_S = 0.2
SETTLE_MIN_BYTES = 8 * 2**20


def settle(problem):
    """Let other runtimes' threads go to sleep before a timed fit on large data."""
    X = problem.X
    nbytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes if sp.issparse(X) else X.nbytes
    if nbytes >= SETTLE_MIN_BYTES:
        time.sleep(SETTLE_S)


class CapReached(Exception):
    """Raised from a fit callback when the fit has run longer than the cap."""


# --------------------------------------------------------------------------
# scoring


def binary_cost(X, y, w, b, C, l1=False):
    """The full cost J at ``(w, b)``, in float64 (float32 X is upcast chunk by chunk)."""
    from logitdescent import loss_and_grad

    w = np.asarray(w, dtype=np.float64).ravel()
    b = float(np.asarray(b, dtype=np.float64).ravel()[0]) if np.ndim(b) else float(b)
    m = X.shape[0]
    penalty = (np.abs(w).sum() / (C * m)) if l1 else 0.0
    C_l2 = np.inf if l1 else C
    if sp.issparse(X) or X.dtype == np.float64:
        return loss_and_grad(w, b, X, y, C=C_l2)[0] + penalty
    total = 0.0
    rows = max(1, (1 << 22) // X.shape[1])
    for s in range(0, m, rows):
        e = min(m, s + rows)
        total += loss_and_grad(w, b, X[s:e].astype(np.float64), y[s:e], C=np.inf)[0] * (e - s)
    J = total / m + penalty
    if not l1 and np.isfinite(C):
        J += 0.5 * float(w @ w) / (C * m)
    return J


def softmax_cost(X, y, W, b, C):
    from logitdescent.kernel import softmax_loss_and_grad

    return softmax_loss_and_grad(np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64),
                                 X, y, C=C)[0]


def rel_gap(J, Jstar):
    return (J - Jstar) / abs(Jstar)


# --------------------------------------------------------------------------
# the problem and its runs


@dataclass
class Problem:
    name: str
    X: object
    y: np.ndarray
    C: float
    kind: str = "l2"  # "l2" (binary), "multinomial", "l1" (binary)
    fit_intercept: bool = True
    n_classes: int = 2
    cap: float = 40.0
    repeats: int = 1
    headline_rounds: int = 1
    ld_solvers: tuple = ()
    sk_solvers: tuple = ()
    ld_ref: tuple = ("newton", "lbfgs")  # logitdescent solvers whose results define J*
    sk_ref: tuple = ("lbfgs", "newton-cholesky")  # scikit-learn solvers that define J* (and "best")
    goal: float | None = None
    gflops: float = 40.0
    sgd_epochs: int = 10
    sk_sgd_max_epochs: int = 64
    notes: list = field(default_factory=list)

    @property
    def m(self):
        return self.X.shape[0]

    @property
    def n(self):
        return self.X.shape[1]

    @property
    def n_params(self):
        k = 1 if self.n_classes == 2 else self.n_classes
        return k * (self.n + int(self.fit_intercept))

    def score(self, coef, intercept):
        if self.kind == "multinomial":
            return softmax_cost(self.X, self.y, coef, intercept, self.C)
        b = np.ravel(intercept)[0] if np.size(intercept) else 0.0
        return binary_cost(self.X, self.y, coef, b if self.fit_intercept else 0.0, self.C, l1=self.kind == "l1")

    # -- cost estimates (only to skip fits that cannot finish within the cap) --

    def pass_seconds(self):
        """Seconds of one cost evaluation by the scorer (two passes over X)."""
        if not hasattr(self, "_pass_s"):  # the faster of two evaluations (robust to a noisy moment)
            coef = np.zeros((1 if self.n_classes == 2 else self.n_classes, self.n))
            seconds = []
            for _ in range(2):
                t0 = perf()
                self.score(coef if self.n_classes > 2 else coef[0], np.zeros(coef.shape[0]))
                seconds.append(perf() - t0)
            self._pass_s = min(seconds)
        return self._pass_s

    def newton_iter_seconds(self, library):
        """Rough seconds of one Newton iteration: Hessian O(m p^2) + Cholesky O(p^3) + passes."""
        p = self.n_params
        g = self.gflops * 1e9
        chol = p**3 / 3 / g
        if sp.issparse(self.X) and library == "sklearn":
            # X^T diag(h) X as a sparse product (~1e8 pair updates per second), then dense Cholesky.
            nnz_row = np.diff(self.X.indptr).astype(np.float64)
            hess = float(np.sum(nnz_row**2)) / 1e8
        else:
            # logitdescent densifies row blocks of sparse X; both form block.T @ (h * block).
            hess = 2.0 * self.m * p * p / g
        return hess + chol + 3 * self.pass_seconds()


@dataclass
class Run:
    """One solver's outcome on one problem."""

    library: str
    solver: str
    time_to_target: float | None = None
    fit_time: float | None = None
    n_iter: int | None = None
    reached: bool = False
    best_gap: float | None = None
    final_J: float | None = None
    setting: str = ""
    note: str = ""
    skipped: bool = False
    probes: list = field(default_factory=list)  # (tol or epochs, seconds, gap, n_iter)
    trace: tuple | None = None  # (times, costs) of the logitdescent run

    def label(self):
        return f"{self.library} {self.solver}"


def _quiet():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("ignore")
    return ctx


def ld_estimator(problem, solver, tol, max_iter):
    from logitdescent import LogisticRegression

    return LogisticRegression(
        penalty="l1" if problem.kind == "l1" else "l2", C=problem.C, solver=solver, tol=tol,
        max_iter=max_iter, fit_intercept=problem.fit_intercept, random_state=0,
    )


def solver_run(problem, solver, est):
    """The solver a logitdescent fit ran ("auto" resolved).

    A fit stopped from its callback (cap, target) is rolled back by
    ``fit``, ``solver_`` included; then a ``max_iter=0`` fit (one pass, not
    timed) tells what "auto" picks for this problem.
    """
    if hasattr(est, "solver_"):
        return est.solver_
    if solver != "auto":
        return solver
    cache = problem.__dict__.setdefault("_auto_choice", {})
    if "auto" not in cache:
        probe = ld_estimator(problem, "auto", 0.0, 0)
        probe.fit(problem.X, problem.y)
        cache["auto"] = probe.solver_
    return cache["auto"]


class TargetReached(Exception):
    """Raised from a fit callback once the cost is within target (re-timing runs need no more)."""


def ld_fit(problem, solver, tol, max_iter, cap, stop_below=None):
    """One logitdescent fit with a recording callback; ``(est, times, costs, total, capped)``.

    ``stop_below``: end the fit (as if capped, but not reported so) once the cost is <= this value.
    """
    times, costs = [], []
    start = [0.0]

    def callback(iteration, cost):
        t = perf() - start[0]
        times.append(t)
        costs.append(cost)
        if stop_below is not None and cost <= stop_below:
            raise TargetReached
        if t > cap:
            raise CapReached

    est = ld_estimator(problem, solver, tol, max_iter)
    ctx = _quiet()
    try:
        settle(problem)
        start[0] = perf()
        try:
            est.fit(problem.X, problem.y, callback=callback)
            capped = False
        except TargetReached:
            capped = False
        except CapReached:
            capped = True
        total = perf() - start[0]
    finally:
        ctx.__exit__(None, None, None)
    return est, times, costs, total, capped


def sk_estimator(problem, solver, tol, max_iter):
    from sklearn.linear_model import LogisticRegression, SGDClassifier

    if solver == "sgd":
        return SGDClassifier(loss="log_loss", penalty="l1" if problem.kind == "l1" else "l2",
                             alpha=1.0 / (problem.C * problem.m), tol=None, max_iter=max_iter,
                             fit_intercept=problem.fit_intercept, random_state=0)
    return LogisticRegression(
        C=problem.C, l1_ratio=1.0 if problem.kind == "l1" else 0.0, solver=solver, tol=tol,
        max_iter=max_iter, fit_intercept=problem.fit_intercept,
        **({"random_state": 0} if solver in ("saga", "liblinear") else {}),
    )


def sk_fit(problem, solver, tol, max_iter, repeats=1):
    """``repeats`` identical scikit-learn fits: (median seconds, J, n_iter)."""
    seconds = []
    est = None
    ctx = _quiet()
    try:
        for _ in range(repeats):
            est = sk_estimator(problem, solver, tol, max_iter)
            settle(problem)
            t0 = perf()
            est.fit(problem.X, problem.y)
            seconds.append(perf() - t0)
            if seconds[-1] > 1.0:  # slow enough to be timed once
                break
    finally:
        ctx.__exit__(None, None, None)
    J = problem.score(est.coef_, est.intercept_ if problem.fit_intercept else np.zeros(1))
    return median(seconds), J, int(np.max(est.n_iter_))


def sk_max_iter(problem, solver):
    """Iterations that fit in the cap, from a per-iteration cost estimate.

    lbfgs: ~1.5 cost evaluations + ~1.7 ms of Python/SciPy overhead per iteration (measured on breast
    cancer); newton-cholesky: the Hessian + Cholesky estimate; saga and liblinear: measured by a probe
    fit with max_iter=2.
    """
    if solver == "lbfgs":
        per_iter = 1.5 * problem.pass_seconds() + 1.7e-3
    elif solver == "newton-cholesky":
        per_iter = problem.newton_iter_seconds("sklearn")
    else:
        measured = problem.__dict__.setdefault("_iter_seconds", {})
        if solver not in measured:
            seconds, _, n_iter = sk_fit(problem, solver, 1e-30, 2)
            measured[solver] = seconds / max(1, n_iter)
        per_iter = measured[solver]
    return int(min(100_000, max(3, problem.cap / max(per_iter, 1e-9))))


# --------------------------------------------------------------------------
# orchestration


class Session:
    """All runs on one problem: references, J*, traces, tol searches, headline."""

    def __init__(self, problem):
        self.p = problem
        self.ld_runs = {}  # solver -> list of (est, times, costs, total, capped)
        self.sk_cache = {}  # (solver, tol) -> (seconds, J, n_iter, max_iter)
        self.ld_tol_cache = {}  # tol -> (seconds, J, n_iter)
        self.Jstar = None
        self.Jstar_source = None
        self.runs = []
        self.skipped = {}

    # -- phase 0: which fits are hopeless --------------------------------

    def _skip_reason(self, library, solver):
        """Why a Newton-type fit is not even started (its first iterations alone exceed the cap)."""
        p = self.p
        if solver in ("newton", "lbfgs-newton", "precond-lbfgs", "newton-cholesky"):
            est = p.newton_iter_seconds("sklearn" if library == "sk" else "ld")
            limit = p.cap if solver in ("lbfgs-newton", "precond-lbfgs") else p.cap / 3
            if est > limit:
                return f"skipped: est. {est:.0f} s per Newton iteration ({p.n_params} parameters) > cap / 3"
        return None

    # -- phase 1 ------------------------------------------------------------

    def run_ld_traces(self):
        p = self.p
        for solver in p.ld_solvers:
            reason = self._skip_reason("ld", solver)
            if reason:
                self.skipped[("ld", solver)] = reason
                log(f"{p.name}: logitdescent {solver}: {reason}")
                continue
            max_iter = p.sgd_epochs if solver == "sgd" else BIG_ITER
            reps = []
            for r in range(p.repeats):
                res = ld_fit(p, solver, REF_TOL, max_iter, p.cap)
                reps.append(res)
                if res[4] or res[3] > 1.0:  # capped or slow: one run is enough
                    break
            self.ld_runs[solver] = reps
            est, times, costs, total, capped = reps[-1]
            log(f"{p.name}: logitdescent {solver} ({solver_run(p, solver, est)}): {total:.2f} s, "
                f"{len(costs) - 1} iterations{' (capped)' if capped else ''}")

    def run_sk_refs(self):
        for solver in self.p.sk_ref:
            reason = self._skip_reason("sk", solver)
            if reason:
                self.skipped[("sk", solver)] = reason
                log(f"{self.p.name}: scikit-learn {solver}: {reason}")
                continue
            self._sk_at(solver, REF_TOL)

    def _sk_at(self, solver, tol):
        key = (solver, tol)
        if key not in self.sk_cache:
            max_iter = sk_max_iter(self.p, solver)
            seconds, J, n_iter = sk_fit(self.p, solver, tol, max_iter, repeats=self.p.repeats)
            self.sk_cache[key] = (seconds, J, n_iter, max_iter)
            log(f"{self.p.name}: scikit-learn {solver} tol={tol:g}: {seconds:.3f} s, {n_iter} iterations"
                + (" (hit max_iter)" if n_iter >= max_iter else ""))
        return self.sk_cache[key]

    def compute_Jstar(self):
        p = self.p
        candidates = []
        for solver in p.ld_ref:
            if solver in self.ld_runs:
                est, times, costs, total, capped = self.ld_runs[solver][-1]
                if not capped:
                    candidates.append((p.score(est.coef_, est.intercept_), f"logitdescent {solver} tol=1e-10"))
                elif costs:  # stopped by the cap: its last recorded cost still counts as "found"
                    candidates.append((min(costs), f"logitdescent {solver} (stopped at the cap)"))
        for (solver, tol), (seconds, J, n_iter, max_iter) in self.sk_cache.items():
            if solver in p.sk_ref and tol == REF_TOL:
                candidates.append((J, f"scikit-learn {solver} tol=1e-10"))
        if not candidates:
            raise RuntimeError(f"{p.name}: no reference run finished")
        self.Jstar, self.Jstar_source = min(candidates)
        self.candidates = sorted(candidates)
        return self.Jstar

    def reached(self, J):
        return rel_gap(J, self.Jstar) <= TARGET

    # -- phase 2: results -----------------------------------------------------

    def ld_result(self, solver):
        if ("ld", solver) in self.skipped:
            return Run("logitdescent", solver, note=self.skipped[("ld", solver)], skipped=True,
                       time_to_target=f"> cap ({self.p.cap:g} s)" if "cap" in self.skipped[("ld", solver)] else None)
        reps = self.ld_runs[solver]
        ttt, totals = [], []
        best = math.inf
        for est, times, costs, total, capped in reps:
            totals.append(total)
            hit = next((t for t, c in zip(times, costs) if self.reached(c)), None)
            ttt.append(hit)
            if costs:
                best = min(best, min(costs))
        est, times, costs, total, capped = reps[-1]
        reached = all(t is not None for t in ttt)
        note = []
        if solver_run(self.p, solver, est) != solver:
            note.append(f"auto chose {solver_run(self.p, solver, est)}")
        if capped:
            note.append(f"stopped at cap {self.p.cap:g} s")
        elif solver == "sgd":
            note.append(f"{self.p.sgd_epochs} epochs")
        elif not est.converged_:
            note.append("stopped before tol=1e-10")
        if len(reps) > 1:
            note.append(f"median of {len(reps)}")
        run = Run(
            "logitdescent", solver,
            time_to_target=median(ttt) if reached else None,
            fit_time=median(totals), n_iter=len(costs) - 1, reached=reached,
            best_gap=rel_gap(best, self.Jstar), setting="tol=1e-10" if solver != "sgd" else "",
            note="; ".join(note), trace=(times, costs),
        )
        if capped and not reached:
            run.time_to_target = f"> cap ({self.p.cap:g} s)"
        return run

    def sk_tol_search(self, solver):
        """Fastest run over TOL_GRID that reaches the target (binary search; cached)."""
        if ("sk", solver) in self.skipped:
            return Run("scikit-learn", solver, note=self.skipped[("sk", solver)], skipped=True,
                       time_to_target=f"> cap ({self.p.cap:g} s)")
        if ("sk", solver) not in {("sk", s) for s in self.p.sk_ref}:
            reason = self._skip_reason("sk", solver)
            if reason:
                return Run("scikit-learn", solver, note=reason, skipped=True)
        return self._tol_search("scikit-learn", solver, lambda tol: self._sk_at(solver, tol)[:3],
                                max_iter_of=lambda tol: self.sk_cache[(solver, tol)][3])

    def ld_tol_search(self, solver="auto"):
        def at(tol):
            if tol not in self.ld_tol_cache:
                secs, Js, iters = [], None, None
                for _ in range(self.p.repeats):
                    est, times, costs, total, capped = ld_fit(self.p, solver, tol, BIG_ITER, self.p.cap)
                    secs.append(total)
                    if capped:
                        Js, iters = min(costs), len(costs) - 1
                        break
                    Js, iters = self.p.score(est.coef_, est.intercept_), est.n_iter_
                    if total > 1.0:
                        break
                self.ld_tol_cache[tol] = (median(secs), Js, iters)
            return self.ld_tol_cache[tol]

        return self._tol_search("logitdescent", f"{solver} (tol sequence)", at, max_iter_of=lambda tol: BIG_ITER)

    def _tol_search(self, library, solver, at, max_iter_of):
        probes = {}

        def probe(i):
            if i not in probes:
                probes[i] = at(TOL_GRID[i])
            return self.reached(probes[i][1])

        hi = len(TOL_GRID) - 1
        if not probe(hi):
            seconds, J, n_iter = probes[hi]
            capped = n_iter >= max_iter_of(TOL_GRID[hi])
            return Run(library, solver, time_to_target=f"> cap ({self.p.cap:g} s)" if capped else None,
                       fit_time=seconds, n_iter=n_iter, reached=False, best_gap=rel_gap(J, self.Jstar),
                       setting=f"tol={TOL_GRID[hi]:g}",
                       note=("hit max_iter (time cap)" if capped else "stops above the optimum"),
                       probes=self._probe_list(probes))
        lo = 0
        spent = 0.0
        budget_note = ""
        while lo < hi:
            if spent > 2 * self.p.cap:  # the search itself is capped: keep the fastest reaching run so far
                budget_note = f"; search stopped after {spent:.0f} s (budget 2 x cap): fastest reaching run so far"
                break
            mid = (lo + hi) // 2
            t0 = perf()
            if probe(mid):
                hi = mid
            else:
                lo = mid + 1
            spent += perf() - t0
        seconds, J, n_iter = probes[hi]
        return Run(library, solver, time_to_target=seconds, fit_time=seconds, n_iter=n_iter, reached=True,
                   best_gap=rel_gap(J, self.Jstar), setting=f"tol={TOL_GRID[hi]:g}",
                   note=f"{len(probes)} tol probes" + (f", median of <= {self.p.repeats} runs (1 if > 1 s)"
                                                      if self.p.repeats > 1 else "")
                   + budget_note,
                   probes=self._probe_list(probes))

    def _probe_list(self, probes):
        return [(TOL_GRID[i], s, rel_gap(J, self.Jstar), it) for i, (s, J, it) in sorted(probes.items())]

    def sk_sgd(self):
        """SGDClassifier for 1, 2, 4, ... epochs (tol=None) until the target, the cap or the epoch limit."""
        p = self.p
        probes, best = [], None
        epochs = 1
        total = 0.0
        while epochs <= p.sk_sgd_max_epochs:
            seconds, J, n_iter = sk_fit(p, "sgd", None, epochs, repeats=p.repeats if p.m < 10_000 else 1)
            gap = rel_gap(J, self.Jstar)
            probes.append((epochs, seconds, gap, n_iter))
            total += seconds
            if best is None or gap < best[2]:
                best = (epochs, seconds, gap, n_iter)
            if gap <= TARGET or 2 * seconds > p.cap:
                break
            epochs *= 2
        log(f"{p.name}: scikit-learn SGDClassifier: best gap {best[2]:.1e} after {best[0]} epochs")
        epochs, seconds, gap, n_iter = best
        return Run("scikit-learn", "SGDClassifier", time_to_target=seconds if gap <= TARGET else None,
                   fit_time=seconds, n_iter=epochs, reached=gap <= TARGET, best_gap=gap,
                   setting=f"max_iter={epochs}, tol=None",
                   note=f"epochs tried: {', '.join(str(e) for e, *_ in probes)}", probes=probes)

    # -- phase 3: headline re-timing ---------------------------------------------

    def headline(self, auto_run, sk_best):
        """Re-time ld auto (callback) and the fastest scikit-learn run in interleaved rounds."""
        p = self.p
        rounds = p.headline_rounds
        if sk_best is None or not auto_run.reached or rounds <= 1:
            return None
        solver = sk_best.solver
        tol = float(sk_best.setting.split("=")[1])
        max_iter = sk_max_iter(p, solver)
        pair = float(auto_run.time_to_target or 0.0) + float(sk_best.time_to_target or 0.0)
        rounds = min(rounds, max(3, int(HEADLINE_BUDGET_S / max(pair, 1e-3))))
        ld_t, sk_t = [], []
        for r in range(rounds):
            order = (0, 1) if r % 2 == 0 else (1, 0)
            for which in order:
                if which == 0:
                    est, times, costs, total, capped = ld_fit(p, "auto", REF_TOL, BIG_ITER, p.cap,
                                                              stop_below=self.Jstar * (1 + TARGET))
                    ld_t.append(next((t for t, c in zip(times, costs) if self.reached(c)), None))
                else:
                    seconds, J, n_iter = sk_fit(p, solver, tol, max_iter)
                    sk_t.append(seconds if self.reached(J) else None)
        ld_med, sk_med = median(ld_t), median(sk_t)
        if ld_med is None or sk_med is None:
            return None
        return {"rounds": rounds, "ld_auto_s": ld_med, "sk_s": sk_med, "sk": f"{solver} {sk_best.setting}",
                "ratio": ld_med / sk_med, "ld_samples": ld_t, "sk_samples": sk_t}


def run_problem(problem, with_ld_tol_seq=True, extra_notes=None):
    """Everything for one problem; returns (markdown, result dict)."""
    from .common import GUARD

    noise = [GUARD.wait(problem.name)]
    s = Session(problem)
    t_start = perf()
    s.run_ld_traces()
    s.run_sk_refs()
    s.compute_Jstar()
    log(f"{problem.name}: J* = {s.Jstar:.12g} from {s.Jstar_source}")
    runs = [s.ld_result(solver) for solver in problem.ld_solvers]
    if with_ld_tol_seq and "auto" in problem.ld_solvers:
        runs.insert(1, s.ld_tol_search("auto"))
    sk_runs = []
    for solver in problem.sk_solvers:
        sk_runs.append(s.sk_sgd() if solver == "sgd" else s.sk_tol_search(solver))
    runs += sk_runs
    # best scikit-learn (among the reference solvers) and the headline ratio
    candidates = [r for r in sk_runs if r.solver in problem.sk_ref and r.reached]
    sk_best = min(candidates, key=lambda r: r.time_to_target) if candidates else None
    auto = next((r for r in runs if r.library == "logitdescent" and r.solver == "auto"), None)
    auto_seq = next((r for r in runs if r.solver == "auto (tol sequence)"), None)
    head = s.headline(auto, sk_best) if auto is not None else None
    elapsed = perf() - t_start
    noise.append(GUARD.check(problem.name))
    noise = [n for n in noise if n]

    md = []
    rows = []
    for r in runs:
        ratio = None
        if sk_best is not None and isinstance(r.time_to_target, float):
            ratio = r.time_to_target / sk_best.time_to_target
        rows.append([
            r.label(), fmt_time(r.time_to_target) if r.time_to_target is not None else "not reached",
            fmt_ratio(ratio), f"{fmt_time(r.fit_time)}" + (f" ({r.setting})" if r.setting else ""),
            "-" if r.n_iter is None else r.n_iter, "yes" if r.reached else "no", fmt_gap(r.best_gap), r.note,
        ])
    md.append(
        f"J* = {s.Jstar:.12g} ({s.Jstar_source}); reference candidates: "
        + "; ".join(f"{src}: {'+' if J > s.Jstar else ''}{rel_gap(J, s.Jstar):.1e}" for J, src in s.candidates)
        + "\n"
    )
    from .common import md_table
    md.append(md_table(
        ["solver", "time to target", "ratio to best sklearn", "fit time (setting)", "iterations", "reached",
         "best rel. gap", "note"], rows, align="lrrrrrrl"))
    verdict = None
    if auto is not None and sk_best is not None and auto.reached:
        single = auto.time_to_target / sk_best.time_to_target
        if head is not None:
            ratio = head["ratio"]
            src = (f"median of {head['rounds']} interleaved rounds: logitdescent auto {fmt_time(head['ld_auto_s'])} "
                   f"vs scikit-learn {head['sk']} {fmt_time(head['sk_s'])}")
        else:
            ratio = single
            src = "single runs above"
        verdict = ratio
        line = (f"\n**Headline: logitdescent auto / fastest scikit-learn ({sk_best.solver}) = {ratio:.2f}** ({src})")
        if problem.goal is not None:
            line += f"; goal <= {problem.goal:g}: **{'PASS' if ratio <= problem.goal else 'FAIL'}**"
        if auto_seq is not None and auto_seq.reached:
            line += (f". Like-for-like (auto also by tol sequence, single runs): "
                     f"{auto_seq.time_to_target / sk_best.time_to_target:.2f}")
        md.append(line + ".")
    elif auto is not None:
        md.append("\n**Headline ratio not available** (" + (
            "logitdescent auto did not reach the target" if not auto.reached else
            "no scikit-learn reference solver reached the target") + ").")
    for note in (extra_notes or []) + problem.notes:
        md.append(f"\n{note}")
    if noise:
        md.append("\n**Noise warning**: " + "; ".join(noise) + " (timings of this problem may be inflated).")
    md.append(f"\n(time spent on this problem: {elapsed:.0f} s)\n")
    result = {
        "problem": problem.name, "m": problem.m, "n": problem.n, "C": problem.C,
        "dtype": str(getattr(problem.X, "dtype", "")), "Jstar": s.Jstar, "Jstar_source": s.Jstar_source,
        "runs": [{k: v for k, v in r.__dict__.items() if k != "trace"} for r in runs],
        "headline": head, "ratio": verdict, "noise": noise, "goal": problem.goal, "seconds": elapsed,
        "sk_best": None if sk_best is None else {
            "solver": sk_best.solver, "setting": sk_best.setting, "time_to_target": sk_best.time_to_target},
    }
    best_est = None
    for solver in problem.ld_ref:
        if solver in s.ld_runs and not s.ld_runs[solver][-1][4]:
            best_est = s.ld_runs[solver][-1][0]
            break
    del s
    gc.collect()
    return "\n".join(md), result, best_est


def warm_up_solvers():
    """Fit every solver once on tiny data (dense float64/float32, sparse, multinomial) so that no timed
    fit pays for imports, Numba cache loads or first-call setup."""
    from logitdescent import LogisticRegression as LD
    from sklearn.linear_model import LogisticRegression as SK, SGDClassifier

    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 8))
    y = (X[:, 0] + 0.5 * rng.standard_normal(300) > 0).astype(np.float64)
    y3 = np.digitize(X[:, 0], [-0.5, 0.5])
    ctx = _quiet()
    try:
        for Xv in (X, X.astype(np.float32), sp.csr_matrix(X)):
            for s in ("auto", "gd", "nesterov", "lbfgs", "newton", "lbfgs-newton", "precond-lbfgs", "sgd"):
                LD(solver=s, max_iter=20).fit(Xv, y)
            LD(solver="lbfgs", penalty="l1", max_iter=20).fit(Xv, y)
            LD(solver="nesterov", penalty="l1", max_iter=20).fit(Xv, y)
            for s in ("lbfgs", "newton-cholesky"):
                SK(solver=s, max_iter=20).fit(Xv, y)
            SGDClassifier(loss="log_loss", max_iter=2, tol=None).fit(Xv, y)
        for s in ("auto", "lbfgs", "nesterov"):
            LD(solver=s, max_iter=20).fit(X, y3)
        for s in ("lbfgs", "newton-cholesky"):
            SK(solver=s, max_iter=20).fit(X, y3)
        for s in ("saga", "liblinear"):
            SK(solver=s, l1_ratio=1.0, max_iter=20, fit_intercept=False).fit(sp.csr_matrix(X), y)
    finally:
        ctx.__exit__(None, None, None)


def single_thread_check(problem, result, rounds=5):
    """Re-time logitdescent auto and the fastest scikit-learn fit with BLAS/OpenMP limited to one thread.

    Small problems spend their time waking BLAS threads; this measures how much one thread saves.
    Returns a Markdown line or ''.
    """
    from threadpoolctl import threadpool_limits

    sk_best = result.get("sk_best")
    if sk_best is None:
        return ""
    Jstar = result["Jstar"]
    solver = sk_best["solver"]
    tol = float(sk_best["setting"].split("=")[1])
    timings = {}
    for limit in (None, 1):
        ld_t, sk_t = [], []
        with threadpool_limits(limits=limit):
            for _ in range(rounds):
                est, times, costs, total, capped = ld_fit(problem, "auto", REF_TOL, BIG_ITER, problem.cap,
                                                          stop_below=Jstar * (1 + TARGET))
                ld_t.append(next((t for t, c in zip(times, costs) if rel_gap(c, Jstar) <= TARGET), None))
                seconds, J, n_iter = sk_fit(problem, solver, tol, sk_max_iter(problem, solver))
                sk_t.append(seconds if rel_gap(J, Jstar) <= TARGET else None)
        timings[limit] = (median(ld_t), median(sk_t))
    (ld_d, sk_d), (ld_1, sk_1) = timings[None], timings[1]
    if None in (ld_d, sk_d, ld_1, sk_1):
        return ""
    return (f"With BLAS and OpenMP limited to **one thread** (`threadpoolctl.threadpool_limits(1)`, median of "
            f"{rounds} interleaved rounds): logitdescent auto {fmt_time(ld_1)} (default threads: {fmt_time(ld_d)}, "
            f"{ld_d / ld_1:.2f}x the one-thread time), scikit-learn {solver} {sk_best['setting']} {fmt_time(sk_1)} "
            f"(default: {fmt_time(sk_d)}, {sk_d / sk_1:.2f}x); ratio with one thread {ld_1 / sk_1:.2f}.")
