"""scikit-learn's own estimator check suite, every check, none expected to fail."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from logitdescent import LogisticRegression


@parametrize_with_checks([LogisticRegression(), LogisticRegression(solver="lbfgs")])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
