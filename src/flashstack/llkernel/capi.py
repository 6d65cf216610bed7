"""Seed API: the ``LLKERNEL_IMPL_*`` functions with their C names, argument order and results.

Thin functions over :class:`~flashstack.llkernel.store.FeatureStore` (docs/llkernel.md LLK-1;
upstream MicroEJ docs ``LLKERNEL_impl.h``, Architecture 8.1+). Handles and sizes are C
``int32_t`` (a handle >= 0x80000000 comes back negative, and is accepted signed or unsigned),
addresses are ints or None for NULL, return codes ``LLKERNEL_OK`` (0) / ``LLKERNEL_ERROR``
(-1). Every function acts on the default store (:func:`set_default_store`) or on the
keyword-only ``store=``. ``PowerLoss`` propagates.
"""

from __future__ import annotations

from ..errors import NoDevice
from .header import LLKERNEL_ERROR, LLKERNEL_OK, to_int32
from .store import FeatureStore

__all__ = [
    "LLKERNEL_OK", "LLKERNEL_ERROR", "set_default_store", "get_default_store",
    "LLKERNEL_IMPL_allocateFeature", "LLKERNEL_IMPL_freeFeature",
    "LLKERNEL_IMPL_getAllocatedFeaturesCount", "LLKERNEL_IMPL_getFeatureHandle",
    "LLKERNEL_IMPL_getFeatureAddressRAM", "LLKERNEL_IMPL_getFeatureAddressROM",
    "LLKERNEL_IMPL_copyToROM", "LLKERNEL_IMPL_flushCopyToROM",
    "LLKERNEL_IMPL_onFeatureInitializationError",
    "LLKERNEL_IMPL_allocateFeature__II", "LLKERNEL_IMPL_freeFeature__I",
    "LLKERNEL_IMPL_getFeatureHandle__I", "LLKERNEL_IMPL_getFeatureAddressRAM__I",
    "LLKERNEL_IMPL_getFeatureAddressROM__I",
    "LLKERNEL_IMPL_copyToROM__LiceTea_lang_Ram_2LiceTea_lang_Ram_2I",
    "LLKERNEL_IMPL_onFeatureInitializationError__II",
]

_default: FeatureStore | None = None


def set_default_store(store: FeatureStore | None) -> None:
    """Make ``store`` the one the seed functions use when no ``store=`` is given."""
    global _default
    _default = store


def get_default_store() -> FeatureStore | None:
    """The store set by :func:`set_default_store`, or None."""
    return _default


def _store(store: FeatureStore | None) -> FeatureStore:
    s = store if store is not None else _default
    if s is None:
        raise NoDevice("LLKERNEL: no default FeatureStore; call set_default_store() or pass store=")
    return s


def LLKERNEL_IMPL_allocateFeature(size_ROM: int, size_RAM: int, *, store=None) -> int:
    """Reserve ROM and RAM; the handle as int32, or 0 (install error 59)."""
    h = _store(store).allocate_feature(to_int32(size_ROM), to_int32(size_RAM))
    return 0 if h is None else to_int32(h)


def LLKERNEL_IMPL_freeFeature(handle: int, *, store=None) -> None:
    """Release the Feature's ROM and RAM (void)."""
    _store(store).free_feature(handle & 0xFFFFFFFF)


def LLKERNEL_IMPL_getAllocatedFeaturesCount(*, store=None) -> int:
    """Number of Features allocated and not freed, earlier runs included."""
    return _store(store).allocated_features_count()


def LLKERNEL_IMPL_getFeatureHandle(index: int, *, store=None) -> int:
    """Handle (int32) of Feature ``index``, or 0."""
    h = _store(store).feature_handle(to_int32(index))
    return 0 if h is None else to_int32(h)


def LLKERNEL_IMPL_getFeatureAddressRAM(handle: int, *, store=None) -> int | None:
    """RAM area start of the Feature, or None (NULL)."""
    return _store(store).feature_address_ram(handle & 0xFFFFFFFF)


def LLKERNEL_IMPL_getFeatureAddressROM(handle: int, *, store=None) -> int | None:
    """ROM area start of the Feature, or None (NULL)."""
    return _store(store).feature_address_rom(handle & 0xFFFFFFFF)


def LLKERNEL_IMPL_copyToROM(dest_address_ROM: int, src_address, size: int, *, store=None) -> int:
    """Copy ``size`` bytes of the bytes-like ``src_address`` to ROM address ``dest_address_ROM``."""
    return _store(store).copy_to_rom(dest_address_ROM & 0xFFFFFFFF, src_address, to_int32(size))


def LLKERNEL_IMPL_flushCopyToROM(*, store=None) -> int:
    """Block until every byte of the copies is in ROM; OK or ERROR."""
    return _store(store).flush_copy_to_rom()


def LLKERNEL_IMPL_onFeatureInitializationError(handle: int, error_code: int, *, store=None) -> int:
    """Boot-time failure of a Feature: frees it for codes 1, 2, 5; returns LLKERNEL_OK."""
    return _store(store).on_feature_initialization_error(handle & 0xFFFFFFFF, error_code)


# Names of the generated intern/LLKERNEL_impl.h (the official tests call these).
LLKERNEL_IMPL_allocateFeature__II = LLKERNEL_IMPL_allocateFeature
LLKERNEL_IMPL_freeFeature__I = LLKERNEL_IMPL_freeFeature
LLKERNEL_IMPL_getFeatureHandle__I = LLKERNEL_IMPL_getFeatureHandle
LLKERNEL_IMPL_getFeatureAddressRAM__I = LLKERNEL_IMPL_getFeatureAddressRAM
LLKERNEL_IMPL_getFeatureAddressROM__I = LLKERNEL_IMPL_getFeatureAddressROM
LLKERNEL_IMPL_copyToROM__LiceTea_lang_Ram_2LiceTea_lang_Ram_2I = LLKERNEL_IMPL_copyToROM
LLKERNEL_IMPL_onFeatureInitializationError__II = LLKERNEL_IMPL_onFeatureInitializationError
