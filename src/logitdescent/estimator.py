"""``LogisticRegression``: the scikit-learn face of logitdescent."""

from __future__ import annotations

import numbers

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .objective import LogisticObjective
from .solvers import SOLVER_OPTIONS, SOLVERS, choose_solver, warn_not_converged

__all__ = ["LogisticRegression"]


class LogisticRegression(ClassifierMixin, BaseEstimator):
    """Binary logistic regression fitted by logitdescent's own solvers.

    Minimizes the weighted mean log-loss plus ``||w||^2 / (2 C S)`` (``S`` the
    number or total weight of the examples): scikit-learn's objective divided
    by ``C S``, so both reach the same optimum for the same ``C``. The
    intercept is never penalized.

    Parameters
    ----------
    penalty : {"l2", None}, default="l2"
        None, like ``C=np.inf``, fits the unpenalized model.
    C : float, default=1.0
        Inverse regularization strength, > 0; ``np.inf`` means no penalty.
    fit_intercept : bool, default=True
        Whether to fit the bias ``b``.
    solver : {"auto", "gd", "nesterov", "lbfgs", "newton", "sgd"}, default="auto"
        "gd" is the lecture's batch gradient descent; "nesterov" its
        accelerated form (FISTA with adaptive restart); "lbfgs" SciPy's
        L-BFGS-B on our kernel; "newton" Newton-Cholesky with a line search;
        "sgd" mini-batch stochastic gradient descent (``max_iter`` counts
        epochs). "auto" picks by problem shape: see docs/solvers.md.
    learning_rate : float or "auto", default="auto"
        The lecture's ``alpha`` for "gd" (and the initial step of "sgd").
        "auto" steps by ``1 / L``, ``L`` an estimate of the gradient's
        Lipschitz constant, backtracking so that every update decreases the
        cost.
    max_iter : int, default=1000
        Maximum number of solver iterations (updates).
    tol : float, default=1e-6
        Stop when ``max |dJ/dtheta| <= tol``. ``tol=0`` runs exactly
        ``max_iter`` updates.
    class_weight : dict, "balanced" or None, default=None
        Weights per class, folded into the sample weights.
    warm_start : bool, default=False
        Start from the previous fit's solution.
    verbose : int, default=0
        If > 0, print the cost every ``verbose`` iterations, as the lecture's
        notebook prints it every 100.
    random_state : int, RandomState instance or None, default=None
        Seed for the solvers that draw random numbers ("sgd").
    batch_size : int, default=256
        Rows per mini-batch for "sgd".

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features)
        ``w``, in the dtype of X (float32 stays float32).
    intercept_ : ndarray of shape (1,)
        ``b``; 0 when ``fit_intercept=False``.
    classes_ : ndarray of shape (2,)
        The labels; ``classes_[1]`` is the positive class (``y = 1``).
    n_iter_ : int
        Iterations the solver ran.
    loss_curve_ : ndarray of shape (n_iter_ + 1,)
        The cost ``J`` at the start and after every iteration.
    solver_ : str
        The solver that ran (resolves "auto").
    converged_ : bool
        Whether the stopping rule was met.
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
        fit_intercept=True,
        solver="auto",
        learning_rate="auto",
        max_iter=1000,
        tol=1e-6,
        class_weight=None,
        warm_start=False,
        verbose=0,
        random_state=None,
        batch_size=256,
    ):
        self.penalty = penalty
        self.C = C
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state
        self.batch_size = batch_size

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_class = False
        return tags

    # -- fitting -----------------------------------------------------------

    def _check_params(self):
        if self.penalty not in ("l2", None):
            raise ValueError(f"penalty must be 'l2' or None; got {self.penalty!r}.")
        if not isinstance(self.C, numbers.Real) or not self.C > 0:
            raise ValueError(f"C must be a positive float (np.inf for no penalty); got {self.C!r}.")
        if self.solver != "auto" and self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {['auto', *SOLVERS]}; got {self.solver!r}.")
        lr = self.learning_rate
        if not (lr == "auto" if isinstance(lr, str) else isinstance(lr, numbers.Real) and lr > 0):
            raise ValueError(f"learning_rate must be a positive float or 'auto'; got {lr!r}.")
        if not isinstance(self.max_iter, numbers.Integral) or self.max_iter < 0:
            raise ValueError(f"max_iter must be a non-negative integer; got {self.max_iter!r}.")
        if not isinstance(self.tol, numbers.Real) or not self.tol >= 0:
            raise ValueError(f"tol must be a non-negative float; got {self.tol!r}.")
        if not isinstance(self.batch_size, numbers.Integral) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer; got {self.batch_size!r}.")
        if not isinstance(self.verbose, numbers.Integral) or self.verbose < 0:
            raise ValueError(f"verbose must be a non-negative integer; got {self.verbose!r}.")

    def _encode_targets(self, y):
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ValueError(
                "Only binary classification is supported. The type of the target "
                f"is {y_type}."
            )
        classes = np.unique(y)
        if classes.size < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, but the "
                f"data contains only one class: {classes[0]!r}."
            )
        return classes, y == classes[1]

    def _initial_theta(self, objective, coef_init, intercept_init):
        n = objective.n_features
        w = np.zeros(n)
        b = 0.0
        if self.warm_start and hasattr(self, "coef_") and self.coef_.shape == (1, n):
            w, b = self.coef_.ravel(), float(self.intercept_[0])
        if coef_init is not None:
            coef_init = np.asarray(coef_init, dtype=np.float64)
            if coef_init.size != n or coef_init.ndim > 2:
                raise ValueError(
                    f"coef_init must have shape ({n},) or (1, {n}) to match X; got {coef_init.shape}."
                )
            w = coef_init.ravel()
        if intercept_init is not None:
            intercept_init = np.asarray(intercept_init, dtype=np.float64)
            if intercept_init.size != 1:
                raise ValueError(
                    f"intercept_init must be a scalar or of shape (1,); got shape {intercept_init.shape}."
                )
            b = float(intercept_init.ravel()[0])
        return objective.join(w, b if self.fit_intercept else 0.0)

    def fit(self, X, y, sample_weight=None, coef_init=None, intercept_init=None, callback=None):
        """Fit the model by minimizing the penalized mean log-loss.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (m, n)
            Training examples; float32 data is fitted in float32.
        y : array-like of shape (m,)
            Two distinct labels of any type.
        sample_weight : array-like of shape (m,), default=None
            Non-negative weights; the cost is the weighted mean.
        coef_init : array-like of shape (n,) or (1, n), default=None
            Starting ``w`` (zeros otherwise, as in the lecture).
        intercept_init : float, default=None
            Starting ``b``.
        callback : callable, default=None
            ``callback(iteration, cost)``, called after every cost evaluation
            the solver records (for progress bars).

        Returns
        -------
        self : LogisticRegression
        """
        self._check_params()
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], order="C"
        )
        self.classes_, is_positive = self._encode_targets(y)
        y01 = is_positive.astype(X.dtype)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        if self.class_weight is not None:
            per_class = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
            sample_weight = sample_weight * per_class[is_positive.astype(int)].astype(X.dtype)
        if not np.sum(sample_weight) > 0:
            raise ValueError("sample_weight must have a positive sum; all weights are zero.")

        C = np.inf if self.penalty is None else float(self.C)
        objective = LogisticObjective(X, y01, sample_weight, C=C, fit_intercept=self.fit_intercept)
        theta0 = self._initial_theta(objective, coef_init, intercept_init)
        self.solver_ = choose_solver(objective) if self.solver == "auto" else self.solver
        options = {
            "learning_rate": self.learning_rate,
            "random_state": self.random_state,
            "batch_size": self.batch_size,
        }
        options = {k: options[k] for k in SOLVER_OPTIONS[self.solver_]}
        result = SOLVERS[self.solver_](
            objective,
            theta0,
            max_iter=self.max_iter,
            tol=self.tol,
            callback=self._make_callback(callback),
            **options,
        )
        if not result.converged and self.tol > 0:
            warn_not_converged(result, self.solver_)

        w, b = objective.split(result.x)
        self.coef_ = np.asarray(w, dtype=X.dtype).reshape(1, -1)
        self.intercept_ = np.array([b], dtype=X.dtype)
        self.n_iter_ = result.n_iter
        self.loss_curve_ = np.asarray(result.loss_history)
        self.converged_ = result.converged
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
        """The scores ``z = X w + b``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (m, n)

        Returns
        -------
        z : ndarray of shape (m,)
            Positive means ``classes_[1]``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False)
        z = X @ self.coef_[0].astype(X.dtype) + self.intercept_[0].astype(X.dtype)
        return np.asarray(z).ravel()

    def predict_proba(self, X):
        """Class probabilities ``[1 - a, a]`` with ``a = sigmoid(z)``.

        Returns
        -------
        proba : ndarray of shape (m, 2)
            Columns follow ``classes_``; rows sum to 1.
        """
        z = self.decision_function(X)
        # expit(-z) rather than 1 - expit(z): no cancellation for large z.
        return np.column_stack([expit(-z), expit(z)])

    def predict_log_proba(self, X):
        """``log`` of :meth:`predict_proba`, finite for any finite score.

        Returns
        -------
        log_proba : ndarray of shape (m, 2)
        """
        z = self.decision_function(X)
        zero = np.zeros((), dtype=z.dtype)
        return np.column_stack([-np.logaddexp(zero, z), -np.logaddexp(zero, -z)])

    def predict(self, X):
        """The label of the more probable class.

        Returns
        -------
        labels : ndarray of shape (m,)
        """
        z = self.decision_function(X)
        return self.classes_[(z > 0).astype(int)]
