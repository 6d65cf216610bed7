"""NVSStore.geo is the mounted geometry: a Geometry once mounted, EACCES before (never None)."""

from __future__ import annotations

import errno

import pytest

from flashstack.device import SimulatedFlash
from flashstack.errors import AccessDenied
from flashstack.flash_map import FlashArea
from flashstack.nvs import Geometry, NVSStore


def test_geometry_before_and_after_mount():
    dev = SimulatedFlash(4096, erase_page_size=1024, write_block_size=4)
    st = NVSStore(FlashArea(0, 0, 4096, dev))
    with pytest.raises(AccessDenied) as ei:
        st.geo  # noqa: B018 - the property itself raises
    assert ei.value.errno == errno.EACCES
    st.mount()
    assert isinstance(st.geo, Geometry) and (st.geo.S, st.geo.N, st.geo.A) == (1024, 4, 8)
