"""Cross-validation side by side: logitdescent's LogisticRegressionCV, scikit-learn's, glum's GeneralizedLinearRegressorCV.

    .venv/bin/python benchmarks/bench_cv.py [--quick] [--out benchmarks/results/cv.md]

Protocol (issue 17). Every library gets the same 5 stratified folds, the same
10-value grid ``C = logspace(-4, 4, 10)`` (scikit-learn's default grid) and
chooses by held-out log-loss (scikit-learn ``scoring="neg_log_loss"``, glum
by its deviance, the same criterion), for L2 and L1, with refit.

* Reference: scikit-learn at tol 1e-10 for L2 (newton-cholesky), ours at
  tol 1e-10 for L1 (scikit-learn has no L1 solver that gets there: saga's
  stopping rule is on its steps, liblinear penalizes the intercept); the
  table gives the largest deviation from it of every library.
* A run is accurate when it chooses the reference's C and its coefficients
  at that C are within 1e-5 relative (max-norm) of the reference's: the
  refitted ``coef_`` (ours, scikit-learn) and the fold paths at the chosen C
  (all three). Each library is timed at the loosest tolerance of its grid
  that is accurate (found in a calibration pass, loosest first); where none
  is, at its tightest, marked "not reached".
* scikit-learn's L2 solver is the faster of lbfgs and newton-cholesky, its
  L1 solver the faster of saga (at its default max_iter=100 epochs) and
  liblinear (its default tol only: it penalizes the intercept, so no tol
  makes it accurate), an accurate one preferred; the other is reported with
  its calibration run.
* Then rounds run ours, that scikit-learn solver and glum interleaved, and
  the table gives medians.
* glum's alpha is ``1 / (C m_train)`` (its sample weights are normalized to
  sum 1) with ``m_train`` the size of the first fold's training rows; folds
  of another size (at most one row apart) are left out of its path
  deviation, and its refit (the whole path on all rows) is not compared.
* Every library runs its folds one after the other (n_jobs=1); a second
  table times ours with n_jobs=2 in processes and in threads.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))
sys.path.insert(0, HERE)

from bench_l1 import ar1, breast_cancer  # noqa: E402  (the same data sets as the L1 benchmark)
from glum import GeneralizedLinearRegressorCV  # noqa: E402
from joblib import parallel_config  # noqa: E402
from ldbench.common import machine_info, machine_markdown  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegressionCV as SkLogisticRegressionCV  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from logitdescent import LogisticRegressionCV  # noqa: E402

ACCURACY = 1e-5
CS = np.logspace(-4, 4, 10)
OUR_TOLS = [1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-10]
#: liblinear penalizes the intercept, so no tolerance makes it accurate here
#: (tighter ones only take longer: 71 s at 1e-6 on breast cancer): its
#: default alone. saga at scikit-learn's max_iter=100 epochs.
SK_TOLS = {"lbfgs": [1e-6, 1e-8, 1e-10], "newton-cholesky": [1e-4, 1e-6, 1e-8, 1e-10],
           "saga": [1e-4, 1e-6], "liblinear": [1e-4]}
GLUM_TOLS = [1e-4, 1e-6, 1e-8]


# -- one CV fit per library: (seconds, result) --------------------------------

class Result:
    """What a run chose, in one layout: ``paths`` (n_folds, n_Cs, n_dof), ``coef`` (n_dof,) or None."""

    def __init__(self, C, paths, coef, comparable_folds):
        self.C, self.paths, self.coef, self.folds = C, paths, coef, comparable_folds


def _timed_cv(model, X, y, folds):
    """Fit a scikit-learn-layout ``LogisticRegressionCV`` (ours or scikit-learn's), timed."""
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    elapsed = time.perf_counter() - t0
    paths = model.coefs_paths_[:, 0, :, 0, :]
    return elapsed, Result(model.C_, paths, np.append(model.coef_[0], model.intercept_), range(len(folds)))


def run_ours(X, y, folds, l1, tol, n_jobs=1):
    model = LogisticRegressionCV(Cs=CS, cv=folds, l1_ratios=(l1,), scoring="neg_log_loss", tol=tol,
                                 use_legacy_attributes=False, n_jobs=n_jobs)
    return _timed_cv(model, X, y, folds)


def run_sklearn(X, y, folds, l1, tol, solver):
    max_iter = 100 if solver == "saga" else 1000
    model = SkLogisticRegressionCV(Cs=CS, cv=folds, l1_ratios=(l1,), scoring="neg_log_loss", tol=tol,
                                   solver=solver, max_iter=max_iter, use_legacy_attributes=False)
    return _timed_cv(model, X, y, folds)


def run_glum(X, y, folds, l1, tol):
    m_train = len(folds[0][0])
    alphas = 1.0 / (CS * m_train)
    model = GeneralizedLinearRegressorCV(family="binomial", alphas=alphas, l1_ratio=l1, cv=folds,
                                         gradient_tol=tol, max_iter=1000)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    elapsed = time.perf_counter() - t0
    # glum sorts alphas decreasing = C increasing, our grid's order.
    paths = np.concatenate([model.coef_path_[:, 0], model.intercept_path_[:, 0]], axis=-1)
    C = 1.0 / (model.alpha_ * m_train)
    same_size = [f for f, (train, _) in enumerate(folds) if len(train) == m_train]
    return elapsed, Result(C, paths, None, same_size)


# -- accuracy -----------------------------------------------------------------

def deviations(result, ref):
    """(same C, at-C path deviation, all-C path deviation, coef deviation or None)."""
    iC = int(np.argmin(np.abs(CS - ref.C)))
    folds = list(result.folds)

    def rel(a, b):
        return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))

    at_c = max(rel(result.paths[f, iC], ref.paths[f, iC]) for f in folds)
    every = max(rel(result.paths[f, i], ref.paths[f, i]) for f in folds for i in range(CS.size))
    coef = None if result.coef is None else rel(result.coef, ref.coef)
    same = bool(np.isclose(result.C, ref.C, rtol=1e-9))
    return same, at_c, every, coef


def accurate(result, ref):
    same, at_c, _, coef = deviations(result, ref)
    return same and at_c <= ACCURACY and (coef is None or coef <= ACCURACY)


def calibrate(name, fit, tols, ref, log):
    """The loosest accurate tol: (tol, reached, seconds of the calibration run, result)."""
    for tol in tols:
        elapsed, result = fit(tol)
        same, at_c, every, coef = deviations(result, ref)
        ok = accurate(result, ref)
        log.append(f"{name} tol {tol:g}: {elapsed:.3f} s, C {result.C:.4g} ({'same' if same else 'DIFFERENT'}), "
                   f"at-C dev {at_c:.1e}, all-C dev {every:.1e}, coef dev {coef if coef is None else f'{coef:.1e}'}"
                   f"{'  <- accurate' if ok else ''}")
        print(log[-1], flush=True)
        if ok:
            return tol, True, elapsed, result
    return tol, False, elapsed, result


def fmt(t):
    return "—" if t is None else (f"{t * 1e3:.0f} ms" if t < 10 else f"{t:.1f} s")


def run(quick, out):
    started = time.time()
    load_start = os.getloadavg()
    ar_rows = 20_000 if quick else 100_000
    datasets = [("breast cancer standardized 569 x 30", breast_cancer, 3 if quick else 9),
                (f"AR(1) rho=0.9 {ar_rows:.0e} x 100", lambda: ar1(ar_rows, 100), 1 if quick else 3)]
    rows, par_rows, log = [], [], []
    for title, make, n_rounds in datasets:
        X, y = make()
        folds = list(StratifiedKFold(5).split(X, y))
        run_ours(X, y, folds, 0.0, 1e-4)  # compile and warm up outside the timings
        for l1, pen in [(0.0, "L2"), (1.0, "L1")]:
            print(f"[{title} {pen}]", flush=True)
            log.append(f"[{title} {pen}]")
            if l1 == 0.0:
                _, ref = run_sklearn(X, y, folds, l1, 1e-10, "newton-cholesky")
                ref_name = "scikit-learn newton-cholesky, tol 1e-10"
                sk_solvers = ["lbfgs", "newton-cholesky"]
            else:
                _, ref = run_ours(X, y, folds, l1, 1e-10)
                ref_name = "logitdescent, tol 1e-10"
                sk_solvers = ["saga", "liblinear"]
            fits = {"ours": (lambda tol: run_ours(X, y, folds, l1, tol), OUR_TOLS)}
            for s in sk_solvers:
                fits[f"sklearn {s}"] = (lambda tol, s=s: run_sklearn(X, y, folds, l1, tol, s), SK_TOLS[s])
            fits["glum"] = (lambda tol: run_glum(X, y, folds, l1, tol), GLUM_TOLS)
            chosen = {name: calibrate(name, fit, tols, ref, log) for name, (fit, tols) in fits.items()}
            # scikit-learn's solver: accurate first, then faster (by the calibration run); only it is re-timed.
            sk = min((s for s in fits if s.startswith("sklearn")), key=lambda s: (not chosen[s][1], chosen[s][2]))
            timed = ["ours", sk, "glum"]
            times = {name: [] for name in timed}
            for _ in range(n_rounds):
                for name in timed:
                    times[name].append(fits[name][0](chosen[name][0])[0])
            med = {name: float(np.median(t)) for name, t in times.items()}
            med.update({name: chosen[name][2] for name in fits if name not in timed})
            dev = {name: deviations(chosen[name][3], ref) for name in fits}

            def cell(name):
                tol, ok, _, _ = chosen[name]
                return f"{fmt(med[name])} (tol {tol:g}{'' if ok else ', not reached'})"

            def devcell(name):
                same, at_c, every, coef = dev[name]
                c = "" if coef is None else f", coef {coef:.0e}"
                return f"{at_c:.0e}{c}; all C {every:.0e}"

            goal = 0.3 if l1 == 0.0 else 0.2
            rows.append(
                f"| {title} | {pen} | {ref.C:.4g} | {cell('ours')} | {cell(sk)} {sk.split()[1]} | {cell('glum')} | "
                f"{med['ours'] / med[sk]:.2f}× (goal ≤ {goal}{'' if chosen[sk][1] else '; sklearn not accurate'}) | "
                f"{med['ours'] / med['glum']:.2f}× | "
                f"{chosen['ours'][3].C:.4g} / {chosen[sk][3].C:.4g} / {chosen['glum'][3].C:.4g} | "
                f"{devcell('ours')} | {devcell(sk)} | {devcell('glum')} |")
            print(rows[-1], flush=True)
            others = [n for n in fits if n.startswith("sklearn") and n != sk]
            for n in others:
                log.append(f"{n}: {fmt(med[n])} (calibration run) at tol {chosen[n][0]:g}"
                           f"{'' if chosen[n][1] else ' (not accurate)'}; deviations {devcell(n)}")
            log.append(f"reference: {ref_name}; rounds: {n_rounds}")

            # Parallel folds: ours at its chosen tol, n_jobs=2 in processes (the default backend) and threads.
            tol = chosen["ours"][0]
            run_ours(X, y, folds, l1, tol, n_jobs=2)  # start the worker processes outside the timings
            par = {"1": [], "2 processes": [], "2 threads": []}
            for _ in range(n_rounds):
                par["1"].append(run_ours(X, y, folds, l1, tol)[0])
                par["2 processes"].append(run_ours(X, y, folds, l1, tol, n_jobs=2)[0])
                with parallel_config(backend="threading"):
                    par["2 threads"].append(run_ours(X, y, folds, l1, tol, n_jobs=2)[0])
            pm = {k: float(np.median(v)) for k, v in par.items()}
            par_rows.append(f"| {title} | {pen} | {fmt(pm['1'])} | {fmt(pm['2 processes'])} "
                            f"({pm['2 processes'] / pm['1']:.2f}×) | {fmt(pm['2 threads'])} "
                            f"({pm['2 threads'] / pm['1']:.2f}×) |")
            print(par_rows[-1], flush=True)

    info = machine_info()
    info["load average (start)"] = " ".join(f"{v:.2f}" for v in load_start)
    info["load average (end)"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
    info["run time"] = f"{time.time() - started:.0f} s"
    lines = [f"# Cross-validation (LogisticRegressionCV): logitdescent vs scikit-learn vs glum "
             f"({'quick' if quick else 'full'} run)", "",
             f"`.venv/bin/python benchmarks/bench_cv.py{' --quick' if quick else ''}`, "
             f"{time.strftime('%Y-%m-%d %H:%M')}. 5 stratified folds, C = logspace(-4, 4, 10), chosen by held-out "
             "log-loss, refit; folds one after the other (n_jobs=1). Medians of interleaved rounds (9 on breast "
             "cancer, 3 on AR(1)). Each library at the loosest tolerance that chooses the reference's C and gets "
             "the coefficients at that C within 1e-5 relative (max-norm) of the reference (scikit-learn "
             "newton-cholesky at tol 1e-10 for L2, ours at 1e-10 for L1); scikit-learn's column is its faster "
             "solver (L2: lbfgs or newton-cholesky; L1: saga or liblinear). Deviations: at the chosen C (fold "
             "paths; the refitted coef_ where given), then the largest over all C.", "",
             "| data | penalty | C (ref) | ours | scikit-learn | glum | ours / sklearn | ours / glum | chosen C "
             "ours / sklearn / glum | deviation ours | deviation sklearn | deviation glum |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"] + rows
    lines += ["", "Ours with the folds in parallel (n_jobs=2; joblib's worker processes started before timing):", "",
              "| data | penalty | n_jobs=1 | n_jobs=2, processes | n_jobs=2, threads |", "|---|---|---|---|---|"]
    lines += par_rows
    lines += ["", "Calibration and notes:", "", "```"] + log + ["```", "", "Machine:", "", machine_markdown(info), ""]
    with open(out, "w") as fh:
        fh.write("\n".join(lines))
    print(f"wrote {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="AR(1) with 2e4 rows, fewer rounds")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    out = args.out or os.path.join(HERE, "results", "cv.quick.md" if args.quick else "cv.md")
    run(args.quick, out)


if __name__ == "__main__":
    main()
