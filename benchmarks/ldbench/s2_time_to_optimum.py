"""Section 2: time to the optimum, binary L2-penalized logistic regression (C = 1)."""

from __future__ import annotations

import gc

import numpy as np
import scipy.sparse as sp

from . import data
from .common import Report, fmt_time, goal_mark, log, md_table, perf
from .fitting import Problem, run_problem, single_thread_check, warm_up_solvers

LD_ALL = ("auto", "lbfgs", "precond-lbfgs", "lbfgs-newton", "newton", "nesterov", "gd", "sgd")
LD_F32 = ("auto", "lbfgs", "precond-lbfgs", "lbfgs-newton", "nesterov")
SK_ALL = ("lbfgs", "newton-cholesky", "sgd")
SK_F32 = ("lbfgs", "newton-cholesky")

EXPLAIN = """\
Objective: mean log-loss + ||w||^2 / (2 C m), C = 1 (scikit-learn's objective divided by C m; intercept
not penalized). Every run's `coef_`/`intercept_` is scored by the same function,
`logitdescent.loss_and_grad(w, b, X, y, C=1)` (float32 data: on the exact float64 upcast of X, chunk by
chunk). **Target**: (J - J*) / J* <= 1e-8, where **J*** is the lowest J found by scikit-learn `lbfgs`
(tol=1e-10, max_iter as many as fit in the cap), scikit-learn `newton-cholesky` (tol=1e-10) and
logitdescent `newton`, `lbfgs`, `precond-lbfgs` and `lbfgs-newton` (tol=1e-10; precond-lbfgs and lbfgs-newton
finish with Newton and stand in for newton in the float32 runs) -- scikit-learn's lbfgs alone can stall above the optimum on raw data,
and its float32 fits stop far from it, hence the several references (each candidate's gap to J* is listed;
a fit stopped by the time cap counts with its last recorded cost).

* **logitdescent** solvers: one fit with tol=1e-10 and `fit(X, y, callback=cb)`; `cb(iteration, J)`
  records (seconds since `fit` was called, J) after every iteration; *time to target* = first time the
  recorded J is within target (it includes input validation and setup). *fit time* = the whole tol=1e-10
  fit. `sgd`: max_iter epochs, reports the gap it reaches.
* **logitdescent auto (tol sequence)**: like-for-like with scikit-learn: plain fits at tol in
  1e-3 ... 1e-10, fastest one within target.
* **scikit-learn** `lbfgs`, `newton-cholesky`: plain fits at tol in 1e-3, 1e-4, ..., 1e-10 (binary search:
  a smaller tol only extends the same deterministic iterate sequence); *time to target* = the fastest fit
  whose result is within target. `SGDClassifier(loss="log_loss", penalty="l2", alpha=1/(C m), tol=None)` for
  1, 2, 4, ... epochs: reports the best gap.
* Fits are capped (see "cap"): logitdescent by an exception from the callback, scikit-learn by max_iter =
  cap / estimated seconds per iteration; Newton-type fits whose estimated cost per iteration
  (2 m p^2 + p^3/3 flops at the measured GEMM rate) exceeds cap/3 are not started.
* Every timed fit on data of 8 MiB or more, of either library, starts after a 0.2 s pause: OpenBLAS's
  threads busy-wait ~0.1 s after a call and slow down whatever runs next (the previous fit's threads
  would otherwise still spin during the first passes of the next fit).
* *ratio to best sklearn* = time to target / the faster of scikit-learn lbfgs and newton-cholesky.
  The **headline** ratio re-times logitdescent auto (callback) and that fastest scikit-learn fit in
  interleaved rounds and takes medians. Goals: <= 0.5 on dense data sets, <= 1.0 on breast cancer and sparse.
* float32 runs use a reduced solver list (auto, lbfgs, precond-lbfgs, lbfgs-newton, nesterov vs scikit-learn lbfgs
  and newton-cholesky) to stay within the time budget; J* is computed separately for each dtype.
"""


def hessian_condition(X, y, C, est):
    """Condition number of the Hessian (X^T D X / m + lambda I, intercept included) at ``est``'s solution."""
    from logitdescent.objective import LogisticObjective

    obj = LogisticObjective(X, y.astype(X.dtype), C=C)
    H = obj.hessian(obj.join(est.coef_.astype(np.float64), est.intercept_.astype(np.float64)))
    ev = np.linalg.eigvalsh(H)
    return float(ev[-1] / ev[0]), float(ev[0]), float(ev[-1])


def datasets(cfg):
    a, b, c, d = cfg.shape_a, cfg.shape_b, cfg.shape_c, cfg.shape_d
    return [
        ("a", f"(a) well-conditioned synthetic {a[0]:.0e} x {a[1]}", lambda: data.well_conditioned(*a),
         (np.float64, np.float32), 0.5),
        ("b", f"(b) correlated synthetic {b[0]:.0e} x {b[1]} (Hessian condition ~{cfg.cond_b:.0e})",
         lambda: data.correlated(*b, cond=cfg.cond_b), (np.float64, np.float32), 0.5),
        ("c", f"(c) wide synthetic {c[0]:.0e} x {c[1]}", lambda: data.wide(*c), (np.float64, np.float32), 0.5),
        ("d", f"(d) sparse CSR {d[0]:.0e} x {d[1]:.0e}, density {cfg.density_d:g}",
         lambda: data.sparse_csr(*d, density=cfg.density_d), (np.float64,), 1.0),
        ("e", "(e) breast cancer, raw (unscaled) 569 x 30", data.breast_cancer, (np.float64, np.float32), 1.0),
    ]


def run(cfg, gflops, only=None):
    rep = Report("2. Time to optimum: binary logistic regression, L2, C = 1")
    rep.text(EXPLAIN)
    rep.set_table(["data set", "logitdescent auto", "fastest scikit-learn", "ratio", "goal", "", "timing"],
                  align="lrrrrll", title="Summary (time to within 1e-8 of J*)")
    t0 = perf()
    warm_up_solvers()
    log(f"warmed up all solvers on tiny data in {perf() - t0:.1f} s")
    results = []
    for key, title, make, dtypes, goal in datasets(cfg):
        if only and key not in only:
            continue
        t0 = perf()
        X64, y = make()
        log(f"generated {title} in {perf() - t0:.1f} s")
        small = key == "e"
        for dtype in dtypes:
            if dtype == np.float32 and key not in cfg.f32_datasets:
                continue
            X = X64 if dtype == np.float64 else X64.astype(dtype)
            name = f"({key}) {np.dtype(dtype).name}"
            problem = Problem(
                name=name, X=X, y=y, C=1.0, kind="l2",
                cap=min(cfg.cap, 10.0) if small else cfg.cap,
                repeats=cfg.small_repeats if small else cfg.big_repeats,
                headline_rounds=cfg.headline_rounds_small if small else cfg.headline_rounds_big,
                ld_solvers=LD_ALL if dtype == np.float64 else LD_F32,
                sk_solvers=SK_ALL if dtype == np.float64 else SK_F32,
                ld_ref=("newton", "lbfgs", "precond-lbfgs", "lbfgs-newton"),
                goal=goal, gflops=gflops, sgd_epochs=cfg.sgd_epochs, sk_sgd_max_epochs=cfg.sk_sgd_max_epochs,
            )
            md, res, best_est = run_problem(problem)
            extra = ""
            if dtype == np.float64 and not sp.issparse(X) and best_est is not None and problem.m * problem.n_params**2 <= 2e10:
                t1 = perf()
                cond, lo, hi = hessian_condition(X, y, 1.0, best_est)
                res["hessian_condition"] = cond
                extra = (f"Hessian at the optimum (X^T D X / m + lambda I, intercept row included): condition number "
                         f"**{cond:.3g}** (eigenvalues {lo:.3g} ... {hi:.3g}; computed in {perf() - t1:.1f} s).\n\n")
                log(f"{name}: Hessian condition {cond:.3g}")
            if small:
                line = single_thread_check(problem, res, rounds=cfg.headline_rounds_small)
                if line:
                    md += "\n" + line + "\n"
                    res["single_thread"] = line
                    log(line)
            results.append(res)
            head = res["headline"]
            sk_best = res["sk_best"]
            auto = next(r for r in res["runs"] if r["solver"] == "auto")
            rep.item(f"{key}-{np.dtype(dtype).name}", f"### {title}, {np.dtype(dtype).name}\n\n{extra}{md}", [[
                title.split(" ")[0] + " " + np.dtype(dtype).name,
                fmt_time(head["ld_auto_s"] if head else auto["time_to_target"]),
                (f"{sk_best['solver']} {sk_best['setting']}: "
                 f"{fmt_time(head['sk_s'] if head else sk_best['time_to_target'])}") if sk_best else "-",
                "-" if res["ratio"] is None else f"{res['ratio']:.2f}",
                f"<= {goal:g}", goal_mark(res["ratio"], goal),
                f"{head['rounds']} rounds" if head else "single runs",
            ]])
            del X, problem
            gc.collect()
        del X64, y
        gc.collect()
    return rep, results
