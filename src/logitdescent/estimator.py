"""``LogisticRegression``: the scikit-learn face of logitdescent."""

from __future__ import annotations

import numbers

import numpy as np
from scipy.special import expit, log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .objective import LogisticObjective, SoftmaxObjective
from .solvers import SOLVER_OPTIONS, SOLVERS, choose_solver, warn_not_converged
from .solvers import sgd

__all__ = ["LogisticRegression"]

PENALTIES = ("l2", "l1", "elasticnet", None)
MULTICLASS = ("multinomial", "ovr")


class LogisticRegression(ClassifierMixin, BaseEstimator):
    """Logistic regression fitted by logitdescent's own solvers.

    Minimizes the weighted mean log-loss plus scikit-learn's elastic-net
    penalty divided by ``C S`` (``S`` the number or total weight of the
    examples)::

        J = (1/S) sum_i s_i L_i + (1 - rho) ||W||^2 / (2 C S) + rho ||W||_1 / (C S)

    so that logitdescent and scikit-learn reach the same optimum for the same
    ``C`` and ``rho = l1_ratio``. The intercepts are never penalized. Two
    classes fit the lecture's sigmoid model; more fit the multinomial
    (softmax) model, or ``K`` binary models with ``multiclass="ovr"``.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet", None}, default="l2"
        None, like ``C=np.inf``, fits the unpenalized model.
    C : float, default=1.0
        Inverse regularization strength, > 0; ``np.inf`` means no penalty.
    l1_ratio : float, default=0.5
        The elastic-net mixing ``rho`` in [0, 1]; used with "elasticnet" only
        ("l1" is ``rho = 1``, "l2" is ``rho = 0``).
    fit_intercept : bool, default=True
        Whether to fit the bias ``b``.
    solver : {"auto", "gd", "nesterov", "lbfgs", "newton", "lbfgs-newton", "precond-lbfgs", "sgd"}, default="auto"
        "gd" is the lecture's batch gradient descent (ISTA with L1 or
        bounds); "nesterov" its accelerated form (FISTA with adaptive
        restart); "lbfgs" SciPy's L-BFGS-B on our kernel; "newton"
        Newton-Cholesky with a line search (L2 only); "lbfgs-newton" ten
        L-BFGS iterations, then Newton (L2 only); "precond-lbfgs" L-BFGS
        preconditioned by the Cholesky factor of a Hessian on 32 p sampled
        rows (L2 only); "sgd" mini-batch stochastic gradient descent
        (``max_iter`` counts epochs). "auto" picks by problem shape: see
        docs/solvers.md.
    learning_rate : float or "auto", default="auto"
        The lecture's ``alpha`` for "gd" (and the initial step of "sgd").
        "auto" steps by ``1 / L``, ``L`` an estimate of the gradient's
        Lipschitz constant, backtracking so that every update decreases the
        cost.
    max_iter : int, default=1000
        Maximum number of solver iterations (updates).
    tol : float, default=1e-6
        Stop when ``max |dJ/dtheta| <= tol`` (with L1 or bounds: the
        projected / minimal subgradient, see docs/math.md). ``tol=0`` runs
        exactly ``max_iter`` updates. Float32 gradients carry ~1e-7 relative
        rounding, so very small tolerances may be out of reach for them.
    class_weight : dict, "balanced" or None, default=None
        Weights per class, folded into the sample weights.
    multiclass : {"multinomial", "ovr"}, default="multinomial"
        With more than two classes: one softmax model, or one binary model per
        class against the rest.
    coef_bounds : tuple (lower, upper) or None, default=None
        Bounds on the coefficients (not the intercepts), each a scalar, an
        array of shape (n_features,) or (n_classes, n_features), or None.
        Fitted by projected gradient ("gd", "nesterov", "sgd") or L-BFGS-B.
    warm_start : bool, default=False
        Start from the previous fit's solution.
    verbose : int, default=0
        If > 0, print the cost every ``verbose`` iterations, as the lecture's
        notebook prints it every 100.
    random_state : int, RandomState instance or None, default=None
        Seed for the solvers that draw random numbers ("sgd", ``partial_fit``).
    batch_size : int, default=256
        Rows per mini-batch for "sgd" and ``partial_fit``.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        ``w`` (one row per class when multiclass), in the dtype of X.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        ``b``; 0 when ``fit_intercept=False``.
    classes_ : ndarray of shape (n_classes,)
        The labels; for two classes ``classes_[1]`` is the positive one.
    n_iter_ : int
        Iterations the solver ran (the most of the one-vs-rest fits).
    loss_curve_ : ndarray of shape (n_iter_ + 1,), or list of such arrays
        The cost ``J`` at the start and after every iteration; one array per
        class for one-vs-rest.
    solver_ : str
        The solver that ran (resolves "auto").
    converged_ : bool
        Whether the stopping rule was met (by every one-vs-rest fit).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string column names.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from logitdescent import LogisticRegression
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = LogisticRegression(C=1.0).fit(X, y)
    >>> round(clf.score(X, y), 3)
    0.958
    """

    def __init__(
        self,
        penalty="l2",
        *,
        C=1.0,
        l1_ratio=0.5,
        fit_intercept=True,
        solver="auto",
        learning_rate="auto",
        max_iter=1000,
        tol=1e-6,
        class_weight=None,
        multiclass="multinomial",
        coef_bounds=None,
        warm_start=False,
        verbose=0,
        random_state=None,
        batch_size=256,
    ):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.class_weight = class_weight
        self.multiclass = multiclass
        self.coef_bounds = coef_bounds
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state
        self.batch_size = batch_size

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- validation --------------------------------------------------------

    def _check_params(self):
        if self.penalty not in PENALTIES:
            raise ValueError(f"penalty must be one of {list(PENALTIES)}; got {self.penalty!r}.")
        if not isinstance(self.C, numbers.Real) or not self.C > 0:
            raise ValueError(f"C must be a positive float (np.inf for no penalty); got {self.C!r}.")
        if self.penalty == "elasticnet" and not (
            isinstance(self.l1_ratio, numbers.Real) and 0 <= self.l1_ratio <= 1
        ):
            raise ValueError(f"l1_ratio must be a float in [0, 1]; got {self.l1_ratio!r}.")
        if self.solver != "auto" and self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {['auto', *SOLVERS]}; got {self.solver!r}.")
        lr = self.learning_rate
        if not (lr == "auto" if isinstance(lr, str) else isinstance(lr, numbers.Real) and lr > 0):
            raise ValueError(f"learning_rate must be a positive float or 'auto'; got {lr!r}.")
        if not isinstance(self.max_iter, numbers.Integral) or self.max_iter < 0:
            raise ValueError(f"max_iter must be a non-negative integer; got {self.max_iter!r}.")
        if not isinstance(self.tol, numbers.Real) or not self.tol >= 0:
            raise ValueError(f"tol must be a non-negative float; got {self.tol!r}.")
        if self.multiclass not in MULTICLASS:
            raise ValueError(f"multiclass must be one of {list(MULTICLASS)}; got {self.multiclass!r}.")
        if self.coef_bounds is not None and (
            not isinstance(self.coef_bounds, (tuple, list)) or len(self.coef_bounds) != 2
        ):
            raise ValueError(
                f"coef_bounds must be a pair (lower, upper) or None; got {self.coef_bounds!r}."
            )
        if not isinstance(self.batch_size, numbers.Integral) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer; got {self.batch_size!r}.")
        if not isinstance(self.verbose, numbers.Integral) or self.verbose < 0:
            raise ValueError(f"verbose must be a non-negative integer; got {self.verbose!r}.")

    def _validated_bounds(self, n_outputs, n_features):
        if self.coef_bounds is None:
            return None
        checked = []
        for name, bound in zip(("lower", "upper"), self.coef_bounds):
            if bound is None:
                checked.append(None)
                continue
            bound = np.asarray(bound, dtype=np.float64)
            try:
                np.broadcast_to(bound, (n_outputs, n_features))
            except ValueError:
                raise ValueError(
                    f"coef_bounds {name} must be a scalar or have shape ({n_features},) or "
                    f"({n_outputs}, {n_features}); got shape {bound.shape}."
                ) from None
            checked.append(bound)
        lower, upper = checked
        if lower is not None and upper is not None and np.any(np.asarray(lower) > np.asarray(upper)):
            raise ValueError("coef_bounds must have lower <= upper everywhere.")
        return tuple(checked)

    def _penalty(self):
        """``(C, l1_ratio)`` for the objective."""
        if self.penalty is None:
            return np.inf, 0.0
        rho = {"l2": 0.0, "l1": 1.0, "elasticnet": self.l1_ratio}[self.penalty]
        return float(self.C), float(rho)

    @staticmethod
    def _encode_targets(y, classes=None):
        check_classification_targets(y)
        if classes is None:
            classes = unique_labels(y)
            if classes.size < 2:
                raise ValueError(
                    "This solver needs samples of at least 2 classes in the data, but the "
                    f"data contains only one class: {classes[0]!r}."
                )
        codes = np.searchsorted(classes, y)
        codes = np.minimum(codes, classes.size - 1)
        if np.any(classes[codes] != y):
            unseen = np.setdiff1d(np.unique(y), classes)
            raise ValueError(f"y contains labels not in classes: {unseen[:5]!r}.")
        return classes, codes

    def _class_weighted(self, sample_weight, codes, model_codes=None):
        """``sample_weight`` times the class weights.

        ``codes`` index ``classes_``; ``model_codes`` (0/1) are a one-vs-rest
        model's targets, which "balanced" then balances instead.
        """
        if self.class_weight is None:
            weighted = sample_weight
        elif isinstance(self.class_weight, str):  # "balanced"
            target = codes if model_codes is None else model_codes
            per_class = compute_class_weight("balanced", classes=np.unique(target), y=target)
            weighted = sample_weight * per_class[np.searchsorted(np.unique(target), target)].astype(sample_weight.dtype)
        else:  # a dict: weights belong to the original labels, in every model
            per_class = compute_class_weight(self.class_weight, classes=self.classes_, y=self.classes_)
            weighted = sample_weight * per_class[codes].astype(sample_weight.dtype)
        if not np.sum(weighted) > 0:
            raise ValueError("sample_weight must have a positive sum; all weights are zero.")
        return weighted

    def _objectives(self, X, codes, sample_weight, check_finite=False):
        """One objective per model: binary, multinomial, or one per class (OvR).

        Class weights are folded into the sample weights here; with
        one-vs-rest, "balanced" balances each class against the rest (as
        scikit-learn's one-vs-rest always did), a dict weighs the original
        labels.
        """
        C, rho = self._penalty()
        K = self.classes_.size
        n_outputs = 1 if K == 2 or self.multiclass == "ovr" else K
        bounds = self._validated_bounds(n_outputs if K == 2 or self.multiclass != "ovr" else K, X.shape[1])
        common = dict(C=C, l1_ratio=rho, fit_intercept=self.fit_intercept, check_finite=check_finite)
        if K == 2:
            return [LogisticObjective(
                X, (codes == 1).astype(X.dtype), self._class_weighted(sample_weight, codes),
                bounds=bounds, **common,
            )]
        if self.multiclass == "multinomial":
            return [SoftmaxObjective(
                X, codes, self._class_weighted(sample_weight, codes), n_outputs=K, bounds=bounds, **common
            )]
        objectives = []
        for k in range(K):
            is_k = codes == k
            class_bounds = None if bounds is None else tuple(
                None if bd is None else np.broadcast_to(bd, (K, X.shape[1]))[k] for bd in bounds
            )
            objectives.append(LogisticObjective(
                X, is_k.astype(X.dtype), self._class_weighted(sample_weight, codes, is_k.astype(int)),
                bounds=class_bounds, **common,
            ))
        return objectives

    def _coef_shape(self):
        K = self.classes_.size
        return (1 if K == 2 else K), self.n_features_in_

    def _starting_coefs(self, coef_init, intercept_init):
        """``(W0 (rows, n), b0 (rows,))``: zeros, the previous fit, or the given values."""
        shape = self._coef_shape()
        W, b = np.zeros(shape), np.zeros(shape[0])
        if self.warm_start and getattr(self, "_fitted_shape", None) == shape:
            W, b = self.coef_.astype(np.float64), self.intercept_.astype(np.float64)
        if coef_init is not None:
            coef_init = np.asarray(coef_init, dtype=np.float64)
            if coef_init.size != W.size or coef_init.ndim > 2:
                expected = f"({shape[1]},) or (1, {shape[1]})" if shape[0] == 1 else str(shape)
                raise ValueError(f"coef_init must have shape {expected} to match X; got {coef_init.shape}.")
            W = coef_init.reshape(shape)
        if intercept_init is not None:
            intercept_init = np.asarray(intercept_init, dtype=np.float64)
            if intercept_init.size != shape[0]:
                raise ValueError(
                    f"intercept_init must have {shape[0]} value(s); got shape {intercept_init.shape}."
                )
            b = intercept_init.ravel()
        return W, (b if self.fit_intercept else np.zeros(shape[0]))

    def fit(self, X, y, sample_weight=None, coef_init=None, intercept_init=None, callback=None):
        """Fit the model by minimizing the penalized mean log-loss.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (m, n)
            Training examples; float32 data is fitted in float32.
        y : array-like of shape (m,)
            Labels of any type, at least two distinct.
        sample_weight : array-like of shape (m,), default=None
            Non-negative weights; the cost is the weighted mean.
        coef_init : array-like of shape (n,), (1, n) or (n_classes, n), default=None
            Starting ``w`` (zeros otherwise, as in the lecture).
        intercept_init : float or array-like of shape (n_classes,), default=None
            Starting ``b``.
        callback : callable, default=None
            ``callback(iteration, cost)``, called after every iteration the
            solver records (for progress bars).

        Returns
        -------
        self : LogisticRegression

        Notes
        -----
        A fit that fails (bad input, an exception from ``callback``, an
        interrupt) leaves the estimator as it was before the call.
        """
        before = dict(self.__dict__)
        try:
            return self._fit(X, y, sample_weight, coef_init, intercept_init, callback)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit(self, X, y, sample_weight, coef_init, intercept_init, callback):
        self._check_params()
        # NaN and infinity in X: checked by the solver's first pass over X
        # (LinearObjective's check_finite), not by a pass of its own.
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], order="C", ensure_all_finite=False
        )
        self.classes_, codes = self._encode_targets(y)
        for attribute in ("_partial_fit_calls", "_partial_fit_rng", "_partial_fit_alpha0"):
            self.__dict__.pop(attribute, None)  # a new fit restarts partial_fit's schedule
        sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        objectives = self._objectives(X, codes, sample_weight, check_finite=type(self).__name__)
        W0, b0 = self._starting_coefs(coef_init, intercept_init)
        if len(objectives) == 1:
            starts = [objectives[0].join(W0, b0)]
        else:
            starts = [obj.join(W0[k], b0[k]) for k, obj in enumerate(objectives)]
        self.solver_ = choose_solver(objectives[0]) if self.solver == "auto" else self.solver
        options = {"learning_rate": self.learning_rate, "random_state": self.random_state, "batch_size": self.batch_size}
        options = {k: options[k] for k in SOLVER_OPTIONS[self.solver_]}
        results = []
        for objective, theta0 in zip(objectives, starts):
            result = SOLVERS[self.solver_](
                objective, theta0, max_iter=self.max_iter, tol=self.tol,
                callback=self._make_callback(callback), **options,
            )
            if not result.converged and self.tol > 0:
                warn_not_converged(result, self.solver_, stacklevel=4)  # the user's call of fit
            results.append(result)

        parts = [obj.split(res.x) for obj, res in zip(objectives, results)]
        self.coef_ = np.vstack([W for W, _ in parts]).astype(X.dtype)
        self.intercept_ = np.concatenate([b for _, b in parts]).astype(X.dtype)
        self.n_iter_ = max(res.n_iter for res in results)
        curves = [np.asarray(res.loss_history) for res in results]
        self.loss_curve_ = curves[0] if len(curves) == 1 else curves
        self.converged_ = all(res.converged for res in results)
        self._fitted_shape = self.coef_.shape
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of proximal mini-batch gradient steps on a batch of a stream.

        Each call minimizes the cost of the rows it is given (their weighted
        mean loss plus the penalty, scaled by their own ``S``), continuing the
        step schedule of mini-batch SGD across calls: call ``t`` steps by
        ``alpha_0 / (1 + t / 10)``, ``alpha_0`` from ``learning_rate`` or,
        for "auto", from the first batch's curvature.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (m, n)
        y : array-like of shape (m,)
        classes : array-like of shape (n_classes,), default=None
            All the labels the stream will show; required on the first call.
        sample_weight : array-like of shape (m,), default=None

        Returns
        -------
        self : LogisticRegression
        """
        first_call = not hasattr(self, "classes_")
        if first_call:
            if classes is None:
                raise ValueError("classes must be given on the first call to partial_fit.")
            self._check_params()
            classes = unique_labels(classes)
            if classes.size < 2:
                raise ValueError(f"classes must hold at least 2 labels; got {classes!r}.")
        elif classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
            raise ValueError(
                f"classes={classes!r} differs from the classes of the first call, {self.classes_!r}."
            )
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], order="C", reset=first_call
        )
        if first_call:
            self.classes_ = classes
        _, codes = self._encode_targets(y, self.classes_)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        objectives = self._objectives(X, codes, sample_weight)
        if first_call:
            W0, b0 = np.zeros(self._coef_shape()), np.zeros(self._coef_shape()[0])
        else:  # continue from the last partial_fit or fit
            W0, b0 = self.coef_.astype(np.float64), self.intercept_.astype(np.float64)
        if not hasattr(self, "_partial_fit_calls"):
            self._partial_fit_calls = 0
            self._partial_fit_rng = check_random_state(self.random_state)
            self._partial_fit_alpha0 = [
                sgd.initial_step(obj, self.learning_rate, self.batch_size) for obj in objectives
            ]
        new = []
        for k, objective in enumerate(objectives):
            start = objective.join(W0, b0) if len(objectives) == 1 else objective.join(W0[k], b0[k])
            alpha = sgd.scheduled_step(self._partial_fit_alpha0[k], self._partial_fit_calls)
            theta = sgd.run_epoch(objective, start, alpha, self.batch_size, self._partial_fit_rng)
            new.append(objective.split(theta))
        self.coef_ = np.vstack([W for W, _ in new]).astype(X.dtype)
        self.intercept_ = np.concatenate([b for _, b in new]).astype(X.dtype)
        self._partial_fit_calls += 1
        self.n_iter_ = self._partial_fit_calls
        self._fitted_shape = self.coef_.shape
        return self

    def _make_callback(self, user_callback):
        if not self.verbose:
            return user_callback

        def report(iteration, cost):
            if iteration % self.verbose == 0:
                print(f"Cost after iteration {iteration}: {cost:.6f}")
            if user_callback is not None:
                user_callback(iteration, cost)

        return report

    # -- prediction --------------------------------------------------------

    def decision_function(self, X):
        """The scores ``z = X w + b`` (one column per class when multiclass).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (m, n)

        Returns
        -------
        z : ndarray of shape (m,) or (m, n_classes)
            Binary: positive means ``classes_[1]``.
        """
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse="csr", dtype=[np.float64, np.float32], order="C", reset=False
        )
        Z = np.asarray(X @ self.coef_.T.astype(X.dtype)) + self.intercept_.astype(X.dtype)
        return Z.ravel() if self.coef_.shape[0] == 1 else Z

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``; rows sum to 1.

        Binary: ``[1 - a, a]`` with ``a = sigmoid(z)``. Multinomial:
        ``softmax(Z)``. One-vs-rest: each class's sigmoid, normalized.

        Returns
        -------
        proba : ndarray of shape (m, n_classes)
        """
        Z = self.decision_function(X)
        if Z.ndim == 1:
            # expit(-z) rather than 1 - expit(z): no cancellation for large z.
            return np.column_stack([expit(-Z), expit(Z)])
        if self.multiclass == "multinomial":
            return softmax(Z, axis=1)
        P = expit(Z)
        return P / P.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        """``log`` of :meth:`predict_proba`, finite for any finite score.

        Returns
        -------
        log_proba : ndarray of shape (m, n_classes)
        """
        Z = self.decision_function(X)
        if Z.ndim == 1:
            zero = np.zeros((), dtype=Z.dtype)
            return np.column_stack([-np.logaddexp(zero, Z), -np.logaddexp(zero, -Z)])
        if self.multiclass == "multinomial":
            return log_softmax(Z, axis=1)
        log_p = -np.logaddexp(0, -Z)  # log sigmoid
        return log_p - np.logaddexp.reduce(log_p, axis=1, keepdims=True)

    def predict(self, X):
        """The label of the most probable class.

        Returns
        -------
        labels : ndarray of shape (m,)
        """
        Z = self.decision_function(X)
        index = (Z > 0).astype(int) if Z.ndim == 1 else Z.argmax(axis=1)
        return self.classes_[index]
