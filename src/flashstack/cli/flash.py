"""``flashstack flash``: a programmer's low-level read / write / erase by partition name.

Offsets and lengths are partition-relative bytes. The device's NOR rules apply as on the
chip: writes aligned to the write block, erases to erase pages, and programming a byte that
is not erased fails (double write) until its page is erased.
"""

from __future__ import annotations

from contextlib import contextmanager

import click

from ..errors import FlashError, NotFound
from ..flash_map import FlashArea
from .common import board_options, console, emit, fail, hexdump, json_option, open_board, parse_int, parse_value
from .context import partition_args

DEFAULT_READ_LENGTH = 256

_FORCE_HELP = ("Allow modifying a partition that is not erased (it holds a store, an image or other "
               "data) or a read-only one (privileged access, as an image builder).")
_OFFSETS = {"offset": parse_int, "length": parse_int}


@click.group()
def flash():
    """Low-level access to an image: read, write, erase by partition.

    PARTITION is a node label (storage_partition), a label property (storage)
    or a partition id. OFFSET and LENGTH are partition-relative bytes. A device
    name (flash0) instead means the whole device (raw access, device offsets;
    write and erase then need --force).

    Exit status: 0 ok, 1 error, 2 usage error.

    \b
    Examples:
      flashstack flash read  --image img/ -p storage_partition 0 64
      flashstack flash write --image img/ -p storage_partition 0x10 --hex "01 02 03 04"
      flashstack flash erase --image img/ -p storage_partition 0 4K
    """


def _target(ob, name: str):
    """The partition ``name``; or, when ``name`` is a device and no partition, the whole
    device as a read-only area (raw access: modifying it takes --force)."""
    try:
        return ob.area(name)
    except NotFound:
        dev = ob.devices.get(name)
        if dev is None:
            raise
        return FlashArea(None, 0, dev.size, dev, label=name, read_only=True,
                         address=ob.board.device(name).base_address)


def _is_device(area) -> bool:
    return area.id is None and area.name == area.device.name and area.size == area.device.size


def _where(area, off: int) -> str:
    """``partition P (id N) offset O = dev D`` plus the absolute address when memory-mapped
    elsewhere than the device offset (external QSPI, STM32 flash at 0x08000000)."""
    if _is_device(area):
        text = f"device {area.name} offset {off:#x}"
    else:
        ident = "" if area.id is None else f" (id {area.id})"
        text = f"partition {area.name}{ident} offset {off:#x} = {area.device.name} {area.offset + off:#x}"
    if area.address is not None and area.address != area.offset:
        text += f" (address {area.address + off:#x})"
    return text


def _place(area, off: int) -> dict:
    """JSON fields naming where partition offset ``off`` is."""
    return {"partition": None if _is_device(area) else area.name, "id": area.id,
            "device": area.device.name, "offset": off,
            "device_offset": area.offset + off,
            "address": None if area.address is None else area.address + off}


@contextmanager
def _naming(area, what: str, off: int):
    """Prefix device errors (which name device offsets) with the partition and its offset."""
    try:
        yield
    except FlashError as exc:
        if area.name in str(exc):
            raise
        fail(f"{what} {area.name} at {off:#x}: {exc}")


def _writable(area, force: bool):
    """The area to modify: refused for read-only partitions, and for partitions that are not
    erased (a store, an MCUboot image, unknown data), unless ``--force``."""
    if not force and not _is_device(area):
        from .context import detections, guard_writer, view_of
        view = view_of(area)
        guard_writer(None, view, detections(view), None, False, "flash")
    if area.read_only:
        if not force:
            if _is_device(area):
                fail(f"{area.name} is a whole device (raw access across partitions); "
                     f"pass --force to modify it")
            fail(f"partition {area.name} is read-only; pass --force to modify it anyway")
        return area.privileged()
    return area


@flash.command("read", short_help="Hexdump bytes of a partition.")
@board_options(image_required=True)
@partition_args("offset", "length", optional=1, types=_OFFSETS)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Also write the raw bytes to this file.")
@json_option
def read(board, include_dir, image, partition, offset, length, output, as_json):
    """Read LENGTH bytes (default 256, capped at the partition end) at OFFSET.

    Prints a hexdump with partition-relative offsets.

    \b
    Examples:
      flashstack flash read --image img/ -p storage_partition 0 64
      flashstack flash read --image img/ -p boot_partition 0 0x10000 -o boot.bin
    """
    with open_board(click.get_current_context(), readonly=True) as ob:
        area = _target(ob, partition)
        if length is None:
            length = max(0, min(DEFAULT_READ_LENGTH, area.size - offset))
        with _naming(area, "read", offset):
            data = area.read(offset, length)
        header = f"{_where(area, offset)}, {len(data)} bytes"
        result = dict(_place(area, offset), length=len(data), hex=data.hex())
    if output:
        with open(output, "wb") as f:
            f.write(data)

    def render(_):
        console.print(header, soft_wrap=True, markup=False)
        if data:
            click.echo(hexdump(data, offset))
    emit(result, as_json, render)


@flash.command("write", short_help="Program bytes into a partition (NOR rules).")
@board_options(image_required=True)
@partition_args("offset", types=_OFFSETS)
@click.option("--data", "text", metavar="TEXT", help="Bytes to write, as UTF-8 text.")
@click.option("--hex", "hex_", metavar="HEX", help='Bytes to write, as hex ("de ad be ef").')
@click.option("--file", "file", metavar="PATH", help="Bytes to write, from a file (- = stdin).")
@click.option("--force", is_flag=True, help=_FORCE_HELP)
@json_option
def write(board, include_dir, image, partition, offset, text, hex_, file, force, as_json):
    """Program bytes at OFFSET (exactly one of --data, --hex, --file).

    NOR rules: OFFSET and the length must be multiples of the write block, and
    the target bytes must be erased (a second write to them fails until the
    page is erased).

    \b
    Examples:
      flashstack flash write --image img/ -p storage_partition 0 --data "hello"
      flashstack flash write --image img/ -p slot0_partition 0 --file zephyr.signed.bin
      flashstack flash write --image img/ -p boot_partition 0 --file mcuboot.bin --force
    """
    data = parse_value(text=text, hex=hex_, file=file)
    with open_board(click.get_current_context(), readonly=False) as ob:
        area = _writable(_target(ob, partition), force)
        with _naming(area, "write", offset):
            area.write(offset, data)
        where = _where(area, offset)
        result = dict(_place(area, offset), written=len(data))
    emit(result, as_json, lambda r: console.print(f"wrote {r['written']} bytes at {where}",
                                                 soft_wrap=True, markup=False))


@flash.command("erase", short_help="Erase pages of a partition.")
@board_options(image_required=True)
@partition_args("offset", "length", optional=2, types=_OFFSETS)
@click.option("--force", is_flag=True, help=_FORCE_HELP)
@json_option
def erase(board, include_dir, image, partition, offset, length, force, as_json):
    """Erase LENGTH bytes at OFFSET (default: from OFFSET to the partition end).

    OFFSET and OFFSET+LENGTH must be erase page boundaries of the device.

    \b
    Examples:
      flashstack flash erase --image img/ -p storage_partition          # whole partition
      flashstack flash erase --image img/ -p slot1_partition 0x1000 4K
    """
    offset = offset or 0
    with open_board(click.get_current_context(), readonly=False) as ob:
        area = _writable(_target(ob, partition), force)
        if length is None:
            length = area.size - offset
        with _naming(area, "erase", offset):
            area.erase(offset, length)
        where = _where(area, offset)
        result = dict(_place(area, offset), erased=length)
    emit(result, as_json, lambda r: console.print(f"erased {r['erased']} bytes at {where}",
                                                 soft_wrap=True, markup=False))
