"""``flashstack zms``: Zephyr ZMS (and Settings on it) in a partition of an image.

The same commands as ``flashstack nvs`` (one implementation, :mod:`flashstack.cli.nvs`) with
the ZMS store kind: ids are 32-bit (64-bit with ``--id-64bit``), decimal or 0x hex; with
``--settings`` a KEY is a setting name hashed as Zephyr's settings_zms.c does. Reading
commands never write the image. Geometry defaults: the sector size is the erase page at the
partition start, the sector count fills the partition.
"""

from __future__ import annotations

import copy

import click

from . import nvs as _nvs
from .common import console

OPTIONS_KEY = "flashstack.cli.store_options"


class ZMSKind(_nvs.StoreKind):
    """The ZMS store behind the shared id/value commands."""

    name = "zms"
    title = "Zephyr ZMS"
    id_width = 10

    @staticmethod
    def _wide() -> bool:
        return bool(click.get_current_context().meta.get(OPTIONS_KEY, {}).get("id_64bit"))

    @property
    def id_max(self) -> int:  # type: ignore[override]
        return (1 << 64) - 2 if self._wide() else 0xFFFFFFFE

    def settings_geometry(self, area):
        from ..zms.settings import settings_geometry
        return settings_geometry(area)

    def open_copy(self, area, s, n, data_crc):
        from ..zms.scan import mount_copy
        return mount_copy(area, s, n, data_crc, self._wide())

    def looks_like(self, area, s) -> bool:
        from ..zms.scan import detect_zms
        found = detect_zms(area)
        return found is not None and (s is None or found.sector_size == s)

    def open_store(self, area, s, n, data_crc):
        from ..zms import ZMSStore
        st = ZMSStore(area, s, n, data_crc, self._wide())
        st.mount()
        return st

    def settings(self, store):
        from ..zms.settings import ZMSSettings
        return ZMSSettings(store)

    def scan(self, area, s, n, data_crc):
        from ..zms.scan import scan
        return scan(area, s, n, data_crc, self._wide())

    def render_dump(self, r: dict) -> None:
        render_dump(r)


ZMS_KIND = ZMSKind()


@click.group(help=_nvs.group_help("zms", "Zephyr ZMS", "a ZMS id"))
def zms():
    pass


def _zms_command(cmd: click.Command) -> click.Command:
    """``cmd`` of the nvs family, run with the ZMS kind and an ``--id-64bit`` option."""
    out = copy.copy(cmd)
    out.epilog = (cmd.epilog or "").replace("flashstack nvs ", "flashstack zms ")
    out.params = [*cmd.params, click.Option(["--id-64bit/--no-id-64bit"], default=None,
                                            help="64-bit ids (CONFIG_ZMS_ID_64BIT) [build record, "
                                                 "else the sector headers, else no].")]
    inner = cmd.callback
    assert inner is not None

    def callback(*args, id_64bit: bool | None = None, **kwargs):
        meta = click.get_current_context().meta
        meta[_nvs.KIND_KEY] = ZMS_KIND
        meta[OPTIONS_KEY] = {"id_64bit": id_64bit}
        return inner(*args, **kwargs)

    out.callback = callback
    return out


for _name, _cmd in _nvs.nvs.commands.items():
    zms.add_command(_zms_command(_cmd), _name)


def render_dump(r: dict) -> None:
    """Human form of a ZMS ``dump`` (``flashstack.zms.scan.ZMSScan.to_json()``)."""
    from rich.table import Table
    g = r["geometry"]
    colour = {"healthy": "green", "empty": "green", "recoverable": "yellow"}.get(r["verdict"], "red")
    console.print(f"partition {r['partition']}: Zephyr ZMS, {g['sector_count']} x "
                  f"{g['sector_size']} B sectors, write block {g['write_block_size']}, "
                  f"{'explicit erase' if g['explicit_erase'] else 'erase-less'}"
                  f"{', data CRC' if g['data_crc'] else ''}{', 64-bit ids' if g['id_64bit'] else ''}",
                  soft_wrap=True, markup=False)
    console.print(f"verdict: [{colour}]{r['verdict']}[/]", soft_wrap=True)
    if r["mount_error"]:
        console.print(f"mount error: {r['mount_error']}", soft_wrap=True, markup=False)
    if r["ate_wra"] is not None:
        console.print(f"write sector {r['write_sector']} (cycle {r['sector_cycle']}), ate_wra "
                      f"{r['ate_wra']:#x}, data_wra {r['data_wra']:#x}, free {r['free_space']} B, "
                      f"{len(r['items'])} live ids", soft_wrap=True)
    sectors = Table(title="sectors")
    for col in ("#", "offset", "state", "cycle", "close ATE", "gc_done", "valid", "deleted",
                "superseded", "corrupt", "live bytes"):
        sectors.add_column(col)
    for s in r["sectors"]:
        c = s["counts"]
        sectors.add_row(str(s["index"]), f"{s['offset']:#x}",
                        "erased" if s["erased"] else s["state"],
                        "-" if s["cycle"] is None else str(s["cycle"]), s["close_ate"] or "-",
                        "yes" if s["gc_done"] else "-", *(str(c.get(k, 0)) for k in
                        ("valid", "deleted", "superseded", "corrupt")), str(s["data_bytes"]))
    console.print(sectors)
    ates = Table(title="ATEs in walk order (newest first)")
    for col in ("address", "kind", "id", "len", "offset", "cycle", "CRC", "state"):
        ates.add_column(col)
    for a in r["ates"]:
        crc = "ok" if a["crc_ok"] else "bad"
        if a["data_crc_ok"] is False:
            crc += " / data bad"
        ates.add_row(f"{a['address']:#x}", a["kind"], f"{a['id']:#x}", str(a["len"]),
                     f"{a['offset']:#x}", str(a["cycle"]), crc, a["state"])
    console.print(ates)
    for note in r["mount_notes"] + r["notes"]:
        console.print(f"note: {note}", soft_wrap=True, markup=False)
    for op in r["mount_operations"]:
        console.print(f"mount would: {op}", soft_wrap=True, markup=False)
    if r.get("settings"):
        console.print("settings: " + ", ".join(sorted(r["settings"])), soft_wrap=True,
                      markup=False)
