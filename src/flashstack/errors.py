"""The one error hierarchy of flashstack.

Every exception is an :class:`OSError` subclass carrying ``.errno`` (a Python
``errno`` value) and a message that names the device, partition, offset, length
or key involved. Seed-named functions turn these into ``-errno`` return codes with
:func:`call_with_errno` / :func:`to_return_code`; :class:`PowerLoss` is never turned into a
code (docs/device.md DEV-35): it is not a :class:`FlashError`.
"""

from __future__ import annotations

import errno as _errno
from typing import Any, Callable

__all__ = [
    "FlashError", "InvalidArgument", "NotFound", "AccessDenied", "NoSpace",
    "DeviceIOError", "NoDevice", "NotSupported", "ReadOnlyBacking",
    "IntegrityError", "NoMemory", "PowerLoss", "error_for", "errno_name",
    "call_with_errno", "to_return_code",
]


def errno_name(code: int) -> str:
    """Symbolic name of an errno value (``22`` -> ``"EINVAL"``)."""
    return _errno.errorcode.get(abs(code), str(code))


class FlashError(OSError):
    """Base of every flashstack error. ``.errno`` is set; ``str()`` is the message plus the errno name."""

    default_errno = _errno.EIO
    # always set by __init__ (OSError types both as optional)
    errno: int
    strerror: str

    def __init__(self, message: str, code: int | None = None):
        super().__init__(self.default_errno if code is None else code, message)

    def __str__(self) -> str:
        return f"{self.strerror} [{errno_name(self.errno)}]"

    def __reduce__(self):  # picklable across worker processes
        return (_rebuild, (type(self), self.strerror, self.errno, self.__dict__))


def _rebuild(cls, message, code, state):
    obj = cls.__new__(cls)
    FlashError.__init__(obj, message, code)
    obj.__dict__.update(state)
    return obj


class InvalidArgument(FlashError, ValueError):
    default_errno = _errno.EINVAL


class NotFound(FlashError, LookupError):
    default_errno = _errno.ENOENT


class AccessDenied(FlashError):
    default_errno = _errno.EACCES


class NoSpace(FlashError):
    default_errno = _errno.ENOSPC


class DeviceIOError(FlashError):
    default_errno = _errno.EIO


class NoDevice(FlashError):
    default_errno = _errno.ENODEV


class NotSupported(FlashError):
    default_errno = _errno.ENOSYS


class ReadOnlyBacking(FlashError):
    default_errno = _errno.EROFS


class IntegrityError(FlashError):
    default_errno = _errno.EILSEQ


class NoMemory(FlashError):
    default_errno = _errno.ENOMEM


class PowerLoss(Exception):
    """A simulated power cut (docs/device.md §5, DEV-35). ``.errno`` is EIO.

    Deliberately *not* a :class:`FlashError` (nor an ``OSError``): a power cut is not an error a
    layer may handle, so ``except FlashError`` / ``except OSError`` never swallow one and no
    layer needs to re-raise it by hand. Stores that must record it (they become *failed*)
    catch it explicitly.

    Attributes: ``op_index`` (N, 1-based count of write/erase operations since
    arming), ``kind`` (``"write"`` or ``"erase"``), ``offset`` and ``length``
    (device-relative bytes) and ``applied`` (bytes kept, bits applied, or pages
    erased plus the partial page).
    """

    errno = _errno.EIO

    def __init__(self, message: str = "power lost", *, op_index: int = 0, kind: str = "",
                 offset: int = 0, length: int = 0, applied: int = 0):
        super().__init__(message)
        self.strerror = message
        self.op_index = op_index
        self.kind = kind
        self.offset = offset
        self.length = length
        self.applied = applied

    def __str__(self) -> str:
        return f"{self.strerror} [EIO]"


_BY_ERRNO = {cls.default_errno: cls for cls in (
    InvalidArgument, NotFound, AccessDenied, NoSpace, DeviceIOError, NoDevice,
    NotSupported, ReadOnlyBacking, IntegrityError, NoMemory)}
_BY_ERRNO[_errno.ENOTSUP] = NotSupported


def error_for(code: int, message: str) -> FlashError:
    """The exception class for ``code`` (positive or negative errno), built with ``message``."""
    code = abs(code)
    return _BY_ERRNO.get(code, FlashError)(message, code)


def call_with_errno(fn: Callable[..., Any], *args, **kwargs) -> tuple[int, Any]:
    """Run ``fn(*args, **kwargs)`` for a seed function: ``(0, result)``, or ``(-errno, None)``
    when it raises a :class:`FlashError` (``-EIO`` if the error carries no errno).

    :class:`PowerLoss` propagates untouched (DEV-35); any other exception too.
    """
    try:
        return 0, fn(*args, **kwargs)
    except FlashError as exc:
        return -(exc.errno or _errno.EIO), None


def to_return_code(fn: Callable[..., Any], *args, **kwargs) -> int:
    """Run ``fn(*args, **kwargs)``: 0 on success (its result is dropped), ``-errno`` for a
    :class:`FlashError`; :class:`PowerLoss` propagates (see :func:`call_with_errno`)."""
    return call_with_errno(fn, *args, **kwargs)[0]
