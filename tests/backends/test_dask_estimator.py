"""``LogisticRegression`` on Dask input against the in-memory estimator, its oracle.

Every fit runs twice on the same data: in memory (NumPy) and on Dask (a
row-chunked array or a DataFrame), on the threaded scheduler and on the
session's LocalCluster of worker processes. The coefficients must agree to
1e-8 relative (the issue's bound): both evaluate the same sums grouped
differently (~1e-15 apart) and stop at ``tol=1e-10``, far below that bound.
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")

import pandas as pd  # noqa: E402
from scipy.special import expit  # noqa: E402

from logitdescent import LogisticRegression, kernel  # noqa: E402
from logitdescent.backends import dask as ld_dask  # noqa: E402
from logitdescent.backends import is_dask_collection  # noqa: E402

M, N, K = 1200, 5, 3
ROWS_PER_CHUNK = 200
RTOL = 1e-8
TOL = 1e-10


def _data(seed=0):
    """Overlapping classes (labels drawn from the model): every penalty, none included, has a finite optimum."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((M, N))
    y = np.where(rng.random(M) < expit(X @ rng.standard_normal(N) + 0.3), "yes", "no")
    multi = np.array([10, 20, 30])[np.argmax(X @ rng.standard_normal((N, K)) + rng.gumbel(size=(M, K)), axis=1)]
    s = rng.uniform(0.2, 3.0, M)
    return X, y, multi, s


X, Y, Y_MULTI, S = _data()
NAMES = [f"f{j}" for j in range(N)]


def _dask(v):
    return da.from_array(v, chunks=(ROWS_PER_CHUNK,) + v.shape[1:])


def _frame(X, y=None):
    """A Dask DataFrame of X's columns (and a "label" column), 6 partitions."""
    frame = pd.DataFrame(X, columns=NAMES)
    if y is not None:
        frame["label"] = y
    return dd.from_pandas(frame, npartitions=M // ROWS_PER_CHUNK)


def _rel_gap(a, b):
    return float(np.max(np.abs(np.asarray(a) - b)) / max(np.max(np.abs(b)), 1e-300))


def _assert_same_fit(on_dask, in_memory):
    assert on_dask.solver_ == in_memory.solver_
    assert on_dask.converged_ and in_memory.converged_
    np.testing.assert_array_equal(on_dask.classes_, in_memory.classes_)
    assert on_dask.coef_.shape == in_memory.coef_.shape and on_dask.coef_.dtype == in_memory.coef_.dtype
    assert _rel_gap(on_dask.coef_, in_memory.coef_) <= RTOL
    # Intercepts near 0 (multinomial, centred): relative to the largest parameter.
    theta = np.column_stack([in_memory.coef_, in_memory.intercept_])
    assert _rel_gap(np.column_stack([on_dask.coef_, on_dask.intercept_]), theta) <= RTOL
    assert on_dask.n_features_in_ == N
    assert on_dask.separation_ is None
    assert on_dask.loss_curve_.shape == (on_dask.n_iter_ + 1,)


# (id, estimator parameters, multinomial, sample weights)
CASES = [
    ("l2", dict(C=1.0), False, False),
    ("l1-lbfgs", dict(C=0.05, l1_ratio=1.0, solver="lbfgs"), False, False),
    ("elasticnet-lbfgs", dict(C=0.1, l1_ratio=0.5, solver="lbfgs"), False, False),
    ("none", dict(C=np.inf), False, False),
    ("gd", dict(C=0.05, solver="gd", max_iter=5000), False, False),
    ("weights-precond", dict(C=1.0, solver="precond-lbfgs"), False, True),
    ("balanced-class-weight", dict(C=1.0, class_weight="balanced"), False, True),
    ("dict-class-weight", dict(C=1.0, class_weight={"no": 0.5, "yes": 2.0}), False, False),
    ("bounds-lbfgs", dict(C=1.0, coef_bounds=(-0.2, 0.5), solver="lbfgs"), False, True),
    ("no-intercept", dict(C=1.0, fit_intercept=False), False, False),
    ("multinomial", dict(C=1.0), True, True),
    ("multinomial-l1-lbfgs", dict(C=0.1, l1_ratio=1.0, solver="lbfgs"), True, False),
    ("multinomial-none", dict(C=np.inf), True, False),
    ("multinomial-class-weight", dict(C=1.0, class_weight={10: 2.0, 20: 1.0, 30: 0.5}), True, False),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_fit_on_dask_array_equals_in_memory(case, scheduler):
    _, params, multinomial, weighted = case
    y = Y_MULTI if multinomial else Y
    s = S if weighted else None
    in_memory = LogisticRegression(tol=TOL, **params).fit(X, y, sample_weight=s)
    on_dask = LogisticRegression(tol=TOL, **params).fit(
        _dask(X), _dask(y), sample_weight=None if s is None else _dask(s)
    )
    _assert_same_fit(on_dask, in_memory)
    assert not hasattr(on_dask, "feature_names_in_")


@pytest.mark.parametrize("multinomial", [False, True], ids=["binary", "multinomial"])
def test_fit_on_dask_dataframe_equals_in_memory_pandas(multinomial, scheduler):
    y = Y_MULTI if multinomial else Y
    frame = _frame(X, y)
    weights = dd.from_pandas(pd.Series(S), npartitions=frame.npartitions)
    in_memory = LogisticRegression(tol=TOL).fit(pd.DataFrame(X, columns=NAMES), y, sample_weight=S)
    on_dask = LogisticRegression(tol=TOL).fit(frame[NAMES], frame["label"], sample_weight=weights)
    _assert_same_fit(on_dask, in_memory)
    np.testing.assert_array_equal(on_dask.feature_names_in_, NAMES)


def test_warm_start_and_coef_init_on_dask(scheduler):
    first = LogisticRegression(C=1.0, tol=TOL, solver="lbfgs", warm_start=True).fit(_dask(X), _dask(Y))
    cold_iters = first.n_iter_
    first.fit(_dask(X), _dask(Y))  # starts at the optimum: nothing left to do
    assert first.n_iter_ == 0
    in_memory = LogisticRegression(C=0.5, tol=TOL, solver="lbfgs").fit(X, Y)
    warmed = first.set_params(C=0.5).fit(_dask(X), _dask(Y))
    assert _rel_gap(warmed.coef_, in_memory.coef_) <= RTOL
    assert warmed.n_iter_ < cold_iters + in_memory.n_iter_
    started = LogisticRegression(C=0.5, tol=TOL, solver="lbfgs").fit(
        _dask(X), _dask(Y), coef_init=in_memory.coef_, intercept_init=in_memory.intercept_
    )
    assert started.n_iter_ <= 1 and _rel_gap(started.coef_, in_memory.coef_) <= RTOL


def test_float32_stays_float32():
    X32 = X.astype(np.float32)
    in_memory = LogisticRegression(tol=1e-5).fit(X32, Y)
    on_dask = LogisticRegression(tol=1e-5).fit(_dask(X32), _dask(Y))
    assert on_dask.coef_.dtype == np.float32
    np.testing.assert_allclose(on_dask.coef_, in_memory.coef_, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("multinomial", [False, True], ids=["binary", "multinomial"])
def test_predictions_are_lazy_and_equal_in_memory(multinomial, scheduler):
    y = Y_MULTI if multinomial else Y
    model = LogisticRegression(C=1.0, tol=TOL).fit(pd.DataFrame(X, columns=NAMES), y)
    for data in (_dask(X), _frame(X)):
        for method in ("decision_function", "predict_proba", "predict_log_proba", "predict"):
            lazy = getattr(model, method)(data)
            assert isinstance(lazy, da.Array), method
            expected = getattr(model, method)(pd.DataFrame(X, columns=NAMES))
            computed = lazy.compute()
            assert computed.shape == expected.shape, method
            if method == "predict":
                np.testing.assert_array_equal(computed, expected)
            else:
                np.testing.assert_allclose(computed, expected, rtol=1e-12, atol=1e-14, err_msg=method)


def test_prediction_checks_columns_and_fitted():
    model = LogisticRegression().fit(pd.DataFrame(X, columns=NAMES), Y)
    with pytest.raises(ValueError, match="feature names seen in fit"):
        model.predict(_frame(X)[NAMES[::-1]])
    with pytest.raises(ValueError, match="5 features"):
        model.predict_proba(_dask(X[:, :3]))
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LogisticRegression().predict(_dask(X))


def test_mixes_are_refused_or_aligned_by_position():
    with pytest.raises(TypeError, match="pandas object"):
        LogisticRegression().fit(_dask(X), pd.Series(Y))
    with pytest.raises(TypeError, match="pandas object"):
        LogisticRegression().fit(_frame(X), _dask(Y), sample_weight=pd.Series(S))
    with pytest.raises(TypeError, match="X is not"):
        LogisticRegression().fit(X, _dask(Y))
    with pytest.raises(ValueError, match="1000 rows but X has 1200"):
        LogisticRegression().fit(_dask(X), Y[:1000])
    # A NumPy y is taken in X's row order: the same fit as a Dask y.
    by_position = LogisticRegression(tol=TOL).fit(_dask(X), Y)
    in_memory = LogisticRegression(tol=TOL).fit(X, Y)
    assert _rel_gap(by_position.coef_, in_memory.coef_) <= RTOL


@pytest.mark.parametrize("solver", ["sgd", "newton-cd"])
def test_cluster_unfit_solvers_are_refused_naming_lbfgs(solver):
    model = LogisticRegression(solver=solver)
    with pytest.raises(ValueError, match="solver='lbfgs'"):
        model.fit(_dask(X), _dask(Y))
    assert not hasattr(model, "coef_")  # a failed fit leaves the estimator as it was


def test_auto_picks_lbfgs_where_memory_picks_newton_cd():
    model = LogisticRegression(C=0.05, l1_ratio=1.0, tol=TOL).fit(_dask(X), _dask(Y))
    assert model.solver_ == "lbfgs"
    assert _rel_gap(model.coef_, LogisticRegression(C=0.05, l1_ratio=1.0, tol=TOL, solver="lbfgs").fit(X, Y).coef_) <= RTOL


def test_bad_weights_and_labels_are_named():
    with pytest.raises(ValueError, match="positive sum"):
        LogisticRegression().fit(_dask(X), _dask(Y), sample_weight=_dask(np.zeros(M)))
    with pytest.raises(ValueError, match="class_weight must be finite and non-negative"):
        LogisticRegression(class_weight={"no": -1.0, "yes": 1.0}).fit(_dask(X), _dask(Y))
    with pytest.raises(ValueError, match="only one class"):
        LogisticRegression().fit(_dask(X), _dask(np.ones(M)))
    with pytest.raises(ValueError, match="continuous"):
        LogisticRegression().fit(_dask(X), _dask(np.linspace(0, 1, M)))
    with pytest.raises(TypeError, match="partial_fit"):
        LogisticRegression().partial_fit(_dask(X), _dask(Y), classes=["no", "yes"])


def test_nan_in_x_is_named_by_the_estimator():
    bad = X.copy()
    bad[700, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity fitting LogisticRegression"):
        LogisticRegression().fit(_dask(bad), _dask(Y))


def test_precond_hook_gathers_only_positive_rows(scheduler):
    s = S.copy()
    s[[3, 250, 251, 1199]] = 0.0
    y01 = (Y == "yes").astype(float)
    objective = ld_dask.DaskLogisticObjective(_dask(X), _dask(y01), _dask(s), C=1.0)
    np.testing.assert_array_equal(objective.positive_weight_rows(), np.flatnonzero(s > 0))
    assert ld_dask.DaskLogisticObjective(_dask(X), _dask(y01), _dask(S), C=1.0).positive_weight_rows() is None
    in_memory = LogisticRegression(C=1.0, tol=TOL, solver="precond-lbfgs").fit(X, Y, sample_weight=s)
    on_dask = LogisticRegression(C=1.0, tol=TOL, solver="precond-lbfgs").fit(_dask(X), _dask(Y), sample_weight=_dask(s))
    assert _rel_gap(on_dask.coef_, in_memory.coef_) <= RTOL


def test_kernel_functions_dispatch_dask_input(scheduler):
    rng = np.random.default_rng(1)
    w, b = rng.standard_normal(N), 0.2
    y01 = (Y == "yes").astype(float)
    for args in ((y01, None), (y01, S)):
        expected = kernel.loss_and_grad(w, b, X, *args, C=2.0)
        got = kernel.loss_and_grad(w, b, _dask(X), *(None if a is None else _dask(a) for a in args), C=2.0)
        np.testing.assert_allclose(got[0], expected[0], rtol=1e-13)
        np.testing.assert_allclose(got[1], expected[1], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(got[2], expected[2], rtol=1e-12, atol=1e-15)
    W, bk = rng.standard_normal((K, N)), rng.standard_normal(K)
    codes = np.searchsorted([10, 20, 30], Y_MULTI)
    expected = kernel.softmax_loss_and_grad(W, bk, X, codes, S, C=2.0)
    got = kernel.softmax_loss_and_grad(W, bk, _dask(X), _dask(codes), _dask(S), C=2.0)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-15)


def test_verbose_and_callback_and_warnings():
    seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # converged on overlapping data: no warning
        LogisticRegression(tol=TOL).fit(_dask(X), _dask(Y), callback=lambda i, cost: seen.append((i, cost)))
    assert seen and seen[-1][0] >= 1
    from sklearn.exceptions import ConvergenceWarning

    with pytest.warns(ConvergenceWarning):
        LogisticRegression(solver="gd", max_iter=2).fit(_dask(X), _dask(Y))


def test_library_and_cli_import_no_dask():
    code = (
        "import sys, numpy as np\n"
        "import logitdescent, logitdescent.cli, logitdescent.kernel\n"
        "from logitdescent import LogisticRegression\n"
        "X = np.random.default_rng(0).standard_normal((50, 2)); y = (X[:, 0] > 0).astype(int)\n"
        "model = LogisticRegression().fit(X, y); model.predict_proba(X)\n"
        "logitdescent.kernel.loss_and_grad(np.zeros(2), 0.0, X, y.astype(float))\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_is_dask_collection_helper():
    assert is_dask_collection(_dask(X)) and is_dask_collection(_frame(X))
    assert not is_dask_collection(X) and not is_dask_collection(pd.DataFrame(X))
