"""The Dask backend against its oracle, the in-memory objective on the same data.

Every solver result on Dask (threaded scheduler and a LocalCluster of worker
processes) must equal the in-memory solve to 1e-8 relative in the
coefficients. The two evaluate the same sums in a different grouping (per
chunk, then across chunks), so their costs and gradients agree to ~1e-15;
with tolerances of 1e-10 both runs take the same iterates up to that
rounding, and the gap left is far below 1e-8 (measured: 1e-16 to 1e-14).
"""

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import pandas as pd  # noqa: E402
from scipy.special import expit, log_expit, log_softmax, softmax  # noqa: E402

from logitdescent import kernel  # noqa: E402
from logitdescent.backends import dask as ld_dask  # noqa: E402
from logitdescent.backends import is_dask_collection  # noqa: E402
from logitdescent.objective import LogisticObjective, SoftmaxObjective  # noqa: E402
from logitdescent.solvers import SOLVERS  # noqa: E402

M, N, K = 1200, 5, 3
ROWS_PER_CHUNK = 200  # six chunks: three per worker
RTOL = 1e-8  # the bound on coefficients
TOL = 1e-10  # solver tolerance: far below what RTOL needs


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((M, N))
    w = rng.standard_normal(N)
    y = (rng.random(M) < expit(X @ w + 0.3)).astype(np.float64)
    classes = np.argmax(X @ rng.standard_normal((N, K)) + rng.gumbel(size=(M, K)), axis=1)
    s = rng.uniform(0.2, 3.0, M)
    return X, y, classes, s


DATA = _data()


def _dask(v):
    return da.from_array(v, chunks=(ROWS_PER_CHUNK,) + v.shape[1:])


def _rel_gap(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def _class_weighted(classes, s, per_class):
    return s * np.asarray(per_class)[classes]


# Each case: (id, solver, multinomial, objective options, sample weights?)
CASES = [
    ("l2-lbfgs", "lbfgs", False, dict(C=1.0), False),
    ("l2-newton", "newton", False, dict(C=1.0), False),
    ("l2-gd", "gd", False, dict(C=0.05), False),
    ("none-newton", "newton", False, dict(C=np.inf), False),
    ("l1-lbfgs", "lbfgs", False, dict(C=0.05, l1_ratio=1.0), False),
    ("elasticnet-nesterov", "nesterov", False, dict(C=0.1, l1_ratio=0.5), False),
    ("weights-lbfgs-newton", "lbfgs-newton", False, dict(C=1.0), True),
    ("weights-precond", "precond-lbfgs", False, dict(C=1.0), True),
    ("bounds-lbfgs", "lbfgs", False, dict(C=1.0, bounds=(-0.2, 0.5)), True),
    ("no-intercept-newton", "newton", False, dict(C=1.0, fit_intercept=False), False),
    ("multinomial-newton", "newton", True, dict(C=1.0), True),
    ("multinomial-l1-lbfgs", "lbfgs", True, dict(C=0.1, l1_ratio=1.0), False),
    ("multinomial-none-lbfgs", "lbfgs", True, dict(C=np.inf), False),
]


def _objectives(multinomial, options, weights, client, sample_weight=None):
    X, y, classes, s = DATA
    s = (s if weights else None) if sample_weight is None else sample_weight
    if multinomial:
        memory = SoftmaxObjective(X, classes, s, n_outputs=K, **options)
        on_dask = ld_dask.DaskSoftmaxObjective(_dask(X), _dask(classes), None if s is None else _dask(s),
                                               n_outputs=K, client=client, **options)
    else:
        memory = LogisticObjective(X, y, s, **options)
        on_dask = ld_dask.DaskLogisticObjective(_dask(X), _dask(y), None if s is None else _dask(s),
                                                client=client, **options)
    return memory, on_dask


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_solve_equals_in_memory(case, scheduler):
    _, solver, multinomial, options, weights = case
    memory, on_dask = _objectives(multinomial, options, weights, scheduler)
    assert on_dask.n_chunks == M // ROWS_PER_CHUNK
    theta0 = np.zeros(memory.n_params)
    expected = SOLVERS[solver](memory, theta0, max_iter=5000, tol=TOL)
    got = SOLVERS[solver](on_dask, theta0, max_iter=5000, tol=TOL)
    assert expected.converged and got.converged, (expected.message, got.message)
    assert _rel_gap(got.x, expected.x) <= RTOL
    assert got.fun == pytest.approx(expected.fun, rel=1e-12)


def test_class_weights_and_warm_start(scheduler):
    """Class weights folded into the sample weights (as the estimator does), and a
    warm start from another C's solution: the same optimum as in memory."""
    X, y, classes, s = DATA
    weights = _class_weighted(y.astype(int), s, [2.0, 0.5])
    memory, on_dask = _objectives(False, dict(C=0.5), True, scheduler, sample_weight=weights)
    start = SOLVERS["newton"](LogisticObjective(X, y, weights, C=5.0), np.zeros(N + 1), max_iter=100, tol=TOL).x
    expected = SOLVERS["lbfgs"](memory, start, max_iter=1000, tol=TOL)
    got = SOLVERS["lbfgs"](on_dask, start, max_iter=1000, tol=TOL)
    assert got.converged and _rel_gap(got.x, expected.x) <= RTOL
    # The warm start was used: the first recorded cost is the start's.
    assert got.loss_history[0] == pytest.approx(memory.loss_grad(start)[0], rel=1e-13)
    assert got.loss_history[0] != pytest.approx(memory.loss_grad(np.zeros(N + 1))[0], rel=1e-3)


def test_label_encoding_and_class_weights_match_scikit_learn():
    from sklearn.utils.class_weight import compute_class_weight

    _, _, classes, s = DATA
    labels = np.array(["a", "b", "c"])[classes]
    found, codes = ld_dask.encode_labels(_dask(labels))
    np.testing.assert_array_equal(found, ["a", "b", "c"])
    np.testing.assert_array_equal(codes.compute(), classes)
    balanced = ld_dask.class_weighted(_dask(s), codes, "balanced", found).compute()
    per_class = compute_class_weight("balanced", classes=np.arange(K), y=classes, sample_weight=s)
    np.testing.assert_allclose(balanced, s * per_class[classes], rtol=1e-15)
    unweighted = ld_dask.class_weighted(None, codes, "balanced", found).compute()
    np.testing.assert_allclose(unweighted, compute_class_weight("balanced", classes=np.arange(K), y=classes)[classes],
                               rtol=1e-15)
    given = ld_dask.class_weighted(None, codes, {"a": 2.0, "c": 0.5}, found).compute()
    np.testing.assert_array_equal(given, np.array([2.0, 1.0, 0.5])[classes])
    with pytest.raises(ValueError, match="labels not in classes"):
        ld_dask.encode_labels(_dask(labels), classes=np.array(["a", "b"]))[1].compute()
    with pytest.raises(ValueError, match="only one class"):
        ld_dask.encode_labels(_dask(np.zeros(10)))


@pytest.mark.parametrize("multinomial", [False, True], ids=["binary", "multinomial"])
def test_curvature_pieces_equal_in_memory(multinomial, scheduler):
    """Hessian (sum of per-chunk blocks), Lipschitz bound and example bound: the in-memory values."""
    memory, on_dask = _objectives(multinomial, dict(C=2.0), True, scheduler)
    theta = np.random.default_rng(1).standard_normal(memory.n_params) * 0.3
    np.testing.assert_allclose(on_dask.hessian(theta), memory.hessian(theta), rtol=1e-12, atol=1e-15)
    assert on_dask.lipschitz_bound() == pytest.approx(memory.lipschitz_bound(), rel=1e-12)
    assert on_dask.example_lipschitz_max() == pytest.approx(memory.example_lipschitz_max(), rel=1e-12)
    rows = np.array([3, 250, 251, 999])
    sample, expected = on_dask.subset(rows), memory.subset(rows)
    np.testing.assert_array_equal(sample.X, expected.X)
    assert sample.penalty_scale == expected.penalty_scale == memory.penalty_scale


def test_newton_iteration_is_one_round_trip(scheduler):
    """After a first Hessian, evaluations bring the Hessian back too: the next
    ``hessian`` at an evaluated point is the in-memory one, with no pass of its own."""
    memory, on_dask = _objectives(True, dict(C=1.0), True, scheduler)
    calls = []
    original = on_dask._chunks.map_reduce
    on_dask._chunks.map_reduce = lambda *a, **k: calls.append(k.get("name")) or original(*a, **k)
    theta = np.random.default_rng(4).standard_normal(memory.n_params) * 0.2
    on_dask.hessian(np.zeros(memory.n_params))
    assert on_dask.loss_grad(theta)[0] == pytest.approx(memory.loss_grad(theta)[0], rel=1e-13)
    np.testing.assert_allclose(on_dask.hessian(theta), memory.hessian(theta), rtol=1e-12, atol=1e-15)
    assert calls == ["hessian", "softmax-loss-grad"]


def test_kernel_contract_on_dask(scheduler):
    """``loss_and_grad`` / ``softmax_loss_and_grad`` on a Dask X: the in-memory kernel's numbers."""
    X, y, classes, s = DATA
    rng = np.random.default_rng(2)
    w, b = rng.standard_normal(N), 0.7
    J, dw, db = ld_dask.loss_and_grad(w, b, _dask(X), _dask(y), _dask(s), C=0.3, client=scheduler)
    J0, dw0, db0 = kernel.loss_and_grad(w, b, X, y, s, C=0.3)
    assert J == pytest.approx(J0, rel=1e-13)
    np.testing.assert_allclose(dw, dw0, rtol=1e-12, atol=1e-15)
    assert db == pytest.approx(db0, rel=1e-12, abs=1e-15)
    W, bK = rng.standard_normal((K, N)), rng.standard_normal(K)
    J, dW, db = ld_dask.softmax_loss_and_grad(W, bK, _dask(X), _dask(classes), None, C=2.0, client=scheduler)
    J0, dW0, db0 = kernel.softmax_loss_and_grad(W, bK, X, classes, None, C=2.0)
    assert J == pytest.approx(J0, rel=1e-13)
    np.testing.assert_allclose(dW, dW0, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(db, db0, rtol=1e-12, atol=1e-15)


def test_threaded_and_distributed_give_the_same_bits(dask_client):
    """The partials are summed in a fixed order, whichever scheduler and worker ran them."""
    X, y, _, s = DATA
    theta = np.linspace(-1, 1, N + 1)
    local = ld_dask.DaskLogisticObjective(_dask(X), _dask(y), _dask(s), C=1.0, client=None)
    # Threads: one chunk per task; cluster: the chunks of a worker in one task,
    # summed in chunk order. The groups differ, so the bits may too: only rounding.
    remote = ld_dask.DaskLogisticObjective(_dask(X), _dask(y), _dask(s), C=1.0, client=dask_client)
    (J1, g1), (J2, g2) = local.loss_grad(theta), remote.loss_grad(theta)
    assert J1 == pytest.approx(J2, rel=1e-15)
    np.testing.assert_allclose(g1, g2, rtol=1e-14, atol=1e-17)
    again = remote.loss_grad(theta + 0.0)  # cached evaluation
    assert again[0] == J2 and remote.n_evals == 1


def test_dataframe_input_and_unknown_chunks(scheduler):
    """A dask DataFrame (X columns and y column of one frame) and an X of unknown
    chunk sizes (a boolean row filter) fit as the in-memory data do."""
    X, y, _, s = DATA
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(N)]).assign(y=y.astype(int), s=s)
    ddf = dd.from_pandas(frame, npartitions=5)
    features = [f"x{j}" for j in range(N)]
    on_dask = ld_dask.DaskLogisticObjective(ddf[features], ddf["y"], ddf["s"], C=1.0, client=scheduler)
    memory = LogisticObjective(X, y, s, C=1.0)
    got = SOLVERS["newton"](on_dask, np.zeros(N + 1), max_iter=100, tol=TOL)
    expected = SOLVERS["newton"](memory, np.zeros(N + 1), max_iter=100, tol=TOL)
    assert _rel_gap(got.x, expected.x) <= RTOL

    keep = X[:, 0] > -0.5
    Xd = _dask(X)
    Xf, yf = Xd[Xd[:, 0] > -0.5], _dask(y)[Xd[:, 0] > -0.5]
    assert np.isnan(Xf.chunks[0][0])
    on_dask = ld_dask.DaskLogisticObjective(Xf, yf, C=1.0, client=scheduler)
    memory = LogisticObjective(X[keep], y[keep], C=1.0)
    got = SOLVERS["lbfgs"](on_dask, np.zeros(N + 1), max_iter=500, tol=TOL)
    expected = SOLVERS["lbfgs"](memory, np.zeros(N + 1), max_iter=500, tol=TOL)
    assert _rel_gap(got.x, expected.x) <= RTOL


def test_numpy_y_is_taken_in_row_order_and_mixes_are_refused():
    X, y, _, s = DATA
    Xd = _dask(X)
    Xa, ya, sa = ld_dask.align(Xd, y, s)  # NumPy y, weights: positional, chunked like X
    assert ya.chunks == (Xa.chunks[0],) and sa.chunks == (Xa.chunks[0],)
    np.testing.assert_array_equal(ya.compute(), y)
    with pytest.raises(TypeError, match="y is a Dask collection but X is not"):
        ld_dask.align(X, _dask(y))
    with pytest.raises(TypeError, match="pandas object"):
        ld_dask.align(dd.from_pandas(pd.DataFrame(X), npartitions=2), pd.Series(y))
    with pytest.raises(ValueError, match="y has 1199 rows but X has 1200"):
        ld_dask.align(Xd, y[:-1])
    with pytest.raises(ValueError, match="X must be 2-D"):
        ld_dask.align(_dask(y))
    with pytest.raises(TypeError, match="non-numeric columns"):
        ld_dask.align(dd.from_pandas(pd.DataFrame({"a": ["u", "v"] * 3, "b": range(6)}), npartitions=2))


def test_sgd_is_refused_with_the_way_out():
    for name in ld_dask.SOLVERS_ON_DASK:
        ld_dask.check_solver(name)
    for name in ("sgd", "newton-cd"):
        with pytest.raises(ValueError, match=f"solver='{name}' is not available for Dask input.*'lbfgs'"):
            ld_dask.check_solver(name)
    with pytest.raises(ValueError, match="solver must be one of"):
        ld_dask.check_solver("bfgs")
    # "auto" on Dask: the in-memory rule, lbfgs where that rule picks a refused solver.
    _, with_l1 = _objectives(False, dict(C=0.1, l1_ratio=1.0), False, None)
    _, small_l2 = _objectives(False, dict(C=1.0), False, None)
    assert ld_dask.choose_solver(with_l1) == "lbfgs" and ld_dask.choose_solver(small_l2) == "newton"
    # Every registered solver is either supported or refused with a reason.
    for name in SOLVERS:
        try:
            ld_dask.check_solver(name)
        except ValueError as exc:
            assert "is not available for Dask input" in str(exc)


def test_nan_in_x_is_named(scheduler):
    X, y, _, _ = DATA
    X = X.copy()
    X[700, 2] = np.nan
    on_dask = ld_dask.DaskLogisticObjective(_dask(X), _dask(y), C=1.0, check_finite="LogisticRegression",
                                            client=scheduler)
    with pytest.raises(ValueError, match="Input X contains NaN or infinity fitting LogisticRegression"):
        on_dask.loss_grad(np.zeros(N + 1))


def test_huge_column_is_named():
    X, y, _, _ = DATA
    X, y = X.copy(), y.copy()
    X[900, 3], y[900] = 1e200, 0.0  # finite, but its square overflows (and the row is misfit)
    on_dask = ld_dask.DaskLogisticObjective(_dask(X), _dask(y), C=1.0, check_finite=True, client=None)
    with pytest.raises(ValueError, match="too large to fit in float64: column 3 up to 1e"):
        on_dask.loss_grad(np.full(N + 1, 0.1))


def test_nan_in_y_and_bad_weights_are_named():
    X, y, _, s = DATA
    bad_y = y.copy()
    bad_y[5] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        ld_dask.DaskLogisticObjective(_dask(X), _dask(bad_y), client=None)
    bad_s = s.copy()
    bad_s[[410, 420]] = -1.5
    with pytest.raises(ValueError, match="sample_weight must be non-negative; got -1.5 at row 10 of row chunk 2"):
        ld_dask.DaskLogisticObjective(_dask(X), _dask(y), _dask(bad_s), client=None)


def test_lazy_predictions(scheduler):
    X, _, _, _ = DATA
    rng = np.random.default_rng(3)
    coef1, b1 = rng.standard_normal((1, N)), rng.standard_normal(1)
    coefK, bK = rng.standard_normal((K, N)), rng.standard_normal(K)
    frame = dd.from_pandas(pd.DataFrame(X), npartitions=3)  # unknown chunk sizes: fine blockwise
    for Xd in (_dask(X), frame):
        scores = ld_dask.decision_function(coef1, b1, Xd)
        proba = ld_dask.predict_proba(coef1, b1, Xd)
        labels = ld_dask.predict(coef1, b1, np.array(["no", "yes"]), Xd)
        probaK = ld_dask.predict_proba(coefK, bK, Xd)
        labelsK = ld_dask.predict(coefK, bK, np.array([10, 20, 30]), Xd)
        for lazy in (scores, proba, labels, probaK, labelsK):
            assert isinstance(lazy, da.Array)
        z = X @ coef1[0] + b1[0]
        np.testing.assert_allclose(scores.compute(), z, rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(proba.compute(), np.column_stack([expit(-z), expit(z)]), rtol=1e-13)
        np.testing.assert_array_equal(labels.compute(), np.where(z > 0, "yes", "no"))
        Z = X @ coefK.T + bK
        np.testing.assert_allclose(probaK.compute(), softmax(Z, axis=1), rtol=1e-13)
        np.testing.assert_allclose(ld_dask.predict_log_proba(coef1, b1, Xd).compute(),
                                   np.column_stack([log_expit(-z), log_expit(z)]), rtol=1e-12)
        np.testing.assert_allclose(ld_dask.predict_log_proba(coefK, bK, Xd).compute(),
                                   log_softmax(Z, axis=1), rtol=1e-12)
        np.testing.assert_array_equal(labelsK.compute(), np.array([10, 20, 30])[Z.argmax(axis=1)])
    with pytest.raises(ValueError, match="X must have 3 features"):
        ld_dask.predict_proba(coef1[:, :3], b1, _dask(X))


def test_column_stats_standardize_and_split(scheduler):
    X, y, _, _ = DATA
    Xd = _dask(X)
    mean, var = ld_dask.column_stats(Xd)
    np.testing.assert_allclose(mean, X.mean(axis=0), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(var, X.var(axis=0), rtol=1e-12)
    Z = ld_dask.standardize(Xd, mean, np.sqrt(var)).compute()
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1, rtol=1e-12)
    X_train, X_test, y_train, y_test = ld_dask.train_test_split(Xd, _dask(y), test_size=0.25, random_state=0)
    a, b_ = X_train.compute(), X_test.compute()
    assert a.shape[0] + b_.shape[0] == M and 0.15 * M < b_.shape[0] < 0.35 * M
    np.testing.assert_array_equal(np.sort(np.concatenate([a, b_])[:, 0]), np.sort(X[:, 0]))
    assert y_train.compute().shape[0] == a.shape[0]


def test_base_import_does_not_import_dask():
    code = "import logitdescent, sys; assert 'dask' not in sys.modules and 'distributed' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert not is_dask_collection(np.zeros(3)) and is_dask_collection(_dask(np.zeros(3)))


# -- faults ------------------------------------------------------------------


def _fit_in_thread(objective, solver, callback, timeout):
    """Run a solve in a thread; ``(result or exception, seconds)``; fails the test if it hangs."""
    out = {}

    def target():
        try:
            out["result"] = SOLVERS[solver](objective, np.zeros(objective.n_params), max_iter=2000, tol=TOL,
                                            callback=callback)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            out["result"] = exc

    t0 = time.perf_counter()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"the fit hung for more than {timeout} s after a worker was killed"
    return out["result"], time.perf_counter() - t0


def test_worker_killed_mid_fit_completes_with_the_same_coefficients():
    """SIGKILL one worker process during a fit on a LocalCluster(processes=True):
    its chunks are recomputed (the nanny restarts the worker) and the fit ends at
    the in-memory optimum, or fails fast with an error naming the lost worker."""
    X, y, _, s = DATA
    expected = SOLVERS["gd"](LogisticObjective(X, y, s, C=0.05), np.zeros(N + 1), max_iter=2000, tol=TOL)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        objective = ld_dask.DaskLogisticObjective(_dask(X), _dask(y), _dask(s), C=0.05, client=client)
        pids = client.run(os.getpid)
        victim, pid = sorted(pids.items())[0]
        killed = {}

        def kill_once(iteration, cost):
            if iteration == 5 and not killed:
                os.kill(pid, signal.SIGKILL)
                killed["at"] = time.perf_counter()

        result, seconds = _fit_in_thread(objective, "gd", kill_once, timeout=120)
        print("worker-kill fault:", "completed" if not isinstance(result, Exception) else repr(result),
              f"in {seconds:.1f} s")
        assert killed, "the worker was never killed: the test did not test anything"
        if isinstance(result, Exception):
            assert isinstance(result, RuntimeError) and victim in str(result), result
            assert time.perf_counter() - killed["at"] < 30
        else:
            assert result.converged
            assert _rel_gap(result.x, expected.x) <= RTOL
            assert set(client.run(os.getpid).values()) != set(pids.values())  # really restarted


def test_cluster_without_workers_fails_fast(monkeypatch):
    """No worker left at all: a clear error naming the lost workers, never a hang."""
    monkeypatch.setattr(ld_dask, "NO_WORKER_TIMEOUT", 2.0)
    X, y, _, _ = DATA
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        objective = ld_dask.DaskLogisticObjective(_dask(X), _dask(y), C=1.0, client=client)
        worker = next(iter(client.nthreads()))
        cluster.scale(0)
        deadline = time.monotonic() + 30
        while client.nthreads() and time.monotonic() < deadline:
            time.sleep(0.1)
        t0 = time.perf_counter()
        with pytest.raises(RuntimeError, match="no worker") as excinfo:
            objective.loss_grad(np.ones(N + 1))
        assert worker in str(excinfo.value)
        assert time.perf_counter() - t0 < 15


def test_docstring_examples_run():
    import doctest

    failures, tried = doctest.testmod(ld_dask)
    assert tried > 0 and failures == 0
