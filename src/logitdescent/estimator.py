"""``LogisticRegression``: the scikit-learn face of logitdescent.

The estimator owns everything around a solve: parameter validation (one
declarative table, :data:`PARAMETER_CONSTRAINTS`), label encoding, the
objective, the BLAS thread policy (:func:`logitdescent._blas.blas_context`),
warnings, and the fitted state that persistence stores
(:meth:`LogisticRegression.get_fitted_state`).
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from types import MappingProxyType

import numpy as np
from scipy.special import expit, log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._blas import blas_context
from .backends import is_dask_collection
from .inference import summary as _summary
from .kernel import model_offset
from .objective import LogisticObjective, SoftmaxObjective, overflow_message
from .separation import SeparationWarning, check_degenerate_scale, detect_separation
from .solvers import SOLVER_OPTIONS, SOLVERS, choose_solver, sgd, warn_not_converged
from .solvers._common import diverged, divergence_message

__all__ = ["LogisticRegression", "PARAMETER_CONSTRAINTS", "PARAMETER_USES", "resolve_penalty"]

#: ``penalty``'s default: not given, ``C`` and ``l1_ratio`` alone set the
#: penalty (scikit-learn 1.8 deprecated ``penalty`` the same way).
_PENALTY_NOT_GIVEN = "deprecated"

_PENALTY_L1_RATIO = {"l2": 0.0, "l1": 1.0}

#: Iterations an unpenalized fit on separated classes runs (its optimum is at
#: infinity; the coefficients only grow with more).
SEPARATED_MAX_ITER = 100


def _solvers_taking(option):
    return StrOptions({name for name, options in SOLVER_OPTIONS.items() if option in options})


def check_two_classes(classes):
    """``classes`` (the labels found in y), if a fit can use them: at least two.

    Raises
    ------
    ValueError
        If there is a single class.
    """
    if classes.size < 2:
        raise ValueError(
            "This solver needs samples of at least 2 classes in the data, but the "
            f"data contains only one class: {classes.tolist()[0]!r}."
        )
    return classes


def resolve_penalty(penalty, C, l1_ratio):
    """The ``(C, l1_ratio)`` that ``penalty``, ``C`` and ``l1_ratio`` mean together.

    ``penalty`` is scikit-learn's deprecated alias: "l2" is ``l1_ratio=0``,
    "l1" is ``l1_ratio=1``, "elasticnet" takes ``l1_ratio`` as given and
    None is ``C=np.inf``. An alias that contradicts the other two is refused
    rather than silently preferred (scikit-learn 1.9 warns and fits the alias).
    Since ``l1_ratio=0.0`` and ``C=1.0`` are the defaults, "l1" with
    ``l1_ratio=0.0`` and None with ``C=1.0`` are taken as not contradicting.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet", None, "deprecated"}
        "deprecated" (the default) means not given.
    C : float
        Inverse regularization strength, > 0; ``np.inf`` for none.
    l1_ratio : float
        The elastic-net mixing, in [0, 1].

    Returns
    -------
    C : float
    l1_ratio : float

    Raises
    ------
    ValueError
        If ``penalty`` contradicts ``C`` or ``l1_ratio``.

    Examples
    --------
    >>> resolve_penalty("l1", 0.1, 0.0)
    (0.1, 1.0)
    >>> resolve_penalty(None, 1.0, 0.0)
    (inf, 0.0)
    """
    C, l1_ratio = float(C), float(l1_ratio)
    if penalty == _PENALTY_NOT_GIVEN or penalty == "elasticnet":
        return C, l1_ratio
    if penalty is None:
        if C not in (1.0, np.inf):
            raise ValueError(
                f"penalty=None means C=np.inf, which contradicts C={C!r}; "
                "drop penalty and set C alone (np.inf for no penalty)."
            )
        return np.inf, l1_ratio
    implied = _PENALTY_L1_RATIO[penalty]
    if l1_ratio != implied and not (penalty == "l1" and l1_ratio == 0.0):
        raise ValueError(
            f"penalty={penalty!r} means l1_ratio={implied:g}, which contradicts l1_ratio={l1_ratio!r}; "
            "drop penalty (deprecated, as in scikit-learn) and set l1_ratio alone."
        )
    return C, implied


class LogisticRegression(ClassifierMixin, BaseEstimator):
    """Logistic regression fitted by logitdescent's own solvers.

    Minimizes the weighted mean log-loss plus scikit-learn's elastic-net
    penalty divided by ``C S`` (``S`` the number or total weight of the
    examples)::

        J = (1/S) sum_i s_i L_i + (1 - rho) ||W||^2 / (2 C S) + rho ||W||_1 / (C S)

    so that logitdescent and scikit-learn 1.9 reach the same optimum for the
    same ``C`` and ``rho = l1_ratio``, and take the same parameters. The
    intercepts are never penalized. Two classes fit the lecture's sigmoid
    model, more the multinomial (softmax) model; for one binary model per
    class use ``sklearn.multiclass.OneVsRestClassifier(LogisticRegression())``.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet", None}, default="deprecated"
        Deprecated alias, as in scikit-learn 1.9 (which warns the same way):
        "l2" is ``l1_ratio=0``, "l1" is ``l1_ratio=1``, "elasticnet" uses
        ``l1_ratio``, None is ``C=np.inf``. Setting it raises a
        ``FutureWarning`` on fit; contradicting ``C`` or ``l1_ratio`` (e.g.
        ``penalty="l2", l1_ratio=1.0``) is a ``ValueError``. Leave it unset
        and use ``C`` and ``l1_ratio``.
    C : float, default=1.0
        Inverse regularization strength, > 0; ``np.inf`` means no penalty.
    l1_ratio : float, default=0.0
        The elastic-net mixing ``rho`` in [0, 1]: 0 is the L2 penalty, 1 the
        L1 penalty, between the two an elastic net. Ignored when ``C=np.inf``.
    penalty_factor : array-like of shape (n_features,) or None, default=None
        glmnet's per-feature penalty factors ``f_j >= 0``: feature ``j``'s
        L1 and L2 terms are multiplied by ``f_j`` (glum's ``P1 = P2 = f``),
        so 0 leaves it unpenalized and None means all ones. Every solver that
        takes a penalty takes it. Ignored when ``C=np.inf``.
    fit_intercept : bool, default=True
        Whether to fit the bias ``b``.
    solver : {"auto", "gd", "nesterov", "lbfgs", "newton", "lbfgs-newton", "precond-lbfgs", "newton-cd", "sgd"}, default="auto"
        "gd" is the lecture's batch gradient descent (ISTA with L1 or
        bounds); "nesterov" its accelerated form (FISTA with adaptive
        restart); "lbfgs" SciPy's L-BFGS-B on our kernel; "newton"
        Newton-Cholesky with a line search (L2 only); "lbfgs-newton" ten
        L-BFGS iterations, then Newton (L2 only); "precond-lbfgs" L-BFGS
        preconditioned by the Cholesky factor of a Hessian on 32 p sampled
        rows (L2 only); "newton-cd" proximal Newton with coordinate descent
        on working sets (glmnet's method, for L1 and elastic net); "sgd"
        mini-batch stochastic gradient descent
        (``max_iter`` counts epochs). "auto" picks by problem shape: see
        docs/solvers.md.
    learning_rate : float or "auto", default="auto"
        The lecture's ``alpha`` for "gd" (and the initial step of "sgd" and
        ``partial_fit``). "auto" steps by ``1 / L``, ``L`` an estimate of the
        gradient's Lipschitz constant, backtracking so that every update
        decreases the cost. The other solvers ignore it.
    max_iter : int, default=1000
        Maximum number of solver iterations (updates).
    tol : float, default=1e-6
        Stop when ``max |dJ/dtheta| <= tol`` (with L1 or bounds: the
        projected / minimal subgradient, see docs/math.md). ``tol=0`` runs
        exactly ``max_iter`` updates. Float32 gradients carry ~1e-7 relative
        rounding, so very small tolerances may be out of reach for them.
    class_weight : dict, "balanced" or None, default=None
        Weights per class, folded into the sample weights.
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
        Seed for "sgd" and ``partial_fit``, the users of random numbers.
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
        Iterations the solver ran (after ``partial_fit``: its calls so far).
    loss_curve_ : ndarray of shape (n_iter_ + 1,)
        The cost ``J`` at the start and after every iteration of ``fit``.
    solver_ : str
        The solver that ran (resolves "auto").
    converged_ : bool
        Whether the stopping rule was met.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string column names.

    See Also
    --------
    get_fitted_state, set_fitted_state : the fitted model as plain data.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from logitdescent import LogisticRegression
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = LogisticRegression(C=1.0).fit(X, y)
    >>> round(clf.score(X, y), 3)
    0.958
    >>> sparse = LogisticRegression(C=0.1, l1_ratio=1.0).fit(X, y)  # L1, as in scikit-learn
    >>> bool((sparse.coef_ == 0).any())
    True
    """

    # The one place parameters are checked (scikit-learn's _validate_params
    # reads it on fit); the CLI derives its flag types from it too.
    _parameter_constraints: dict = {
        "penalty": [StrOptions({"l1", "l2", "elasticnet"}), None, Hidden(StrOptions({_PENALTY_NOT_GIVEN}))],
        "C": [Interval(Real, 0, None, closed="right")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        # Its length depends on the data: checked on fit.
        "penalty_factor": ["array-like", None],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"auto", *SOLVERS})],
        "learning_rate": [Interval(Real, 0, np.inf, closed="neither"), StrOptions({"auto"})],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, np.inf, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        # The pair's entries depend on the data's shape: checked on fit.
        "coef_bounds": [tuple, list, None],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    }

    #: Parameters ``fit`` uses only under some value of another:
    #: ``{name: (other, the constraint other must meet)}``.
    _parameter_uses: dict = {
        **{option: ("solver", _solvers_taking(option)) for option in ("learning_rate", "batch_size", "random_state")},
        "l1_ratio": ("C", Interval(Real, 0, np.inf, closed="neither")),
        "penalty_factor": ("C", Interval(Real, 0, np.inf, closed="neither")),
    }

    def __init__(
        self,
        penalty=_PENALTY_NOT_GIVEN,
        *,
        C=1.0,
        l1_ratio=0.0,
        penalty_factor=None,
        fit_intercept=True,
        solver="auto",
        learning_rate="auto",
        max_iter=1000,
        tol=1e-6,
        class_weight=None,
        coef_bounds=None,
        warm_start=False,
        verbose=0,
        random_state=None,
        batch_size=256,
    ):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.penalty_factor = penalty_factor
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.class_weight = class_weight
        self.coef_bounds = coef_bounds
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state
        self.batch_size = batch_size

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- parameters --------------------------------------------------------

    def _penalty(self, stacklevel):
        """``(C, l1_ratio)`` for the objective, warning as scikit-learn does about ``penalty``."""
        if self.penalty != _PENALTY_NOT_GIVEN:
            warnings.warn(
                "'penalty' is deprecated, as in scikit-learn 1.8+: leave it unset and use "
                "l1_ratio=0 instead of penalty='l2', l1_ratio=1 instead of penalty='l1', "
                "a float in (0, 1) instead of penalty='elasticnet', and C=np.inf instead of penalty=None.",
                FutureWarning,
                stacklevel=stacklevel,
            )
        return resolve_penalty(self.penalty, self.C, self.l1_ratio)

    def ignored_params(self):
        """The parameters that :meth:`fit` ignores under the current settings.

        Derived from one table: a parameter used only by some solvers
        (``learning_rate``, ``batch_size``, ``random_state``: see
        ``logitdescent.solvers.SOLVER_OPTIONS``) or only with a penalty
        (``l1_ratio`` and ``penalty_factor``, unused when ``C`` is infinite). ``partial_fit`` uses
        ``learning_rate``, ``batch_size`` and ``random_state`` whatever the solver.

        Returns
        -------
        ignored : dict of str to tuple (str, str)
            ``{name: (other, condition)}``: ``name`` is used only when the
            parameter ``other`` is ``condition`` (described in words).

        Raises
        ------
        ValueError
            If ``penalty`` contradicts ``C`` or ``l1_ratio``.

        Examples
        --------
        >>> LogisticRegression(solver="lbfgs", batch_size=32).ignored_params()["batch_size"]
        ('solver', "'sgd'")
        """
        C, l1_ratio = resolve_penalty(self.penalty, self.C, self.l1_ratio)
        values = {**self.get_params(deep=False), "C": C, "l1_ratio": l1_ratio}
        return {
            name: (other, _describe(constraint))
            for name, (other, constraint) in self._parameter_uses.items()
            if not constraint.is_satisfied_by(values[other])
        }

    def _validated_bounds(self, n_outputs, n_features):
        if self.coef_bounds is None:
            return None
        if len(self.coef_bounds) != 2:
            raise ValueError(f"coef_bounds must be a pair (lower, upper) or None; got {self.coef_bounds!r}.")
        checked = []
        for name, bound in zip(("lower", "upper"), self.coef_bounds):
            if bound is None:
                checked.append(None)
                continue
            try:
                bound = np.asarray(bound, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"coef_bounds {name} must be numbers or None; got {bound!r}.") from None
            try:
                np.broadcast_to(bound, (n_outputs, n_features))
            except ValueError:
                raise ValueError(
                    f"coef_bounds {name} must be a scalar or have shape ({n_features},) or "
                    f"({n_outputs}, {n_features}); got shape {bound.shape}."
                ) from None
            checked.append(bound)
        lower, upper = checked
        if lower is not None and upper is not None and np.any(lower > upper):
            raise ValueError("coef_bounds must have lower <= upper everywhere.")
        return tuple(checked)

    def _validated_penalty_factor(self, n_features):
        return checked_penalty_factor(self.penalty_factor, n_features)

    # -- fitting -----------------------------------------------------------

    @staticmethod
    def _encode_targets(y, classes=None):
        """``(classes, codes)``: the labels, and ``y`` as indices into them."""
        check_classification_targets(y)
        if classes is None:
            classes = check_two_classes(unique_labels(y))
        codes = np.minimum(np.searchsorted(classes, y), classes.size - 1)
        if np.any(classes[codes] != y):
            unseen = np.setdiff1d(np.unique(y), classes)
            raise ValueError(f"y contains labels not in classes: {unseen[:5]!r}.")
        return classes, codes

    def _objective(self, X, codes, sample_weight, penalty, check_finite=False, offset=None):
        """The objective of ``(X, codes)``: binary for two classes, multinomial for more.

        Class weights are folded into the sample weights here; ``offset`` is
        validated (:func:`logitdescent.kernel.model_offset`).
        """
        C, l1_ratio = penalty
        _check_weights(sample_weight)
        K = self.classes_.size
        n_outputs = 1 if K == 2 else K
        if isinstance(self.class_weight, str):  # "balanced": among the classes present, weighted as scikit-learn 1.9
            present = np.unique(codes)
            per_class = compute_class_weight("balanced", classes=present, y=codes, sample_weight=sample_weight)
            sample_weight = sample_weight * per_class[np.searchsorted(present, codes)].astype(sample_weight.dtype)
        elif self.class_weight is not None:  # a dict keyed by the original labels
            per_class = self._checked_class_weight_dict()
            sample_weight = sample_weight * per_class[codes].astype(sample_weight.dtype)
        if not np.sum(sample_weight) > 0:
            raise ValueError("sample_weight must have a positive sum; all weights are zero.")
        common = dict(
            C=C, l1_ratio=l1_ratio, fit_intercept=self.fit_intercept, check_finite=check_finite,
            bounds=self._validated_bounds(n_outputs, X.shape[1]),
            penalty_factor=self._validated_penalty_factor(X.shape[1]),
            offset=model_offset(offset, X.shape[0], K),
            feature_names=getattr(self, "feature_names_in_", None),
        )
        if K == 2:
            return LogisticObjective(X, (codes == 1).astype(X.dtype), sample_weight, **common)
        return SoftmaxObjective(X, codes, sample_weight, n_outputs=K, **common)

    def _checked_class_weight_dict(self):
        """A dict ``class_weight`` as one weight per class of ``classes_``, refusing bad values."""
        per_class = compute_class_weight(self.class_weight, classes=self.classes_, y=self.classes_)
        if np.any(~np.isfinite(per_class)) or np.any(per_class < 0):
            bad = int(np.flatnonzero(~(per_class >= 0) | ~np.isfinite(per_class))[0])
            raise ValueError(
                f"class_weight must be finite and non-negative; got {float(per_class[bad]):g} for class "
                f"{self.classes_.tolist()[bad]!r}. Give that class weight 0 to ignore it."
            )
        return per_class

    def _coef_shape(self):
        K = self.classes_.size
        return (1 if K == 2 else K), self.n_features_in_

    def _starting_coefs(self, coef_init, intercept_init):
        """``(W0 (rows, n), b0 (rows,))``: zeros, the previous fit, or the given values."""
        shape = self._coef_shape()
        W, b = np.zeros(shape), np.zeros(shape[0])
        if self.warm_start and getattr(self, "coef_", None) is not None and self.coef_.shape == shape:
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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, coef_init=None, intercept_init=None, callback=None, offset=None):
        """Fit the model by minimizing the penalized mean log-loss.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask.array.Array, dask.dataframe.DataFrame} of shape (m, n)
            Training examples; float32 data is fitted in float32. A Dask
            collection (row-chunked) is fitted where it lives, see
            :meth:`_fit_dask`.
        y : array-like or Dask array/Series of shape (m,)
            Labels of any type, at least two distinct.
        sample_weight : array-like or Dask array/Series of shape (m,), default=None
            Non-negative weights; the cost is the weighted mean.
        coef_init : array-like of shape (n,), (1, n) or (n_classes, n), default=None
            Starting ``w`` (zeros otherwise, as in the lecture).
        intercept_init : float or array-like of shape (n_classes,), default=None
            Starting ``b``.
        callback : callable, default=None
            ``callback(iteration, cost)``, called after every iteration the
            solver records (for progress bars).
        offset : array-like of shape (m,) or (m, n_classes), default=None
            A known term added to every score, ``z = X w + b + offset``
            (glum's and statsmodels' ``offset``: an exposure, a prior
            model's score), not fitted. Binary: one value per example;
            multinomial: one per example and class. Pass the same to the
            prediction methods.

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
            return self._fit(X, y, sample_weight, coef_init, intercept_init, callback, offset)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit(self, X, y, sample_weight, coef_init, intercept_init, callback, offset):
        # Warnings point at the user's call: past this method, fit and _fit_context's wrapper.
        penalty = self._penalty(stacklevel=5)
        if is_dask_collection(X) or is_dask_collection(y) or is_dask_collection(sample_weight):
            _check_given(X)
            _refuse_dask_offset(offset)
            return self._fit_dask(X, y, sample_weight, coef_init, intercept_init, callback, penalty)
        _check_given(X, y)
        # NaN and infinity in X: checked by the solver's first pass over X
        # (LinearObjective's check_finite), not by a pass of its own.
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], order="C", ensure_all_finite=False
        )
        self.classes_, codes = self._encode_targets(y)
        self.__dict__.pop("_partial_fit_schedule", None)  # a new fit restarts partial_fit's schedule
        sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        objective = self._objective(X, codes, sample_weight, penalty, check_finite=type(self).__name__,
                                    offset=offset)
        separation = self._check_separation(X, codes, objective.sample_weight, penalty)
        theta0 = objective.join(*self._starting_coefs(coef_init, intercept_init))
        self.solver_ = choose_solver(objective) if self.solver == "auto" else self.solver
        options = {"learning_rate": self.learning_rate, "random_state": self.random_state, "batch_size": self.batch_size}
        options = {name: options[name] for name in SOLVER_OPTIONS[self.solver_]}
        # On separated data the unpenalized optimum lies at infinity: a bounded
        # number of iterations returns in seconds instead of chasing it
        # (tol=0 asks for exactly max_iter updates: the lecture's loop).
        max_iter = min(self.max_iter, SEPARATED_MAX_ITER) if separation and self.tol > 0 else self.max_iter
        with blas_context(objective, self.solver_):
            result = SOLVERS[self.solver_](
                objective, theta0, max_iter=max_iter, tol=self.tol,
                callback=self._make_callback(callback), **options,
            )
        names = getattr(self, "feature_names_in_", None)
        finite = bool(np.all(np.isfinite(result.x))) and bool(np.isfinite(result.fun))
        if not (result.converged and finite):
            # Columns too large to fit make every solver fail (or diverge): say
            # so, naming them, rather than store a meaningless model.
            message = overflow_message(X, names)
            if message is not None:
                raise ValueError(message)
        if not finite:  # nothing non-finite is ever stored
            raise ValueError(
                f"solver {self.solver_!r} ended at non-finite coefficients or cost; nothing was stored. "
                "Rescale X (e.g. sklearn.preprocessing.StandardScaler) or choose solver='auto'."
            )
        if result.diverged or (not result.converged and self.tol > 0 and not separation):
            warn_not_converged(result, self.solver_, stacklevel=5)  # the user's call of fit

        if result.converged and (
            (result.n_iter == 0 and not np.any(theta0)) or (np.isinf(penalty[0]) and self.coef_bounds is None)
        ):
            # Converged where it started, at zero, or without a penalty (whose
            # optimum along a tiny feature is huge, not the ~0 the solver
            # stops at): features too small for the gradient to pass tol are
            # the usual cause; name them.
            check_degenerate_scale(X, tol=self.tol, feature_names=names, stacklevel=5)
        self._store_coefs(objective, _symmetric(objective, result.x), X.dtype)
        self.n_iter_ = result.n_iter
        self.loss_curve_ = np.asarray(result.loss_history, dtype=np.float64)
        self.converged_ = bool(result.converged) and not separation
        self.separation_ = separation
        return self

    def _fit_dask(self, X, y, sample_weight, coef_init, intercept_init, callback, penalty):
        """:meth:`fit` on Dask collections: the same model, its passes over X run where X lives.

        X (a row-chunked ``dask.array.Array`` or a ``dask.dataframe.DataFrame``
        of numeric columns), ``y`` and ``sample_weight`` are aligned row by
        row by :func:`logitdescent.backends.dask.align`: Dask collections, or
        NumPy arrays taken in X's row order; pandas objects (whose index
        cannot be matched to a Dask X's rows) and a NumPy X with Dask ``y``
        are refused. The chunks are persisted once on the caller's active
        ``distributed.Client``, else on Dask's default (threaded) scheduler,
        and every solver evaluation is one map-reduce over them; only the
        coefficients and O(p) partial sums (O(p^2) for Newton) travel.

        Everything of the in-memory fit applies (penalties, multinomial,
        sample and class weights, bounds, warm start, coef_init,
        non-finite and divergence checks, the stored attributes) except:

        - solvers "sgd" and "newton-cd" are refused (``ValueError`` naming
          "lbfgs"); "auto" picks "lbfgs" where the in-memory rule would pick
          "newton-cd" (:func:`logitdescent.backends.dask.choose_solver`);
        - separated classes are not detected (``separation_`` is None): the
          check solves linear programs on X in memory. An unpenalized fit on
          separated data runs to ``max_iter`` and warns that it did not converge;
        - no BLAS thread limit is set here: the kernel runs on the workers.
        """
        from .backends import dask as dask_backend  # Dask is imported only for Dask input

        columns = getattr(X, "columns", None) if is_dask_collection(X) else None
        X, y, sample_weight = dask_backend.align(X, y, sample_weight)
        if y is None:
            raise ValueError("y is None; fit needs the labels of X's rows.")
        # What validate_data(reset=True) sets in memory: the column count, and
        # string column names (or no names at all).
        self.n_features_in_ = X.shape[1]
        if columns is not None and len(columns) and all(isinstance(c, str) for c in columns):
            self.feature_names_in_ = np.asarray(list(columns), dtype=object)
        else:
            self.__dict__.pop("feature_names_in_", None)
        self.classes_, codes = dask_backend.encode_labels(y)
        check_classification_targets(self.classes_)  # e.g. continuous "labels", named as in memory
        self.__dict__.pop("_partial_fit_schedule", None)  # a new fit restarts partial_fit's schedule
        if isinstance(self.class_weight, dict):
            self._checked_class_weight_dict()  # refuse bad values here, not as "negative sample_weight"
        sample_weight = dask_backend.class_weighted(sample_weight, codes, self.class_weight, self.classes_, X.dtype)

        C, l1_ratio = penalty
        K = self.classes_.size
        n_outputs = 1 if K == 2 else K
        common = dict(
            C=C, l1_ratio=l1_ratio, fit_intercept=self.fit_intercept, check_finite=type(self).__name__,
            bounds=self._validated_bounds(n_outputs, X.shape[1]),
            penalty_factor=self._validated_penalty_factor(X.shape[1]),
            feature_names=getattr(self, "feature_names_in_", None),
        )
        if self.solver != "auto":
            dask_backend.check_solver(self.solver)  # before the data are persisted
        # Persists the chunks on the cluster; y and the weights are checked there.
        if K == 2:
            objective = dask_backend.DaskLogisticObjective(X, (codes == 1).astype(X.dtype), sample_weight, **common)
        else:
            objective = dask_backend.DaskSoftmaxObjective(X, codes, sample_weight, n_outputs=K, **common)
        # (The objective refuses a zero or infinite weight sum, found where the weights live.)
        theta0 = objective.join(*self._starting_coefs(coef_init, intercept_init))
        self.solver_ = dask_backend.choose_solver(objective) if self.solver == "auto" else self.solver
        options = {"learning_rate": self.learning_rate, "random_state": self.random_state, "batch_size": self.batch_size}
        options = {name: options[name] for name in SOLVER_OPTIONS[self.solver_]}
        result = SOLVERS[self.solver_](
            objective, theta0, max_iter=self.max_iter, tol=self.tol, callback=self._make_callback(callback), **options,
        )
        names = getattr(self, "feature_names_in_", None)
        finite = bool(np.all(np.isfinite(result.x))) and bool(np.isfinite(result.fun))
        stand_in = None  # X's column maxima as a one-row X: what the column checks read of X
        if not (result.converged and finite):
            stand_in = objective.column_abs_max()[None, :].astype(X.dtype)
            message = overflow_message(stand_in, names)
            if message is not None:
                raise ValueError(message)
        if not finite:  # nothing non-finite is ever stored
            raise ValueError(
                f"solver {self.solver_!r} ended at non-finite coefficients or cost; nothing was stored. "
                "Rescale X (e.g. dask_ml.preprocessing.StandardScaler) or choose solver='auto'."
            )
        if result.diverged or (not result.converged and self.tol > 0):
            warn_not_converged(result, self.solver_, stacklevel=6)  # the user's call of fit
        if result.converged and (
            (result.n_iter == 0 and not np.any(theta0)) or (np.isinf(C) and self.coef_bounds is None)
        ):
            # As in memory: features too small for the gradient to pass tol.
            # Their test reads only each column's largest magnitude.
            if stand_in is None:
                stand_in = objective.column_abs_max()[None, :].astype(X.dtype)
            check_degenerate_scale(stand_in, tol=self.tol, feature_names=names, stacklevel=6)
        self._store_coefs(objective, _symmetric(objective, result.x), X.dtype)
        self.n_iter_ = result.n_iter
        self.loss_curve_ = np.asarray(result.loss_history, dtype=np.float64)
        self.converged_ = bool(result.converged)
        self.separation_ = None
        return self

    def _check_separation(self, X, codes, sample_weight, penalty):
        """Without a penalty, warn about separated classes.

        Returns the :class:`~logitdescent.separation.SeparationResult` of an
        unpenalized, unbounded fit (falsy when the classes overlap), else None.
        """
        names = getattr(self, "feature_names_in_", None)
        if np.isfinite(penalty[0]) or self.coef_bounds is not None:
            return None
        separation = detect_separation(X, codes, sample_weight, fit_intercept=self.fit_intercept,
                                       feature_names=names)
        if separation:
            warnings.warn(separation.message(), SeparationWarning, stacklevel=6)
        return separation

    def summary(self, X, y, sample_weight=None, cov_type="nonrobust", groups=None, alpha=0.05, offset=None):
        """Wald standard errors, z, p-values, intervals and likelihoods of an unpenalized fit.

        See :func:`logitdescent.inference.summary` and docs/inference.md for
        the formulas, ``cov_type`` ("nonrobust", "HC0", "HC1", "cluster" with
        ``groups``) and what is refused (penalized or bounded fits, separated
        data).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (m, n)
            The data the model was fitted on.
        y : array-like of shape (m,)
        sample_weight : array-like of shape (m,), default=None
        cov_type : {"nonrobust", "HC0", "HC1", "cluster"}, default="nonrobust"
        groups : array-like of shape (m,), default=None
            Cluster labels, for ``cov_type="cluster"``.
        alpha : float, default=0.05
            ``1 - alpha`` confidence intervals.
        offset : array-like of shape (m,) or (m, n_classes), default=None
            The offset of the fit, if it had one.

        Returns
        -------
        results : logitdescent.inference.LogitResults or MNLogitResults
        """
        return _summary(self, X, y, sample_weight=sample_weight, cov_type=cov_type, groups=groups, alpha=alpha,
                        offset=offset)

    def _store_coefs(self, objective, theta, dtype):
        W, b = objective.split(theta)
        self.coef_ = np.array(W, dtype=dtype).reshape(objective.n_outputs, -1)
        self.intercept_ = np.array(b, dtype=dtype).reshape(objective.n_outputs)

    @_fit_context(prefer_skip_nested_validation=True)
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
        if is_dask_collection(X) or is_dask_collection(y) or is_dask_collection(sample_weight):
            raise TypeError(
                "partial_fit takes in-memory batches; for Dask data call fit (which runs on the cluster), "
                "or pass each batch computed to memory (e.g. X.blocks[i].compute())."
            )
        first_call = not hasattr(self, "classes_")
        if first_call:
            if classes is None:
                raise ValueError("classes must be given on the first call to partial_fit.")
            _check_label_types(classes, "classes")
            classes = unique_labels(classes)
            if classes.size < 2:
                raise ValueError(f"classes must hold at least 2 labels; got {classes!r}.")
        elif classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
            raise ValueError(
                f"classes={classes!r} differs from the classes of the first call, {self.classes_!r}."
            )
        penalty = self._penalty(stacklevel=4)  # the user's call, past _fit_context's wrapper
        _check_given(X, y)
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], order="C", reset=first_call
        )
        if first_call:
            self.classes_ = classes
        _, codes = self._encode_targets(y, self.classes_)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        objective = self._objective(X, codes, sample_weight, penalty)
        if first_call:
            theta = objective.join(np.zeros(self._coef_shape()), 0.0)
        else:  # continue from the last partial_fit or fit
            theta = objective.join(self.coef_, self.intercept_)
        schedule = getattr(self, "_partial_fit_schedule", None)
        if schedule is None:
            schedule = self._partial_fit_schedule = {
                "calls": 0,
                "alpha0": float(sgd.initial_step(objective, self.learning_rate, self.batch_size)),
                "rng": check_random_state(self.random_state),
            }
        alpha = sgd.scheduled_step(schedule["alpha0"], schedule["calls"])
        # A fixed learning_rate may be too large; "auto" steps by the batch's
        # curvature and cannot diverge, so only a fixed rate pays for the two
        # cost evaluations that detect it.
        fixed = not isinstance(self.learning_rate, str)
        with blas_context(objective, "sgd"), np.errstate(over="ignore", invalid="ignore"):
            start_cost = objective.value(theta, objective.loss_grad(theta)[0]) if fixed else None
            candidate = sgd.run_epoch(objective, theta, alpha, self.batch_size, schedule["rng"])
            if fixed:
                J_new, grad_new = objective.loss_grad(candidate)
        if not np.all(np.isfinite(candidate)) or (fixed and diverged(objective, start_cost, candidate, J_new, grad_new)):
            cost = objective.value(candidate, J_new) if fixed and np.isfinite(J_new) else np.nan
            message = divergence_message(start_cost if fixed else np.nan, cost, schedule["calls"] + 1,
                                         float(schedule["alpha0"]), unit="partial_fit call")
            warnings.warn(
                f"partial_fit {message}. The coefficients are those from before this call.",
                ConvergenceWarning, stacklevel=4,  # the user's call, past _fit_context's wrapper
            )
        else:
            theta = candidate
        self._store_coefs(objective, theta, X.dtype)
        schedule["calls"] += 1
        self.n_iter_ = schedule["calls"]
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

    # -- the fitted state as plain data ------------------------------------

    def get_fitted_state(self):
        """The fitted model as plain data, for :meth:`set_fitted_state` (and model files).

        Together with :meth:`get_params` it is everything a fitted estimator
        holds: what it predicts with, what ``warm_start`` starts from, and
        where ``partial_fit``'s step schedule and random stream stand.

        Returns
        -------
        state : dict
            Python scalars, strings, None, NumPy arrays and dicts of those:

            - ``"classes"``: ndarray of shape (n_classes,), ``classes_``.
            - ``"coef"``: ndarray of shape (1, n) or (n_classes, n), ``coef_``
              (float32 or float64).
            - ``"intercept"``: ndarray of shape (1,) or (n_classes,), same dtype.
            - ``"n_features_in"``: int.
            - ``"feature_names_in"``: ndarray of str of shape (n,), or None.
            - ``"n_iter"``: int, ``n_iter_``.
            - ``"fit"``: None if only ``partial_fit`` ever ran, else
              ``{"solver": str, "converged": bool, "loss_curve": ndarray of
              shape (k,) float64}`` (``k = n_iter + 1`` unless ``partial_fit``
              ran since).
            - ``"partial_fit"``: None if ``partial_fit`` has not run since the
              last ``fit``, else ``{"calls": int, "alpha0": float, "rng":
              dict}``, ``rng`` the ``RandomState.get_state(legacy=False)``
              dict of its random generator.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        """
        check_is_fitted(self)
        names = getattr(self, "feature_names_in_", None)
        schedule = getattr(self, "_partial_fit_schedule", None)
        return {
            "classes": np.array(self.classes_),
            "coef": np.array(self.coef_),
            "intercept": np.array(self.intercept_),
            "n_features_in": int(self.n_features_in_),
            "feature_names_in": None if names is None else np.array(names),
            "n_iter": int(self.n_iter_),
            "fit": None if not hasattr(self, "loss_curve_") else {
                "solver": str(self.solver_),
                "converged": bool(self.converged_),
                "loss_curve": np.array(self.loss_curve_, dtype=np.float64),
            },
            "partial_fit": None if schedule is None else {
                "calls": int(schedule["calls"]),
                "alpha0": float(schedule["alpha0"]),
                "rng": schedule["rng"].get_state(legacy=False),
            },
        }

    def set_fitted_state(self, state):
        """Make this estimator the fitted model that ``state`` describes.

        The inverse of :meth:`get_fitted_state`: after
        ``clone(a).set_fitted_state(a.get_fitted_state())`` the estimator
        predicts, continues ``partial_fit`` and warm-starts exactly as ``a``
        would. Every field is checked, against the others and against the
        parameters, before anything is set.

        Parameters
        ----------
        state : dict
            As returned by :meth:`get_fitted_state`.

        Returns
        -------
        self : LogisticRegression

        Raises
        ------
        ValueError
            If a parameter is invalid or a field of ``state`` is missing,
            malformed or inconsistent; the message names it.
        """
        self._validate_params()
        resolve_penalty(self.penalty, self.C, self.l1_ratio)
        attributes = _checked_state(state)
        try:
            self._validated_bounds(*attributes["coef_"].shape)
        except ValueError as exc:
            raise ValueError(f"the parameters do not fit state['coef']: {exc}") from None
        for name in ("feature_names_in_", "loss_curve_", "solver_", "converged_", "_partial_fit_schedule"):
            self.__dict__.pop(name, None)
        self.__dict__.update(attributes)
        return self

    # -- prediction --------------------------------------------------------

    def decision_function(self, X, offset=None):
        """The scores ``z = X w + b (+ offset)`` (one column per class when multiclass).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (m, n)
        offset : array-like of shape (m,) or (m, n_classes), default=None
            The known term of a model fitted with one (see :meth:`fit`).

        Returns
        -------
        z : ndarray of shape (m,) or (m, n_classes)
            Binary: positive means ``classes_[1]``. For Dask input, a lazy
            ``dask.array.Array`` (float64), one block per row chunk of X.
        """
        check_is_fitted(self)
        _check_given(X)
        if is_dask_collection(X):
            _refuse_dask_offset(offset)
            return self._dask_prediction("decision_function", X)
        X = validate_data(
            self, X, accept_sparse="csr", dtype=[np.float64, np.float32], order="C", reset=False
        )
        with np.errstate(over="ignore", invalid="ignore"):  # overflow: refused just below
            Z = np.asarray(X @ self.coef_.T.astype(X.dtype)) + self.intercept_.astype(X.dtype)
            if offset is not None:
                Z = Z + model_offset(offset, X.shape[0], self.classes_.size).reshape(Z.shape).astype(Z.dtype)
            # Finite X and coefficients: an infinite or NaN score is an overflow,
            # whose true value (even its sign, when terms cancel) is unknown.
            bad = ~np.isfinite(Z).reshape(Z.shape[0], -1).all(axis=1)
        if bad.any():
            raise ValueError(
                f"the scores of X's row(s) {np.flatnonzero(bad)[:10].tolist()} overflow {Z.dtype} "
                "(X w + b is not finite): their values are too large for this model; rescale X as it was for fit."
            )
        return Z.ravel() if self.coef_.shape[0] == 1 else Z

    def predict_proba(self, X, offset=None):
        """Class probabilities, columns in the order of ``classes_``; rows sum to 1.

        Binary: ``[1 - a, a]`` with ``a = sigmoid(z)``. Multinomial:
        ``softmax(Z)``. ``offset`` as for :meth:`decision_function`.

        Returns
        -------
        proba : ndarray of shape (m, n_classes)
            Lazy (a ``dask.array.Array``) for Dask input.
        """
        if is_dask_collection(X):
            _refuse_dask_offset(offset)
            return self._dask_prediction("predict_proba", X)
        Z = self.decision_function(X, offset)
        if Z.ndim == 1:
            # expit(-z) rather than 1 - expit(z): no cancellation for large z.
            return np.column_stack([expit(-Z), expit(Z)])
        return softmax(Z, axis=1)

    def predict_log_proba(self, X, offset=None):
        """``log`` of :meth:`predict_proba`, finite for any finite score.

        Returns
        -------
        log_proba : ndarray of shape (m, n_classes)
            Lazy (a ``dask.array.Array``) for Dask input.
        """
        if is_dask_collection(X):
            _refuse_dask_offset(offset)
            return self._dask_prediction("predict_log_proba", X)
        Z = self.decision_function(X, offset)
        if Z.ndim == 1:
            zero = np.zeros((), dtype=Z.dtype)
            return np.column_stack([-np.logaddexp(zero, Z), -np.logaddexp(zero, -Z)])
        return log_softmax(Z, axis=1)

    def predict(self, X, offset=None):
        """The label of the most probable class (``offset`` as for :meth:`decision_function`).

        Returns
        -------
        labels : ndarray of shape (m,)
            Lazy (a ``dask.array.Array``) for Dask input.
        """
        if is_dask_collection(X):
            _refuse_dask_offset(offset)
            return self._dask_prediction("predict", X)
        Z = self.decision_function(X, offset)
        index = (Z > 0).astype(int) if Z.ndim == 1 else Z.argmax(axis=1)
        return self.classes_[index]

    def _dask_prediction(self, method, X):
        """``method`` of :mod:`logitdescent.backends.dask` on a Dask X: a lazy array.

        Checked as in memory, without computing anything: fitted, and a
        DataFrame's columns equal to ``feature_names_in_`` (names and order)
        when the model has them; the column count by the backend.
        """
        from .backends import dask as dask_backend  # Dask is imported only for Dask input

        check_is_fitted(self)
        fitted_names = getattr(self, "feature_names_in_", None)
        columns = getattr(X, "columns", None)
        if fitted_names is not None and columns is not None and list(columns) != list(fitted_names):
            raise ValueError(
                f"X's columns {list(columns)[:10]} differ from the feature names seen in fit "
                f"{list(fitted_names)[:10]}; select the fitted columns in their order: X[model.feature_names_in_]."
            )
        if method == "predict":
            return dask_backend.predict(self.coef_, self.intercept_, self.classes_, X)
        return getattr(dask_backend, method)(self.coef_, self.intercept_, X)


def _check_given(X, y=False):
    """Refuse ``X=None`` and labels that mix strings with other types, saying what was passed.

    (scikit-learn's own messages for these are about a "scalar array" and a
    failed ``<`` comparison.) ``y=False`` means no labels to check.
    """
    if X is None:
        raise TypeError(
            "X is None; expected the examples as an array-like or sparse matrix of shape "
            "(n_samples, n_features), e.g. a NumPy array or a pandas DataFrame."
        )
    if y is None or y is False:
        return  # scikit-learn's message for a missing y names it already
    _check_label_types(y, "y")


def _check_label_types(y, name):
    """Refuse labels ``y`` (the argument ``name``) that hold None or mix strings with other types."""
    values = y if isinstance(y, (list, tuple)) else None
    if values is None:
        dtype = getattr(y, "dtype", None)
        if dtype is None or getattr(dtype, "kind", None) != "O":
            return  # typed arrays hold one kind of label
        values = np.asarray(y, dtype=object).ravel()
    types = set(map(type, values))
    if len(types) < 2 and type(None) not in types:
        return
    if type(None) in types:
        index = next(i for i, v in enumerate(values) if v is None)
        raise ValueError(
            f"{name} holds None (a missing label) at index {index}; every example needs a label: "
            "drop the unlabelled rows or give them one."
        )
    strings = [t for t in types if issubclass(t, (str, bytes))]
    if strings and len(strings) < len(types):
        string = next(v for v in values if isinstance(v, (str, bytes)))
        other = next(v for v in values if not isinstance(v, (str, bytes)))
        raise ValueError(
            f"{name} mixes strings and non-strings (e.g. {string!r} and {other!r} of type "
            f"{type(other).__name__}); labels must be all strings or all numbers: convert them, "
            "e.g. y = [str(label) for label in y]."
        )


def _check_weights(sample_weight):
    """Refuse negative weights and weights whose sum overflows, saying which."""
    negative = np.flatnonzero(sample_weight < 0)
    if negative.size:
        first = negative[0]
        raise ValueError(
            f"sample_weight must be non-negative; got {negative.size} negative weight(s), the first "
            f"{float(sample_weight[first]):g} at index {first}. Drop those examples or give them weight 0."
        )
    with np.errstate(over="ignore"):  # an overflowing sum: refused just below
        total = np.sum(sample_weight, dtype=np.float64)
    if not np.isfinite(total):
        raise ValueError(
            "sample_weight sums to infinity; divide every weight by the same constant "
            "(the fit does not change)."
        )


def checked_penalty_factor(penalty_factor, n_features):
    """``penalty_factor`` as float64 of shape (n_features,), finite and >= 0; None stays None."""
    if penalty_factor is None:
        return None
    try:
        factor = np.asarray(penalty_factor, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"penalty_factor must be numbers or None; got {penalty_factor!r}.") from None
    if factor.shape != (n_features,):
        raise ValueError(
            f"penalty_factor must have shape ({n_features},), one factor per feature of X; got shape "
            f"{factor.shape}."
        )
    if not (np.all(np.isfinite(factor)) and np.all(factor >= 0)):
        bad = int(np.flatnonzero(~(np.isfinite(factor) & (factor >= 0)))[0])
        raise ValueError(
            f"penalty_factor must be finite and non-negative; got {factor[bad]} for feature {bad}. "
            "Use 0 to leave a feature unpenalized."
        )
    return factor


def _refuse_dask_offset(offset):
    if offset is not None:
        from .backends.dask import refuse_offset  # Dask is imported only for Dask input

        refuse_offset(offset)


def _symmetric(objective, theta):
    """``theta`` in scikit-learn's symmetric parametrization of the multinomial model.

    Adding one vector to every class's row of ``[W, b]`` changes no
    probability, so the optimum is unique only up to such a shift where
    nothing penalizes it: the intercepts always, the coefficients without a
    penalty. Like scikit-learn, store the representative whose rows sum to
    zero there; solvers that start at zero and follow the gradient (whose
    rows always sum to zero) end there anyway, others need not.
    """
    if objective.n_outputs == 1:
        return theta
    W, b = (part.copy() for part in objective.split(theta))
    if objective.fit_intercept:
        b -= b.mean()
    if objective.bounds is None:  # bounds may not allow the shift
        free = objective.coef_part(objective.l2_weights + objective.l1_weights)[0] == 0
        W[:, free] -= W[:, free].mean(axis=0)  # the features no penalty pins down
    return objective.join(W, b)


#: The estimator's parameter constraints (scikit-learn's ``Interval``,
#: ``StrOptions``...), read-only: what the CLI derives its flag types from.
PARAMETER_CONSTRAINTS = MappingProxyType(LogisticRegression._parameter_constraints)

#: ``{name: (other, constraint)}``: ``fit`` uses ``name`` only when
#: ``other`` meets ``constraint`` (see :meth:`LogisticRegression.ignored_params`).
PARAMETER_USES = MappingProxyType(LogisticRegression._parameter_uses)


def _describe(constraint):
    """A constraint in words, for the note on an ignored parameter."""
    if isinstance(constraint, StrOptions):
        options = sorted(constraint.options)
        return repr(options[0]) if len(options) == 1 else "one of " + ", ".join(map(repr, options))
    return str(constraint)


# -- the fitted state --------------------------------------------------------

_STATE_KEYS = {"classes", "coef", "intercept", "n_features_in", "feature_names_in", "n_iter", "fit", "partial_fit"}
_FIT_KEYS = {"solver", "converged", "loss_curve"}
_SCHEDULE_KEYS = {"calls", "alpha0", "rng"}
_RNG_KEYS = {"bit_generator", "state", "has_gauss", "gauss"}
_MT19937_KEY_SHAPE = (624,)


def _keys(obj, keys, where):
    if not isinstance(obj, dict):
        raise ValueError(f"{where} must be a dict; got {type(obj).__name__}")
    if set(obj) != keys:
        missing, extra = sorted(keys - set(obj)), sorted(set(obj) - keys)
        raise ValueError(f"{where} has missing keys {missing} or unexpected keys {extra}")
    return obj


def _int(value, where, minimum):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{where} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def _array(value, where, kinds, ndim):
    if not isinstance(value, np.ndarray) or value.dtype.kind not in kinds or value.ndim != ndim:
        raise ValueError(f"{where} must be a {ndim}-d ndarray of kind {kinds!r}")
    return value


def _checked_state(state):
    """The attributes ``state`` sets, after checking every field of it."""
    _keys(state, _STATE_KEYS, "state")
    n = _int(state["n_features_in"], "state['n_features_in']", 1)
    n_iter = _int(state["n_iter"], "state['n_iter']", 0)
    classes = _array(state["classes"], "state['classes']", "biufUO", 1)
    coef = _array(state["coef"], "state['coef']", "f", 2)
    intercept = _array(state["intercept"], "state['intercept']", "f", 1)
    try:
        distinct = np.unique(classes).size
    except TypeError:  # unorderable labels
        distinct = len(set(classes.tolist()))
    if classes.size < 2 or distinct != classes.size:
        raise ValueError("state['classes'] must hold at least two distinct labels")
    rows = 1 if classes.size == 2 else classes.size
    if coef.shape != (rows, n) or intercept.shape != (rows,) or intercept.dtype != coef.dtype:
        raise ValueError(
            f"with {classes.size} classes, state['coef'] must have shape ({rows}, {n}) and "
            f"state['intercept'] ({rows},), of one dtype"
        )
    for name, values in (("coef", coef), ("intercept", intercept)):
        if not np.all(np.isfinite(values)):
            raise ValueError(f"state[{name!r}] holds non-finite values (NaN or infinity); a fitted model never does")
    # Copies: the caller's state stays theirs to change.
    attributes = {
        "classes_": classes.copy(), "coef_": coef.copy(), "intercept_": intercept.copy(),
        "n_features_in_": n, "n_iter_": n_iter,
    }
    names = state["feature_names_in"]
    if names is not None:
        if _array(names, "state['feature_names_in']", "UO", 1).shape != (n,) or not all(
            isinstance(name, str) for name in names.tolist()
        ):
            raise ValueError(f"state['feature_names_in'] must be None or {n} strings")
        attributes["feature_names_in_"] = names.copy()

    schedule = state["partial_fit"]
    if schedule is not None:
        _keys(schedule, _SCHEDULE_KEYS, "state['partial_fit']")
        if _int(schedule["calls"], "state['partial_fit']['calls']", 1) != n_iter:
            raise ValueError("state['partial_fit']['calls'] must equal state['n_iter']")
        alpha0 = schedule["alpha0"]
        if isinstance(alpha0, (bool, np.bool_)) or not isinstance(alpha0, Real) or not 0 < alpha0 < np.inf:
            raise ValueError(f"state['partial_fit']['alpha0'] must be a positive finite float; got {alpha0!r}")
        attributes["_partial_fit_schedule"] = {
            "calls": n_iter, "alpha0": float(alpha0), "rng": _random_state(schedule["rng"]),
        }

    fit = state["fit"]
    if fit is None:
        if schedule is None:
            raise ValueError("state['fit'] and state['partial_fit'] cannot both be None")
    else:
        _keys(fit, _FIT_KEYS, "state['fit']")
        if fit["solver"] not in SOLVERS:
            raise ValueError(f"state['fit']['solver'] must be one of {sorted(SOLVERS)}; got {fit['solver']!r}")
        if not isinstance(fit["converged"], (bool, np.bool_)):
            raise ValueError("state['fit']['converged'] must be a bool")
        curve = _array(fit["loss_curve"], "state['fit']['loss_curve']", "f", 1)
        # After a fit the curve has n_iter + 1 costs; a later partial_fit
        # keeps the fit's curve but counts its own calls.
        if curve.size < 1 or (schedule is None and curve.size != n_iter + 1):
            raise ValueError("state['fit']['loss_curve'] must have n_iter + 1 entries")
        if not np.all(np.isfinite(curve)):
            raise ValueError("state['fit']['loss_curve'] holds non-finite values (NaN or infinity)")
        attributes.update(solver_=str(fit["solver"]), converged_=bool(fit["converged"]),
                          loss_curve_=curve.astype(np.float64))
    return attributes


def _random_state(state):
    """A ``RandomState`` in the ``get_state(legacy=False)`` state ``state``, checked."""
    where = "state['partial_fit']['rng']"
    _keys(state, _RNG_KEYS, where)
    inner = _keys(state["state"], {"key", "pos"}, f"{where}['state']")
    key = inner["key"]
    if not (
        state["bit_generator"] == "MT19937"
        and isinstance(key, np.ndarray) and key.dtype == np.uint32 and key.shape == _MT19937_KEY_SHAPE
        # NumPy indexes the key with pos unchecked: outside [0, 624] it would read out of bounds.
        and isinstance(inner["pos"], Integral) and not isinstance(inner["pos"], bool) and 0 <= inner["pos"] <= 624
        and state["has_gauss"] in (0, 1) and not isinstance(state["has_gauss"], bool)
        and isinstance(state["gauss"], Real) and not isinstance(state["gauss"], bool)
    ):
        raise ValueError(f"{where} is not a valid MT19937 state")
    rng = np.random.RandomState()
    try:
        rng.set_state(state)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(f"{where} is not a valid MT19937 state: {exc}") from None
    return rng
