"""``LogisticRegressionCV``: ``C`` (and ``l1_ratio``) chosen by cross-validation on warm-started paths.

For every fold and every ``l1_ratio``, one call of
:func:`logitdescent.path.logistic_path` fits the whole grid of ``C`` on the
training rows, each fit starting at the previous one's solution, and every
point of the path is scored on the held-out rows. The interface, the grid,
the choice rule, the handling of class and sample weights and the fitted
attributes are scikit-learn 1.9's ``LogisticRegressionCV``'s, so both give
the same ``C_`` and coefficients for the same folds; docs/cv.md explains the
method and lists the few differences.
"""

from __future__ import annotations

import inspect
from numbers import Integral, Real

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.metrics import get_scorer, get_scorer_names, make_scorer
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _check_method_params, _check_sample_weight, check_is_fitted, validate_data

from .estimator import LogisticRegression, check_two_classes
from .path import logistic_path
from .solvers import SOLVERS

__all__ = ["LogisticRegressionCV"]

#: joblib's preference for the fold jobs (with n_jobs > 1): processes, because in
#: threads two paths compete for the compiled kernel's own thread pool and ran
#: slower than one after the other (benchmarks/RESULTS.md, "Cross-validation").
PARALLEL_PREFER = "processes"

#: Scorer names computed by :func:`_direct_scores` instead of scikit-learn's scorer objects.
_DIRECT_SCORERS = frozenset({"accuracy", "neg_log_loss"})

#: scikit-learn's grid for an int ``Cs``: ``logspace(-4, 4, Cs)``.
_GRID_LOW, _GRID_HIGH = -4, 4


def _checked_grid(Cs):
    """``Cs`` as the float64 grid of C values, shape (n_Cs,), in the given order."""
    if isinstance(Cs, Integral) and not isinstance(Cs, bool):
        return np.logspace(_GRID_LOW, _GRID_HIGH, int(Cs))
    try:
        grid = np.asarray(Cs, dtype=np.float64)
    except (TypeError, ValueError):
        grid = None
    if grid is None or grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)) or not np.all(grid > 0):
        raise ValueError(
            f"Cs must be a positive int or a non-empty 1-d array-like of positive finite floats; got {Cs!r}."
        )
    return grid


def _checked_ratios(l1_ratios):
    """``l1_ratios`` as a float64 array of shape (n_l1_ratios,); None is ``[0.0]`` (pure L2)."""
    if l1_ratios is None:
        return np.zeros(1)
    try:
        ratios = np.asarray(l1_ratios, dtype=np.float64)
    except (TypeError, ValueError):
        ratios = None
    if ratios is None or ratios.ndim != 1 or ratios.size == 0 or not np.all((ratios >= 0) & (ratios <= 1)):
        raise ValueError(
            f"l1_ratios must be None or a non-empty 1-d array-like of numbers between 0 and 1; got {l1_ratios!r}."
        )
    return ratios


def _generic_scores(scoring, classes, params, coefs, X_test, y_test, fit_intercept):
    """Each point's score by a scikit-learn scorer, as ``_log_reg_scoring_path`` scores.

    ``scoring=None`` is the model's ``score`` (accuracy). A scorer whose
    metric takes ``labels`` is rebuilt with all the classes (and, for two,
    ``pos_label=classes[1]``), because a held-out fold may lack a class.
    """
    if scoring is None:
        scorer = lambda model, X, y, **kw: model.score(X, y, **kw)  # noqa: E731
    else:
        scorer = get_scorer(scoring)
        signature = inspect.signature(scorer._score_func).parameters if hasattr(scorer, "_score_func") else {}
        if "labels" in signature:
            pos_label = {"pos_label": classes[-1]} if len(classes) <= 2 and "pos_label" in signature else {}
            scorer = make_scorer(
                scorer._score_func,
                greater_is_better=scorer._sign == 1,
                response_method=scorer._response_method,
                labels=classes,
                **pos_label,
                **getattr(scorer, "_kwargs", {}),
            )
    rows, n = coefs.shape[1], X_test.shape[1]
    model = LogisticRegression(fit_intercept=fit_intercept)
    model.classes_, model.n_features_in_ = classes, n
    scores = np.empty(coefs.shape[0])
    for i, theta in enumerate(coefs):
        model.coef_ = theta[:, :n]
        model.intercept_ = theta[:, n] if fit_intercept else np.zeros(rows, dtype=theta.dtype)
        scores[i] = scorer(model, X_test, y_test, **params)
    return scores


def _direct_scores(scoring, coefs, X_test, codes_test, sample_weight, fit_intercept):
    """Accuracy or negative log-loss of every point at once, computed as scikit-learn computes them.

    The scorers' input validation costs more than a small fold's fit, so the
    two common metrics are evaluated here from one product ``X_test W^T``
    for the whole path: the predictions and probabilities of
    :class:`~logitdescent.LogisticRegression` (in X's dtype), then
    ``accuracy_score`` (a weighted mean of hits) or ``log_loss``
    (probabilities clipped to ``[eps, 1 - eps]`` of their dtype, the binary
    ``P(y=0)`` taken as ``1 - P(y=1)`` as scikit-learn's binary scorer does).
    """
    n_cs, rows, n = coefs.shape[0], coefs.shape[1], X_test.shape[1]
    Z = np.asarray(X_test @ coefs[:, :, :n].reshape(-1, n).T).reshape(-1, n_cs, rows)
    if fit_intercept:
        Z = Z + coefs[:, :, n]
    hits = np.arange(codes_test.size), codes_test
    scores = np.empty(n_cs)
    for i in range(n_cs):
        if scoring == "accuracy":
            predicted = (Z[:, i, 0] > 0).astype(np.intp) if rows == 1 else Z[:, i].argmax(axis=1)
            scores[i] = np.average(predicted == codes_test, weights=sample_weight)
            continue
        if rows == 1:
            p1 = expit(Z[:, i, 0])
            P = np.column_stack([1 - p1, p1])
        else:
            P = softmax(Z[:, i], axis=1)
        eps = np.finfo(P.dtype).eps
        loss = -np.log(np.clip(P[hits], eps, 1 - eps))
        scores[i] = -np.average(loss, weights=sample_weight)
    return scores


def _fold_path(X, y, codes, train, test, *, classes, Cs, l1_ratio, fit_weight, scoring, score_params,
               sample_weight, fit_intercept, tol, max_iter, solver, random_state):
    """The path of one (fold, l1_ratio) and its held-out scores.

    Returns
    -------
    coefs : ndarray of shape (n_Cs, rows, n + fit_intercept)
        ``rows`` is 1 for two classes, else the number of classes; X's dtype.
    scores : ndarray of shape (n_Cs,)
    n_iter : ndarray of int, shape (n_Cs,)
    """
    K = classes.size
    missing = np.flatnonzero(np.bincount(codes[train], minlength=K) == 0)
    if missing.size:
        raise ValueError(
            f"a training fold lacks class(es) {classes[missing].tolist()!r}, so its model cannot be fitted; "
            "use stratified folds (cv=int does) or fewer folds."
        )
    coefs, _, n_iter = logistic_path(
        X[train], codes[train], Cs=Cs, l1_ratio=float(l1_ratio),
        sample_weight=None if fit_weight is None else fit_weight[train],
        fit_intercept=fit_intercept, tol=tol, max_iter=max_iter, solver=solver, random_state=random_state,
    )
    rows, n = (1 if K == 2 else K), X.shape[1]
    coefs = coefs.reshape(Cs.size, rows, n + int(fit_intercept))
    if rows > 1 and fit_intercept:
        # The multinomial intercepts are unpenalized, so defined only up to a
        # common shift: store scikit-learn's representative, summing to zero.
        coefs[:, :, n] -= coefs[:, :, n].mean(axis=1, keepdims=True)
    X_test = X[test]
    if scoring is None:  # scikit-learn: the model's score, with the fold's sample weights
        params = {} if sample_weight is None else {"sample_weight": sample_weight[test]}
    else:
        params = _check_method_params(X, params=score_params or {}, indices=test)
    name = "accuracy" if scoring is None else scoring
    if isinstance(name, str) and name in _DIRECT_SCORERS and set(params) <= {"sample_weight"}:
        scores = _direct_scores(name, coefs, X_test, codes[test], params.get("sample_weight"), fit_intercept)
    else:
        scores = _generic_scores(scoring, classes, params, coefs, X_test, y[test], fit_intercept)
    return coefs, scores, np.asarray(n_iter, dtype=np.int32)


class LogisticRegressionCV(ClassifierMixin, BaseEstimator):
    """Logistic regression with ``C`` and ``l1_ratio`` chosen by cross-validation.

    scikit-learn 1.9's ``LogisticRegressionCV`` on logitdescent's solvers:
    same parameters (less the deprecated ``penalty``, ``dual`` and
    liblinear's ``intercept_scaling``), same grid, same choice rule, same
    attributes. Each fold's whole grid of ``C`` is one warm-started
    :func:`logitdescent.path.logistic_path`; the folds (times the
    ``l1_ratios``) run in parallel with ``n_jobs``. The objective is that of
    :class:`logitdescent.LogisticRegression` (scikit-learn's, divided by
    ``C S``), so the coefficients are scikit-learn's. See docs/cv.md.

    Parameters
    ----------
    Cs : int or array-like of shape (n_Cs,), default=10
        The grid of ``C`` (inverse regularization strength). An int gives
        scikit-learn's grid, ``np.logspace(-4, 4, Cs)`` (not the exact
        L1 grid that :func:`~logitdescent.path.logistic_path` builds for an
        int, so that results compare with scikit-learn's); an array is used
        as given, positive and finite.
    l1_ratios : array-like of shape (n_l1_ratios,) or None, default=None
        Elastic-net mixings in [0, 1] to cross-validate with ``Cs``: 0 is
        the L2 penalty, 1 the L1 penalty. None (scikit-learn 1.9's effective
        default) is the L2 penalty with the ``l1_ratios`` axis left out of
        the legacy attributes, as scikit-learn does.
    fit_intercept : bool, default=True
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn (``check_cv``): None is 5-fold, an int that many
        folds, stratified (``StratifiedKFold`` without shuffling).
    scoring : str, callable or None, default=None
        A scorer name or callable (``sklearn.metrics.get_scorer``); None is
        accuracy (scikit-learn 1.9's default; 1.11 will default to
        "neg_log_loss"). Each fold's sample weights are passed to it.
    solver : {"auto", "gd", "nesterov", "lbfgs", "newton", "lbfgs-newton", "precond-lbfgs", "newton-cd", "sgd"}, default="auto"
        logitdescent's solver names, as in
        :class:`logitdescent.LogisticRegression`; "auto" chooses per fit
        (:func:`logitdescent.solvers.choose_solver`).
    tol : float, default=1e-6
        Every fit's stopping rule: max |optimality| <= tol (logitdescent's
        rule, not one of scikit-learn's per-solver tolerances, hence the
        default of :class:`logitdescent.LogisticRegression`).
    max_iter : int, default=1000
        Every fit's iteration cap.
    class_weight : dict, "balanced" or None, default=None
        Weights per class, multiplied into the sample weights of every fit.
        "balanced" is computed once on the whole ``y`` (with the sample
        weights), as scikit-learn does, not per fold.
    n_jobs : int or None, default=None
        Parallel (fold, l1_ratio) paths, in joblib's worker processes; None
        is 1 unless in a ``joblib.parallel_config`` context.
    verbose : int, default=0
        joblib's progress messages.
    refit : bool, default=True
        True: choose the ``(C, l1_ratio)`` of the best score summed over the
        folds and refit on all the data, starting from the mean of the
        folds' coefficients there. False: average the folds' own best ``C``,
        ``l1_ratio`` and coefficients.
    random_state : int, RandomState instance or None, default=None
        Seed of the "sgd" solver; the others ignore it. It does not shuffle
        the folds (pass a splitter for that).
    use_legacy_attributes : bool, default=True
        scikit-learn 1.9's switch (and default): True gives its legacy
        attributes (dicts keyed by class, ``C_`` an array), False the
        simplified ones of scikit-learn 1.10; see Attributes.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        X's dtype (float32 stays float32).
    intercept_ : ndarray of shape (1,) or (n_classes,)
    Cs_ : ndarray of shape (n_Cs,)
        The grid.
    l1_ratios_ : ndarray of shape (n_l1_ratios,)
        The mixings; ``array([None], dtype=object)`` when ``l1_ratios=None``.
    C_ : ndarray of shape (1,) or (n_classes,), or float
        The chosen ``C`` (refit=False: the mean of the folds' choices),
        repeated per class in the legacy form, a float otherwise.
    l1_ratio_ : ndarray of shape (1,) or (n_classes,), or float
        The chosen mixing, likewise (legacy with ``l1_ratios=None`` and
        refit: ``None`` entries, as in scikit-learn).
    scores_ : dict or ndarray
        Legacy: ``{label: (n_folds, n_Cs[, n_l1_ratios])}`` for each class
        (only ``classes_[1]`` for two), the same scores under every key.
        Otherwise an ndarray of shape (n_folds, n_l1_ratios, n_Cs).
    coefs_paths_ : dict or ndarray
        Legacy: ``{label: (n_folds, n_Cs[, n_l1_ratios], n_dof)}``, that
        class's row of ``[W, b]`` (``n_dof = n_features + fit_intercept``).
        Otherwise an ndarray of shape
        (n_folds, n_l1_ratios, n_Cs, 1 or n_classes, n_dof).
    n_iter_ : ndarray of int
        Legacy: shape (1, n_folds, n_Cs[, n_l1_ratios]); otherwise
        (n_folds, n_l1_ratios, n_Cs). The refit's iterations are not
        included (as in scikit-learn).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string column names.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from logitdescent import LogisticRegressionCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = LogisticRegressionCV(Cs=10, l1_ratios=(1.0,), scoring="neg_log_loss").fit(X, y)
    >>> clf.coef_.shape
    (1, 30)
    """

    _parameter_constraints: dict = {
        "Cs": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "l1_ratios": ["array-like", None],
        "fit_intercept": ["boolean"],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "solver": [StrOptions({"auto", *SOLVERS})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "refit": ["boolean"],
        "random_state": ["random_state"],
        "use_legacy_attributes": ["boolean"],
    }

    def __init__(
        self,
        *,
        Cs=10,
        l1_ratios=None,
        fit_intercept=True,
        cv=None,
        scoring=None,
        solver="auto",
        tol=1e-6,
        max_iter=1000,
        class_weight=None,
        n_jobs=None,
        verbose=0,
        refit=True,
        random_state=None,
        use_legacy_attributes=True,
    ):
        self.Cs = Cs
        self.l1_ratios = l1_ratios
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.scoring = scoring
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.refit = refit
        self.random_state = random_state
        self.use_legacy_attributes = use_legacy_attributes

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- fitting -----------------------------------------------------------

    def _class_weights(self, y, sample_weight):
        """One weight per class of ``classes_`` (ndarray of shape (n_classes,)), or None."""
        if self.class_weight is None:
            return None
        if isinstance(self.class_weight, dict):
            if not set(self.class_weight) <= set(self.classes_.tolist()):
                raise ValueError(
                    "The given class_weight dict must have the class labels as keys; "
                    f"classes={self.classes_} but key={self.class_weight.keys()}"
                )
            per_class = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
        else:
            # On the whole y, not per fold: scikit-learn's rule, so every
            # fold and the refit weigh the classes alike.
            per_class = compute_class_weight("balanced", classes=self.classes_, y=y, sample_weight=sample_weight)
        if not np.all(np.isfinite(per_class) & (per_class >= 0)):
            raise ValueError(f"class_weight must be finite and non-negative; got {per_class.tolist()!r}.")
        return per_class

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Cross-validate the grid of ``(C, l1_ratio)``, choose, and (with ``refit``) refit on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (m, n)
            float32 data are fitted in float32.
        y : array-like of shape (m,)
            Labels of any type, at least two distinct; more than two fit the
            multinomial model.
        sample_weight : array-like of shape (m,), default=None
            Non-negative weights, used by every fit and passed to the scorer
            (each fold's held-out part).
        **params : dict
            With scikit-learn's metadata routing enabled, parameters for the
            splitter (e.g. ``groups``) and the scorer.

        Returns
        -------
        self : LogisticRegressionCV
        """
        _raise_for_params(params, self, "fit")
        Cs = _checked_grid(self.Cs)
        ratios = _checked_ratios(self.l1_ratios)
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], order="C")
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        check_two_classes(self.classes_)
        K = self.classes_.size
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        per_class = self._class_weights(y, sample_weight)
        fit_weight = sample_weight
        if per_class is not None:
            fit_weight = (np.ones(X.shape[0]) if sample_weight is None else sample_weight) * per_class[codes]

        if _routing_enabled():
            routed = process_routing(self, "fit", sample_weight=sample_weight, **params)
            split_params, score_params = routed.splitter.split, routed.scorer.score
        else:
            split_params = {}
            score_params = {} if sample_weight is None else {"sample_weight": sample_weight}
        folds = list(check_cv(self.cv, y, classifier=True).split(X, y, **split_params))

        jobs = Parallel(n_jobs=self.n_jobs, verbose=self.verbose, prefer=PARALLEL_PREFER)(
            delayed(_fold_path)(
                X, y, codes, train, test, classes=self.classes_, Cs=Cs, l1_ratio=l1_ratio,
                fit_weight=fit_weight, scoring=self.scoring, score_params=score_params,
                sample_weight=sample_weight, fit_intercept=self.fit_intercept, tol=self.tol,
                max_iter=self.max_iter, solver=self.solver, random_state=self.random_state,
            )
            for train, test in folds
            for l1_ratio in ratios
        )
        n_folds, n_l1, n_cs = len(folds), ratios.size, Cs.size
        paths = np.stack([job[0] for job in jobs]).reshape(n_folds, n_l1, n_cs, *jobs[0][0].shape[1:])
        scores = np.stack([job[1] for job in jobs]).reshape(n_folds, n_l1, n_cs)
        n_iter = np.stack([job[2] for job in jobs]).reshape(n_folds, n_l1, n_cs)

        # scikit-learn's layout (folds, Cs, l1_ratios): its flat order breaks ties.
        by_c = scores.transpose(0, 2, 1)
        n = X.shape[1]
        if self.refit:
            total = by_c.sum(axis=0)
            ic, il = np.unravel_index(np.argmax(total), total.shape)
            C, l1_ratio = float(Cs[ic]), float(ratios[il])
            start = paths[:, il, ic].astype(np.float64).mean(axis=0)  # (rows, n_dof)
            model = LogisticRegression(
                C=C, l1_ratio=l1_ratio, fit_intercept=self.fit_intercept, solver=self.solver, tol=self.tol,
                max_iter=self.max_iter, random_state=self.random_state,
            ).fit(X, y, sample_weight=fit_weight, coef_init=start[:, :n],
                  intercept_init=start[:, n] if self.fit_intercept else None)
            coef, intercept = model.coef_, model.intercept_
        else:
            best = np.argmax(by_c.reshape(n_folds, -1), axis=1)
            ic, il = np.unravel_index(best, (n_cs, n_l1))
            C, l1_ratio = float(np.mean(Cs[ic])), float(np.mean(ratios[il]))
            w = np.mean(paths[np.arange(n_folds), il, ic], axis=0)
            coef = w[:, :n]
            intercept = w[:, n] if self.fit_intercept else np.zeros(w.shape[0], dtype=w.dtype)
        self.coef_ = np.ascontiguousarray(coef, dtype=X.dtype)
        self.intercept_ = np.asarray(intercept, dtype=X.dtype)
        self.Cs_ = Cs
        self._store_cv_attributes(paths, scores, n_iter, C, l1_ratio, ratios)
        return self

    def _store_cv_attributes(self, paths, scores, n_iter, C, l1_ratio, ratios):
        """``C_``, ``l1_ratio_``, ``l1_ratios_``, ``scores_``, ``coefs_paths_``, ``n_iter_`` as scikit-learn 1.9 shapes them.

        ``paths`` (n_folds, n_l1, n_Cs, rows, n_dof), ``scores`` and
        ``n_iter`` (n_folds, n_l1, n_Cs).
        """
        no_ratios = self.l1_ratios is None
        self.l1_ratios_ = np.array([None], dtype=object) if no_ratios else ratios
        if not self.use_legacy_attributes:
            self.C_, self.l1_ratio_ = C, l1_ratio
            self.scores_, self.coefs_paths_, self.n_iter_ = scores, paths, n_iter
            return
        keys = self.classes_[1:] if self.classes_.size == 2 else self.classes_
        # Legacy: a value per key of classes_; with l1_ratios=None and refit,
        # scikit-learn stores the (absent) chosen l1_ratio as None.
        self.C_ = np.full(keys.size, C)
        self.l1_ratio_ = (np.full(keys.size, None, dtype=object) if no_ratios and self.refit
                          else np.full(keys.size, l1_ratio))
        legacy_paths = paths.transpose(3, 0, 2, 1, 4)  # (rows, n_folds, n_Cs, n_l1, n_dof)
        legacy_scores = scores.transpose(0, 2, 1)  # (n_folds, n_Cs, n_l1)
        legacy_iter = n_iter.transpose(0, 2, 1)[None]  # (1, n_folds, n_Cs, n_l1)
        if no_ratios:
            legacy_paths, legacy_scores, legacy_iter = legacy_paths[..., 0, :], legacy_scores[..., 0], legacy_iter[..., 0]
        self.coefs_paths_ = {key: np.ascontiguousarray(path) for key, path in zip(keys, legacy_paths)}
        self.scores_ = {key: legacy_scores.copy() for key in keys}
        self.n_iter_ = np.ascontiguousarray(legacy_iter)

    # -- prediction --------------------------------------------------------

    def _predictor(self, X):
        """``(model, X)``: X checked against the fit, and a LogisticRegression holding the coefficients."""
        check_is_fitted(self)
        # Checked here so that feature-name and shape messages name this
        # estimator; the model then predicts from the plain array.
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32], order="C", reset=False)
        model = LogisticRegression(fit_intercept=self.fit_intercept)
        model.classes_, model.coef_, model.intercept_ = self.classes_, self.coef_, self.intercept_
        model.n_features_in_ = self.n_features_in_
        return model, X

    def decision_function(self, X):
        """The scores ``z = X w + b``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (m, n)

        Returns
        -------
        z : ndarray of shape (m,) or (m, n_classes)
            Binary: positive means ``classes_[1]``.
        """
        model, X = self._predictor(X)
        return model.decision_function(X)

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Returns
        -------
        proba : ndarray of shape (m, n_classes)
        """
        model, X = self._predictor(X)
        return model.predict_proba(X)

    def predict_log_proba(self, X):
        """``log`` of :meth:`predict_proba`, finite for any finite score.

        Returns
        -------
        log_proba : ndarray of shape (m, n_classes)
        """
        model, X = self._predictor(X)
        return model.predict_log_proba(X)

    def predict(self, X):
        """The label of the most probable class.

        Returns
        -------
        labels : ndarray of shape (m,)
        """
        model, X = self._predictor(X)
        return model.predict(X)

    def _get_scorer(self):
        return get_scorer(self.scoring or "accuracy")

    def score(self, X, y, sample_weight=None, **score_params):
        """The ``scoring`` metric (accuracy for None) of the model on ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (m, n)
        y : array-like of shape (m,)
        sample_weight : array-like of shape (m,), default=None
        **score_params : dict
            With metadata routing enabled, parameters for the scorer.

        Returns
        -------
        score : float
        """
        _raise_for_params(score_params, self, "score")
        if sample_weight is not None:
            score_params["sample_weight"] = sample_weight
        if _routing_enabled():
            params = process_routing(self, "score", **score_params).scorer.score
        else:
            params = {} if sample_weight is None else {"sample_weight": sample_weight}
        return self._get_scorer()(self, X, y, **params)

    def get_metadata_routing(self):
        """Where ``fit`` and ``score`` route metadata: the splitter and the scorer (scikit-learn's routing).

        Returns
        -------
        routing : sklearn.utils.metadata_routing.MetadataRouter
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(splitter=self.cv, method_mapping=MethodMapping().add(caller="fit", callee="split"))
            .add(
                scorer=self._get_scorer(),
                method_mapping=MethodMapping().add(caller="score", callee="score").add(caller="fit", callee="score"),
            )
        )
