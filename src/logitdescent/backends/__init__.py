"""Backends: the kernel contract computed on data that live elsewhere.

:mod:`logitdescent.backends.dask` evaluates the objective blockwise on a
Dask cluster (or Dask's threaded scheduler) and hands the solvers the same
``(J, gradient)`` they get in memory. Importing this package imports no
backend: ``import logitdescent`` must not import Dask.
"""

from __future__ import annotations

import sys

__all__ = ["is_dask_collection"]


def is_dask_collection(obj):
    """Whether ``obj`` is a Dask collection (array, DataFrame, Series, ...).

    Never imports Dask: an object can only be a Dask collection if Dask was
    imported to make it, so without ``dask`` in ``sys.modules`` the answer
    is False at no cost.

    Parameters
    ----------
    obj : object

    Returns
    -------
    bool
    """
    if "dask" not in sys.modules:
        return False
    import dask

    return dask.is_dask_collection(obj)
