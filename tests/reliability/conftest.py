"""Hypothesis profiles for the reliability tests.

``default`` keeps the example counts modest so that ``make test`` stays fast
on two cores; ``deep`` runs many more (``HYPOTHESIS_PROFILE=deep``, the
``make test-deep`` target). Neither has a deadline: the shared machines these
run on are noisy, and a slow example is not a wrong one.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=25, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "deep", max_examples=1000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
