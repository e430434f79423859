"""Compiled inner loop of the proximal-Newton solver: coordinate descent on a
quadratic model plus an L1 term and bounds.

:func:`cd_quadratic` minimizes, over the step ``d`` of shape (p,),

    q(d) = g . d + 1/2 d^T H d + sum_j l1_j |w_j + d_j|
           subject to lower <= w + d <= upper,

``H`` a small symmetric positive semi-definite matrix (the Hessian of the
smooth cost restricted to a working set of coordinates, ``p`` of them),
``l1_j >= 0`` each coordinate's L1 strength (0 for the intercepts and for
features left unpenalized). One
coordinate's exact minimizer, with the others fixed, is a soft-thresholded
Newton step clipped to the bounds::

    u = clip(S(w_j + d_j - (g_j + (H d)_j) / H_jj, l1_j / H_jj), lower_j, upper_j)

(``S(x, t) = sign(x) max(|x| - t, 0)``; for one coordinate the prox of a
convex function plus an interval is the interval's projection of its prox).
``H d`` is kept up to date after every change (one row of ``H``: ``O(p)``).

Sweeps follow glmnet's active-set cycling: one sweep over every coordinate,
then sweeps over the coordinates that are nonzero (or free of L1) until they
settle, then a full sweep again; it stops when a full sweep changes no
coordinate's model gradient by more than ``eps`` (``H_jj |delta_j|``, in the
units of the solver's stopping rule).

The loop runs in Numba (``nogil=True, cache=True``) when it is installed and
the environment variable ``LOGITDESCENT_NO_NUMBA`` is not ``1``; otherwise the
same loop runs in Python with NumPy row updates (one vector operation per
coordinate change: fine for the working sets of tests, ``p`` up to a few
hundred).
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["cd_quadratic", "uses_numba"]

_DISABLED = os.environ.get("LOGITDESCENT_NO_NUMBA", "") == "1"

try:  # numba is an optional dependency (the "fast" extra)
    if _DISABLED:
        raise ImportError("LOGITDESCENT_NO_NUMBA=1")
    from numba import njit
except Exception:  # pragma: no cover - exercised only without numba
    njit = None


def uses_numba():
    """Whether :func:`cd_quadratic` runs compiled."""
    return njit is not None


def _coordinate(j, H, g, w, d, Hd, l1, lower, upper):
    """The new ``d_j`` minus the old one (0.0 when ``H_jj`` is zero)."""
    hjj = H[j, j]
    if hjj <= 0.0:
        return 0.0
    old = w[j] + d[j]
    u = old - (g[j] + Hd[j]) / hjj
    if l1[j] > 0.0:
        threshold = l1[j] / hjj
        if u > threshold:
            u -= threshold
        elif u < -threshold:
            u += threshold
        else:
            u = 0.0
    if u < lower[j]:
        u = lower[j]
    elif u > upper[j]:
        u = upper[j]
    return u - old


def _sweeps(H, g, w, l1, lower, upper, eps, max_sweeps, d, Hd):
    """Cycle until a full sweep settles; returns the number of sweeps."""
    p = g.shape[0]
    n_sweeps = 0
    full = True
    while n_sweeps < max_sweeps:
        n_sweeps += 1
        largest = 0.0
        for j in range(p):
            if not full and l1[j] > 0.0 and w[j] + d[j] == 0.0:
                continue
            delta = _coordinate(j, H, g, w, d, Hd, l1, lower, upper)
            if delta != 0.0:
                d[j] += delta
                for k in range(p):  # H is symmetric: row j is column j, contiguous
                    Hd[k] += delta * H[j, k]
                change = abs(delta) * H[j, j]
                if change > largest:
                    largest = change
        if largest <= eps:
            if full:
                break
            full = True  # the active coordinates settled: check the others
        else:
            full = False
    return n_sweeps


def _sweeps_numpy(H, g, w, l1, lower, upper, eps, max_sweeps, d, Hd):
    """:func:`_sweeps` without Numba: Python scalars, NumPy row updates."""
    p = g.shape[0]
    diag = np.diag(H).tolist()
    gl, wl, lo, up, l1l = g.tolist(), w.tolist(), lower.tolist(), upper.tolist(), l1.tolist()
    dl = d.tolist()
    n_sweeps = 0
    full = True
    while n_sweeps < max_sweeps:
        n_sweeps += 1
        largest = 0.0
        for j in range(p):
            hjj = diag[j]
            old = wl[j] + dl[j]
            if hjj <= 0.0 or (not full and l1l[j] > 0.0 and old == 0.0):
                continue
            u = old - (gl[j] + float(Hd[j])) / hjj
            if l1l[j] > 0.0:
                threshold = l1l[j] / hjj
                u = u - threshold if u > threshold else (u + threshold if u < -threshold else 0.0)
            u = min(max(u, lo[j]), up[j])
            delta = u - old
            if delta != 0.0:
                dl[j] += delta
                Hd += delta * H[j]
                largest = max(largest, abs(delta) * hjj)
        if largest <= eps:
            if full:
                break
            full = True
        else:
            full = False
    d[:] = dl
    return n_sweeps


if njit is not None:
    _coordinate = njit(nogil=True, cache=True, inline="always")(_coordinate)
    _sweeps_impl = njit(nogil=True, cache=True)(_sweeps)
else:  # pragma: no cover - exercised with LOGITDESCENT_NO_NUMBA=1
    _sweeps_impl = _sweeps_numpy


def cd_quadratic(H, g, w, l1, lower, upper, eps, max_sweeps):
    """Minimize the quadratic model plus L1 and bounds by coordinate descent.

    Parameters
    ----------
    H : ndarray of shape (p, p)
        Symmetric positive semi-definite curvature (the L2 term included).
    g : ndarray of shape (p,)
        Gradient of the smooth cost at ``w``.
    w : ndarray of shape (p,)
        Current values of the coordinates (feasible: within the bounds).
    l1 : ndarray of shape (p,)
        Each coordinate's L1 strength, ``>= 0`` (0: no L1 term, as for the
        intercepts).
    lower, upper : ndarray of shape (p,)
        Bounds on ``w + d`` (``-inf``/``inf`` where there are none).
    eps : float
        Stop when a full sweep changes no ``H_jj |delta_j|`` by more.
    max_sweeps : int
        Cap on the number of sweeps.

    Returns
    -------
    d : ndarray of shape (p,)
        The step; ``w + d`` is within the bounds.
    n_sweeps : int
        Sweeps made (full and active-set ones).
    """
    H = np.ascontiguousarray(H, dtype=np.float64)
    g = np.ascontiguousarray(g, dtype=np.float64)
    w = np.ascontiguousarray(w, dtype=np.float64)
    lower = np.ascontiguousarray(lower, dtype=np.float64)
    upper = np.ascontiguousarray(upper, dtype=np.float64)
    l1 = np.ascontiguousarray(l1, dtype=np.float64)
    d = np.zeros_like(g)
    Hd = np.zeros_like(g)
    n_sweeps = _sweeps_impl(H, g, w, l1, lower, upper, float(eps), int(max_sweeps), d, Hd)
    return d, int(n_sweeps)
