"""A Zephyr build folder as a board plus a typed build configuration (docs/board-layouts.md ZB-1..ZB-5).

Layout read (Zephyr's CMake output; sysbuild adds a top folder with ``domains.yaml``)::

    build/zephyr/zephyr.dts                                   the final devicetree (ZB-1)
    build/zephyr/.config                                      Kconfig values (ZB-2)
    build/zephyr/include/generated/zephyr/devicetree_generated.h  ``..._PARTITION_ID`` (ZB-3)
    build/domains.yaml                                        sysbuild domains (ZB-4)

:func:`load_build_dir` returns a :class:`ZephyrBuild`: ``board`` (IDs from the generated
header when present; ``id_differences`` lists where the computed rule disagreed),
``config`` (:class:`BuildConfig`: which stores and how they are set up, every value with the
``.config`` line it came from) and ``domains`` for sysbuild.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..errors import InvalidArgument, NotFound, NotSupported
from .model import Board

_LINE = re.compile(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
_UNSET = re.compile(r"^# (CONFIG_[A-Za-z0-9_]+) is not set$")
_PART_ID = re.compile(r"^#define (DT_N(?:_S_\w+?)?)_PARTITION_ID (\d+)\s*$")

#: app-side MCUboot modes (zephyr modules/Kconfig.mcuboot, CONFIG_MCUBOOT_BOOTLOADER_MODE_*)
#: and MCUboot's own (boot/zephyr/Kconfig, CONFIG_BOOT_*), as one name each.
MCUBOOT_MODES = {
    "SWAP_USING_MOVE": "swap-move", "SWAP_USING_OFFSET": "swap-offset",
    "SWAP_SCRATCH": "swap-scratch", "SWAP_WITHOUT_SCRATCH": "swap-move",
    "OVERWRITE_ONLY": "overwrite-only", "UPGRADE_ONLY": "overwrite-only",
    "DIRECT_XIP": "direct-xip", "DIRECT_XIP_WITH_REVERT": "direct-xip-revert",
    "RAM_LOAD": "ram-load", "SINGLE_APP": "single-app", "FIRMWARE_UPDATER": "firmware-updater",
}
SETTINGS_BACKENDS = ("NVS", "ZMS", "ZMS_LEGACY", "FCB", "FILE", "NONE", "CUSTOM", "RETENTION", "TFM_ITS")


@dataclass(frozen=True)
class KconfigValue:
    """One ``.config`` assignment: ``value`` (bool for y/n, int, or str) and its ``line``."""

    value: bool | int | str
    line: int


@dataclass
class BuildConfig:
    """What a build's ``.config`` says about flash storage (ZB-2). ``path`` of the file;
    ``values`` every ``CONFIG_*`` (without the prefix). Typed views, None when unset:
    ``nvs``/``zms`` (the store is built in), ``nvs_data_crc``, ``settings_backend``
    (``"nvs"``, ``"zms"``, ``"fcb"``, ``"file"``, ``"none"`` …), ``settings_sector_count``
    (``SETTINGS_NVS_SECTOR_COUNT`` or ``SETTINGS_ZMS_SECTOR_COUNT``),
    ``settings_sector_size_mult``, ``mcuboot`` (the image runs under MCUboot or is MCUboot),
    ``mcuboot_mode`` (``"swap-move"``, ``"overwrite-only"`` …), ``mcuboot`` alignment
    ``mcuboot_max_align`` (bytes). :meth:`source` names the file and line of a value."""

    path: str
    values: dict[str, KconfigValue] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        """The value of ``CONFIG_<name>`` (``name`` without the prefix), else ``default``."""
        v = self.values.get(name.removeprefix("CONFIG_"))
        return default if v is None else v.value

    def source(self, name: str) -> str | None:
        """``"<path>:<line>"`` of ``CONFIG_<name>``, or None when unset."""
        v = self.values.get(name.removeprefix("CONFIG_"))
        return None if v is None else f"{self.path}:{v.line}"

    @property
    def nvs(self) -> bool:
        return self.get("NVS") is True

    @property
    def zms(self) -> bool:
        return self.get("ZMS") is True

    @property
    def nvs_data_crc(self) -> bool:
        return self.get("NVS_DATA_CRC") is True

    @property
    def settings_backend(self) -> str | None:
        if self.get("SETTINGS") is not True:
            return None
        for name in SETTINGS_BACKENDS:
            if self.get(f"SETTINGS_{name}") is True:
                return name.lower()
        return None

    @property
    def settings_sector_count(self) -> int | None:
        backend = self.settings_backend
        key = {"nvs": "SETTINGS_NVS_SECTOR_COUNT", "zms": "SETTINGS_ZMS_SECTOR_COUNT",
               "zms_legacy": "SETTINGS_ZMS_SECTOR_COUNT"}.get(backend or "")
        return self.get(key) if key else None

    @property
    def settings_sector_size_mult(self) -> int | None:
        return self.get("SETTINGS_NVS_SECTOR_SIZE_MULT")

    @property
    def mcuboot(self) -> bool:
        return self.get("BOOTLOADER_MCUBOOT") is True or self.get("MCUBOOT") is True

    @property
    def mcuboot_mode(self) -> str | None:
        for prefix in ("MCUBOOT_BOOTLOADER_MODE_", "BOOT_"):
            for name, mode in MCUBOOT_MODES.items():
                if self.get(prefix + name) is True:
                    return mode
        return None

    @property
    def mcuboot_max_align(self) -> int | None:
        return self.get("MCUBOOT_BOOT_MAX_ALIGN", self.get("BOOT_MAX_ALIGN"))

    def to_json(self) -> dict:
        """The typed views, each with the ``.config`` line it came from, for reports."""
        keys = {"nvs": "NVS", "zms": "ZMS", "nvs_data_crc": "NVS_DATA_CRC",
                "settings_sector_count": "SETTINGS_NVS_SECTOR_COUNT" if self.settings_backend == "nvs"
                else "SETTINGS_ZMS_SECTOR_COUNT",
                "settings_sector_size_mult": "SETTINGS_NVS_SECTOR_SIZE_MULT",
                "mcuboot_max_align": "MCUBOOT_BOOT_MAX_ALIGN"}
        out: dict[str, Any] = {"path": self.path}
        for attr in ("nvs", "zms", "nvs_data_crc", "settings_backend", "settings_sector_count",
                     "settings_sector_size_mult", "mcuboot", "mcuboot_mode", "mcuboot_max_align"):
            out[attr] = getattr(self, attr)
            if attr in keys:
                out[attr + "_source"] = self.source(keys[attr])
        return out


@dataclass
class Domain:
    """One sysbuild image: ``name``, its ``build_dir``, its ``code_partition`` (node label of
    ``zephyr,code-partition``, None when the devicetree has none)."""

    name: str
    build_dir: str
    code_partition: str | None = None


@dataclass
class ZephyrBuild:
    """A Zephyr build folder (see the module docstring). ``id_differences`` lists
    ``(partition, computed id, header id)`` where the generated header overrode the rule."""

    path: str
    board: Board
    config: BuildConfig | None
    generated_ids: dict[str, int] | None = None
    id_differences: list[tuple[str, int | None, int]] = field(default_factory=list)
    domains: list[Domain] = field(default_factory=list)
    default_domain: str | None = None

    def to_json(self) -> dict:
        """Build folder, config views, ID source and differences, domains."""
        return {"path": self.path,
                "config": None if self.config is None else self.config.to_json(),
                "partition_ids": "generated header" if self.generated_ids is not None
                else "computed (docs/flash-map-mapped.md MP-4)",
                "id_differences": [{"partition": p, "computed": a, "header": b}
                                   for p, a, b in self.id_differences],
                "domains": [dataclasses.asdict(d) for d in self.domains],
                "default_domain": self.default_domain}


def read_dot_config(path) -> BuildConfig:
    """Parse a Kconfig ``.config`` (ZB-2): ``CONFIG_X=y|n|<int>|"<str>"`` and ``# CONFIG_X is
    not set`` (False). Errors: InvalidArgument (EINVAL) naming ``path:line`` for a line that
    is neither; NotFound (ENOENT) for a missing file."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        raise NotFound(f"Kconfig file {path} does not exist") from None
    cfg = BuildConfig(path=path)
    for no, line in enumerate(lines, 1):
        m = _LINE.match(line)
        if m:
            cfg.values[m.group(1)[len("CONFIG_"):]] = KconfigValue(_kconfig_value(m.group(2), path, no), no)
            continue
        unset = _UNSET.match(line)
        if unset:
            cfg.values[unset.group(1)[len("CONFIG_"):]] = KconfigValue(False, no)
        elif line.strip() and not line.startswith("#"):
            raise InvalidArgument(f"{path}:{no}: not a Kconfig assignment: {line[:80]!r}")
    return cfg


def _kconfig_value(text: str, path: str, no: int) -> bool | int | str:
    if text in ("y", "n"):
        return text == "y"
    if text.startswith('"'):
        if len(text) < 2 or not text.endswith('"'):
            raise InvalidArgument(f"{path}:{no}: unterminated string {text[:80]!r}")
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    try:
        return int(text, 0)
    except ValueError:
        return text


def read_generated_ids(path) -> dict[str, int]:
    """``{node identifier: id}`` from the ``DT_N_S_…_PARTITION_ID`` macros of a generated
    ``devicetree_generated.h`` (ZB-3)."""
    out = {}
    with open(os.fspath(path), encoding="utf-8", errors="replace") as f:
        for line in f:
            m = _PART_ID.match(line)
            if m:
                out[m.group(1)] = int(m.group(2))
    return out


def node_identifier(path: str) -> str:
    """gen_defines' node identifier of a devicetree path: ``DT_N`` + ``_S_<component>`` each
    lower-cased with ``-,.@/+`` turned into ``_``."""
    if path == "/":
        return "DT_N"
    return "DT_N" + "".join("_S_" + re.sub(r"[-,.@/+]", "_", c.lower())
                            for c in path.strip("/").split("/"))


def apply_generated_ids(board: Board, ids: dict[str, int]) -> list[tuple[str, int | None, int]]:
    """Replace every partition's ID by the header's (in place on ``board``); return the
    differences ``(partition name, computed, header)``."""
    diffs = []

    def fix(parts: list) -> list:
        out = []
        for p in parts:
            got = ids.get(node_identifier(p.path)) if p.path else None
            if got is not None and got != p.id:
                diffs.append((p.name, p.id, got))
                p = dataclasses.replace(p, id=got)
            out.append(p)
        return out

    board.partitions = fix(board.partitions)
    board.disabled_partitions = fix(board.disabled_partitions)
    return diffs


def load_build_dir(path, domain: str | None = None, include_dirs: Iterable = ()) -> ZephyrBuild:
    """Read a Zephyr build folder (ZB-1..ZB-4): a plain build (``zephyr/zephyr.dts``) or a
    sysbuild top folder (``domains.yaml``; ``domain`` picks the image, default: the file's
    ``default``). Errors: NotFound (ENOENT) when the folder holds neither, or a domain is
    unknown; InvalidArgument (EINVAL) for malformed files (naming file and line)."""
    path = os.fspath(path)
    domains_file = os.path.join(path, "domains.yaml")
    if os.path.isfile(domains_file):
        domains, default = read_domains(domains_file)
        name = domain or default
        chosen = next((d for d in domains if d.name == name), None)
        if chosen is None:
            raise NotFound(f"{domains_file}: no domain {name!r} "
                           f"(domains: {', '.join(d.name for d in domains)})")
        build = _load_single(chosen.build_dir, include_dirs)
        build.path, build.domains, build.default_domain = path, domains, default
        return build
    if domain is not None:
        raise InvalidArgument(f"{path}: not a sysbuild folder (no domains.yaml); no domain {domain!r}")
    return _load_single(path, include_dirs)


def _load_single(path: str, include_dirs: Iterable) -> ZephyrBuild:
    from .loader import board_from_devicetree

    dts = os.path.join(path, "zephyr", "zephyr.dts")
    if not os.path.isfile(dts):
        raise NotFound(f"{path}: not a Zephyr build folder (no zephyr/zephyr.dts and no domains.yaml)")
    board = board_from_devicetree(dts, tuple(include_dirs),
                                  name=os.path.basename(os.path.abspath(path)) or "build")
    dot = os.path.join(path, "zephyr", ".config")
    config = read_dot_config(dot) if os.path.isfile(dot) else None
    header = os.path.join(path, "zephyr", "include", "generated", "zephyr", "devicetree_generated.h")
    ids = read_generated_ids(header) if os.path.isfile(header) else None
    diffs = apply_generated_ids(board, ids) if ids else []
    return ZephyrBuild(path=path, board=board, config=config, generated_ids=ids, id_differences=diffs)


def read_domains(path: str) -> tuple[list[Domain], str | None]:
    """Sysbuild ``domains.yaml`` (ZB-4): ``default``, ``domains: [{name, build_dir}]``. A
    ``build_dir`` that does not exist (the file was made on another machine) is looked up
    beside ``domains.yaml`` by its last component. Each domain's code partition is read from
    its ``zephyr/zephyr.dts`` when present."""
    try:
        import yaml
    except ImportError:
        raise NotSupported(f"{path}: reading domains.yaml needs PyYAML: install flashstack[yaml]") from None
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else path
        raise InvalidArgument(f"{where}: invalid YAML: {getattr(e, 'problem', e)}") from None
    if not isinstance(data, dict) or not isinstance(data.get("domains"), list):
        raise InvalidArgument(f"{path}: no 'domains' list (sysbuild domains.yaml)")
    base = os.path.dirname(os.path.abspath(path))
    out = []
    for i, d in enumerate(data["domains"]):
        if not isinstance(d, dict) or not isinstance(d.get("name"), str):
            raise InvalidArgument(f"{path}: domains entry {i + 1} has no name")
        bdir = str(d.get("build_dir") or os.path.join(base, d["name"]))
        if not os.path.isdir(bdir):
            bdir = os.path.join(base, os.path.basename(bdir.rstrip("/\\")))
        out.append(Domain(d["name"], bdir, _code_partition(bdir)))
    default = data.get("default")
    return out, default if isinstance(default, str) else (out[0].name if out else None)


def _code_partition(build_dir: str) -> str | None:
    """Node label of ``/chosen zephyr,code-partition`` in a domain's final devicetree."""
    import warnings

    from .devicetree import read_tree

    dts = os.path.join(build_dir, "zephyr", "zephyr.dts")
    if not os.path.isfile(dts):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = read_tree(dts)
    chosen = tree.chosen
    prop = chosen.props.get("zephyr,code-partition") if chosen is not None else None
    target = None if prop is None else prop.path_ref or (prop.refs[0] if prop.refs else None)
    if target is None:
        return None
    return target.labels[0] if target.labels else target.path


def board_from_build_dir(path, spec=None, include_dirs: Iterable = ()) -> Board:
    """The board of a build folder (its devicetree, header IDs), or ``spec`` when one is
    named; either way ``board.extra["zephyr_build"]`` is the :class:`ZephyrBuild` (config,
    domains) for the store registry and reports."""
    if spec is not None:
        from .loader import load_board

        board = load_board(spec, tuple(include_dirs))
        build = load_build_dir(path, include_dirs=include_dirs)
    else:
        build = load_build_dir(path, include_dirs=include_dirs)
        board = build.board
    board.extra["zephyr_build"] = build
    return board
