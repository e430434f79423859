"""logitdescent: logistic regression by gradient descent, from the lecture to fast software.

Public names
------------
loss_and_grad
    The vectorized, numerically stable cost-and-gradient kernel.
LogisticRegression
    The scikit-learn compatible estimator.
LogisticRegressionCV
    ``C`` and ``l1_ratio`` chosen by cross-validation on warm-started paths.
reference
    The lecture's for-loop, literally (``logitdescent.reference.loss_and_grad``).
"""

from importlib.metadata import PackageNotFoundError, version

from . import reference
from .cv import LogisticRegressionCV
from .estimator import LogisticRegression
from .kernel import loss_and_grad, sigmoid

try:
    __version__ = version("logitdescent")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

__all__ = ["LogisticRegression", "LogisticRegressionCV", "loss_and_grad", "reference", "sigmoid", "__version__"]
