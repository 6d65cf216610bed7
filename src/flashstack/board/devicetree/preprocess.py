"""C preprocessing of raw devicetree sources (docs/flash-map.md FM-26, FM-27).

The system ``cpp`` runs as ``cpp -x assembler-with-cpp -nostdinc -undef -D__DTS__ -I<dir>…``
(the assembler-with-cpp mode leaves ``#address-cells`` lines alone); without it the
pure-Python ``pcpp`` (extra ``dts``) is used with the same include directories. Both predefine
``DT_SIZE_K``/``DT_SIZE_M`` exactly as Zephyr's ``dts/common/mem.h`` does, and keep line
markers (``# <n> "<file>"``) so that parse errors name the original file and line.
The caller lists the include directories; none are added.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import subprocess

from ...errors import InvalidArgument, NotSupported
from ...inputs import read_text

# Zephyr dts/common/mem.h definitions; an identical redefinition by mem.h is legal C.
PREDEFINED = {
    "__DTS__": "1",
    "DT_SIZE_K(x)": "((x) * 1024)",
    "DT_SIZE_M(x)": "(DT_SIZE_K(x) * 1024)",
}

CPP_TIMEOUT = 60  # seconds

_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*(include|define|if|ifdef|ifndef)\b", re.M)


def needs_preprocessing(text: str) -> bool:
    """FM-26: True when a line starts (after blanks) with ``#include``, ``#define`` or ``#if``."""
    return _DIRECTIVE.search(text) is not None


def preprocess(path: str, include_dirs=(), *, tool: str | None = None) -> str:
    """Preprocess the DTS file ``path`` and return the text with line markers.

    ``tool`` forces ``"cpp"`` or ``"pcpp"``; by default ``cpp`` when on PATH, else ``pcpp``.
    Errors: InvalidArgument (EINVAL) with the preprocessor's ``file:line`` message;
    NotSupported (ENOSYS) when neither tool is available.
    """
    path = os.fspath(path)
    dirs = [os.fspath(d) for d in include_dirs]
    check_includes(path, dirs)
    if tool in (None, "cpp") and shutil.which("cpp"):
        return _run_cpp(path, dirs)
    if tool == "cpp":
        raise NotSupported(f"{path}: the C preprocessor 'cpp' is not on PATH")
    return _run_pcpp(path, dirs)


_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"]+)[>"]', re.M)


def check_includes(path: str, dirs: list[str]) -> None:
    """DT-3: every ``#include`` reachable from ``path`` (found as cpp finds it: quoted names
    beside the including file first, then ``dirs``) must be a regular file; a device, FIFO or
    directory is refused before the preprocessor runs (it would read forever or block).
    InvalidArgument (EINVAL) names the including file and line."""
    todo, seen = [os.path.abspath(path)], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            with open(current, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            continue  # the preprocessor reports unreadable files itself
        for m in _INCLUDE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            here = [os.path.dirname(current)] if m.group(1) == '"' else []
            for d in here + dirs:
                cand = os.path.join(d, m.group(2))
                if not os.path.lexists(cand):
                    continue
                if not stat.S_ISREG(os.stat(cand).st_mode):
                    raise InvalidArgument(f"{current}:{line}: #include {m.group(2)!r} is not a "
                                          "regular file (device, FIFO or directory); refused")
                todo.append(os.path.abspath(cand))
                break


def _run_cpp(path: str, dirs: list[str]) -> str:
    cmd = ["cpp", "-x", "assembler-with-cpp", "-nostdinc", "-undef"]
    cmd += [f"-D{k}={v}" for k, v in PREDEFINED.items()]
    for d in dirs:
        cmd += ["-I", d]
    cmd.append(path)
    try:  # a '#include "/dev/zero"' or a FIFO would otherwise run forever (DT-3)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=CPP_TIMEOUT,
                              check=False)
    except subprocess.TimeoutExpired:
        raise InvalidArgument(f"{path}: the C preprocessor did not finish in {CPP_TIMEOUT} s "
                              "(an #include of a device or FIFO?)") from None
    except UnicodeDecodeError as e:
        raise InvalidArgument(f"{path}: preprocessed text is not UTF-8: {e.reason}") from None
    if proc.returncode != 0:
        msg = proc.stderr.strip().splitlines()
        errors = [m for m in msg if "error" in m] or msg
        raise InvalidArgument(f"{path}: preprocessing failed: " + "; ".join(errors[:3]))
    return proc.stdout


def _run_pcpp(path: str, dirs: list[str]) -> str:
    try:
        from pcpp import Preprocessor
    except ImportError:
        raise NotSupported(f"{path}: neither the C preprocessor 'cpp' nor the Python package "
                           "'pcpp' is available (install flashstack[dts])") from None

    errors: list[str] = []

    class _DtsPreprocessor(Preprocessor):
        def on_error(self, file, line, msg):
            errors.append(f"{file}:{line}: {msg}")
            self.return_code += 1

        def on_comment(self, tok):  # comments are whitespace to the devicetree parser
            return False

    pp = _DtsPreprocessor()
    pp.line_directive = "#line"
    for d in dirs:
        pp.add_path(d)
    for k, v in PREDEFINED.items():
        pp.define(f"{k} {v}")
    text = read_text(path, what="devicetree")
    pp.parse(text, source=path)
    out = io.StringIO()
    pp.write(out)
    if errors or pp.return_code:
        raise InvalidArgument(f"{path}: preprocessing failed: " + "; ".join(errors[:3]))
    return out.getvalue()
