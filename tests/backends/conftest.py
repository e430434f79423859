"""A Dask cluster for the backend tests: started once per test session (per
xdist worker), two worker processes of one thread each, as the issue's
benchmark cluster."""

import pytest

pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="session")
def dask_cluster():
    """``LocalCluster(processes=True, n_workers=2, threads_per_worker=1)``, no dashboard."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40,
    ) as cluster:
        yield cluster


@pytest.fixture
def dask_client(dask_cluster):
    """A Client of the session's cluster, active (the default) for the test only."""
    with distributed.Client(dask_cluster, set_as_default=True) as client:
        yield client


@pytest.fixture(params=["threads", "distributed"])
def scheduler(request):
    """Each test that takes it runs on Dask's threaded scheduler and on the cluster.

    Yields the ``distributed.Client`` (the active one) or None (no Client:
    the threaded scheduler).
    """
    if request.param == "threads":
        yield None
    else:
        yield request.getfixturevalue("dask_client")
