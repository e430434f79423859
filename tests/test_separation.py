"""detect_separation and check_degenerate_scale on textbook cases, with the direction itself as the oracle.

A reported direction is checked directly: it must never lower an example's
likelihood (every margin >= 0) and must raise it exactly on the examples
reported as separated. "none" is checked against statsmodels, whose Newton
fit reaches a finite optimum there.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

from logitdescent.separation import (
    DegenerateScaleWarning,
    PerfectSeparationError,
    SeparationWarning,
    check_degenerate_scale,
    detect_separation,
)

METHODS = ["lp", "sampled"]
FORMATS = [np.asarray, sp.csr_matrix]


def _binary_margins(result, X, y):
    """``(2 y - 1) (d·x + d_b)``: the change of each example's log-odds along the direction."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    return (2 * np.asarray(y) - 1) * (X @ result.direction + result.intercept_direction)


TEXTBOOK = {
    # x = 1..4, classes split at 2.5: every example predicted perfectly.
    "complete": ([[1.0], [2.0], [3.0], [4.0]], [0, 0, 1, 1], [True] * 4),
    # The two examples at x = 3 overlap; the others are separated at x = 3.
    "quasi-complete": ([[1.0], [2.0], [3.0], [3.0], [4.0], [5.0]], [0, 0, 0, 1, 1, 1],
                       [True, True, False, False, True, True]),
    # Overlap on both sides: a finite optimum.
    "none": ([[1.0], [2.0], [3.0], [4.0]], [0, 1, 0, 1], [False] * 4),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", list(TEXTBOOK))
def test_textbook_cases(kind, method, fmt):
    X, y, separated = TEXTBOOK[kind]
    X = fmt(np.array(X))
    result = detect_separation(X, y, method=method)
    assert result.kind == kind and bool(result) == (kind != "none")
    np.testing.assert_array_equal(result.separated, separated)
    margins = _binary_margins(result, X, y)
    assert np.all(margins >= -1e-9)
    assert np.all(margins[np.array(separated)] > 1e-6)
    if kind != "none":
        assert result.features == ("x0",) and result.single_feature
        assert "'x0'" in result.message() and "penalty" in result.message()


def test_statsmodels_finds_a_finite_optimum_where_there_is_no_separation():
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.spector.load_pandas()
    X, y = data.exog.to_numpy(), data.endog.to_numpy()
    assert detect_separation(X, y).kind == "none"
    fit = sm.Logit(y, sm.add_constant(X, prepend=False)).fit(method="newton", tol=1e-12, disp=0)
    assert fit.mle_retvals["converged"] and np.all(np.abs(fit.params) < 20)


@pytest.mark.parametrize("method", METHODS)
def test_the_separating_feature_is_named_among_distractors(method):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 6))
    y = (X[:, 3] > 0.3).astype(int)
    names = [f"f{j}" for j in range(6)]
    result = detect_separation(X, y, feature_names=names, method=method)
    assert result.kind == "complete" and result.features == ("f3",) and result.single_feature
    assert "'f3'" in result.message()
    assert np.all(_binary_margins(result, X, y) > 0)


def test_a_joint_rule_names_its_features_largest_first():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 4))
    y = (2.0 * X[:, 0] + X[:, 2] > 0).astype(int)
    result = detect_separation(X, y)
    assert result.kind == "complete" and not result.single_feature
    assert set(result.features[:2]) == {"x0", "x2"}
    assert np.all(_binary_margins(result, X, y) > 0)
    assert "linear rule" in result.message()


def test_zero_weight_examples_do_not_count():
    X = np.array([[1.0], [2.0], [3.0], [4.0], [0.5]])
    y = [0, 0, 1, 1, 1]  # the last example overlaps, with weight 0
    assert detect_separation(X, y).kind == "none"
    assert detect_separation(X, y, sample_weight=[1, 1, 1, 1, 0]).kind == "complete"


def test_without_intercept_the_threshold_is_zero():
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    assert detect_separation(X, [0, 0, 1, 1], fit_intercept=False).kind == "complete"
    # Separated at 2.5, but a rule through the origin cannot see it.
    X = np.array([[1.0], [2.0], [3.0], [4.0]])
    assert detect_separation(X, [0, 0, 1, 1], fit_intercept=False).kind == "none"
    assert detect_separation(X, [0, 0, 1, 1], fit_intercept=True).kind == "complete"


def test_multiclass_iris_setosa_is_separated_by_the_petals():
    data = load_iris()
    result = detect_separation(data.data, data.target, feature_names=data.feature_names)
    # Setosa stands apart; versicolor and virginica overlap: quasi-complete.
    assert result.kind == "quasi-complete" and result.single_feature
    assert set(result.features) == {"petal length (cm)", "petal width (cm)"}
    assert result.direction.shape == (3, 4) and np.all(result.direction[0] == 0)
    # The direction never favours another class over an example's own.
    scores = data.data @ result.direction.T + result.intercept_direction
    own = scores[np.arange(150), data.target]
    assert np.all(own[:, None] - scores >= -1e-9)
    assert "petal" in result.message() and "rules out some class" in result.message()


def test_multiclass_without_separation():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((150, 3))
    y = rng.integers(0, 3, 150)
    assert detect_separation(X, y).kind == "none"


def test_sampled_method_on_large_data_is_exact_both_ways():
    rng = np.random.default_rng(3)
    m = 20_000
    X = rng.standard_normal((m, 6))
    y = (rng.random(m) < 1 / (1 + np.exp(-X[:, 0]))).astype(int)
    none = detect_separation(X, y, method="sampled")
    assert none.kind == "none" and none.exact and none.method == "sampled"
    # A rare dummy that only positive examples have: quasi-complete separation
    # a 2000-row subset almost surely misses (rank-deficient there: it grows).
    rare = np.zeros(m)
    rare[[5, 12_345, 19_000]] = 1.0
    y_rare = y.copy()
    y_rare[[5, 12_345, 19_000]] = 1
    X_rare = np.column_stack([X, rare])
    result = detect_separation(X_rare, y_rare, method="sampled")
    assert result.kind == "quasi-complete" and result.exact and result.features == ("x6",)
    assert set(np.flatnonzero(result.separated)) == {5, 12_345, 19_000}


def test_warning_and_error_classes():
    assert issubclass(SeparationWarning, ConvergenceWarning)
    assert issubclass(DegenerateScaleWarning, ConvergenceWarning)
    assert issubclass(PerfectSeparationError, ValueError)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (([[1.0], [2.0]], [0, 1]), {"method": "simplex"}, "method must be"),
        (([[1.0], [2.0]], [1, 1]), {}, "at least 2 classes"),
        (([[1.0], [2.0]], [0, 1, 1]), {}, r"y must have shape \(2,\)"),
        (([[1.0], [2.0]], [0, 1]), {"sample_weight": [1.0]}, r"sample_weight must have shape \(2,\)"),
        (([[1.0], [2.0]], [0, 1]), {"sample_weight": [1.0, -1.0]}, "non-negative"),
        (([[1.0], [2.0]], [0, 1]), {"feature_names": ["a", "b"]}, "one name per column"),
    ],
)
def test_bad_input_names_the_argument(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        detect_separation(*args, **kwargs)


# -- degenerate scale ----------------------------------------------------------


def test_x_scaled_by_1e_300_is_named_as_a_whole():
    X = np.random.default_rng(0).standard_normal((50, 3)) * 1e-300
    with pytest.warns(DegenerateScaleWarning, match=r"every feature of X.*Rescale"):
        flagged = check_degenerate_scale(X, tol=1e-6)
    assert flagged == {"tiny": ["x0", "x1", "x2"], "huge": []}


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_tiny_and_one_huge_feature_are_named(fmt):
    X = np.random.default_rng(0).standard_normal((50, 4))
    X[:, 1] *= 1e-9
    X[:, 3] *= 1e200
    with pytest.warns(DegenerateScaleWarning, match=r"'b'.*tol.*'d'.*overflow"):
        flagged = check_degenerate_scale(fmt(X), tol=1e-6, feature_names=list("abcd"))
    assert flagged == {"tiny": ["b"], "huge": ["d"]}


def test_ordinary_scales_and_zero_columns_pass_silently():
    X = np.random.default_rng(0).standard_normal((50, 3))
    X[:, 2] = 0.0  # all zero: no information, but nothing the solver misjudges
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_degenerate_scale(X, tol=1e-6) == {"tiny": [], "huge": []}
    # Without tol, the threshold is the dtype's epsilon.
    assert check_degenerate_scale(X[:, :2].astype(np.float32) * 1e-8, warn=False)["tiny"] == ["x0", "x1"]
