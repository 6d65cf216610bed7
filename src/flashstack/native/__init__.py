"""flashstack.native: the team's own C storage code on flashstack's flash model.

C headers and a small C runtime (``include/``, ``c/``, shipped with the package) put Zephyr's
flash driver API and flash map, the AliOS-Things flash HAL and MicroEJ's flash controller on
:class:`~flashstack.native.machine.NativeFlash`, a SimulatedFlash shared with a helper
process built from the user's sources (``gcc -m32`` by default, as the firmware; cached by
content hash). Torture targets (:mod:`.targets`) drive that code through a known API or the
user's ``fs_boot``/``fs_step``/``fs_check``; :func:`.compare.compare_model` compares its images
with flashstack's own store for the API. ``flashstack torture c`` is the command.
"""

from .build import APIS, BuildSpec, build_helper, compiler_problem
from .machine import CCodeError, NativeFlash

__all__ = ["APIS", "BuildSpec", "CCodeError", "NativeFlash", "build_helper", "compiler_problem"]
