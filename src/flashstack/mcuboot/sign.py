"""Signing and signature verification of MCUboot images with MCUboot's own ``imgtool``
package (the ``mcuboot`` extra; imported only when called, so the layer stays standard-library
only otherwise). Trailers are not written here: see :func:`flashstack.mcuboot.write_trailer`.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from dataclasses import dataclass

from ..errors import InvalidArgument, NotFound, NotSupported

__all__ = ["SignParams", "load_key", "sign_image", "verify_image"]


def _imgtool():
    try:
        import click  # imgtool reports errors through click exceptions
        from imgtool import image, keys  # type: ignore[import-untyped]  # optional extra
    except ImportError:
        raise NotSupported("signing MCUboot images needs imgtool: pip install 'flashstack[mcuboot]'") from None
    return image, keys, (ValueError, TypeError, KeyError, IndexError, click.ClickException)


def load_key(path: str | os.PathLike, password: bytes | None = None):
    """An imgtool key object from a PEM file (private or public). NotFound (ENOENT) when
    missing, InvalidArgument (EINVAL) naming the file when imgtool cannot read it."""
    _, keys, errors = _imgtool()
    if not os.path.isfile(path):
        raise NotFound(f"key file {os.fspath(path)!r} not found")
    try:
        return keys.load(os.fspath(path), password)
    except errors as exc:
        raise InvalidArgument(f"key file {os.fspath(path)}: not a key imgtool can use ({exc})") from None


@dataclass(frozen=True)
class SignParams:
    """What ``imgtool sign`` needs: ``version`` "M.m.r+b", ``header_size`` bytes (the header is
    padded in front of the binary), ``align`` (flash write size, bytes), ``slot_size`` bytes,
    ``max_align`` (BOOT_MAX_ALIGN), ``max_sectors``, ``erased_val``, ``load_address``."""

    version: str = "0.0.0+0"
    header_size: int = 0x200
    align: int = 4
    slot_size: int = 0
    max_align: int = 8
    max_sectors: int = 128
    erased_val: int = 0xFF
    load_address: int = 0


def sign_image(app: bytes, key_path: str | os.PathLike | None, params: SignParams, *, name: str = "app") -> bytes:
    """The signed image (header + body + TLVs, no trailer) of the unsigned binary ``app``, as
    ``imgtool sign --pad-header`` makes it; ``key_path`` None makes a hash-only image.
    InvalidArgument (EINVAL) naming ``name`` when imgtool refuses (too large, bad version)."""
    image, _, errors = _imgtool()
    key = load_key(key_path) if key_path is not None else None
    try:
        from imgtool import version as iversion
        img = image.Image(version=iversion.decode_version(params.version), header_size=params.header_size,
                          pad_header=True, align=params.align, slot_size=params.slot_size,
                          max_sectors=params.max_sectors, load_addr=params.load_address,
                          erased_val=hex(params.erased_val), max_align=params.max_align)
        img.infile_data = app
        img.payload = bytes([params.erased_val]) * params.header_size + app
        img.image_size = len(app)
        img.check_header()
        pub_format = "hash" if key is not None else None
        with contextlib.redirect_stdout(io.StringIO()):   # imgtool prints progress
            img.create(key, pub_format, None)
        img.check_trailer()
    except errors as exc:
        raise InvalidArgument(f"{name}: imgtool could not sign the image ({exc})") from None
    return bytes(img.payload)


def verify_image(data: bytes, key_path: str | os.PathLike) -> str:
    """``imgtool verify`` of an image's bytes with a key file: "ok", "invalid signature",
    "not signed", "key mismatch", "invalid hash", … (imgtool's VerifyResult in words)."""
    image, _, _ = _imgtool()
    key = load_key(key_path)
    fd, tmp = tempfile.mkstemp(suffix=".bin")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        result = image.Image.verify(tmp, key)[0]
    finally:
        os.unlink(tmp)
    if result is None:   # imgtool found no signature TLV that verifies
        from .image import parse_image
        img = parse_image(data)
        signed = img is not None and any(0x20 <= t["type"] <= 0x25 for t in img.tlvs)
        return "invalid signature" if signed else "not signed"
    return result.name.lower().replace("_", " ")
