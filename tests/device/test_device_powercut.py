"""docs/device.md §5: power-cut injection (DEV-31..36) and the §9 "power cut" scenario:
for N = 1..M of a fixed workload, clean and torn cuts leave the bytes of a reference replay
of the first N-1 operations plus the documented tear."""

from __future__ import annotations

import errno

import pytest

from flashstack.device import SimulatedFlash
from flashstack.device import capi as z
from flashstack.errors import PowerLoss

SIZE, PAGE, WBS = 16 * 1024, 1024, 4


def workload(ev: int) -> list[tuple]:
    """A fixed mix of writes (with double writes allowed) and multi-page erases."""
    p = ev ^ 0xFF
    ops = [("write", 0, bytes([p ^ 0x0F]) * 16), ("write", PAGE, bytes(range(64))),
           ("erase", 0, 2 * PAGE), ("write", 8, bytes([0x3C, 0xC3, 0x55, 0xAA]) * 8),
           ("write", 8, bytes([0x0F]) * 32),  # double write: AND / OR
           ("write", 3 * PAGE - 8, bytes(range(100, 116))),  # spans a page boundary
           ("erase", 2 * PAGE, 2 * PAGE), ("write", 5 * PAGE, bytes([p]) * PAGE),
           ("erase", 4 * PAGE, 4 * PAGE)]
    # fill pages before the last erase so that a partial erase has bits to move
    ops.insert(-1, ("write", 6 * PAGE, bytes((i * 13) & 0xFF for i in range(2 * PAGE))))
    return ops


def fresh(ev: int, **kw) -> SimulatedFlash:
    return SimulatedFlash(SIZE, erase_page_size=PAGE, write_block_size=WBS, erase_value=ev,
                          allow_double_writes=True, **kw)


def replay(model_cls, ev, ops):
    model = model_cls(SIZE, PAGE, ev, WBS, double=True)
    for op in ops:
        getattr(model, op[0])(*op[1:])
    return model


def run(dev, ops):
    for op in ops:
        getattr(dev, op[0])(*op[1:])


M = len(workload(0xFF))


@pytest.mark.parametrize("n", range(1, M + 1))
def test_clean_cut_equals_replay_of_previous_ops(nor_model, erase_value, n):
    ops = workload(erase_value)
    dev = fresh(erase_value)
    dev.arm_power_cut(after=n, mode="clean")
    with pytest.raises(PowerLoss) as ei:
        run(dev, ops)
    assert ei.value.op_index == n and ei.value.kind == ops[n - 1][0] and ei.value.errno == errno.EIO
    assert ei.value.applied == 0
    assert ei.value.offset == ops[n - 1][1]
    assert dev.snapshot() == replay(nor_model, erase_value, ops[:n - 1]).image()
    assert dev.dead and dev.ops_since_arm == n


@pytest.mark.parametrize("n", [i for i, op in enumerate(workload(0xFF), 1) if op[0] == "write"])
@pytest.mark.parametrize("keep", [0, 4, 5, None])
def test_torn_prefix_write(nor_model, erase_value, n, keep):
    ops = workload(erase_value)
    dev = fresh(erase_value)
    dev.arm_power_cut(after=n, mode="torn", tear="prefix", keep=keep, seed=7)
    with pytest.raises(PowerLoss) as ei:
        run(dev, ops)
    _, off, data = ops[n - 1]
    model = replay(nor_model, erase_value, ops[:n - 1])
    k = ei.value.applied
    if keep is not None:
        assert k == keep
    else:
        assert 0 <= k < len(data)
    model.write(off, data[:k])
    assert dev.snapshot() == model.image()


@pytest.mark.parametrize("n", [i for i, op in enumerate(workload(0xFF), 1) if op[0] == "write"])
def test_torn_bits_write_changes_only_bits_the_full_write_changes(nor_model, erase_value, n):
    ops = workload(erase_value)
    dev = fresh(erase_value)
    dev.arm_power_cut(after=n, mode="torn", tear="bits", seed=n)
    with pytest.raises(PowerLoss) as ei:
        run(dev, ops)
    _, off, data = ops[n - 1]
    model = replay(nor_model, erase_value, ops[:n - 1])
    before = model.image()
    full = model.full_write(off, data)
    got = dev.snapshot()
    assert got[:off] == before[:off] and got[off + len(data):] == before[off + len(data):]
    a = int.from_bytes(before[off:off + len(data)], "little")
    changed = a ^ int.from_bytes(got[off:off + len(data)], "little")
    would = a ^ int.from_bytes(full, "little")
    assert changed & ~would == 0
    assert changed.bit_count() == ei.value.applied
    if would.bit_count() >= 16:  # ½ per bit: with this many bits some but not all land
        assert 0 < ei.value.applied < would.bit_count()


@pytest.mark.parametrize("n", [i for i, op in enumerate(workload(0xFF), 1) if op[0] == "erase"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_partial_erase(nor_model, erase_value, n, seed):
    ops = workload(erase_value)
    dev = fresh(erase_value)
    dev.arm_power_cut(after=n, mode="torn", seed=seed)
    with pytest.raises(PowerLoss) as ei:
        run(dev, ops)
    _, off, length = ops[n - 1]
    before = replay(nor_model, erase_value, ops[:n - 1]).image()
    got = dev.snapshot()
    pages = length // PAGE
    j = ei.value.applied - 1  # pages before j fully erased, page j partial
    assert 0 <= j < pages
    assert got[:off] == before[:off] and got[off + length:] == before[off + length:]
    erased = bytes([erase_value]) * PAGE
    for i in range(pages):
        start = off + i * PAGE
        g, b = got[start:start + PAGE], before[start:start + PAGE]
        if i < j:
            assert g == erased
        elif i > j:
            assert g == b
        else:  # each bit differing from the erased state moved to it, or not
            a = int.from_bytes(b, "little")
            moved = a ^ int.from_bytes(g, "little")
            assert moved & ~(a ^ int.from_bytes(erased, "little")) == 0
    first = off // PAGE
    cycles = dev.stats.erase_cycles
    expected_cycles = [0] * (SIZE // PAGE)
    for op in ops[:n - 1]:
        if op[0] == "erase":
            for p in range(op[1] // PAGE, (op[1] + op[2]) // PAGE):
                expected_cycles[p] += 1
    for p in range(first, first + j + 1):
        expected_cycles[p] += 1
    assert cycles == expected_cycles


def test_dead_device_raises_on_everything_and_changes_nothing(erase_value):
    dev = fresh(erase_value)
    dev.write(0, b"\x01\x02\x03\x04")
    dev.arm_power_cut(after=1)
    with pytest.raises(PowerLoss):
        dev.erase(0, PAGE)
    image = dev.snapshot()
    stats = dev.stats.snapshot()
    for call in (lambda: dev.read(0, 4), lambda: dev.write(8, b"\x00" * 4),
                 lambda: dev.erase(PAGE, PAGE), lambda: dev.fill(0x11, 0, 8),
                 lambda: dev.flatten(0, PAGE), lambda: dev.read(0, 0)):
        with pytest.raises(PowerLoss):
            call()
    # seed functions never turn PowerLoss into a return code (DEV-35)
    with pytest.raises(PowerLoss):
        z.flash_write(dev, 8, b"\x00" * 4, 4)
    with pytest.raises(PowerLoss):
        z.flash_read(dev, 0, bytearray(4), 4)
    with pytest.raises(PowerLoss):
        z.flash_erase(dev, 0, PAGE)
    assert dev.snapshot() == image
    assert dev.stats.snapshot() == stats
    # parameters, layout, statistics and snapshot keep working (DEV-34)
    assert dev.parameters.erase_value == erase_value and dev.layout.page_count == SIZE // PAGE
    dev.power_restore()
    assert not dev.dead and dev.read(0, 4) == b"\x01\x02\x03\x04"
    dev.erase(0, PAGE)  # disarmed: no second cut
    assert dev.read(0, 4) == bytes([erase_value]) * 4


def test_reads_and_rejected_ops_are_not_counted(erase_value):
    dev = SimulatedFlash(SIZE, erase_page_size=PAGE, write_block_size=WBS, erase_value=erase_value)
    dev.arm_power_cut(after=2)
    dev.read(0, 16)
    dev.write(0, b"\x00\x11\x22\x33")  # counted: 1
    with pytest.raises(OSError):
        dev.write(0, b"\x00\x11\x22\x33")  # double write: EIO, not counted
    with pytest.raises(OSError):
        dev.write(1, b"\x00")  # EINVAL, not counted
    dev.write(4, b"")  # zero length: never counted (DEV-8)
    dev.erase(0, 0)
    dev.thresholds.max_erase_calls = 1
    dev.erase(PAGE, PAGE)  # dropped by the threshold, not counted
    assert dev.ops_since_arm == 1
    with pytest.raises(PowerLoss) as ei:
        dev.write(8, b"\x44" * 4)
    assert ei.value.op_index == 2


def test_count_only_arming_and_disarm(erase_value):
    dev = fresh(erase_value)
    dev.arm_power_cut(after=None)
    run(dev, workload(erase_value))
    assert dev.ops_since_arm == M and not dev.dead
    dev.arm_power_cut(after=1)
    dev.disarm()
    dev.erase(0, PAGE)
    assert not dev.dead and dev.ops_since_arm == 0


def test_cut_adds_no_time_and_no_bytes(erase_value):
    from flashstack.device import ZEPHYR_SIM_TIMING
    dev = fresh(erase_value, timing=ZEPHYR_SIM_TIMING)
    dev.arm_power_cut(after=1, mode="torn", keep=4)
    with pytest.raises(PowerLoss):
        dev.write(0, b"\x00" * 8)
    assert dev.stats.flash_write_time_us == 0 and dev.stats.bytes_written == 0
    assert dev.stats.flash_write_calls == 1


@pytest.mark.parametrize("tear", ["prefix", "bits"])
def test_determinism_by_seed(erase_value, tear):
    def campaign(seed):
        images = []
        for n in range(1, M + 1):
            dev = fresh(erase_value)
            dev.arm_power_cut(after=n, mode="torn", tear=tear, seed=seed)
            with pytest.raises(PowerLoss):
                run(dev, workload(erase_value))
            images.append(dev.snapshot())
        return images

    a, b, c = campaign(11), campaign(11), campaign(12)
    assert a == b
    assert a != c  # another seed tears differently somewhere


def test_invalid_arming():
    dev = fresh(0xFF)
    for kwargs in ({"after": 0}, {"after": 1, "mode": "dirty"}, {"after": 1, "tear": "half"},
                   {"after": 1, "keep": -1}):
        with pytest.raises(OSError) as ei:
            dev.arm_power_cut(**kwargs)
        assert ei.value.errno == errno.EINVAL


def test_file_backed_state_survives_reopen_after_cut(tmp_path, nor_model, erase_value):
    path = tmp_path / "img.bin"
    ops = workload(erase_value)
    n = 4  # the double write, torn to 6 bytes
    dev = fresh(erase_value, backing=path)
    dev.arm_power_cut(after=n, mode="torn", keep=6)
    with pytest.raises(PowerLoss):
        run(dev, ops)
    cut_image = dev.snapshot()
    dev.close()
    model = replay(nor_model, erase_value, ops[:n - 1])
    model.write(ops[n - 1][1], ops[n - 1][2][:6])
    assert cut_image == model.image()
    with fresh(erase_value, backing=path) as again:  # a reboot: reopen the image
        assert not again.dead
        assert again.snapshot() == cut_image
        assert again.read(0, SIZE) == cut_image
    assert path.read_bytes() == cut_image
