"""Power loss as a test parameter (flashstack.torture.recording, the --power-loss option):
what a test does to a store is recorded and cut by the campaign engine."""

from __future__ import annotations

import pytest

from flashstack.device import SimulatedFlash
from flashstack.errors import NoSpace
from flashstack.flash_map import FlashArea
from flashstack.kv import KVConfig, KVStore
from flashstack.nvs import NVSStore
from flashstack.torture.recording import StoreRecorder, check_session
from flashstack.zms import ZMSStore


def _area(size=3072, page=1024, wbs=4, **kw):
    dev = SimulatedFlash(size, erase_page_size=page, write_block_size=wbs, **kw)
    return dev, FlashArea(0, 0, size, dev, label="storage")


@pytest.fixture
def recorder():
    rec = StoreRecorder()
    rec.start()
    yield rec
    rec.stop()


def test_recorded_nvs_session_is_cut_at_every_operation_and_holds(recorder):
    dev, area = _area()
    st = NVSStore(area)
    st.mount()
    for i in range(30):
        st.write(i % 5 + 1, bytes([i]) * (i % 7 + 1))
    st.delete(2)
    recorder.stop()
    (s,) = recorder.sessions
    assert s.ops[-1] == ("del", 2) and s.ops[0] == ("set", 1, b"\x00") and len(s.ops) == 31
    res = check_session(s, None, seed="t")
    assert res.report is not None and res.failures == []
    # every flash operation of the replay, each in three tear modes
    assert res.report.cuts == 3 * res.report.flash_ops > 3 * 31


def test_sessions_start_at_every_mount_and_stop_when_changed_behind_the_store(recorder):
    dev, area = _area()
    st = ZMSStore(area)
    st.mount()
    st.write(1, b"one")
    dev.write(2048, b"\0" * 4)          # the test damages the partition itself
    st.write(2, b"two")                 # no longer replayable: not recorded
    again = ZMSStore(area)
    again.mount()
    again.write(3, b"three")
    recorder.stop()
    first, second = recorder.sessions
    assert first.ops == [("set", 1, b"one")] and not first.live
    assert second.ops == [("set", 3, b"three")] and second.live
    assert check_session(second, 2, seed=1).failures == []


def test_kv_session_keeps_enospc_and_prefix_deletes(recorder):
    dev, area = _area(8192, 4096, 1, allow_double_writes=True)
    st = KVStore(area, KVConfig(total_size=8192, block_size=4096))
    st.mount()
    st.set("a/1", b"x" * 100)
    st.set("a/2", b"y" * 100)
    with pytest.raises(NoSpace):
        for i in range(200):
            st.set(f"k{i}", bytes([i]) * 500)
    st.delete_by_prefix("a/")
    recorder.stop()
    (s,) = recorder.sessions
    assert s.ops[-1] == ("delp", "a/") and s.ops[2][0] == "set"
    res = check_session(s, 4, seed=3)
    assert res.report is not None and res.failures == [] and res.report.cuts == 12


class _ForgetfulNVS(NVSStore):
    """A store that loses id 1 at every mount after the first: what the check must catch."""

    def items(self):
        return [(k, v) for k, v in super().items() if k != 1 or self.generation < 3]


def test_a_store_that_loses_data_fails_the_check(recorder):
    dev, area = _area()
    st = _ForgetfulNVS(area)
    st.mount()
    st.write(1, b"kept")
    st.write(2, b"more")
    recorder.stop()
    res = check_session(recorder.sessions[0], 2, seed=0)
    assert res.failures and any("id 1" in f for f in res.failures)


def test_a_session_that_does_not_replay_is_reported_not_cut(recorder):
    dev, area = _area()
    st = NVSStore(area)
    st.mount()
    st.write(1, b"v")
    recorder.stop()
    s = recorder.sessions[0]
    s.last = bytes(len(s.last))         # as if the test's device ended elsewhere
    res = check_session(s, 2)
    assert res.report is None and "another image" in res.why and res.failures == []
