"""Exhaustive power cuts: for a set that triggers GC, an update and a prefix delete, cut at every
flash operation (clean, and torn keeping 1 byte, 8 bytes and half the write), reboot, and check
that every key holds its old or its new value, that the store stays usable, and that a second
reboot changes nothing (recovery is idempotent)."""

import pytest

from flashstack.errors import PowerLoss
from flashstack.flash_map import FlashArea
from flashstack.kv import KVStore
from kv_flash import kv_device

GEOMETRIES = [(2, 4096, 4), (3, 4096, 4), (2, 4096, 8), (4, 16384, 4)]


def _fresh(geometry, image=None):
    dev, cfg = kv_device(geometry, image)
    store = KVStore(FlashArea(0, 0, dev.size, dev), cfg)
    store.mount()
    return dev, store


def _prepare(geometry):
    """A store whose next "hot" update runs a GC, with a few other keys."""
    dev, s = _fresh(geometry)
    for i in range(6):
        s.set(f"other{i}", bytes([i]) * (10 + i))
    for n in range(10_000):
        image = dev.snapshot()
        probe_dev, probe = _fresh(geometry, image)
        erases = probe_dev.stats.flash_erase_calls
        probe.set("hot", b"\xab" * 40)
        if probe_dev.stats.flash_erase_calls > erases:
            return image, dict(s.items())
        s.set("hot", n.to_bytes(4, "little") * 10)
    raise AssertionError("GC never triggered")


OPS = [("set", "hot", b"\xab" * 40), ("set", "new", b"fresh"), ("delete", "other2", None),
       ("delete_prefix", "other", None)]


def _apply(model, op):
    kind, key, value = op
    m = dict(model)
    if kind == "set":
        m[key.encode()] = value
    elif kind == "delete":
        m.pop(key.encode(), None)
    else:
        for k in [k for k in m if k.startswith(key.encode())]:
            del m[k]
    return m


def _run(store, op):
    kind, key, value = op
    getattr(store, {"set": "set", "delete": "delete", "delete_prefix": "delete_by_prefix"}[kind])(
        *((key, value) if kind == "set" else (key,)))


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=lambda g: f"{g[0]}x{g[1]}a{g[2]}")
def test_every_cut_point(geometry):
    image, old = _prepare(geometry)
    for op in OPS:
        new = _apply(old, op)
        dev, s = _fresh(geometry, image)
        dev.arm_power_cut(after=None)
        _run(s, op)
        count = dev.ops_since_arm
        dev.disarm()
        assert dict(s.items()) == new
        if op[1] == "hot":
            assert dev.stats.flash_erase_calls > 0 and count >= 5, "the update must run a GC"
        for n in range(1, count + 1):
            for keep in (None, 1, 8, "half"):
                dev, s = _fresh(geometry, image)
                if keep is None:
                    dev.arm_power_cut(after=n)
                else:
                    dev.arm_power_cut(after=n, mode="torn", keep=keep if keep != "half" else 20)
                with pytest.raises(PowerLoss):
                    _run(s, op)
                dev.power_restore()
                s.unmount()
                s.mount()
                live = dict(s.items())
                for k in set(old) | set(new) | set(live):
                    assert live.get(k) in (old.get(k), new.get(k)), (op, n, keep, k)
                after_first = dev.snapshot()
                s.unmount()
                s.mount()
                assert dev.snapshot() == after_first and dict(s.items()) == live, (op, n, keep)
                s.set("probe", b"p")
                s.unmount()
                s.mount()
                assert s.get("probe") == b"p"
