"""Penalty factors and offsets side by side with glum (P1/P2, offset) and statsmodels (offset).

logitdescent's ``penalty_factor=f`` is glum's ``P1 = P2 = f`` with
``alpha = 1 / (C S)``: the same objective, so both must reach the same
coefficients (checked at tol 1e-10 before timing). Times are medians of
interleaved rounds through each library's public estimator at tol 1e-8
(ours: ``tol``, glum: ``gradient_tol``; both are max |optimality|).

The offset rows compare an unpenalized fit with an offset against glum's
``fit(..., offset=)`` and statsmodels' ``Logit(..., offset=)`` (Newton, its
default tolerance), coefficients and time.

    .venv/bin/python benchmarks/bench_features.py [--quick]

writes ``benchmarks/results/features.md`` (``features.quick.md`` with --quick).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

import statsmodels.api as sm  # noqa: E402
from glum import GeneralizedLinearRegressor  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from bench_l1 import ar1  # noqa: E402  (the same AR(1) data as the L1 benchmark)
from ldbench.common import machine_info, machine_markdown  # noqa: E402
from logitdescent import LogisticRegression  # noqa: E402

TOL = 1e-8

NOTES = """Notes:
- An unpenalized fit (the offset rows) first checks the data for separated classes with an exact linear
  program (docs/inference.md, "Separation"), which glum and statsmodels do not do: on the 6366 x 5 fair data
  that check is most of our time (the fit itself takes a few ms).
- glum's time depends on the factors: with some factors 0 (unpenalized features, as here) it takes more
  iterations than with all factors positive; our newton-cd treats an unpenalized feature like the intercept.
- Under load glum's OpenMP threads slow down by up to 100x on this 2-core machine: run when it is quiet."""


def factors(n, seed=3):
    """Random factors in [0.2, 3], a tenth of the features unpenalized (0)."""
    rng = np.random.default_rng(seed)
    f = rng.uniform(0.2, 3.0, n)
    f[rng.choice(n, max(1, n // 10), replace=False)] = 0.0
    return f


def fit_ours(X, y, C, rho, f, tol, offset=None):
    model = LogisticRegression(C=C, l1_ratio=rho, penalty_factor=f, tol=tol, max_iter=10_000)
    t0 = time.perf_counter()
    model.fit(X, y, offset=offset)
    return time.perf_counter() - t0, np.append(model.coef_, model.intercept_)


def fit_glum(X, y, C, rho, f, tol, offset=None):
    alpha = 0.0 if np.isinf(C) else 1.0 / (C * X.shape[0])
    kwargs = {} if f is None else dict(P1=f, P2=f)
    model = GeneralizedLinearRegressor(family="binomial", alpha=alpha, l1_ratio=rho, gradient_tol=tol,
                                       max_iter=1000, **kwargs)
    t0 = time.perf_counter()
    model.fit(X, y, offset=offset)
    return time.perf_counter() - t0, np.append(model.coef_, model.intercept_)


def fit_statsmodels(X, y, offset):
    model = sm.Logit(y, sm.add_constant(X, prepend=False), offset=offset)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Newton from statsmodels' default start can overshoot with an offset: BFGS, then Newton.
        start = model.fit(method="bfgs", disp=0, maxiter=1000).params
        result = model.fit(method="newton", start_params=start, disp=0)
    return time.perf_counter() - t0, np.asarray(result.params)


def medians(fits, rounds):
    times = {name: [] for name in fits}
    for _ in range(rounds):
        for name, fit in fits.items():
            times[name].append(fit()[0])
    return {name: float(np.median(t)) for name, t in times.items()}


def fmt(seconds):
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def run(quick, out):
    m = 20_000 if quick else 100_000
    rounds = 3 if quick else 7
    X_bc, y_bc = load_breast_cancer(return_X_y=True)
    data = {
        f"AR(1) rho=0.9, {m:.0e} x 100": ar1(m, 100),
        "breast cancer, standardized, 569 x 30": (StandardScaler().fit_transform(X_bc), y_bc.astype(float)),
    }
    lines = [f"# Penalty factors and offsets vs glum and statsmodels ({'quick' if quick else 'full'} run)", "",
             f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Medians of {rounds} interleaved "
             f"rounds, each library at tol {TOL:g}; the coefficients are compared at tol 1e-10. "
             "Ratio: ours / glum.", "",
             "## penalty_factor = glum's P1 = P2", "",
             "| data | penalty | C | ours | glum | ours/glum | max coef diff (tol 1e-10) | same support |",
             "|---|---|---|---|---|---|---|---|"]
    for title, (X, y) in data.items():
        f = factors(X.shape[1])
        for pen, rho, C in [("L2", 0.0, 0.01), ("lasso", 1.0, 0.002), ("elastic-net 0.5", 0.5, 0.004)]:
            _, ours = fit_ours(X, y, C, rho, f, 1e-10)
            _, theirs = fit_glum(X, y, C, rho, f, 1e-10)
            diff = float(np.max(np.abs(ours - theirs)))
            same = np.array_equal(np.abs(ours[:-1]) > 1e-6, np.abs(theirs[:-1]) > 1e-6)
            med = medians({"ours": lambda: fit_ours(X, y, C, rho, f, TOL),
                           "glum": lambda: fit_glum(X, y, C, rho, f, TOL)}, rounds)
            lines.append(f"| {title} | {pen} | {C:g} | {fmt(med['ours'])} | {fmt(med['glum'])} | "
                         f"{med['ours'] / med['glum']:.2f}× | {diff:.1e} | {'yes' if same else 'NO'} |")
            print(lines[-1], flush=True)

    lines += ["", "## offset (unpenalized) vs glum and statsmodels' Logit", "",
              "| data | ours | glum | statsmodels | ours/glum | ours/statsmodels | max coef diff vs statsmodels |",
              "|---|---|---|---|---|---|---|"]
    frame = sm.datasets.fair.load_pandas().data
    X = StandardScaler().fit_transform(frame[["rate_marriage", "age", "children", "religious", "educ"]])
    y = (frame["affairs"].to_numpy() > 0).astype(float)
    offset = np.log(frame["yrs_married"].to_numpy())
    X_ar, y_ar = data[next(iter(data))]
    offset_ar = np.random.default_rng(4).standard_normal(X_ar.shape[0])
    for title, (X, y, offset) in {"statsmodels fair, log(years married), 6366 x 5": (X, y, offset),
                                  f"AR(1) {X_ar.shape[0]:.0e} x 100, N(0, 1) offset": (X_ar, y_ar, offset_ar)}.items():
        _, ours = fit_ours(X, y, np.inf, 0.0, None, 1e-10, offset)
        _, ref = fit_statsmodels(X, y, offset)
        med = medians({"ours": lambda: fit_ours(X, y, np.inf, 0.0, None, TOL, offset),
                       "glum": lambda: fit_glum(X, y, np.inf, 0.0, None, TOL, offset),
                       "statsmodels": lambda: fit_statsmodels(X, y, offset)}, rounds)
        lines.append(f"| {title} | {fmt(med['ours'])} | {fmt(med['glum'])} | {fmt(med['statsmodels'])} | "
                     f"{med['ours'] / med['glum']:.2f}× | {med['ours'] / med['statsmodels']:.2f}× | "
                     f"{float(np.max(np.abs(ours - ref))):.1e} |")
        print(lines[-1], flush=True)
    lines += ["", NOTES, "", "## Machine", "", machine_markdown(machine_info()), ""]
    with open(out, "w") as fh:
        fh.write("\n".join(lines))
    print(f"wrote {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2e4 rows instead of 1e5, 3 rounds")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    here = os.path.dirname(__file__)
    out = args.out or os.path.join(here, "results", "features.quick.md" if args.quick else "features.md")
    run(args.quick, out)


if __name__ == "__main__":
    main()
