"""AliOS-Things ``hal_partitions[]`` C tables (IM-6).

Format source: AliOS-Things ``include/aos/hal/flash.h`` (``hal_logic_partition_t``:
``partition_owner``, ``partition_description``, ``partition_start_addr``,
``partition_length``, ``partition_options``) and the boards' ``board.c`` /
``partition_conf.c`` files, which define ``const hal_logic_partition_t hal_partitions[] =
{ [HAL_PARTITION_X] = { .partition_owner = …, … }, … };`` (designated or positional).

The file goes through the C preprocessor first (``-I`` directories as for a raw devicetree;
``#include`` files that are not found are skipped with a warning, the AliOS names the table
uses are known here), then a narrow parser reads only that initializer: designators,
string literals and integer expressions (``+ - * / % << >> | & ~`` and parentheses).
``start_addr`` is absolute; the device base is the lowest start rounded down to 16 MiB.
"""

from __future__ import annotations

import ast
import os
import re
import tempfile
import warnings
from dataclasses import dataclass

from ...errors import InvalidArgument
from ..devicetree.preprocess import preprocess
from ..model import Board
from ._common import Row, board_from_rows

#: hal_flash_t owners and the device each becomes.
OWNERS = {"HAL_FLASH_EMBEDDED": ("EMBEDDED", "flash0"), "HAL_FLASH_SPI": ("SPI", "spi0"),
          "HAL_FLASH_QSPI": ("QSPI", "qspi0")}
#: partition_options bits of include/aos/hal/flash.h.
OPTIONS = {"PAR_OPT_READ_EN": 1, "PAR_OPT_READ_DIS": 0, "PAR_OPT_WRITE_EN": 2,
           "PAR_OPT_WRITE_DIS": 0, "PAR_OPT_READ_MASK": 1, "PAR_OPT_WRITE_MASK": 2,
           "PAR_OPT_READ_POS": 0, "PAR_OPT_WRITE_POS": 1}
FIELDS = ("partition_owner", "partition_description", "partition_start_addr",
          "partition_length", "partition_options")

_MARKER = re.compile(r'^#\s*(?:line\s+)?(\d+)\s+"([^"]*)"')
_TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|([A-Za-z_]\w*)|(0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*)'
                    r'|(<<|>>|[\[\]{}(),.=+\-*/%|&~;]))')


@dataclass
class _Tok:
    text: str
    kind: str  # "str", "name", "num", "op"
    file: str
    line: int


def _tokens(text: str, origin: str) -> list[_Tok]:
    """Tokens of preprocessed text with their original ``file`` and ``line`` (from markers)."""
    out: list[_Tok] = []
    file, line = origin, 0
    for raw in text.splitlines():
        line += 1
        m = _MARKER.match(raw)
        if m:
            file, line = m.group(2), int(m.group(1)) - 1
            continue
        if raw.lstrip().startswith("#"):
            continue
        pos = 0
        while pos < len(raw):
            t = _TOKEN.match(raw, pos)
            if t is None:
                if raw[pos:].strip() == "":
                    break
                pos += 1  # a character the table does not use (types, qualifiers); skip
                continue
            pos = t.end()
            idx = next(i for i in range(4) if t.group(i + 1))
            out.append(_Tok(t.group(idx + 1), ("str", "name", "num", "op")[idx], file, line))
    return out


def _strip_missing_includes(path: str, dirs: list[str]) -> tuple[str, list[str]]:
    """The file text with ``#include`` lines that no directory holds blanked (same lines)."""
    inc = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')
    lines, missing = [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f.read().splitlines():
            m = inc.match(raw)
            if m and not any(os.path.isfile(os.path.join(d, m.group(1)))
                             for d in [os.path.dirname(os.path.abspath(path)), *dirs]):
                missing.append(m.group(1))
                raw = ""
            lines.append(raw)
    return "\n".join(lines) + "\n", missing


def load_hal_partitions(path, include_dirs=()) -> Board:
    """A board from the ``hal_partitions[]`` table of a C file. Errors: InvalidArgument
    (EINVAL) naming ``file:line`` for a missing table, an unknown field or owner, a value
    that is not an integer expression, a missing start or length."""
    path = os.fspath(path)
    dirs = [os.fspath(d) for d in include_dirs]
    text, missing = _strip_missing_includes(path, dirs)
    if missing:
        warnings.warn(f"{path}: #include not found, skipped: {', '.join(missing)}", UserWarning,
                      stacklevel=2)
    with tempfile.TemporaryDirectory(prefix="flashstack-alios-") as tmp:
        copy = os.path.join(tmp, os.path.basename(path))
        with open(copy, "w", encoding="utf-8") as f:
            f.write(text)
        out = preprocess(copy, [os.path.dirname(os.path.abspath(path)), *dirs])
    toks = [_Tok(t.text, t.kind, path if t.file == copy else t.file, t.line)
            for t in _tokens(out.replace(copy, path), path)]
    entries = _parse_table(toks, path)
    return _board(path, entries)


def _parse_table(toks: list[_Tok], path: str) -> list[dict]:
    start = next((i for i, t in enumerate(toks) if t.text == "hal_partitions"), None)
    if start is None:
        raise InvalidArgument(f"{path}: no hal_partitions[] table")
    i = start + 1
    while i < len(toks) and toks[i].text != "=":
        if toks[i].text == ";":
            raise InvalidArgument(f"{path}:{toks[i].line}: hal_partitions is declared without "
                                  "an initializer (filled in code, not a table)")
        i += 1
    if i + 1 >= len(toks) or toks[i + 1].text != "{":
        raise InvalidArgument(f"{path}: hal_partitions has no {{ … }} initializer")
    p = _Parser(toks, i + 2, path)
    return p.entries()


class _Parser:
    def __init__(self, toks: list[_Tok], pos: int, path: str):
        self.toks, self.pos, self.path = toks, pos, path

    def peek(self) -> _Tok:
        if self.pos >= len(self.toks):
            last = self.toks[-1]
            raise InvalidArgument(f"{last.file}:{last.line}: hal_partitions ends early")
        return self.toks[self.pos]

    def take(self, text: str | None = None) -> _Tok:
        t = self.peek()
        if text is not None and t.text != text:
            raise InvalidArgument(f"{t.file}:{t.line}: expected {text!r}, found {t.text!r}")
        self.pos += 1
        return t

    def entries(self) -> list[dict]:
        out: list[dict] = []
        index = 0
        while self.peek().text != "}":
            first = self.peek()
            slot: int | str = index
            if first.text == "[":
                self.take("[")
                name = self.take()
                self.take("]")
                self.take("=")
                slot = name.text.removeprefix("HAL_PARTITION_") if name.kind == "name" \
                    else _int_value([name], name)
            out.append(self.entry(slot, first))
            index = (slot + 1) if isinstance(slot, int) else index + 1
            if self.peek().text == ",":
                self.take(",")
        return out

    def entry(self, slot, first: _Tok) -> dict:
        self.take("{")
        fields: dict = {"partition": slot, "line": first.line, "file": first.file}
        positional = 0
        while self.peek().text != "}":
            t = self.peek()
            if t.text == ".":
                self.take(".")
                name = self.take()
                if name.text not in FIELDS:
                    raise InvalidArgument(f"{name.file}:{name.line}: unknown field "
                                          f".{name.text} (hal_logic_partition_t has "
                                          f"{', '.join(FIELDS)})")
                self.take("=")
                field = name.text
            else:
                if positional >= len(FIELDS):
                    raise InvalidArgument(f"{t.file}:{t.line}: more than {len(FIELDS)} values")
                field = FIELDS[positional]
                positional += 1
            fields[field] = self.value(field)
            if self.peek().text == ",":
                self.take(",")
        self.take("}")
        return fields

    def value(self, field: str):
        toks = []
        depth = 0
        while True:
            t = self.peek()
            if depth == 0 and t.text in (",", "}"):
                break
            depth += {"(": 1, ")": -1}.get(t.text, 0)
            toks.append(self.take())
        if not toks:
            t = self.peek()
            raise InvalidArgument(f"{t.file}:{t.line}: {field} has no value")
        if field == "partition_description":
            if not all(x.kind == "str" for x in toks):
                return " ".join(x.text for x in toks)
            return "".join(ast.literal_eval(x.text) for x in toks)
        if field == "partition_owner" and len(toks) == 1 and toks[0].text in OWNERS:
            return toks[0].text
        return _int_value(toks, toks[0])


def _int_value(toks: list[_Tok], at: _Tok) -> int:
    """Evaluate an integer expression (names from :data:`OPTIONS` and :data:`OWNERS`)."""
    names = {**OPTIONS, **{k: i for i, k in enumerate(OWNERS)}}
    parts = []
    for t in toks:
        if t.kind == "num":
            parts.append(str(int(t.text.rstrip("uUlL"), 0)))
        elif t.kind == "name":
            if t.text not in names:
                raise InvalidArgument(f"{t.file}:{t.line}: unknown name {t.text!r} in a value "
                                      "(give its header with -I)")
            parts.append(str(names[t.text]))
        elif t.kind == "op" and t.text in "()+-*/%|&~<<>>":
            parts.append("//" if t.text == "/" else t.text)
        else:
            raise InvalidArgument(f"{t.file}:{t.line}: {t.text!r} in an integer value")
    try:
        tree = ast.parse(" ".join(parts), mode="eval")
        return _eval(tree.body)
    except (SyntaxError, ValueError, ZeroDivisionError):
        raise InvalidArgument(f"{at.file}:{at.line}: not an integer expression: "
                              f"{' '.join(t.text for t in toks)!r}") from None


def _eval(node: ast.AST) -> int:
    ops = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
           ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b,
           ast.BitOr: lambda a, b: a | b, ast.BitAnd: lambda a, b: a & b,
           ast.LShift: lambda a, b: a << b if 0 <= b <= 64 else _bad(),
           ast.RShift: lambda a, b: a >> b if 0 <= b <= 64 else _bad()}
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in ops:
        return ops[type(node.op)](_eval(node.left), _eval(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Invert, ast.UAdd)):
        v = _eval(node.operand)
        return -v if isinstance(node.op, ast.USub) else ~v if isinstance(node.op, ast.Invert) else v
    raise ValueError("unsupported expression")


def _bad() -> int:
    raise ValueError("shift count outside 0..64")


def _board(path: str, entries: list[dict]) -> Board:
    rows, table, owners = [], [], {}
    for e in entries:
        where = f"{e['file']}:{e['line']}"
        for key in ("partition_start_addr", "partition_length"):
            if key not in e:
                raise InvalidArgument(f"{where}: partition {e['partition']}: missing .{key}")
        owner_v = e.get("partition_owner", "HAL_FLASH_EMBEDDED")
        owner = owner_v if isinstance(owner_v, str) else next(
            (k for i, k in enumerate(OWNERS) if i == owner_v), None)
        if owner is None or owner not in OWNERS:
            raise InvalidArgument(f"{where}: unknown partition_owner {owner_v!r}")
        if e["partition_length"] <= 0 or e["partition_start_addr"] < 0:
            raise InvalidArgument(f"{where}: partition {e['partition']}: start/length out of range")
        short, device = OWNERS[owner]
        owners[short] = device
        options = e.get("partition_options", OPTIONS["PAR_OPT_READ_EN"] | OPTIONS["PAR_OPT_WRITE_EN"])
        name = e["partition"] if isinstance(e["partition"], str) else f"PARTITION_{e['partition']}"
        table.append({"partition": e["partition"], "owner": short,
                      "description": e.get("partition_description", ""),
                      "start": e["partition_start_addr"], "length": e["partition_length"],
                      "options": options, "line": e["line"]})
        rows.append((name, device, e, options))
    bases = {dev: min(e["partition_start_addr"] for _, d, e, _ in rows if d == dev) & ~0xFFFFFF
             for _, dev, _, _ in rows}
    out = [Row(name.lower(), e["partition_start_addr"] - bases[dev], e["partition_length"], dev,
               e["line"], read_only=not options & OPTIONS["PAR_OPT_WRITE_EN"],
               label=e.get("partition_description") or None, address=e["partition_start_addr"])
           for name, dev, e, options in rows]
    stem = os.path.basename(path).rsplit(".", 1)[0]
    extra = {"hal": {"generation": "v3", "owners": owners,
                     "table": [{k: v for k, v in t.items() if k != "line"} for t in table]}}
    return board_from_rows(stem, path, out, page=4 * 1024, wbs=1,
                           layout_source="AliOS hal_partitions gives no erase layout; 4 KiB "
                           "pages assumed (give --layout)", base=bases, extra=extra,
                           description="imported from AliOS-Things hal_partitions[]")
