"""Fixtures for the inspect tests."""

from __future__ import annotations

import pytest

from flashstack.device import SimulatedFlash
from flashstack.flash_map import FlashArea


@pytest.fixture
def make_area():
    """``make_area(image, page=4096, address=None)``: a FlashArea over a private in-memory
    device holding ``image``."""
    def make(image: bytes, page: int = 4096, address: int | None = None) -> FlashArea:
        dev = SimulatedFlash(len(image), erase_page_size=page, allow_double_writes=True, name="dev")
        dev.restore(image)
        return FlashArea(0, 0, len(image), dev, label="part", address=address)
    return make
