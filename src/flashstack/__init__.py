"""flashstack — the embedded flash storage stack, on the host.

Layers, bottom to top: :mod:`flashstack.device`, :mod:`flashstack.flash_map`,
:mod:`flashstack.hal`, :mod:`flashstack.kv` / :mod:`flashstack.nvs` /
:mod:`flashstack.llkernel`, then the jobs (build, inspect, torture) and the CLI.
"""

__version__ = "0.1.0"
