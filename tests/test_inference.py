"""summary(): every number against statsmodels' Logit and MNLogit on data sets that statsmodels ships.

The oracle is statsmodels fitted by Newton to tol=1e-12 (its own optimum,
its own Hessian and sandwich code). Both sides sit at the optimum to ~1e-12,
so 1e-6 relative leaves six orders of magnitude for the conditioning of the
covariance (the worst measured deviation is ~2e-9, on anes96's cov).
"""

import copy
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from logitdescent import LogisticRegression
from logitdescent.inference import penalty_of, summary
from logitdescent.separation import PerfectSeparationError

sm = pytest.importorskip("statsmodels.api")

RTOL = 1e-6


def _binary(name):
    data = getattr(sm.datasets, name).load_pandas()
    X = data.exog.to_numpy(dtype=np.float64)
    y = (data.endog.to_numpy() > 0).astype(int)  # spector: grade; fair: affairs; randhie: mdvis
    groups = np.arange(y.size) % 7
    return X, y, groups


def _anes96():
    frame = sm.datasets.anes96.load_pandas().data
    X = frame[["logpopul", "selfLR", "age", "educ", "income"]].to_numpy(dtype=np.float64)
    return X, frame["PID"].to_numpy().astype(int), frame["educ"].to_numpy()


def _fair_multinomial():
    frame = sm.datasets.fair.load_pandas().data
    X = frame[["age", "yrs_married", "children", "religious", "educ", "occupation"]].to_numpy(dtype=np.float64)
    return X, frame["rate_marriage"].to_numpy().astype(int), frame["occupation_husb"].to_numpy()


DATA = {
    "spector": lambda: _binary("spector"),
    "fair": lambda: _binary("fair"),
    "randhie": lambda: _binary("randhie"),
    "anes96": _anes96,
    "fair-rate_marriage": _fair_multinomial,
}


@pytest.fixture(scope="module")
def fitted():
    """Per data set: X, y, groups, our model, and statsmodels' model."""
    cache = {}

    def get(name):
        if name not in cache:
            X, y, groups = DATA[name]()
            model = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10000).fit(X, y)
            oracle = (sm.Logit if np.unique(y).size == 2 else sm.MNLogit)(y, sm.add_constant(X, prepend=False))
            cache[name] = X, y, groups, model, oracle
        return cache[name]

    return get


def _oracle_fit(oracle, cov_type, groups):
    fit = dict(method="newton", tol=1e-12, maxiter=100, disp=0)
    if cov_type == "nonrobust":
        return oracle.fit(**fit)
    if cov_type == "HC0":
        return oracle.fit(cov_type="HC0", **fit)
    if cov_type == "HC1":
        # statsmodels' discrete models return HC0 under the name HC1; its
        # cluster sandwich with one example per cluster carries exactly
        # HC1's n / (n - q) (n/(n-1) (n-1)/(n-q)): an independent oracle.
        singletons = np.arange(oracle.endog.shape[0])
        return oracle.fit(cov_type="cluster", cov_kwds={"groups": singletons}, **fit)
    return oracle.fit(cov_type="cluster", cov_kwds={"groups": groups}, **fit)


def _flat(values):
    """statsmodels' MNLogit arrays are (p, K-1): class by class is their transpose."""
    values = np.asarray(values, dtype=np.float64)
    return values.T.ravel() if values.ndim == 2 else values


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "HC1", "cluster"])
@pytest.mark.parametrize("name", list(DATA))
def test_every_number_matches_statsmodels(fitted, name, cov_type):
    X, y, groups, model, oracle = fitted(name)
    ours = summary(model, X, y, cov_type=cov_type, groups=groups if cov_type == "cluster" else None)
    ref = _oracle_fit(oracle, cov_type, groups)
    assert ours.converged
    np.testing.assert_allclose(ours.table["coef"], _flat(ref.params), rtol=RTOL)
    np.testing.assert_allclose(ours.table["std_err"], _flat(ref.bse), rtol=RTOL)
    np.testing.assert_allclose(ours.table["z"], _flat(ref.tvalues), rtol=RTOL)
    # p-values: relative agreement down to the smallest ones (1e-100 and below),
    # since both come from the same z by norm.sf.
    np.testing.assert_allclose(ours.table["p_value"], _flat(ref.pvalues), rtol=RTOL)
    ci = np.asarray(ref.conf_int())
    if ci.ndim == 3:  # MNLogit: (K-1, p, 2)
        ci = ci.reshape(-1, 2)
    np.testing.assert_allclose(ours.table[["ci_low", "ci_high"]], ci, rtol=RTOL)
    np.testing.assert_allclose(ours.cov, ref.cov_params(), rtol=RTOL, atol=1e-12 * np.abs(ours.cov.to_numpy()).max())
    for ours_name, ref_name in [
        ("log_likelihood", "llf"), ("null_log_likelihood", "llnull"), ("aic", "aic"), ("bic", "bic"),
        ("pseudo_r2", "prsquared"), ("n_obs", "nobs"), ("df_model", "df_model"), ("df_resid", "df_resid"),
        ("llr_pvalue", "llr_pvalue"),
    ]:
        assert getattr(ours, ours_name) == pytest.approx(getattr(ref, ref_name), rel=RTOL), ours_name


def test_statsmodels_names_are_the_table(fitted):
    X, y, _, model, _ = fitted("spector")
    res = summary(model, X, y)
    assert list(res.table.index) == ["x0", "x1", "x2", "intercept"]
    assert list(res.table.columns) == ["coef", "std_err", "z", "p_value", "ci_low", "ci_high"]
    np.testing.assert_array_equal(res.params, res.table["coef"])
    np.testing.assert_array_equal(res.bse, res.table["std_err"])
    np.testing.assert_array_equal(res.conf_int().to_numpy(), res.table[["ci_low", "ci_high"]].to_numpy())
    assert res.llf == res.log_likelihood and res.prsquared == res.pseudo_r2
    assert list(res.cov.index) == list(res.table.index)
    wider = res.conf_int(alpha=0.01)
    assert np.all(wider[0] < res.table["ci_low"]) and np.all(wider[1] > res.table["ci_high"])


def test_feature_names_from_a_frame(fitted):
    frame = sm.datasets.spector.load_pandas().exog
    y = sm.datasets.spector.load_pandas().endog.to_numpy().astype(int)
    model = LogisticRegression(C=np.inf, tol=1e-10).fit(frame, y)
    assert list(summary(model, frame, y).table.index) == [*frame.columns, "intercept"]


def test_multinomial_table_is_reference_class_long_format(fitted):
    X, y, _, model, _ = fitted("anes96")
    res = summary(model, X, y)
    classes = np.unique(y)
    assert res.table.index.names == ["class", "feature"]
    assert list(res.table.index.get_level_values("class").unique()) == classes[1:].tolist()
    # The fitted symmetric coefficients, taken to W_k - W_0, are the table's (to the fit's tolerance).
    contrast = (model.coef_[1:] - model.coef_[0]).ravel()
    coef = res.table["coef"].to_numpy().reshape(classes.size - 1, -1)[:, :-1].ravel()
    np.testing.assert_allclose(coef, contrast, rtol=1e-6, atol=1e-8)
    text = str(res)
    assert f"Reference class: {classes[0]}" in text and "class = 6" in text


def test_str_reads_like_statsmodels(fitted):
    X, y, _, model, _ = fitted("spector")
    text = str(summary(model, X, y))
    for piece in ["Logit Regression Results", "coef", "std err", "P>|z|", "[0.025", "0.975]", "intercept",
                  "Log-Likelihood:", "LL-Null:", "Pseudo R-squ.:", "No. Observations:", "Converged:"]:
        assert piece in text
    assert "2.8261" in text  # spector's GPA coefficient, as statsmodels prints it


@pytest.mark.parametrize("name", ["spector", "anes96"])
def test_a_loose_fit_is_polished_to_the_optimum(fitted, name):
    X, y, _, _, oracle = fitted(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter=3 cannot converge: that is the point
        loose = LogisticRegression(C=np.inf, solver="lbfgs", max_iter=3).fit(X, y)
    res = summary(loose, X, y)
    ref = oracle.fit(method="newton", tol=1e-12, disp=0)
    assert res.converged and res.newton_steps > 1
    np.testing.assert_allclose(res.table["coef"], _flat(ref.params), rtol=RTOL)
    np.testing.assert_allclose(res.table["std_err"], _flat(ref.bse), rtol=RTOL)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "HC1", "cluster"])
def test_integer_weights_are_repeated_rows(fitted, cov_type):
    X, y, groups, _, oracle = fitted("spector")
    counts = np.random.default_rng(0).integers(0, 4, size=y.size)
    counts[:4] = 1  # keep both classes, and the data unseparated
    model = LogisticRegression(C=np.inf, tol=1e-10).fit(X, y, sample_weight=counts)
    res = summary(model, X, y, sample_weight=counts, cov_type=cov_type,
                  groups=groups if cov_type == "cluster" else None)
    rows = np.repeat(np.arange(y.size), counts)
    repeated = sm.Logit(y[rows], sm.add_constant(X[rows], prepend=False))
    ref = _oracle_fit(repeated, cov_type, groups[rows])
    np.testing.assert_allclose(res.table["std_err"], ref.bse, rtol=RTOL)
    np.testing.assert_allclose(res.table["coef"], ref.params, rtol=RTOL)
    assert res.n_obs == rows.size and res.bic == pytest.approx(ref.bic, rel=RTOL)


@pytest.mark.parametrize("name", ["fair", "anes96"])
def test_float32_and_sparse_give_the_same_table(fitted, name):
    X, y, _, model, _ = fitted(name)
    X32 = X.astype(np.float32)
    model32 = LogisticRegression(C=np.inf, tol=1e-4, max_iter=10000).fit(X32, y)
    res32 = summary(model32, X32, y, cov_type="HC0")
    # Same arithmetic as float64 data holding the float32-rounded values; the
    # two polishings stop at different points within POLISH_SCORE_STEP (1e-10
    # in the scores), which moves the information by ~2e-10 and a p-value
    # by ~z² times that.
    exact = summary(model, X32.astype(np.float64), y, cov_type="HC0")
    np.testing.assert_allclose(res32.table, exact.table, rtol=1e-7)
    dense = summary(model, X, y, cov_type="HC0")
    sparse = summary(model, sp.csr_matrix(X), y, cov_type="HC0")
    np.testing.assert_allclose(sparse.table, dense.table, rtol=1e-10)
    # And the float32 table is the float64 one up to float32's rounding of X.
    np.testing.assert_allclose(res32.table["std_err"], dense.table["std_err"], rtol=1e-3)


def test_blocks_do_not_change_the_numbers(fitted, monkeypatch):
    import logitdescent.inference as inference

    X, y, groups, model, _ = fitted("fair")
    whole = summary(model, X, y, cov_type="cluster", groups=groups)
    monkeypatch.setattr(inference, "BLOCK_BYTES", 8 * 9 * 100)  # 100-row blocks
    blocked = summary(model, sp.csr_matrix(X), y, cov_type="cluster", groups=groups)
    np.testing.assert_allclose(blocked.table, whole.table, rtol=1e-10)


def test_no_intercept(fitted):
    X, y, _, _, _ = fitted("spector")
    model = LogisticRegression(C=np.inf, tol=1e-10, fit_intercept=False).fit(X, y)
    res = summary(model, X, y)
    ref = sm.Logit(y, X).fit(method="newton", tol=1e-12, disp=0)
    assert list(res.table.index) == ["x0", "x1", "x2"]
    np.testing.assert_allclose(res.table["std_err"], ref.bse, rtol=RTOL)
    assert res.llf == pytest.approx(ref.llf, rel=RTOL) and res.aic == pytest.approx(ref.aic, rel=RTOL)
    # statsmodels' df_model assumes a constant (rank - 1); without one all q count.
    assert res.df_model == 3 == ref.df_model + 1


# -- what summary refuses -----------------------------------------------------


def test_l2_penalty_is_refused_with_the_alternative(fitted):
    X, y, _, _, _ = fitted("spector")
    model = LogisticRegression(C=1.0).fit(X, y)
    with pytest.raises(ValueError, match=r"L2 penalty.*C=np.inf"):
        summary(model, X, y)


@pytest.mark.parametrize("semantics", [{"penalty": "l1"}, {"penalty": "elasticnet", "l1_ratio": 0.5},
                                       {"penalty": "deprecated", "l1_ratio": 1.0}])
def test_lasso_p_values_are_refused(fitted, semantics):
    """Both the ``penalty=`` estimator and scikit-learn 1.9's ``l1_ratio`` one."""
    X, y, _, _, _ = fitted("spector")
    model = LogisticRegression(C=1.0).fit(X, y)
    for attribute, value in semantics.items():
        setattr(model, attribute, value)
    with pytest.raises(ValueError, match=r"L1 penalty.*not valid"):
        summary(model, X, y)


class _Params:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


@pytest.mark.parametrize(
    "params, expected",
    [
        (dict(penalty=None, C=1.0, l1_ratio=0.5), (np.inf, 0.0)),  # old: None is no penalty
        (dict(penalty="l2", C=np.inf, l1_ratio=0.5), (np.inf, 0.0)),
        (dict(penalty="l2", C=2.0, l1_ratio=0.5), (2.0, 0.0)),  # old: l1_ratio ignored with "l2"
        (dict(penalty="l1", C=2.0, l1_ratio=0.5), (2.0, 1.0)),
        (dict(penalty="elasticnet", C=2.0, l1_ratio=0.3), (2.0, 0.3)),
        (dict(penalty="deprecated", C=2.0, l1_ratio=0.0), (2.0, 0.0)),  # new: l1_ratio alone
        (dict(penalty="deprecated", C=2.0, l1_ratio=0.7), (2.0, 0.7)),
        (dict(C=np.inf, l1_ratio=1.0), (np.inf, 0.0)),  # new, no penalty attribute at all
        (dict(C=3.0, l1_ratio=None), (3.0, 0.0)),
    ],
)
def test_penalty_of_reads_both_semantics(params, expected):
    assert penalty_of(_Params(**params)) == expected


def test_separated_data_raise_naming_the_feature():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = (X[:, 1] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(C=np.inf, max_iter=50).fit(X, y)
    with pytest.raises(PerfectSeparationError, match=r"Complete separation.*'x1'.*penalty"):
        summary(model, X, y)


def test_collinear_columns_are_named(fitted):
    X, y, _, _, _ = fitted("spector")
    X = np.column_stack([X, 2.0 * X[:, 0] - X[:, 2]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(C=np.inf, tol=1e-8).fit(X, y)
    with pytest.raises(ValueError, match=r"collinear \(rank 4 of 5\)"):
        summary(model, X, y)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(cov_type="HC3"), "cov_type must be one of"),
        (dict(cov_type="cluster"), "groups must be given"),
        (dict(groups=np.zeros(32)), "groups must be given"),
        (dict(cov_type="cluster", groups=np.zeros(32)), "at least 2 distinct clusters"),
        (dict(cov_type="cluster", groups=np.zeros(5)), r"groups must have shape \(32,\)"),
        (dict(alpha=1.5), "alpha must be a float in"),
    ],
)
def test_bad_arguments_name_the_fix(fitted, kwargs, match):
    X, y, _, model, _ = fitted("spector")
    with pytest.raises(ValueError, match=match):
        summary(model, X, y, **kwargs)


def test_bad_data_name_the_argument(fitted):
    X, y, _, model, _ = fitted("spector")
    with pytest.raises(ValueError, match="X has 2 features"):
        summary(model, X[:, :2], y)
    with pytest.raises(ValueError, match="not fitted on"):
        summary(model, X, y + 5)
    with pytest.raises(ValueError, match="y must have shape"):
        summary(model, X, y[:-1])


def test_one_vs_rest_is_refused(fitted):
    X, y, _, model, _ = fitted("anes96")
    model = copy.deepcopy(model)
    model.multiclass = "ovr"  # the estimator that still offers it
    with pytest.raises(ValueError, match="one-vs-rest"):
        summary(model, X, y)
