"""Wald inference for unpenalized fits: standard errors, z, p-values, intervals, likelihoods.

:func:`summary` takes a fitted :class:`~logitdescent.LogisticRegression` and
the data it was fitted on and returns statsmodels' numbers (``Logit`` for two
classes, ``MNLogit`` for more): see docs/inference.md for the formulas, the
conventions and what is refused.

Parametrization. ``x̃ = [x, 1]`` (the 1 with an intercept), ``p`` its length.
Class 0 (``classes_[0]``) is the reference: ``θ_k = [w_k, b_k]`` for
``k = 1..K-1``, scores ``z_0 = 0``, ``z_k = θ_k·x̃``, probabilities
``softmax(z)``. Two classes are the case ``K = 2`` (``θ_1 = [w, b]``, the
estimator's own coefficients); more classes take the estimator's symmetric
coefficients to ``W_k - W_0``, the only identifiable contrasts without a
penalty. Parameters are laid out class by class (statsmodels' order).

Cost. One blocked pass over X accumulates, in float64, every ``p x p``
weighted Gram matrix needed (the information and, for HC0/HC1, the sandwich's
meat): ``O(m p² K²)``. X is read in row blocks of at most
:data:`BLOCK_BYTES` (sparse blocks densified one at a time; float32 blocks
converted one at a time). A fit that is not at the optimum to high precision
is first polished by Newton steps, each one more such pass (see
:data:`POLISH_SCORE_STEP`).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse as sp
from scipy import stats
from scipy.special import logsumexp, xlogy
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from .kernel import model_offset
from .separation import PerfectSeparationError, detect_separation

__all__ = ["COV_TYPES", "LogitResults", "MNLogitResults", "summary"]

COV_TYPES = ("nonrobust", "HC0", "HC1", "cluster")

#: Float64 bytes of ``[X 1]`` densified per block: large enough for BLAS to
#: run near full speed, small next to X.
BLOCK_BYTES = 16 * 2**20

#: Polishing stops after a Newton step that moves no example's score by more
#: than this. The information at the point before the step is then that at
#: the optimum within a relative ``exp(2 · 1e-10) - 1 ≈ 2e-10`` (each
#: example's curvature ``a (1 - a)`` or ``p_k (δ_kl - p_l)`` changes by a
#: factor within ``exp(±2 |Δz|)``), and the parameters are within the square
#: of the step. A p-value's relative error is about ``z²`` times that of
#: ``z``: 1e-7 at ``z = 20``, inside the 1e-6 promised.
POLISH_SCORE_STEP = 1e-10

#: Newton steps before polishing gives up (from a converged fit it takes one or two).
POLISH_MAX_ITER = 50


# -- reading the model ------------------------------------------------------


def penalty_of(model):
    """``(C, l1_ratio)`` of a fitted estimator, under either parameter semantics.

    Works with the ``penalty=`` estimator (``None`` is no penalty; "l1" is
    ``l1_ratio = 1``, "l2" is 0, "elasticnet" reads ``l1_ratio``) and with
    scikit-learn 1.9's (``l1_ratio`` alone sets the mix; ``penalty`` a
    deprecated alias, ``C=np.inf`` no penalty).

    Returns
    -------
    C : float
        ``np.inf`` for an unpenalized fit.
    l1_ratio : float
    """
    C = getattr(model, "C", np.inf)
    penalty = getattr(model, "penalty", "deprecated")
    if penalty is None or C is None or (isinstance(C, numbers.Real) and np.isinf(C)):
        return np.inf, 0.0
    fixed = {"l1": 1.0, "l2": 0.0}
    if penalty in fixed:
        return float(C), fixed[penalty]
    ratio = getattr(model, "l1_ratio", 0.0)
    return float(C), 0.0 if ratio is None else float(ratio)


def _check_model(model):
    check_is_fitted(model, ["coef_", "intercept_", "classes_"])
    C, rho = penalty_of(model)
    if np.isfinite(C):
        if rho > 0:
            raise ValueError(
                f"summary() needs an unpenalized fit; this one has an L1 penalty (C={C!r}, "
                f"l1_ratio={rho!r}). Wald p-values after lasso selection are not valid (the "
                "selection used the same data). Refit with C=np.inf on the features you want to "
                "test (ideally chosen on separate data), or bootstrap the whole fit."
            )
        raise ValueError(
            f"summary() needs an unpenalized fit; this one has an L2 penalty (C={C!r}), which "
            "biases the coefficients towards 0, so Wald intervals around them do not cover at "
            "their nominal level. Refit with LogisticRegression(C=np.inf) for Wald inference, "
            "or bootstrap the penalized fit."
        )
    if getattr(model, "coef_bounds", None) is not None:
        raise ValueError(
            "summary() needs an unconstrained fit: Wald statistics assume the optimum is interior, "
            "which coef_bounds may prevent. Refit with coef_bounds=None."
        )
    if model.classes_.size > 2 and getattr(model, "multiclass", "multinomial") == "ovr":
        raise ValueError(
            "summary() covers the binary and the multinomial model; one-vs-rest fits K separate "
            "models. Refit with the multinomial model, or call summary on each binary fit."
        )


def _feature_names(model, X_in, n):
    names = getattr(model, "feature_names_in_", None)
    if names is None and hasattr(X_in, "columns"):
        names = list(X_in.columns)
    if names is None:
        return [f"x{j}" for j in range(n)]
    return [str(name) for name in names]


def _start(model, fit_intercept):
    """The fitted coefficients in the reference-class parametrization, (K-1, p) float64."""
    W = np.asarray(model.coef_, dtype=np.float64)
    b = np.asarray(model.intercept_, dtype=np.float64).ravel()
    theta = np.hstack([W, b[:, None]]) if fit_intercept else W.copy()
    if theta.shape[0] == 1:
        return theta
    return theta[1:] - theta[0]


# -- the blocked pass -------------------------------------------------------


def _blocks(X, fit_intercept):
    """``(rows, [X[rows] 1])`` in float64, block by block."""
    m, n = X.shape
    p = n + int(fit_intercept)
    size = max(1, BLOCK_BYTES // (8 * p))
    for start in range(0, m, size):
        rows = slice(start, min(m, start + size))
        part = X[rows]
        block = np.empty((rows.stop - rows.start, p))
        block[:, :n] = part.toarray() if sp.issparse(part) else part
        if fit_intercept:
            block[:, n] = 1.0
        yield rows, block


def _evaluate(X, codes, s, theta, fit_intercept, *, hessian=False, meat=False, groups=None,
              direction=None, offset=None):
    """One pass over X at ``theta`` (K-1, p); ``offset`` (m, K-1) adds to the scores.

    Returns a dict: ``llf``; ``grad`` (K-1, p), the gradient of ``llf``;
    ``hessian`` (q, q), minus its Hessian; ``meat`` (q, q), the sum of the
    examples' outer score products; ``scores_by_group`` (G, q); ``max_dz``,
    the largest ``|Δz|`` of ``direction``. Only what is asked is computed.
    """
    R, p = theta.shape
    pairs = [(k, l) for k in range(R) for l in range(k, R)]
    out = {"llf": 0.0, "grad": np.zeros((R, p)), "max_dz": 0.0}
    if hessian:
        info = {pair: np.zeros((p, p)) for pair in pairs}
    if meat:
        outer = {pair: np.zeros((p, p)) for pair in pairs}
    if groups is not None:
        index, n_groups = groups
        by_group = np.zeros((n_groups, R * p))
    for rows, B in _blocks(X, fit_intercept):
        Z = np.zeros((B.shape[0], R + 1))
        Z[:, 1:] = B @ theta.T
        if offset is not None:
            Z[:, 1:] += offset[rows]
        log_p = Z - logsumexp(Z, axis=1, keepdims=True)
        P = np.exp(log_p[:, 1:])
        c, w = codes[rows], s[rows]
        out["llf"] += float(w @ log_p[np.arange(c.size), c])
        resid = -P
        resid[np.arange(c.size), c - 1] += c > 0  # one-hot of classes 1..K-1, minus P
        scores = resid * w[:, None]
        out["grad"] += scores.T @ B
        if direction is not None:
            out["max_dz"] = max(out["max_dz"], float(np.max(np.abs(B @ direction.T), initial=0.0)))
        for k, l in pairs:
            if hessian:
                curvature = w * P[:, k] * ((k == l) - P[:, l])
                info[k, l] += (B * curvature[:, None]).T @ B
            if meat:
                # Frequency weights: s copies of an example add s r_k r_l x̃x̃ᵀ.
                outer[k, l] += (B * (w * resid[:, k] * resid[:, l])[:, None]).T @ B
        if groups is not None:
            # Σ over a group of s r x̃: its score, as if its copies were all in it.
            g = index[rows]
            for k in range(R):
                np.add.at(by_group[:, k * p:(k + 1) * p], g, scores[:, k:k + 1] * B)
    if hessian:
        out["hessian"] = _assemble(info, R, p)
    if meat:
        out["meat"] = _assemble(outer, R, p)
    if groups is not None:
        out["scores_by_group"] = by_group
    return out


def _assemble(blocks, R, p):
    M = np.empty((R * p, R * p))
    for (k, l), G in blocks.items():
        M[k * p:(k + 1) * p, l * p:(l + 1) * p] = G
        M[l * p:(l + 1) * p, k * p:(k + 1) * p] = G.T
    return M


#: Smallest ratio of Cholesky pivots accepted (condition number ~ its inverse squared).
SINGULAR_PIVOT_RATIO = 1e-7


def _factor(H, names):
    """Cholesky factor of the information, or a ValueError naming collinear columns."""
    p = len(names)
    try:
        factor = scipy.linalg.cho_factor(H)
        pivots = np.abs(np.diag(factor[0]))
        # Rounding can let Cholesky through a singular matrix with a pivot
        # near zero (pivot ratio ~ sqrt(eps) for exactly collinear columns):
        # a condition number beyond ~1e14 counts as singular.
        if pivots.min() > pivots.max() * SINGULAR_PIVOT_RATIO:
            return factor
        raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        _, R, piv = scipy.linalg.qr(H[:p, :p], pivoting=True)
        d = np.abs(np.diag(R))
        rank = int(np.sum(d > d[0] * np.finfo(float).eps * p)) if d[0] > 0 else 0
        bad = [names[j] for j in piv[rank:]]
        raise ValueError(
            f"The Fisher information is singular: the columns of [X 1] are collinear (rank {rank} "
            f"of {p}); {', '.join(map(repr, bad[:10]))} depend(s) on the others. Drop redundant "
            "features (a dummy for every level of a category, a constant column next to the "
            "intercept) and refit."
        ) from None


def _polish(X, codes, s, theta, fit_intercept, meat, names, offset=None):
    """Newton's method from the fitted point: (theta, the last pass, steps, converged)."""
    converged = False
    for step_count in range(1, POLISH_MAX_ITER + 1):
        at = _evaluate(X, codes, s, theta, fit_intercept, hessian=True, meat=meat, offset=offset)
        factor = _factor(at["hessian"], names)
        step = scipy.linalg.cho_solve(factor, at["grad"].ravel()).reshape(theta.shape)
        t = 1.0
        # llf is concave: a Newton step may overshoot only far from the optimum.
        # Near it llf changes by ~1e-16 relative, below rounding: the slack
        # accepts those steps.
        slack = 1e-12 * (1.0 + abs(at["llf"]))
        for _ in range(60):
            trial = _evaluate(X, codes, s, theta + t * step, fit_intercept, direction=t * step, offset=offset)
            if trial["llf"] >= at["llf"] - slack:
                break
            t *= 0.5
        theta = theta + t * step
        if trial["max_dz"] <= POLISH_SCORE_STEP:
            converged = True
            break
    return theta, at, step_count, converged


# -- results ----------------------------------------------------------------


def _shorten(text, width):
    return text if len(text) <= width else text[: width - 3] + "..."


class LogitResults:
    """Wald statistics of a binary logistic fit, with statsmodels' names.

    Attributes
    ----------
    table : pandas.DataFrame
        Indexed by the feature names (``x0, x1, ...`` without names) then
        ``"intercept"``; columns ``coef``, ``std_err``, ``z``, ``p_value``,
        ``ci_low``, ``ci_high``.
    cov : pandas.DataFrame of shape (q, q)
        The covariance of the coefficients, rows and columns in the order of
        ``table``.
    log_likelihood, null_log_likelihood : float
        ``llf`` at the optimum and of the intercept-only model.
    aic, bic : float
        ``-2 llf + 2 q`` and ``-2 llf + log(n_obs) q``.
    pseudo_r2 : float
        McFadden's ``1 - llf / llnull``.
    n_obs : float
        Number of examples (the sum of the sample weights, as frequencies).
    df_model : float
        Parameters besides the intercept(s).
    df_resid : float
        ``n_obs - q``.
    converged : bool
        Whether the Newton polishing reached the optimum (``params`` is there).
    fit_converged : bool or None
        The estimator's own ``converged_``.
    newton_steps : int
        Newton steps polishing took.
    cov_type : str
    alpha : float
    classes : ndarray
    """

    _model_name = "Logit"

    def __init__(self, *, index, params, cov, llf, llnull, n_obs, df_model, cov_type, alpha,
                 converged, fit_converged, newton_steps, classes, max_abs_grad):
        self.cov_type, self.alpha, self.classes = cov_type, alpha, classes
        self.converged, self.fit_converged, self.newton_steps = converged, fit_converged, newton_steps
        self.max_abs_grad = max_abs_grad
        self.log_likelihood, self.null_log_likelihood = float(llf), float(llnull)
        self.n_obs, self.df_model = n_obs, float(df_model)
        q = params.size
        self.df_resid = float(n_obs - q)
        self.aic = -2.0 * llf + 2.0 * q
        self.bic = -2.0 * llf + np.log(n_obs) * q
        self.pseudo_r2 = 1.0 - llf / llnull
        se = np.sqrt(np.diag(cov))
        z = params / se
        crit = stats.norm.ppf(1.0 - alpha / 2.0)
        self.table = pd.DataFrame(
            {
                "coef": params, "std_err": se, "z": z, "p_value": 2.0 * stats.norm.sf(np.abs(z)),
                "ci_low": params - crit * se, "ci_high": params + crit * se,
            },
            index=index,
        )
        self.cov = pd.DataFrame(cov, index=index, columns=index)

    # statsmodels' names
    @property
    def params(self):
        return self.table["coef"]

    @property
    def bse(self):
        return self.table["std_err"]

    @property
    def tvalues(self):
        return self.table["z"]

    @property
    def pvalues(self):
        return self.table["p_value"]

    @property
    def llf(self):
        return self.log_likelihood

    @property
    def llnull(self):
        return self.null_log_likelihood

    @property
    def prsquared(self):
        return self.pseudo_r2

    @property
    def nobs(self):
        return self.n_obs

    @property
    def llr(self):
        """Likelihood-ratio statistic against the intercept-only model, ``2 (llf - llnull)``."""
        return 2.0 * (self.llf - self.llnull)

    @property
    def llr_pvalue(self):
        """Its chi-squared p-value with ``df_model`` degrees of freedom."""
        return float(stats.chi2.sf(self.llr, self.df_model))

    def conf_int(self, alpha=None):
        """Wald intervals, ``coef ± z_{1-alpha/2} std_err``; DataFrame with columns 0, 1."""
        if alpha is None:
            return self.table[["ci_low", "ci_high"]].set_axis([0, 1], axis=1)
        crit = stats.norm.ppf(1.0 - alpha / 2.0)
        return pd.DataFrame({0: self.params - crit * self.bse, 1: self.params + crit * self.bse})

    def cov_params(self):
        return self.cov

    def _header(self):
        left = [
            ("Model:", self._model_name),
            ("Classes:", _shorten(", ".join(str(c) for c in self.classes.tolist()), 21)),
            ("Covariance:", self.cov_type),
            ("Converged:", str(self.converged)),
            ("Log-Likelihood:", f"{self.llf:.6g}"),
        ]
        right = [
            ("No. Observations:", f"{self.n_obs:g}"),
            ("Df Residuals:", f"{self.df_resid:g}"),
            ("Df Model:", f"{self.df_model:g}"),
            ("Pseudo R-squ.:", f"{self.pseudo_r2:.4f}"),
            ("LL-Null:", f"{self.llnull:.6g}"),
            ("LLR p-value:", f"{self.llr_pvalue:.4g}"),
        ]
        lines = []
        for i in range(max(len(left), len(right))):
            a = "{:<17}{:>21}".format(*left[i]) if i < len(left) else " " * 38
            b = "{:<20}{:>20}".format(*right[i]) if i < len(right) else ""
            lines.append(f"{a}    {b}")
        return lines

    def _rows(self, table):
        lo, hi = f"[{self.alpha / 2:g}", f"{1 - self.alpha / 2:g}]"
        width = max([12] + [len(str(name)) for name in table.index]) + 2
        head = f"{'':<{width}}{'coef':>10}{'std err':>11}{'z':>10}{'P>|z|':>9}{lo:>11}{hi:>11}"
        lines = [head, "-" * len(head)]
        for name, r in table.iterrows():
            lines.append(
                f"{str(name):<{width}}{r.coef:>10.4f}{r.std_err:>11.3f}{r.z:>10.3f}{r.p_value:>9.3f}"
                f"{r.ci_low:>11.3f}{r.ci_high:>11.3f}"
            )
        return lines, len(head)

    def __str__(self):
        rows, width = self._rows(self.table)
        title = f"{self._model_name} Regression Results"
        rule = "=" * max(width, 82)
        note = f"Positive class: {self.classes.tolist()[-1]} (the coefficients raise its log-odds)."
        return "\n".join([title.center(len(rule)), rule, *self._header(), rule, *rows, rule, note])


class MNLogitResults(LogitResults):
    """Wald statistics of a multinomial fit, reference-class parametrization.

    As :class:`LogitResults`, but ``table`` and ``cov`` have a two-level index
    ``(class, feature)``: one block per class ``k`` other than the reference
    ``classes[0]``, holding ``W_k - W_0`` and ``b_k - b_0`` (the log-odds of
    class ``k`` against the reference), as statsmodels' ``MNLogit``.
    """

    _model_name = "MNLogit"

    def __str__(self):
        parts = []
        width = 0
        for label in self.table.index.get_level_values(0).unique():
            rows, width = self._rows(self.table.xs(label, level=0))
            parts.append(f"class = {label}")
            parts.extend(rows)
        rule = "=" * max(width, 82)
        title = f"{self._model_name} Regression Results"
        note = (
            f"Reference class: {self.classes.tolist()[0]}. Each block is W_k - W_0: the log-odds of its "
            "class against the reference (the symmetric coefficients are not identifiable "
            "without a penalty)."
        )
        return "\n".join([title.center(len(rule)), rule, *self._header(), rule, *parts, rule, note])


# -- the entry point --------------------------------------------------------


def summary(model, X, y, sample_weight=None, cov_type="nonrobust", groups=None, alpha=0.05, offset=None):
    """Wald standard errors, z, p-values and intervals of an unpenalized fit.

    Parameters
    ----------
    model : logitdescent.LogisticRegression
        Fitted without a penalty (``C=np.inf``) and without coefficient
        bounds; binary or multinomial.
    X : {array-like, sparse matrix} of shape (m, n)
        The data it was fitted on (float32 or float64; CSR is read by blocks).
    y : array-like of shape (m,)
    sample_weight : array-like of shape (m,), default=None
        Frequency weights, as in the fit (integer weights are repetitions:
        ``n_obs`` is their sum). The model's ``class_weight`` is applied on
        top, as ``fit`` does.
    cov_type : {"nonrobust", "HC0", "HC1", "cluster"}, default="nonrobust"
        The inverse observed information, the sandwich without and with the
        ``n / (n - q)`` factor, or the cluster sandwich with statsmodels'
        ``G/(G-1) (n-1)/(n-q)`` factor (see docs/inference.md).
    groups : array-like of shape (m,), default=None
        Cluster labels, required by (and only for) ``cov_type="cluster"``.
    alpha : float, default=0.05
        The intervals cover ``1 - alpha``.
    offset : array-like of shape (m,) or (m, n_classes), default=None
        The offset the model was fitted with (statsmodels' ``offset``). The
        null model keeps it: ``llnull`` is the intercept-only fit with the
        offset, as statsmodels computes it.

    Returns
    -------
    results : LogitResults or MNLogitResults

    Raises
    ------
    PerfectSeparationError
        When the data are separated (the optimum is at infinity).
    ValueError
        For a penalized, bounded or one-vs-rest fit, singular information,
        or bad arguments.

    Warns
    -----
    ConvergenceWarning
        When Newton polishing does not reach the optimum (``converged`` is
        then False and the numbers are approximate).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_breast_cancer
    >>> from logitdescent import LogisticRegression
    >>> from logitdescent.inference import summary
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = X[:, :3]
    >>> model = LogisticRegression(C=np.inf, tol=1e-8, max_iter=10000).fit(X, y)
    >>> res = summary(model, X, y)
    >>> list(res.table.columns)
    ['coef', 'std_err', 'z', 'p_value', 'ci_low', 'ci_high']
    >>> list(res.table.index)
    ['x0', 'x1', 'x2', 'intercept']
    """
    _check_model(model)
    if cov_type not in COV_TYPES:
        raise ValueError(f"cov_type must be one of {list(COV_TYPES)}; got {cov_type!r}.")
    if not (isinstance(alpha, numbers.Real) and 0 < alpha < 1):
        raise ValueError(f"alpha must be a float in (0, 1), e.g. 0.05; got {alpha!r}.")
    if (cov_type == "cluster") != (groups is not None):
        raise ValueError(
            "groups must be given with cov_type='cluster' (one label per example) and only then; "
            f"got cov_type={cov_type!r} and groups {'given' if groups is not None else 'None'}."
        )
    X_in = X
    X = check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32], input_name="X")
    m, n = X.shape
    if n != model.coef_.shape[1]:
        raise ValueError(f"X has {n} features, but the model was fitted on {model.coef_.shape[1]}.")
    y = np.asarray(y)
    if y.shape != (m,):
        raise ValueError(f"y must have shape ({m},) to match X; got {y.shape}.")
    classes = model.classes_
    codes = np.minimum(np.searchsorted(classes, y), classes.size - 1)
    if np.any(classes[codes] != y):
        raise ValueError(f"y holds labels the model was not fitted on: {np.setdiff1d(y, classes)[:5]!r}.")
    s = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    class_weight = getattr(model, "class_weight", None)
    if class_weight is not None:  # as fit folds them in
        if isinstance(class_weight, str):
            per_class = compute_class_weight(class_weight, classes=np.arange(classes.size), y=codes, sample_weight=s)
        else:
            per_class = compute_class_weight(class_weight, classes=classes, y=classes)
        s = s * per_class[codes]
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != (m,):
            raise ValueError(f"groups must have shape ({m},), one label per example; got {groups.shape}.")
        labels, index = np.unique(groups, return_inverse=True)
        if labels.size < 2:
            raise ValueError("groups must hold at least 2 distinct clusters for cov_type='cluster'.")
        groups = (index, labels.size)

    if offset is not None:  # in the reference-class parametrization: class k's minus class 0's
        offset = model_offset(offset, m, classes.size).reshape(m, -1)
        offset = offset if classes.size == 2 else offset[:, 1:] - offset[:, :1]
    fit_intercept = bool(getattr(model, "fit_intercept", True))
    names = _feature_names(model, X_in, n) + (["intercept"] if fit_intercept else [])
    separation = detect_separation(
        X, codes, s, fit_intercept=fit_intercept, feature_names=names[:n], method="auto"
    )
    if separation:
        raise PerfectSeparationError(separation.message() + " summary() needs a finite optimum.")

    theta, at, steps, converged = _polish(
        X, codes, s, _start(model, fit_intercept), fit_intercept, cov_type in ("HC0", "HC1"), names, offset
    )
    if not converged:
        warnings.warn(
            f"Newton polishing did not reach the optimum in {POLISH_MAX_ITER} steps; the statistics "
            "are approximate (converged=False). Check the data for near-separation or collinearity.",
            ConvergenceWarning, stacklevel=2,
        )
    final = _evaluate(X, codes, s, theta, fit_intercept, groups=groups, offset=offset)
    factor = _factor(at["hessian"], names)
    q = theta.size
    H_inv = scipy.linalg.cho_solve(factor, np.eye(q))
    n_obs = float(np.sum(s))
    if cov_type == "nonrobust":
        cov = H_inv
    elif cov_type in ("HC0", "HC1"):
        cov = H_inv @ at["meat"] @ H_inv
        if cov_type == "HC1":
            cov = cov * n_obs / (n_obs - q)
    else:
        U = final["scores_by_group"]
        G = U.shape[0]
        cov = H_inv @ (U.T @ U) @ H_inv * (G / (G - 1.0) * (n_obs - 1.0) / (n_obs - q))
    cov = (cov + cov.T) / 2.0

    weight_by_class = np.bincount(codes, weights=s, minlength=classes.size)
    llnull = float(np.sum(xlogy(weight_by_class, weight_by_class / n_obs)))
    if offset is not None:  # the intercept-only model with the offset: Newton on the intercepts
        no_features = np.zeros((m, 0))
        start = np.zeros((classes.size - 1, 1))
        null, *_ = _polish(no_features, codes, s, start, True, False, ["intercept"], offset)
        llnull = _evaluate(no_features, codes, s, null, True, offset=offset)["llf"]
    R = theta.shape[0]
    common = dict(
        params=theta.ravel(), cov=cov, llf=final["llf"], llnull=llnull, n_obs=n_obs,
        df_model=(len(names) - int(fit_intercept)) * R, cov_type=cov_type, alpha=float(alpha),
        converged=converged, fit_converged=getattr(model, "converged_", None), newton_steps=steps,
        classes=classes, max_abs_grad=float(np.max(np.abs(final["grad"]))),
    )
    if R == 1:
        return LogitResults(index=pd.Index(names, name="feature"), **common)
    index = pd.MultiIndex.from_product([classes[1:].tolist(), names], names=["class", "feature"])
    return MNLogitResults(index=index, **common)
