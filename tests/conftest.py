"""Suite-wide settings. Hypothesis profile "ci" (derandomised: the same examples on every run;
failing examples printed with their reproduction blob) is loaded when HYPOTHESIS_PROFILE=ci or
CI is set; the default profile is hypothesis's own."""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None, database=None)
if os.environ.get("HYPOTHESIS_PROFILE") == "ci" or os.environ.get("CI"):
    settings.load_profile("ci")

# --power-loss=none|sampled|exhaustive: store tests re-run under power cuts (README, Testing)
pytest_plugins = ["flashstack.torture.pytest_plugin"]
