"""Property test: random install / free / reboot sequences against a plain model. After every
step the Feature list equals the model's, RAM areas are disjoint and inside the buffer, every
Feature's content is intact, and a reboot finds the same Features."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from flashstack.device import SimulatedFlash
from flashstack.errors import NoSpace
from flashstack.flash_map import FlashArea
from flashstack.llkernel import FeatureStore

KF, RAM = 0x90000000, 0x20000000

ops = st.lists(st.one_of(
    st.tuples(st.just("install"), st.integers(0, 9000), st.integers(0, 1500), st.integers(1, 700)),
    st.tuples(st.just("free"), st.integers(0, 7)),
    st.tuples(st.just("reboot"))), min_size=1, max_size=25)


@settings(max_examples=60, deadline=None)
@given(ops=ops, n=st.integers(2, 8), ram_size=st.sampled_from([2048, 4096, 102400]))
def test_llkernel_random_sequences_keep_invariants(ops, n, ram_size):
    dev = SimulatedFlash(0x10000, erase_page_size=4096)
    area = FlashArea(0, 0, 0x10000, dev, label="kf_partition", address=KF)

    def open_store():
        return FeatureStore(area, max_features=n, ram_base=RAM, ram_size=ram_size)

    s = open_store()
    model: dict[int, bytes] = {}   # handle -> content
    for step, op in enumerate(ops):
        if op[0] == "install":
            _, rom, ram, chunk = op
            data = bytes((step * 31 + i) & 0xFF for i in range(rom))
            try:
                f = s.install(data, ram, chunk=chunk)
            except NoSpace:
                # Refused only when nothing could hold it: checked by brute force over every
                # aligned RAM position.
                live = [(f.ram_address, f.ram_address + f.ram_size) for f in s.features()
                        if f.ram_size]
                ram_free = any(all(c + max(ram, 1) <= e0 or c >= e1 for e0, e1 in live)
                               for c in range(RAM, RAM + ram_size - max(ram, 1) + 1, 256))
                assert (rom + 32 > s.slot_size or ram > ram_size or len(model) == n
                        or not ram_free), (op, s.last_error)
                continue
            assert f.handle not in model
            model[f.handle] = data
        elif op[0] == "free":
            listed = s.features()
            if listed:
                h = listed[op[1] % len(listed)].handle
                s.free_feature(h)
                del model[h]
        else:
            s = open_store()
        feats = s.features()
        assert [f.handle for f in feats] == sorted(model)
        ranges = sorted((f.ram_address, f.ram_address + f.ram_size) for f in feats)
        for (a0, a1), (b0, _) in zip(ranges, ranges[1:]):
            assert a1 <= b0 or a0 == a1
        assert all(RAM <= a0 and a1 <= RAM + ram_size for a0, a1 in ranges)
        for f in feats:
            assert area.read(f.rom_address - KF, f.rom_size) == model[f.handle]
    assert [f.handle for f in open_store().features()] == sorted(model)
