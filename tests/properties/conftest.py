"""Hypothesis profiles for the invariants: ``ci`` (default, small) and ``nightly`` (≥ 10k).

Select with the environment (nightly runs take minutes per property, so lift pytest-timeout):
``HYPOTHESIS_PROFILE=nightly python -m pytest tests/properties --timeout=0``.
The profiles are registered here and applied by each property test through ``scenarios()``
(not loaded globally), so the rest of the suite keeps its own example counts.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "nightly",
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def scenarios(ci: int | None = None) -> settings:
    """The selected profile; ``ci`` overrides the example count of the ``ci`` profile only."""
    name = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    base = settings.get_profile(name)
    if name == "ci" and ci is not None:
        return settings(base, max_examples=ci)
    return base
