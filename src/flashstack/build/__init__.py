"""The build job: a manifest (TOML) turns into flash images for a board.

Entry points::

    from flashstack.build import build, load_manifest
    result = build("examples/demo/manifest.toml", out_dir="build/")   # or build() for the demo
    result.images["flash0"]      # bytes of each device image
    result.record                # the JSON build record (also written as build/build.json)

Plan → validate everything → write once: every manifest problem is reported (ManifestError,
EINVAL, naming manifest file, partition and key) before any file is written.
"""

from .job import BuildPlan, BuildResult, PlannedPartition, build, demo_manifest_path, plan_build, render_plan
from .manifest import Manifest, ManifestError, PartitionEntry, decode_value, load_manifest, parse_manifest
from .output import HEX_NAME, RECORD_NAME

__all__ = ["BuildPlan", "BuildResult", "PlannedPartition", "build", "demo_manifest_path", "plan_build",
           "render_plan", "Manifest", "ManifestError", "PartitionEntry", "decode_value", "load_manifest",
           "parse_manifest", "HEX_NAME", "RECORD_NAME"]
