"""Section 3: peak memory of ``fit``, each fit in a fresh subprocess."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from . import data
from .common import SCRATCH_DIR, Report, fmt_bytes, fmt_time, goal_mark, log, perf

CHILD = Path(__file__).resolve().parent / "memchild.py"

FITS = (
    ("logitdescent", "auto"),
    ("sklearn", "lbfgs"),
    ("logitdescent", "lbfgs"),
    ("sklearn", "newton-cholesky"),
    ("logitdescent", "newton"),
)


def _datasets(cfg):
    a, c, d = cfg.shape_a, cfg.shape_c, cfg.shape_d
    return {
        "a64": (f"(a) {a[0]:.0e} x {a[1]} float64", lambda: data.well_conditioned(*a), np.float64, f"a_{a[0]}x{a[1]}"),
        "a32": (f"(a) {a[0]:.0e} x {a[1]} float32", lambda: data.well_conditioned(*a), np.float32, f"a_{a[0]}x{a[1]}"),
        "c64": (f"(c) {c[0]:.0e} x {c[1]} float64", lambda: data.wide(*c), np.float64, f"c_{c[0]}x{c[1]}"),
        "d64": (f"(d) {d[0]:.0e} x {d[1]:.0e} CSR float64", lambda: data.sparse_csr(*d, density=cfg.density_d),
                np.float64, f"d_{d[0]}x{d[1]}_{cfg.density_d:g}"),
    }


def _save(key, make, dtype, stem):
    """Generate once and save under benchmarks/_scratch/ (reused by later runs)."""
    SCRATCH_DIR.mkdir(parents=True, exist_ok=True)
    sparse = key.startswith("d")
    xpath = SCRATCH_DIR / f"mem_{stem}_{np.dtype(dtype).name}.{'npz' if sparse else 'npy'}"
    ypath = SCRATCH_DIR / f"mem_{stem}_y.npy"
    if not (xpath.exists() and ypath.exists()):
        t0 = perf()
        X, y = make()
        if sparse:
            sp.save_npz(xpath, X, compressed=False)
        else:
            np.save(xpath, X.astype(dtype, copy=False))
        np.save(ypath, y)
        log(f"saved {xpath.name} in {perf() - t0:.1f} s")
        del X, y
        gc.collect()
    if sparse:
        X = sp.load_npz(xpath)
        shape, nbytes = X.shape, data.nbytes(X.tocsr())
        del X
    else:
        X = np.load(xpath, mmap_mode="r")
        shape, nbytes = X.shape, X.nbytes
        del X
    return str(xpath), str(ypath), shape, nbytes


def _params(library, solver, problem_params):
    if library == "logitdescent":
        return {"C": 1.0, "solver": solver, "tol": 1e-6, "max_iter": problem_params["max_iter"]}
    return {"C": 1.0, "l1_ratio": 0.0, "solver": solver, "tol": 1e-6, "max_iter": problem_params["max_iter"]}


def run(cfg, only=None):
    rep = Report("3. Memory: peak resident memory of fit")
    rep.text(
        "Each fit runs in a fresh Python subprocess (`benchmarks/ldbench/memchild.py`): it warms up on a tiny "
        "problem, loads X with `np.load(mmap_mode=None)` (or `scipy.sparse.load_npz`) from `benchmarks/_scratch/`, "
        "resets the peak counter (`/proc/self/clear_refs` <- 5), reads VmRSS, calls `fit(X, y)` (C=1, tol=1e-6, "
        "max_iter 100; Newton fits max_iter=1: their peak comes with the first Hessian), then reads VmHWM. "
        "**extra** = VmHWM during the fit - VmRSS before it: the memory the fit itself adds. "
        "**allowance** = 0.1 X.nbytes + 80 m + 32 p^2 bytes + 16 MiB (the goal: extra <= 0.1 X.nbytes + O(m + p^2), "
        "here 10 float64 m-vectors and 4 float64 p x p matrices). peak / X.nbytes includes X itself and the "
        "interpreter (~100-200 MB of libraries).\n"
    )
    rep.set_table(["data", "X.nbytes", "fit", "RSS before fit", "peak (VmHWM)", "extra", "extra / X.nbytes",
                   "peak / X.nbytes", "allowance", "goal", "fit time"], align="lrlrrrrrrll")
    sets = _datasets(cfg)
    keys = [k for k in cfg.mem_datasets if (not only or k in only)]
    results = []
    for key in keys:
        rows = []
        title, make, dtype, stem = sets[key]
        xpath, ypath, shape, nbytes = _save(key, make, dtype, stem)
        m, n = shape
        for library, solver in (FITS[:2] if cfg.mem_quick else FITS):
            p = n + 1
            newtonish = solver in ("newton-cholesky", "newton")
            if newtonish and key.startswith("d"):
                rows.append([title, fmt_bytes(nbytes), f"{'logitdescent' if library == 'logitdescent' else 'scikit-learn'} "
                             f"{solver}", "-", "-", "-", "-", "-", "-", "not run",
                             "skipped: a dense 1e4 x 1e4 Hessian per iteration exceeds the time cap"])
                continue
            spec = {"X": xpath, "y": ypath, "library": library, "dtype": np.dtype(dtype).name,
                    "params": _params(library, solver, {"max_iter": 1 if newtonish else 100})}
            t0 = perf()
            proc = None
            try:
                proc = subprocess.run([sys.executable, str(CHILD), json.dumps(spec)], capture_output=True,
                                      text=True, timeout=max(120.0, 4 * cfg.cap))
                out = json.loads(proc.stdout.strip().splitlines()[-1])
            except subprocess.TimeoutExpired:
                rows.append([title, fmt_bytes(nbytes), f"{library} {solver}", "-", "-", "-", "-", "-", "-",
                             "timeout", ""])
                continue
            except Exception:
                err = (proc.stderr or "").strip().splitlines()[-1:] if proc is not None else ["?"]
                rows.append([title, fmt_bytes(nbytes), f"{library} {solver}", "-", "-", "-", "-", "-", "-",
                             "error", err[0][:80] if err else ""])
                continue
            extra = out["peak"] - out["rss_before"]
            allowance = 0.1 * nbytes + 80 * m + 32 * p * p + 16 * 2**20
            chosen = out.get("solver")
            rows.append([
                title, fmt_bytes(nbytes), f"{'logitdescent' if library == 'logitdescent' else 'scikit-learn'} {solver}"
                + (f" ({chosen})" if library == "logitdescent" and chosen != solver else ""),
                fmt_bytes(out["rss_before"]), fmt_bytes(out["peak"]), fmt_bytes(extra),
                f"{extra / nbytes:.2f}", f"{out['peak'] / nbytes:.2f}", fmt_bytes(allowance),
                goal_mark(extra, allowance), f"{fmt_time(out['seconds'])}, {out['n_iter']} it",
            ])
            results.append({"data": key, "X_nbytes": nbytes, "library": library, "solver": solver, **out,
                            "extra": extra, "allowance": allowance})
            log(f"memory {key} {library} {solver}: extra {extra / 2**20:.0f} MiB = {extra / nbytes:.2f} X.nbytes "
                f"({perf() - t0:.1f} s)")
        rep.item(key, "", rows)
    return rep, results
