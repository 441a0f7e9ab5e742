"""Test-wide settings: under CI (CI=true, as .ci/run sets) hypothesis runs
derandomized, so a landing never depends on the draw; locally it explores."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
