"""Compiling the C under test into a helper executable, once, cached by content hash.

The helper is the user's sources + the flashstack runtime (``c/fs_runtime.c``), the driver of
the chosen API (``c/drive_<api>.c``) and the shims (``c/*.c`` other than drivers, linked from
an archive so a symbol the user's code defines wins over the shim's). Headers: flashstack's
shims (``include/``) come before the user's ``-I`` directories, so ``<zephyr/kernel.h>`` is the
shim while ``<zephyr/fs/nvs.h>`` is the user's.

Cache: ``$FLASHSTACK_CACHE/native`` (default ``~/.cache/flashstack/native``), one directory per
key (compiler, flags, every source's bytes); each entry records the headers the compiler read
(``-MD``) with their hashes and is rebuilt when any of them changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InvalidArgument, NotFound, NotSupported

__all__ = [
    "APIS",
    "INCLUDE_DIR",
    "RUNTIME_DIR",
    "BuildSpec",
    "build_helper",
    "cache_dir",
    "compiler_problem",
]

RUNTIME_DIR = Path(__file__).parent / "c"
INCLUDE_DIR = Path(__file__).parent / "include"
_DRIVERS = {"zephyr-nvs": "drive_zephyr_nvs.c", "zephyr-zms": "drive_zephyr_zms.c",
            "alios-kv": "drive_alios_kv.c", "llkernel": "drive_llkernel.c", "custom": "drive_custom.c"}
#: the APIs ``flashstack torture c --api`` drives
APIS = tuple(_DRIVERS)
_SHIMS = ("zephyr_flash.c", "crc.c", "alios_hal.c", "aos_kernel.c", "flash_ctrl.c")


@dataclass(frozen=True)
class BuildSpec:
    """What to compile: ``api`` (one of :data:`APIS`), the user's ``sources`` (C files),
    ``includes`` (-I, after the shims), ``defines`` (``NAME`` or ``NAME=VALUE``), ``bits``
    (32, as the firmware, or 64), ``symbols`` (link symbols ``{name: address}``, e.g.
    LLKERNEL's ``_java_max_nb_dynamic_features``) and ``cflags`` (extra compiler flags)."""

    api: str
    sources: tuple = ()
    includes: tuple = ()
    defines: tuple = ()
    bits: int = 32
    symbols: tuple = ()  # ((name, value), ...)
    cflags: tuple = ()
    compiler: str = field(default_factory=lambda: os.environ.get("CC", "gcc"))

    def __post_init__(self):
        if self.api not in _DRIVERS:
            raise InvalidArgument(f"C API {self.api!r}: choose from {', '.join(APIS)}")
        if self.bits not in (32, 64):
            raise InvalidArgument(f"C build of {self.bits} bits: 32 or 64")


def cache_dir() -> Path:
    """The helper cache (``$FLASHSTACK_CACHE/native`` or ``$XDG_CACHE_HOME/flashstack/native``)."""
    base = os.environ.get("FLASHSTACK_CACHE")
    if base:
        return Path(base) / "native"
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "flashstack" / "native"


def _run(cmd: list, what: str) -> None:
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if proc.returncode:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        shown = "\n".join(lines[:30]) + (f"\n... ({len(lines) - 30} more lines)" if len(lines) > 30 else "")
        raise InvalidArgument(f"{what} failed (exit {proc.returncode}):\n{shown}")


_PROBES: dict = {}


def compiler_problem(bits: int = 32, compiler: str | None = None) -> str | None:
    """Why C cannot be built here (no compiler, no 32-bit libc), or None when it can."""
    cc = compiler or os.environ.get("CC", "gcc")
    key = (cc, bits)
    if key not in _PROBES:
        _PROBES[key] = _probe(cc, bits)
    return _PROBES[key]


def _probe(cc: str, bits: int) -> str | None:
    if shutil.which(cc) is None:
        return f"no C compiler {cc!r} on PATH (install gcc)"
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write("#include <stdio.h>\nint main(void){return 0;}\n")
        proc = subprocess.run([cc, f"-m{bits}", src, "-o", os.path.join(tmp, "probe")],
                              check=False, capture_output=True, text=True)
        if proc.returncode:
            hint = " (install gcc-multilib)" if bits == 32 else ""
            return f"{cc} -m{bits} cannot build a program{hint}: {proc.stderr.strip()[:200]}"
    return None


_STATIC: dict = {}


def _static_flags(cc: str, bits: int) -> list:
    """``["-static"]`` when ``cc`` links static programs of ``bits`` here, else ``[]``.

    A static helper forks and exits with fewer mappings (no dynamic loader, no shared libc):
    the two forks of every cut cost about a third less CPU (bench/native_bench.py)."""
    key = (cc, bits)
    if key not in _STATIC:
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "probe.c")
            with open(src, "w") as f:
                f.write("#include <stdio.h>\nint main(void){return 0;}\n")
            proc = subprocess.run([cc, f"-m{bits}", "-static", src, "-o", os.path.join(tmp, "probe")],
                                  check=False, capture_output=True, text=True)
        _STATIC[key] = ["-static"] if proc.returncode == 0 else []
    return _STATIC[key]


def _hash_file(path: str | os.PathLike) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _compiler_id(cc: str) -> str:
    proc = subprocess.run([cc, "--version"], check=False, capture_output=True, text=True)
    return proc.stdout.splitlines()[0] if proc.stdout else cc


def _flags(spec: BuildSpec) -> list:
    flags = [f"-m{spec.bits}", "-O1", "-g", "-std=gnu11", "-fno-strict-aliasing",
             "-fno-pie", "-no-pie", f"-I{INCLUDE_DIR}", f"-I{INCLUDE_DIR / 'zephyr'}"]
    flags += [f"-I{os.path.abspath(d)}" for d in spec.includes]
    flags += [f"-D{d}" for d in spec.defines]
    flags += list(spec.cflags)
    return flags


def build_helper(spec: BuildSpec) -> Path:
    """The path of the helper executable for ``spec``, compiling it when the cache has none.

    NotSupported (ENOSYS) without a usable compiler; NotFound (ENOENT) for a missing source;
    InvalidArgument (EINVAL) when compiling or linking fails (the compiler's messages, which
    name file and line, are in the error).
    """
    if not spec.sources:
        raise InvalidArgument(f"--api {spec.api}: give the C sources to test (--source FILE)")
    problem = compiler_problem(spec.bits, spec.compiler)
    if problem:
        raise NotSupported(f"cannot build C: {problem}")
    sources = []
    for s in spec.sources:
        if not os.path.isfile(s):
            raise NotFound(f"C source {s} does not exist")
        sources.append(os.path.abspath(s))
    for d in spec.includes:
        if not os.path.isdir(d):
            raise NotFound(f"include directory {d} does not exist")
    ours = [RUNTIME_DIR / "fs_runtime.c", RUNTIME_DIR / _DRIVERS[spec.api]]
    shims = [RUNTIME_DIR / s for s in _SHIMS]
    flags = _flags(spec)
    links = [*_static_flags(spec.compiler, spec.bits),
             *(f"-Wl,--defsym={n}={v:#x}" for n, v in spec.symbols)]
    h = hashlib.sha256()
    for part in [_compiler_id(spec.compiler), spec.compiler, *flags, *links]:
        h.update(part.encode() + b"\0")
    for path in [*ours, *shims, *sources]:
        h.update(str(path).encode() + b"\0" + _hash_file(path).encode())
    entry = cache_dir() / h.hexdigest()[:32]
    exe = entry / "helper"
    if exe.exists() and _deps_unchanged(entry):
        return exe
    entry.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=entry) as tmp:
        objs = []
        for src in shims:  # an archive: a symbol the user's code defines wins
            obj = os.path.join(tmp, src.stem + ".o")
            _run([spec.compiler, *flags, "-MD", "-c", str(src), "-o", obj], f"compiling {src.name}")
            objs.append(obj)
        lib = os.path.join(tmp, "libfsshim.a")
        _run(["ar", "rcs", lib, *objs], "archiving the shims")
        main_objs = []
        for i, src in enumerate([*ours, *sources]):
            obj = os.path.join(tmp, f"{i:03d}_{Path(src).stem}.o")
            _run([spec.compiler, *flags, "-MD", "-c", str(src), "-o", obj], f"compiling {src}")
            main_objs.append(obj)
        out = os.path.join(tmp, "helper")
        _run([spec.compiler, *flags, *main_objs, lib, *links, "-o", out],
             f"linking the C helper for --api {spec.api}")
        deps = _collect_deps(tmp)
        with open(entry / "deps.json", "w") as f:
            json.dump(deps, f)
        os.replace(out, exe)
    return exe


def _collect_deps(tmp: str) -> dict:
    deps: dict = {}
    for name in os.listdir(tmp):
        if name.endswith(".d"):
            with open(os.path.join(tmp, name)) as f:
                text = f.read().replace("\\\n", " ")
            for line in text.splitlines():
                _, _, rest = line.partition(":")
                for p in rest.split():
                    if p not in deps and os.path.isfile(p):
                        deps[p] = _hash_file(p)
    return deps


def _deps_unchanged(entry: Path) -> bool:
    try:
        with open(entry / "deps.json") as f:
            deps = json.load(f)
        return all(os.path.isfile(p) and _hash_file(p) == h for p, h in deps.items())
    except (OSError, ValueError):
        return False
