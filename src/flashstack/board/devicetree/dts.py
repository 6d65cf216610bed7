"""DTS input through Zephyr's ``devicetree.dtlib`` (extra ``dts``), into a :class:`DtTree`.

dtlib accepts everything FM-28 asks for (``/include/``, labels, ``&label { … }`` overrides,
``/delete-node/``, ``/delete-property/``, ``/omit-if-no-ref/``, phandle and path
references, cell arithmetic) and reports ``file:line`` positions, following the line markers
the preprocessor leaves (FM-27). Phandle-typed properties are recognised from the syntax
(dtlib's PHANDLE, PHANDLES and PHANDLES_AND_NUMS types, FM-19).
"""

from __future__ import annotations

import os
import tempfile

from ...errors import InvalidArgument, NotSupported
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
    preprocessor; NotSupported (ENOSYS) when the needed extra/tool is missing; OSError
    (ENOENT) for a missing file.
    """
    path = os.fspath(path)
    with open(path, encoding="utf-8") as f:
        text = f.read()
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


def _parse_file(name: str, source: str, include_dirs):
    dtlib = _dtlib()
    try:
        return dtlib.DT(name, include_path=[os.fspath(d) for d in include_dirs])
    except dtlib.DTError as e:
        raise InvalidArgument(str(e).replace(name, source)) from None


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
