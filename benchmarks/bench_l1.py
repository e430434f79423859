"""L1 and elastic-net side by side: logitdescent's newton-cd, glum's irls-cd, scikit-learn's saga.

    .venv/bin/python benchmarks/bench_l1.py [--quick] [--out benchmarks/results/l1.md]

Protocol (issue 20). For each data set and penalty (lasso, elastic-net 0.5):

* J* is the lowest full cost (scikit-learn's objective divided by C S) that any
  library reaches at its tightest tolerance; every run is scored by the same
  function (logitdescent's objective).
* Each library's time to a relative gap (J - J*) / |J*| <= 1e-8 is the time of
  its *loosest* tolerance in a shared grid that reaches the gap (found in a
  calibration pass); then rounds run the libraries interleaved at those
  tolerances, and the table gives medians.
* "tight": each library at tol 1e-10 (glum's ``gradient_tol``, our ``tol``:
  both are max-norm optimality conditions).
* Paths: 20 and 100 values of C geometric from 1.5x the smallest useful C to
  1000x it, warm starts in both libraries (glum: ``alpha_search`` with the
  same alphas); the gap is the largest over the grid.

glum's alpha is 1 / (C S) (its sample weights are normalized to sum 1): the
mapping is checked numerically before timing (our optimality at glum's tight
optimum). saga is run at tol 1e-4 ... 1e-8 with an iteration cap: where it
does not reach the gap the table says so and gives a lower bound.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from glum import GeneralizedLinearRegressor  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression as SkLogisticRegression  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from logitdescent._blas import blas_context  # noqa: E402
from logitdescent.objective import LogisticObjective  # noqa: E402
from logitdescent.path import logistic_path, smallest_useful_C  # noqa: E402
from logitdescent.solvers import SOLVERS  # noqa: E402

GAP = 1e-8
#: Our fits run inside the library's own BLAS policy (``blas_context``, what
#: ``LogisticRegression.fit`` and ``logistic_path`` enter): one BLAS thread for
#: newton-cd, whose BLAS calls are Gram matrices of a few dozen columns (two
#: spinning BLAS threads next to the kernel's made a 20-value path 10x slower
#: on the shared 2-core machine). A fresh ``threadpool_limits`` per fit would
#: re-inspect the loaded libraries each time (~1.7 ms, half of a breast-cancer fit).
TOLS = [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10]
SAGA_TOLS = [1e-4, 1e-6, 1e-8]


# -- data -------------------------------------------------------------------

def ar1(m, n, rho=0.9, seed=0):
    rng = np.random.default_rng(seed)
    X = np.empty((m, n))
    X[:, 0] = rng.standard_normal(m)
    for j in range(1, n):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(m)
    w = np.zeros(n)
    idx = rng.choice(n, 20, replace=False)
    w[idx] = rng.standard_normal(20)
    y = (rng.random(m) < 1 / (1 + np.exp(-(X @ w + 0.5)))).astype(float)
    return X, y


def wide(m, n, k=50, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    w = np.zeros(n)
    w[rng.choice(n, k, replace=False)] = rng.standard_normal(k)
    y = (rng.random(m) < 1 / (1 + np.exp(-(X @ w)))).astype(float)
    return X, y


def sparse(m, n, density=0.01, seed=2):
    rng = np.random.default_rng(seed)
    X = sp.random(m, n, density=density, format="csr", random_state=rng, data_rvs=rng.standard_normal)
    w = np.zeros(n)
    w[rng.choice(n, 100, replace=False)] = 3 * rng.standard_normal(100)
    y = (rng.random(m) < 1 / (1 + np.exp(-(X @ w)))).astype(float)
    return X, y


def breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y.astype(float)


# -- the libraries ---------------------------------------------------------

def cost(X, y, C, rho, theta):
    objective = LogisticObjective(X, y, C=C, l1_ratio=rho)
    J, _ = objective.loss_grad(theta)
    return objective.value(theta, J)


def fit_ours(X, y, C, rho, tol):
    t0 = time.perf_counter()
    objective = LogisticObjective(X, y, C=C, l1_ratio=rho)
    with blas_context(objective, "newton-cd"):
        result = SOLVERS["newton-cd"](objective, np.zeros(objective.n_params), max_iter=1000, tol=tol)
    return time.perf_counter() - t0, result.x


def fit_glum(X, y, C, rho, tol):
    model = GeneralizedLinearRegressor(family="binomial", alpha=1.0 / (C * X.shape[0]), l1_ratio=rho,
                                       gradient_tol=tol, max_iter=1000)
    t0 = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - t0, np.append(model.coef_, model.intercept_)


def fit_saga(X, y, C, rho, tol):
    model = SkLogisticRegression(C=C, l1_ratio=rho, solver="saga", tol=tol, max_iter=300)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return time.perf_counter() - t0, np.append(model.coef_, model.intercept_)


def path_ours(X, y, Cs, rho, tol):
    t0 = time.perf_counter()
    coefs, _, _ = logistic_path(X, y, Cs=Cs, l1_ratio=rho, tol=tol, max_iter=1000)  # enters blas_context per fit
    return time.perf_counter() - t0, coefs


def path_glum(X, y, Cs, rho, tol):
    alphas = 1.0 / (np.asarray(Cs) * X.shape[0])  # decreasing alpha = increasing C
    model = GeneralizedLinearRegressor(family="binomial", alpha_search=True, alphas=alphas, l1_ratio=rho,
                                       gradient_tol=tol, max_iter=1000)
    t0 = time.perf_counter()
    model.fit(X, y)
    elapsed = time.perf_counter() - t0
    return elapsed, np.column_stack([model.coef_path_, model.intercept_path_])


# -- protocol ---------------------------------------------------------------

def check_mapping(X, y, C, rho):
    """Our optimality at glum's tight optimum: small only if the objectives agree."""
    _, theta = fit_glum(X, y, C, rho, 1e-12)
    objective = LogisticObjective(X, y, C=C, l1_ratio=rho)
    _, grad = objective.loss_grad(theta)
    return float(np.max(np.abs(objective.optimality(theta, grad))))


def gaps_single(X, y, C, rho, theta, Jstar):
    return (cost(X, y, C, rho, theta) - Jstar) / abs(Jstar)


def calibrate(fits, X, y, C, rho, score, tols):
    """Loosest tol of each library reaching GAP; (tol, gap, time) or (None, best gap, time)."""
    chosen = {}
    for name, fit in fits.items():
        best = None
        for tol in tols[name]:
            elapsed, out = fit(X, y, C, rho, tol)
            gap = score(out)
            best = (tol, gap, elapsed)
            if gap <= GAP:
                break
        chosen[name] = best if best[1] <= GAP else (None, best[1], best[2])
    return chosen


def rounds(fits, X, y, C, rho, chosen, n_rounds):
    times = {name: [] for name in fits}
    for _ in range(n_rounds):
        for name, fit in fits.items():
            tol = chosen[name][0]
            if tol is not None:
                times[name].append(fit(X, y, C, rho, tol)[0])
    return {name: (float(np.median(t)) if t else None) for name, t in times.items()}


def fmt(t):
    return "—" if t is None else (f"{t * 1e3:.0f} ms" if t < 10 else f"{t:.1f} s")


def ratio(a, b):
    return "—" if a is None or b is None else f"{a / b:.2f}×"


def multinomial_l1(quick, n_rounds, only=None):
    """Rows of the multinomial-lasso table: ours (the estimator, solver "auto") vs saga."""
    from sklearn.datasets import load_digits

    from logitdescent import LogisticRegression
    from logitdescent.objective import SoftmaxObjective

    rng = np.random.default_rng(5)
    m, n, K = (5000, 50, 5) if quick else (50_000, 100, 5)
    Xs = rng.standard_normal((m, n))
    W = np.where(rng.random((K, n)) < 0.2, rng.standard_normal((K, n)), 0.0)
    Z = Xs @ W.T
    ys = (Z + rng.gumbel(size=Z.shape)).argmax(axis=1)
    Xd, yd = load_digits(return_X_y=True)
    sets = [("digits standardized 1797 x 64, 10 classes", StandardScaler().fit_transform(Xd), yd),
            (f"synthetic {m:.0e} x {n}, {K} classes", Xs, ys)]
    rows = ["| data | C | nnz | ours | saga | ours/saga | max coef diff |", "|---|---|---|---|---|---|---|"]
    for title, X, y in sets:
        if only and only.lower() not in title.lower():
            continue
        C = 5 * smallest_useful_C(X, y, l1_ratio=1.0)
        classes = np.unique(y)

        def cost_of(coef, intercept):
            objective = SoftmaxObjective(X, np.searchsorted(classes, y), C=C, l1_ratio=1.0, n_outputs=classes.size)
            theta = objective.join(coef, intercept)
            return objective.value(theta, objective.loss_grad(theta)[0])

        def ours(tol):
            model = LogisticRegression(C=C, l1_ratio=1.0, tol=tol, max_iter=1000)
            t0 = time.perf_counter()
            model.fit(X, y)
            return time.perf_counter() - t0, (model.coef_, model.intercept_)

        def saga(tol):
            model = SkLogisticRegression(C=C, l1_ratio=1.0, solver="saga", tol=tol, max_iter=1000)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X, y)
            return time.perf_counter() - t0, (model.coef_, model.intercept_)

        tight = {"ours": ours(1e-10)[1], "saga": saga(1e-8)[1]}
        Jstar = min(cost_of(*c) for c in tight.values())
        chosen = {}
        for name, fit, grid in (("ours", ours, TOLS), ("saga", saga, SAGA_TOLS)):
            for tol in grid:
                elapsed, coefs = fit(tol)
                gap = (cost_of(*coefs) - Jstar) / abs(Jstar)
                if gap <= GAP:
                    break
            chosen[name] = (tol, gap, elapsed)
        times = {"ours": [], "saga": []}
        for _ in range(n_rounds):
            times["ours"].append(ours(chosen["ours"][0])[0])
            if chosen["saga"][1] <= GAP:
                times["saga"].append(saga(chosen["saga"][0])[0])
        mo = float(np.median(times["ours"]))
        ms = float(np.median(times["saga"])) if times["saga"] else None
        saga_txt = (f"{fmt(ms)} (tol {chosen['saga'][0]:g})" if ms is not None
                    else f"> {fmt(chosen['saga'][2])} (gap {chosen['saga'][1]:.0e} at tol {chosen['saga'][0]:g})")
        ratio_txt = ratio(mo, ms) if ms is not None else f"< {mo / chosen['saga'][2]:.2f}×"
        diff = float(np.max(np.abs(tight["ours"][0] - tight["saga"][0])))
        rows.append(f"| {title} | {C:.3g} | {int(np.count_nonzero(tight['ours'][0]))} | {fmt(mo)} "
                    f"(tol {chosen['ours'][0]:g}) | {saga_txt} | {ratio_txt} | {diff:.1e} |")
        print(rows[-1], flush=True)
    return rows


def run(quick, out, only=None):
    if quick:
        shapes = {"ar1": (2e4, 100), "wide": (2e3, 500), "sparse": (2e4, 2e3), "rounds": 3, "path100": False}
    else:
        shapes = {"ar1": (1e5, 100), "wide": (1e4, 2000), "sparse": (1e5, 1e4), "rounds": 5, "path100": True}
    datasets = [
        ("AR(1) rho=0.9 {:.0e} x {}".format(*shapes["ar1"]), lambda: ar1(int(shapes["ar1"][0]), shapes["ar1"][1]),
         8e-4),
        ("wide {:.0e} x {}, 50 true nonzeros".format(*shapes["wide"]),
         lambda: wide(int(shapes["wide"][0]), shapes["wide"][1]), None),
        ("sparse CSR {:.0e} x {:.0e}, 1%".format(*shapes["sparse"]),
         lambda: sparse(int(shapes["sparse"][0]), int(shapes["sparse"][1])), None),
        ("breast cancer standardized 569 x 30", breast_cancer, None),
    ]
    if only:
        datasets = [entry for entry in datasets if only.lower() in entry[0].lower()]
    lines = [f"# L1 and elastic-net: newton-cd vs glum vs saga ({'quick' if quick else 'full'} run)", ""]
    lines += [f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}, NumPy {np.__version__}; "
              f"{time.strftime('%Y-%m-%d %H:%M')}. Medians of {shapes['rounds']} interleaved rounds.", ""]
    lines += ["Time to a relative gap of 1e-8 (each library at the loosest tolerance of the grid that gets "
              "there), and at tol 1e-10. Ratios: ours / theirs (goal: ≤ 0.5× glum, ≤ 0.2× saga).", ""]
    single = ["| data | penalty | C | nnz | ours | glum | saga | ours/glum | ours/saga | tight ours | tight glum "
              "| tight ratio | max coef diff vs glum | same support |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    paths = ["| data | penalty | n_C | ours | glum | ours/glum | max gap ours | max gap glum |",
             "|---|---|---|---|---|---|---|---|"]
    notes = []
    for title, make, C in datasets:
        X, y = make()
        c_min = smallest_useful_C(X, y, l1_ratio=1.0)
        for rho, pen in [(1.0, "lasso"), (0.5, "enet 0.5")]:
            C_fit = C if C is not None else 5 * smallest_useful_C(X, y, l1_ratio=rho)
            print(f"[{title} {pen}] C={C_fit:.4g}", flush=True)
            mapping = check_mapping(X, y, C_fit, rho)
            notes.append(f"- {title}, {pen}: our max |optimality| at glum's gradient_tol=1e-12 optimum: "
                         f"{mapping:.1e} (the objectives agree).")
            _, ours_tight = fit_ours(X, y, C_fit, rho, 1e-10)
            _, glum_tight = fit_glum(X, y, C_fit, rho, 1e-10)
            Jstar = min(cost(X, y, C_fit, rho, ours_tight), cost(X, y, C_fit, rho, glum_tight))
            fits = {"ours": fit_ours, "glum": fit_glum, "saga": fit_saga}
            big = X.shape[0] * X.shape[1] * (0.01 if sp.issparse(X) else 1) > 5e6
            if big and not quick:
                fits.pop("saga") if title.startswith("sparse") else None
            tols = {"ours": TOLS, "glum": TOLS, "saga": SAGA_TOLS}
            chosen = calibrate(fits, X, y, C_fit, rho, lambda th: gaps_single(X, y, C_fit, rho, th, Jstar), tols)
            med = rounds(fits, X, y, C_fit, rho, chosen, shapes["rounds"])
            tight = rounds({"ours": fit_ours, "glum": fit_glum}, X, y, C_fit, rho,
                           {"ours": (1e-10,), "glum": (1e-10,)}, shapes["rounds"])
            saga_t = med.get("saga")
            saga_txt = fmt(saga_t) if saga_t is not None else (
                f"> {fmt(chosen['saga'][2])} (gap {chosen['saga'][1]:.0e})" if "saga" in chosen else "not run")
            saga_ratio = ratio(med["ours"], saga_t) if saga_t is not None else (
                f"< {med['ours'] / chosen['saga'][2]:.2f}×" if "saga" in chosen and med["ours"] else "—")
            diff = float(np.max(np.abs(ours_tight - glum_tight)))
            same = np.array_equal(np.abs(ours_tight[:-1]) > 1e-6, np.abs(glum_tight[:-1]) > 1e-6)
            single.append(
                f"| {title} | {pen} | {C_fit:.3g} | {int(np.count_nonzero(ours_tight[:-1]))} | {fmt(med['ours'])} "
                f"(tol {chosen['ours'][0]:g}) | {fmt(med['glum'])} (tol {chosen['glum'][0]:g}) | {saga_txt} | "
                f"{ratio(med['ours'], med['glum'])} | {saga_ratio} | {fmt(tight['ours'])} | {fmt(tight['glum'])} | "
                f"{ratio(tight['ours'], tight['glum'])} | {diff:.1e} | {'yes' if same else 'NO'} |")
            print(single[-1], flush=True)
            for n_C in ([20, 100] if shapes["path100"] else [20]):
                Cs = c_min * np.geomspace(1.5, 1000, n_C) if rho == 1.0 else \
                    smallest_useful_C(X, y, l1_ratio=rho) * np.geomspace(1.5, 1000, n_C)
                _, ref_ours = path_ours(X, y, Cs, rho, 1e-10)
                _, ref_glum = path_glum(X, y, Cs, rho, 1e-10)
                Jstars = [min(cost(X, y, c, rho, a), cost(X, y, c, rho, b)) for c, a, b in zip(Cs, ref_ours, ref_glum)]

                def path_gap(coefs, Cs=Cs, Jstars=Jstars):
                    return max((cost(X, y, c, rho, th) - J) / abs(J) for c, th, J in zip(Cs, coefs, Jstars))

                pfits = {"ours": path_ours, "glum": path_glum}
                chosen_p = {}
                for name, fit in pfits.items():
                    for tol in TOLS:
                        _, coefs = fit(X, y, Cs, rho, tol)
                        gap = path_gap(coefs)
                        if gap <= GAP:
                            break
                    chosen_p[name] = (tol, gap)
                times = {name: [] for name in pfits}
                for _ in range(shapes["rounds"]):
                    for name, fit in pfits.items():
                        times[name].append(fit(X, y, Cs, rho, chosen_p[name][0])[0])
                mo, mg = float(np.median(times["ours"])), float(np.median(times["glum"]))
                paths.append(f"| {title} | {pen} | {n_C} | {fmt(mo)} (tol {chosen_p['ours'][0]:g}) | {fmt(mg)} "
                             f"(tol {chosen_p['glum'][0]:g}) | {mo / mg:.2f}× | {chosen_p['ours'][1]:.0e} | "
                             f"{chosen_p['glum'][1]:.0e} |")
                print(paths[-1], flush=True)
    lines += ["## Single fits", ""] + single + ["", "## Paths (warm starts)", ""] + paths
    lines += ["", "## Multinomial L1 (per-class lasso): newton-cd vs saga", "",
              "glum fits no multinomial model; scikit-learn's saga is the peer. Same protocol: time to a "
              "relative gap of 1e-8 against the better of the two tight (tol 1e-10 / 1e-8) optima.", ""]
    lines += multinomial_l1(quick, shapes["rounds"], only)
    lines += ["", "## Objective mapping checks", ""] + notes + [""]
    with open(out, "w") as fh:
        fh.write("\n".join(lines))
    print(f"wrote {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small shapes, 3 rounds, 20-value paths only")
    parser.add_argument("--out", default=None)
    parser.add_argument("--only", default=None, metavar="TEXT",
                        help="only the data sets whose title contains TEXT (e.g. 'breast'); give --out too")
    args = parser.parse_args()
    here = os.path.dirname(__file__)
    out = args.out or os.path.join(here, "results", "l1.quick.md" if args.quick else "l1.md")
    run(args.quick, out, args.only)


if __name__ == "__main__":
    main()
