"""docs/alios-kv.md §18 conformance scenarios: CRC, records, operation sequences, GC,
recovery rows of §13, unclean/invalid blocks, ENOSPC, reserve rule, duplicates, limits,
device checks, 32-bit positions, secure items, seeds."""

import errno

import pytest

from flashstack.device import RecordingFlash, SimulatedFlash
from flashstack.errors import DeviceIOError, InvalidArgument, NoSpace, NotFound, NotSupported, PowerLoss
from flashstack.flash_map import FlashArea
from flashstack.hal import HAL_PARTITION_PARAMETER_2, HAL_PARTITION_PARAMETER_3, mk3060_hal
from flashstack.kv import KVConfig, KVStore, crc8, encode_record, open_kv
from flashstack.kv import capi as aos


class _Ops:
    """The flash operations a recorder saw since the last :meth:`clear`, compared and indexed
    as a list of ``("E", pos, length)`` / ``("P", pos, "HEX BYTES")``."""

    __hash__ = None  # compared by value

    def __init__(self, rec: RecordingFlash):
        self.rec = rec

    def _list(self) -> list[tuple]:
        return [("E", o.offset, o.length) if o.data is None else ("P", o.offset, o.data.hex(" ").upper())
                for o in self.rec.ops]

    def clear(self) -> None:
        self.rec.take()

    def __eq__(self, other) -> bool:
        return self._list() == other

    def __iter__(self):
        return iter(self._list())

    def __getitem__(self, i):
        return self._list()[i]

    def __repr__(self) -> str:
        return repr(self._list())


def make(total=8192, block=4096, page=4096, image=None, **cfg):
    dev = SimulatedFlash(total, erase_page_size=page, allow_double_writes=True)
    if image is not None:
        dev.restore(image)
    area, rec = FlashArea(0, 0, total, dev).recorded()
    store = KVStore(area, KVConfig(total_size=total, block_size=block, **cfg))
    return dev, store, _Ops(rec)


@pytest.mark.parametrize("data,crc", [(b"123456789", 0xA2), (b"", 0), (b"key_1val_1", 0x11),
                                      (b"key_1val_2", 0x42), (b"ab", 0x78), (b"tmp" + b"z" * 20, 0x72),
                                      (b"tmp" + b"{" * 20, 0xBD)])
def test_crc8_check_values(data, crc):
    assert crc8(data) == crc


@pytest.mark.parametrize("key,value,origin,kw,hexrec", [
    (b"key_1", b"val_1", 0, {}, "49 EE 11 05 05 00 00 00 6B 65 79 5F 31 76 61 6C 5F 31 00 00"),
    (b"key_1", b"val_2", 4, {}, "49 EE 42 05 05 00 04 00 6B 65 79 5F 31 76 61 6C 5F 32 00 00"),
    (b"a", b"b", 0, {}, "49 EE 78 01 01 00 00 00 61 62 00 00"),
    (b"wifi.ssid", b"flashstack", 0x14, {},
     "49 EE BC 09 0A 00 14 00 77 69 66 69 2E 73 73 69 64 66 6C 61 73 68 73 74 61 63 6B 00"),
    (b"key_1", b"val_1", 0, {"align": 8},
     "49 EE 11 05 05 00 00 00 6B 65 79 5F 31 76 61 6C 5F 31 00 00 00 00 00 00"),
    (b"key_1", b"val_1", 0, {"pos32": True}, "49 EE 11 05 05 00 00 00 00 00 6B 65 79 5F 31 76 61 6C 5F 31"),
    (b"key_1", b"val_2", 0x12344, {"pos32": True},
     "49 EE 42 05 05 00 44 23 01 00 6B 65 79 5F 31 76 61 6C 5F 32"),
])
def test_worked_records(key, value, origin, kw, hexrec):
    rec = encode_record(key, value, origin, pos32=kw.get("pos32", False), align=kw.get("align", 4))
    assert rec == bytes.fromhex(hexrec)


def test_fresh_mount_image_and_operations():
    dev, s, ops = make()
    s.mount()
    assert ops == [("E", 0, 4096), ("P", 0, "4B EE 00 00"), ("E", 0x1000, 4096), ("P", 0x1000, "4B EE 00 00"),
                   ("P", 1, "CC")]
    img = dev.snapshot()
    assert img[:4] == bytes.fromhex("4BCC0000") and img[4:4096] == b"\xff" * 4092
    assert img[4096:4100] == bytes.fromhex("4BEE0000") and s.write_pos == 4
    ops.clear()
    s.mount()  # KV-12: already mounted
    assert ops == []


def test_update_delete_sequences():
    dev, s, ops = make()
    s.mount()
    ops.clear()
    s.set("key_1", b"val_1")
    assert ops == [("P", 4, "49 EE 11 05 05 00 00 00 6B 65 79 5F 31 76 61 6C 5F 31 00 00")]
    ops.clear()
    s.set("key_1", b"val_2")
    assert ops == [("P", 0x18, "49 EE 42 05 05 00 04 00 6B 65 79 5F 31 76 61 6C 5F 32 00 00"),
                   ("P", 5, "00"), ("P", 1, "44")]
    ops.clear()
    s.set("key_1", b"val_2")
    assert ops == []
    s.delete("key_1")
    assert ops == [("P", 0x19, "00")]
    with pytest.raises(NotFound):
        s.get("key_1")


def test_gc_example_set_108():
    dev, s, ops = make()
    s.mount()
    for k in range(1, 108):
        s.set("tmp", bytes([0x41 + k % 50]) * 20)
    assert s.space[0] == 668
    ops.clear()
    s.set("tmp", b"{" * 20)
    assert [(k, p) for k, p, _ in ops] == [("P", 0x0D64), ("P", 0x0D45), ("P", 0x1004), ("E", 0),
                                            ("P", 0), ("P", 0x1001)]
    assert ops[2][2].startswith("49 EE BD 03 14 00 44 0D")  # copied header unchanged (origin 0x0D44)
    assert s.write_pos == 0x1024 and s.state[:2] == [0xEE, 0xCC]
    assert s.get("tmp") == b"{" * 20


def _update_then_cut(after, mode="clean", keep=None):
    dev, s, ops = make()
    s.mount()
    s.set("key_1", b"val_1")
    dev.arm_power_cut(after=after, mode=mode, keep=keep)
    with pytest.raises(PowerLoss):
        s.set("key_1", b"val_2")
    assert s.failed
    with pytest.raises(DeviceIOError):
        s.get("key_1")
    dev.power_restore()
    ops.clear()
    s.unmount()
    s.mount()
    return dev, s, ops


def test_recovery_rows_of_section_13():
    dev, s, ops = _update_then_cut(1)
    assert ops == [] and s.get("key_1") == b"val_1"
    dev, s, ops = _update_then_cut(1, "torn", 10)
    assert ops == [("P", 0x19, "00"), ("P", 1, "44")] and s.get("key_1") == b"val_1" and s.write_pos == 0x2C
    dev, s, ops = _update_then_cut(1, "torn", 3)
    assert ops == [("P", 1, "44")] and s.write_pos == 0x20 and s.get("key_1") == b"val_1"
    dev, s, ops = _update_then_cut(2)
    assert ops == [("P", 5, "00"), ("P", 1, "44")] and s.get("key_1") == b"val_2"
    dev, s, ops = _update_then_cut(3)
    assert ops == [("P", 1, "44")] and s.get("key_1") == b"val_2"


def _clean_block_holding_record(second_clean):
    dev, s, _ = make(total=12288 if second_clean else 8192)
    s.mount()
    img = bytearray(dev.snapshot())
    rec = encode_record(b"k", b"v", 0, pos32=False, align=4)
    img[0x1004:0x1004 + len(rec)] = rec  # block 1 says CLEAN but holds a record
    if not second_clean:
        img[1] = 0xCC
    return img


def test_unclean_block_marked_dirty_when_another_clean_exists():
    img = _clean_block_holding_record(True)
    dev, s, ops = make(total=12288, image=bytes(img))
    s.mount()
    assert ("P", 0x1001, "44") in ops and s.get("k") == b"v"


def test_unclean_block_formatted_without_another_clean():
    img = _clean_block_holding_record(False)
    dev, s, ops = make(image=bytes(img))
    s.mount()
    assert ops[:2] == [("E", 0x1000, 4096), ("P", 0x1000, "4B EE 00 00")] and "k" not in s


def test_invalid_block_state_formatted():
    dev, s, _ = make()
    s.mount()
    s.set("a", b"1")
    img = bytearray(dev.snapshot())
    img[1] = 0x12
    dev2, s2, ops = make(image=bytes(img))
    s2.mount()
    assert ops[0] == ("E", 0, 4096) and "a" not in s2


def test_two_block_full_enospc_without_any_operation():
    dev, s, ops = make()
    s.mount()
    i = 0
    with pytest.raises(NoSpace):
        while True:
            s.set(f"key{i:04d}", bytes(40))
            i += 1
    before = dev.snapshot()
    ops.clear()
    with pytest.raises(NoSpace):
        s.set("another", bytes(40))
    assert ops == [] and dev.snapshot() == before
    assert aos.aos_kv_set("another", bytes(40), 40, 1, store=s) == -errno.ENOSPC
    s.delete("key0000")
    s.set("another", bytes(40))  # GC reclaims the deleted record and the retry succeeds
    assert s.get("another") == bytes(40)


def test_three_blocks_reserve_rule():
    dev, s, _ = make(total=12288)
    s.mount()
    n = 0
    try:
        while True:
            s.set(f"k{n:05d}", bytes(100))
            n += 1
    except NoSpace:
        pass
    assert s.clean == 1 and s.state.count(0xEE) == 1  # the last CLEAN block was never taken
    assert len(s) == n and n > 60


def test_duplicates_are_all_removed():
    dev, s, _ = make(total=12288)
    s.mount()
    s.set("pad", b"x")
    img = bytearray(dev.snapshot())
    rec = encode_record(b"dup", b"old", 0, pos32=False, align=4)
    for b in (1, 2):  # the same live record in blocks 1 and 2 (interrupted GC)
        img[b * 4096:b * 4096 + 4] = bytes.fromhex("4BCC0000")
        img[b * 4096 + 4:b * 4096 + 4 + len(rec)] = rec
    img[0:4] = bytes.fromhex("4BEE0000")
    img[4:4096] = b"\xff" * 4092
    dev2, s2, ops = make(total=12288, image=bytes(img))
    s2.mount()
    assert s2.index[b"dup"] == [(0x1004, 3), (0x2004, 3)] and s2.get("dup") == b"old"
    s2.set("dup", b"new")
    assert s2.get("dup") == b"new" and len(s2.index[b"dup"]) == 1
    s2.unmount()
    s2.mount()
    assert s2.get("dup") == b"new"
    s2.delete("dup")
    s2.unmount()
    s2.mount()
    assert "dup" not in s2


def test_limits_and_argument_rules():
    dev, s, _ = make()
    s.mount()
    s.set("k" * 128, b"v" * 512)
    with pytest.raises(InvalidArgument):
        s.set("k" * 129, b"v")
    # as the reference's kv_item_get/kv_item_delete: an over-long key is simply not found
    with pytest.raises(NotFound, match="longer than max_key_len"):
        s.get("k" * 129)
    assert aos.aos_kv_del("k" * 129, store=s) == -errno.ENOENT
    assert aos.aos_kv_del_by_prefix("k" * 129, store=s) == 0 and s.get("k" * 128) == b"v" * 512
    for bad in ("", "a\0b"):
        with pytest.raises(InvalidArgument):
            s.get(bad)
    with pytest.raises(NotFound):
        s.get(b"\xffkey")
    with pytest.raises(InvalidArgument):
        s.set("k", b"v" * 513)
    for bad in ("", "a\0b", b"\xffkey"):
        with pytest.raises(InvalidArgument):
            s.set(bad, b"v")
    with pytest.raises(InvalidArgument):
        s.set("k", b"")
    with pytest.raises(InvalidArgument):
        s.delete_by_prefix(None)
    buf = bytearray(10)
    assert aos.aos_kv_get("k" * 128, buf, 10, store=s) == (-errno.ENOSPC, 512)
    assert aos.aos_kv_get("nope", buf, 10, store=s) == (-errno.ENOENT, 10)
    assert aos.aos_kv_get("k", None, 10, store=s) == (-errno.EINVAL, 10)
    assert aos.aos_kv_set("k", b"abc", 4, 1, store=s) == -errno.EINVAL
    assert aos.aos_kv_set("k", b"abcd", 2, 1, store=s) == 0 and s.get("k") == b"ab"
    assert aos.aos_kv_del("", store=s) == -errno.EINVAL
    assert aos.aos_kv_del("zz", store=s) == -errno.ENOENT
    assert aos.aos_kv_del_by_prefix("", store=s) == 0 and len(s) == 0


def test_device_and_geometry_checks():
    dev = SimulatedFlash(8192, erase_page_size=4096, write_block_size=4, allow_double_writes=True)
    with pytest.raises(InvalidArgument, match="write block size 4"):
        KVStore(FlashArea(0, 0, 8192, dev))
    dev = SimulatedFlash(8192, erase_page_size=4096)
    with pytest.raises(InvalidArgument, match="re-program"):
        KVStore(FlashArea(0, 0, 8192, dev))
    dev = SimulatedFlash(16384, erase_page_size=8192, allow_double_writes=True)
    with pytest.raises(InvalidArgument, match="erase-page boundary"):
        KVStore(FlashArea(0, 0, 16384, dev))
    for cfg in (dict(total_size=4096), dict(total_size=8192, block_size=3000), dict(align=2),
                dict(max_key_len=256), dict(total_size=256 * 4096), dict(block_size=512, total_size=4096)):
        with pytest.raises(InvalidArgument):
            KVConfig(**cfg).validate()


def test_unmounted_store_and_default_store():
    dev, s, _ = make()
    with pytest.raises(DeviceIOError):
        s.get("a")
    aos.set_default_store(None)
    assert aos.aos_kv_init() == -errno.ENODEV
    aos.set_default_store(s)
    try:
        assert aos.aos_kv_init() == 0
        assert aos.aos_kv_set("a", b"1", 1, 1) == 0
        aos.aos_kv_deinit()
        assert aos.aos_kv_get("a", bytearray(4), 4) == (-errno.EIO, 4)
    finally:
        aos.set_default_store(None)


def test_32bit_positions():
    dev, s, _ = make(total=0x10000, block=0x4000)
    s.mount()
    assert s.HDR == 10
    s.set("key_1", b"val_1")
    assert dev.read(4, 20) == bytes.fromhex("49EE11050500000000006B65795F3176616C5F31")
    for i in range(600):
        s.set(f"k{i % 7}", bytes([i % 256]) * 90)
    s.unmount()
    s.mount()
    assert s.get("k6") == bytes([594 % 256]) * 90


def test_kv_on_hal_span_of_mk3060():
    hal = mk3060_hal()
    span = hal.span(HAL_PARTITION_PARAMETER_2, HAL_PARTITION_PARAMETER_3, 4096)
    s = KVStore(span, KVConfig())
    s.mount()
    s.set("wifi", b"ssid")
    assert hal.read(HAL_PARTITION_PARAMETER_3, 0, 4) == bytes.fromhex("4BEE0000")
    assert hal.read(HAL_PARTITION_PARAMETER_2, 0, 4) == bytes.fromhex("4BCC0000")
    with pytest.raises(InvalidArgument, match="exceeds the storage"):
        open_kv(hal)  # PARAMETER_2 alone is only 4 KiB
    # MK3060 build: CONFIG_AOS_KV_PTN=6, SECOND_PTN=7, PTN_SIZE=4096, BUFFER_SIZE=8192
    s3 = open_kv(hal, KVConfig(span=(HAL_PARTITION_PARAMETER_2, HAL_PARTITION_PARAMETER_3, 4096)))
    s3.mount()
    assert s3.get("wifi") == b"ssid"


KEY32 = bytes(range(32))
IV16 = bytes(range(16))


def test_secure_worked_example():
    import cryptography  # noqa: F401 - the crypto extra (CI installs it: fail, never skip)
    dev, s, _ = make(secure_level=1)
    s.secure_key, s.secure_iv = (lambda n: KEY32), (lambda n: IV16)
    s.mount()
    s.secure_set("key_1", b"val_1")
    assert dev.read(4, 20) == bytes.fromhex("49EE5905050000006B65795F312C0F680839" + "0000")
    assert s.secure_get("key_1") == b"val_1" and s.get("key_1") == bytes.fromhex("2C0F680839")
    buf = bytearray(8)
    assert aos.aos_kv_secure_get("key_1", buf, 8, store=s) == (0, 5) and buf[:5] == b"val_1"
    s.secure_iv = lambda n: b"short"
    assert aos.aos_kv_secure_set("x", b"1", 1, 1, store=s) == -errno.EBUSY


def test_secure_level_2_redirects_and_level_0_refuses():
    import cryptography  # noqa: F401 - the crypto extra (CI installs it: fail, never skip)
    dev, s, _ = make(secure_level=2)
    s.secure_key, s.secure_iv = (lambda n: KEY32), (lambda n: IV16)
    s.mount()
    s.set("key_1", b"val_1")
    assert dev.read(4 + 13, 5) == bytes.fromhex("2C0F680839") and s.get("key_1") == b"val_1"
    dev, s, _ = make()
    s.mount()
    with pytest.raises(NotSupported):
        s.secure_set("a", b"b")
    assert aos.aos_kv_secure_get("a", bytearray(4), 4, store=s) == (-errno.ENOSYS, 4)


def test_storage_error_is_eio_and_store_fails():
    dev = SimulatedFlash(8192, erase_page_size=4096, allow_double_writes=True)
    s = KVStore(FlashArea(0, 0, 8192, dev), KVConfig())
    s.mount()
    s.set("a", b"1")
    ro = KVStore(FlashArea(0, 0, 8192, dev, read_only=True), KVConfig())
    ro.mount()  # nothing to repair: no write
    assert ro.get("a") == b"1"
    with pytest.raises(DeviceIOError) as ei:
        ro.set("b", b"2")
    assert ei.value.errno == errno.EIO and ei.value.__cause__ is not None
    with pytest.raises(DeviceIOError, match="failed"):
        ro.get("a")
    assert aos.aos_kv_get("a", bytearray(4), 4, store=ro) == (-errno.EIO, 4)


def test_power_cut_during_mount_then_mount_again():
    dev, s, _ = make()
    dev.arm_power_cut(after=3)  # inside the formatting of an erased image
    with pytest.raises(PowerLoss):
        s.mount()
    dev.power_restore()
    s.mount()
    s.set("k", b"v")
    s.unmount()
    s.mount()
    assert s.get("k") == b"v" and s.state.count(0xEE) == 1


def test_seed_functions_propagate_power_loss():
    dev, s, _ = make()
    assert aos.aos_kv_init(store=s) == 0
    assert aos.aos_kv_set("a", b"1234", 4, 1, store=s) == 0
    for call in (lambda: aos.aos_kv_set("a", b"5678", 4, 1, store=s), lambda: aos.aos_kv_del("a", store=s),
                 lambda: aos.aos_kv_del_by_prefix("", store=s)):
        dev.arm_power_cut(after=1)
        with pytest.raises(PowerLoss):
            call()
        dev.power_restore()
        assert aos.aos_kv_get("a", bytearray(4), 4, store=s) == (-errno.EIO, 4)  # failed until mounted
        s.unmount()
        assert aos.aos_kv_init(store=s) == 0
    s.unmount()
    dev.write(1, b"\x00")  # invalid block state: mount formats block 0
    dev.arm_power_cut(after=1)
    with pytest.raises(PowerLoss):
        aos.aos_kv_init(store=s)
