"""DTS input through Zephyr's ``devicetree.dtlib`` (extra ``dts``), into a :class:`DtTree`.

dtlib accepts everything FM-28 asks for (``/include/``, labels, ``&label { … }`` overrides,
``/delete-node/``, ``/delete-property/``, ``/omit-if-no-ref/``, phandle and path
references, cell arithmetic) and reports ``file:line`` positions, following the line markers
the preprocessor leaves (FM-27). Phandle-typed properties are recognised from the syntax
(dtlib's PHANDLE, PHANDLES and PHANDLES_AND_NUMS types, FM-19).
"""

from __future__ import annotations

import os
import stat
import tempfile

from ...errors import InvalidArgument, NotSupported
from ...inputs import read_text
from .dtree import DtNode, DtProp, DtTree
from .preprocess import needs_preprocessing, preprocess


def _dtlib():
    try:
        from devicetree import dtlib
    except ImportError:
        raise NotSupported("reading DTS needs the 'devicetree' package: install flashstack[dts]") from None
    return dtlib


def read_dts(path, include_dirs=(), *, preprocess_tool: str | None = None) -> DtTree:
    """Parse the DTS file ``path`` (preprocessed first when FM-26 says so).

    Errors: InvalidArgument (EINVAL) with ``file:line`` for malformed input or a failing
    preprocessor or text that is not UTF-8 (naming the byte offset); NotSupported (ENOSYS) when
    the needed extra/tool is missing; NotFound (ENOENT) for a missing file.
    """
    path = os.fspath(path)
    text = read_text(path, what="devicetree")  # strict UTF-8: a bad byte names its offset
    if not (include_dirs or needs_preprocessing(text)):
        return DtTree(_convert(_parse_file(path, path, include_dirs)), source=path, kind="dts")
    text = preprocess(path, include_dirs, tool=preprocess_tool)
    return parse_dts_text(text, source=path, base_dir=os.path.dirname(os.path.abspath(path)),
                          include_dirs=include_dirs)


def parse_dts_text(text: str, source: str = "<string>", base_dir: str | None = None,
                   include_dirs=()) -> DtTree:
    """Parse DTS ``text`` (already preprocessed). ``/include/`` looks in ``base_dir`` and
    ``include_dirs``. Errors as :func:`read_dts`."""
    with tempfile.TemporaryDirectory(prefix="flashstack-dts-") as tmp:
        # dtlib reads a file; name it after the source so errors before any line marker
        # still name the user's file.
        name = os.path.join(tmp, os.path.basename(source) or "input.dts")
        with open(name, "w", encoding="utf-8") as f:
            f.write(text)
        inc = [d for d in [base_dir, *map(os.fspath, include_dirs)] if d]
        dt = _parse_file(name, source, inc)
    return DtTree(_convert(dt), source=source, kind="dts")


#: Deepest node nesting accepted (DT-1); real Zephyr trees stay under 12 levels.
MAX_DEPTH = 64
#: Most nested ``/include/`` files (DT-3).
MAX_INCLUDE_DEPTH = 32
#: Largest shift count in cell arithmetic (DT-2): values are at most 64-bit cells.
MAX_SHIFT = 64


def _parse_file(name: str, source: str, include_dirs):
    dtlib = _dtlib()
    with open(name, encoding="utf-8", errors="replace") as f:
        _check_depth(f.read(), source)
    try:
        return _safe_dt_class(dtlib)(name, include_path=[os.fspath(d) for d in include_dirs])
    except dtlib.DTError as e:
        raise InvalidArgument(str(e).replace(name, source)) from None
    except _Refused as e:
        raise InvalidArgument(str(e).replace(name, source)) from None


class _Refused(Exception):
    """Raised inside the parser; carries ``file:line: message``."""


def _check_depth(text: str, source: str) -> None:
    """DT-1: refuse braces nested deeper than :data:`MAX_DEPTH` (dtlib parses nodes
    recursively), naming the line; strings and comments are skipped."""
    depth, line, i, n = 0, 1, 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            line += text.count("\n", i, j)
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 1
            line += text.count("\n", i, j)
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = (n if j < 0 else j) - 1
        elif c == "{":
            depth += 1
            if depth > MAX_DEPTH:
                raise InvalidArgument(f"{source}:{line}: nodes nested deeper than {MAX_DEPTH} "
                                      "levels (flashstack's limit)")
        elif c == "}":
            depth -= 1
        i += 1


_SAFE: dict = {}


def _safe_dt_class(dtlib):
    """dtlib.DT with the hardening of DT-1..DT-4: bounded shifts, only regular files for
    ``/include/`` and ``/incbin/``, no self-inclusion, bounded include depth, and Python
    errors from absurd input turned into ``file:line`` messages."""
    if "cls" in _SAFE:
        return _SAFE["cls"]

    class SafeDT(dtlib.DT):  # type: ignore[name-defined]  # dtlib is imported lazily
        def __init__(self, filename, include_path=()):
            self.filename = filename
            self._lineno = 1
            try:
                super().__init__(filename, include_path)
            except (ValueError, OverflowError, MemoryError, RecursionError) as e:
                what = "nesting too deep" if isinstance(e, RecursionError) else \
                    f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
                raise _Refused(f"{self.filename}:{self._lineno}: invalid value ({what})") from None

        def _eval_shift(self):
            val = self._eval_add()
            while True:
                if self._check_token("<<"):
                    val <<= self._shift_count()
                elif self._check_token(">>"):
                    val >>= self._shift_count()
                else:
                    return val

        def _shift_count(self):
            count = self._eval_add()
            if not 0 <= count <= MAX_SHIFT:
                self._parse_error(f"shift count {count} outside 0..{MAX_SHIFT}")
            return count

        def _open(self, filename, mode="r", **kwargs):
            if filename == "-":
                self._parse_error("reading standard input ('-') is not allowed")
            path = self._find(filename)
            if path is not None:
                self._check_regular(filename, path)
            return super()._open(filename, mode, **kwargs)

        def _enter_file(self, filename):
            path = self._find(filename)
            if path is not None:
                here = [self.filename] + [e[0] for e in self._filestack]
                if any(os.path.realpath(path) == os.path.realpath(h) for h in here):
                    self._parse_error(f"'{filename}' includes itself (recursive /include/)")
            if len(self._filestack) >= MAX_INCLUDE_DEPTH:
                self._parse_error(f"/include/ nested deeper than {MAX_INCLUDE_DEPTH} files")
            super()._enter_file(filename)

        def _find(self, filename):
            for d in [os.path.dirname(self.filename), *self._include_path]:
                p = os.path.join(d, filename)
                if os.path.lexists(p):
                    return p
            return None

        def _check_regular(self, filename, path):
            try:
                st = os.stat(path)  # never open: opening a FIFO blocks
            except OSError as e:
                self._parse_error(f"could not read '{filename}': {e.strerror}")
            if not stat.S_ISREG(st.st_mode):
                self._parse_error(f"'{filename}' is not a regular file (device, FIFO or "
                                  "directory); refused")

    _SAFE["cls"] = SafeDT
    return SafeDT


def _convert(dt) -> DtNode:
    dtlib = _dtlib()
    ref_types = (dtlib.Type.PHANDLE, dtlib.Type.PHANDLES, dtlib.Type.PHANDLES_AND_NUMS)
    mapping: dict = {}

    def node(dn, parent):
        n = DtNode(dn.name, parent, labels=list(dn.labels))
        mapping[id(dn)] = n
        for name, dp in dn.props.items():
            n.props[name] = DtProp(name, bytes(dp.value))
        for child in dn.nodes.values():
            n.children[child.name] = node(child, n)
        return n

    root = node(dt.root, None)
    # Second pass: references, once every node exists.
    for dn in dt.node_iter():
        n = mapping[id(dn)]
        for name, dp in dn.props.items():
            p = n.props[name]
            t = dp.type
            if t in ref_types:
                p.refs = tuple(mapping[id(target)] for target in _phandle_targets(dt, dp, dtlib))
            elif t == dtlib.Type.PATH:
                p.path_ref = mapping[id(dp.to_path())]
    return root


def _phandle_targets(dt, dp, dtlib) -> list:
    """Nodes named by the phandle cells of a PHANDLE / PHANDLES / PHANDLES_AND_NUMS property,
    in cell order. dtlib records where each ``&label`` cell sits in its (private) markers;
    without them, fall back to the public accessors of the two plain types."""
    markers = getattr(dp, "_markers", None)
    if markers is None:
        if dp.type == dtlib.Type.PHANDLE:
            return [dp.to_node()]
        return dp.to_nodes() if dp.type == dtlib.Type.PHANDLES else []
    out = []
    for pos, mtype, _ref in markers:
        if int(mtype) == 1:  # _MarkerType.PHANDLE
            target = dt.phandle2node.get(int.from_bytes(dp.value[pos:pos + 4], "big"))
            if target is not None:
                out.append(target)
    return out
