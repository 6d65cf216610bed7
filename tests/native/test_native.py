"""flashstack.native: the team's C on the flash model. Every test compiles C this project wrote
(tests/native/c/); without a 32-bit C toolchain they skip, saying what is missing."""

from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path

import pytest

from flashstack.device import SimulatedFlash
from flashstack.errors import FlashError, NotSupported, PowerLoss
from flashstack.native.build import BuildSpec, build_helper, compiler_problem
from flashstack.native.machine import CCodeError
from flashstack.native.targets import CCustomTarget, CNVSTarget
from flashstack.torture import Campaign, replay, run_campaign
from flashstack.torture.target import PartitionGeometry

C = Path(__file__).parent / "c"
sys.path.insert(0, str(Path(__file__).parent))
from logstore_twin import LogTwinTarget  # noqa: E402 - after the sys.path entry it needs

_PROBLEM = compiler_problem(32)
pytestmark = pytest.mark.skipif(_PROBLEM is not None, reason=f"C tests need gcc -m32: {_PROBLEM}")


@pytest.fixture(autouse=True, scope="module")
def _cache(tmp_path_factory):
    """One helper cache for the whole test run (shared by xdist workers)."""
    old = os.environ.get("FLASHSTACK_CACHE")
    os.environ["FLASHSTACK_CACHE"] = str(tmp_path_factory.getbasetemp().parent / "native-cache")
    yield
    if old is None:
        os.environ.pop("FLASHSTACK_CACHE", None)
    else:
        os.environ["FLASHSTACK_CACHE"] = old


def custom(*sources, defines=(), bits=32, geometry=None):
    spec = BuildSpec("custom", sources=tuple(str(C / s) for s in sources), includes=(str(C),),
                     defines=tuple(defines), bits=bits)
    return CCustomTarget(build_spec=spec, **({"geometry": geometry} if geometry else {}))


def logstore(defines=(), bits=32):
    return custom("logstore.c", "logstore_custom.c", defines=defines, bits=bits)


def nvs_port(defines=()):
    spec = BuildSpec("zephyr-nvs", sources=(str(C / "logstore.c"), str(C / "logstore_nvs.c")),
                     includes=(str(C / "include"), str(C)), defines=tuple(defines))
    return CNVSTarget(build_spec=spec)


# --- the flash under the C code is SimulatedFlash's ---------------------------------------------
def _python_script(dev: SimulatedFlash) -> list:
    """tests/native/c/rawflash.c's script on a Python device: result codes."""
    def d(i):
        return bytes((0xA5 ^ (j * 17) ^ i) & 0xFF for j in range(16))

    ops = {1: lambda: dev.write(0, d(1)[:8]), 2: lambda: dev.write(0, d(2)[8:16]),
           3: lambda: dev.write(2, d(3)[:4]), 4: lambda: dev.write(16, d(4)),
           5: lambda: dev.erase(0, 1024), 6: lambda: dev.erase(4, 1024),
           7: lambda: dev.read(3 * 1024 - 4, 8), 8: lambda: dev.write(3 * 1024 - 8, d(8)),
           9: lambda: dev.write(1024, b""), 10: lambda: dev.erase(1024, 2048),
           11: lambda: dev.write(1024 + 32, d(11)[:12]), 12: lambda: dev.write(1024 + 32, d(12)[4:16])}
    out = []
    for i in range(1, 13):
        try:
            ops[i]()
            out.append(0)
        except FlashError as exc:
            out.append(-exc.errno)
    return out


@pytest.mark.parametrize("wbs,double,ev", [(1, False, 0xFF), (4, False, 0xFF), (4, True, 0xFF),
                                           (1, True, 0x00)])
def test_flash_rules_match_simulated_flash(wbs, double, ev):
    geo = PartitionGeometry.uniform(3 * 1024, 1024, write_block_size=wbs, allow_double_writes=double,
                           erase_value=ev)
    t = custom("rawflash.c", geometry=geo)
    dev, _area = t.build()
    proc = dev.boot()
    from flashstack.native import protocol as P
    got = [proc.call(P.OP_STEP, i)[0] for i in range(1, 13)]
    ref = SimulatedFlash(layout=geo.layout, write_block_size=wbs, allow_double_writes=double,
                         erase_value=ev)
    want = _python_script(ref)
    assert got == want
    assert -errno.EINVAL in got and (double or -errno.EIO in got)
    assert dev.snapshot() == ref.snapshot()
    a, b = dev.stats.snapshot(), ref.stats.snapshot()
    for k in ("bytes_read", "bytes_written", "double_writes", "flash_read_calls", "flash_write_calls",
              "flash_erase_calls", "erase_cycles"):
        assert a[k] == b[k], k


@pytest.mark.parametrize("mode,tear", [("clean", "prefix"), ("torn", "prefix"), ("torn", "bits")])
@pytest.mark.parametrize("after", [1, 2, 3, 4])
def test_cut_stops_the_c_call_and_tears_like_simulated_flash(mode, tear, after):
    geo = PartitionGeometry.uniform(3 * 1024, 1024, write_block_size=1)
    t = custom("rawflash.c", geometry=geo)
    dev, _ = t.build()
    proc = dev.boot()
    ref = SimulatedFlash(layout=geo.layout)
    from flashstack.native import protocol as P
    dev.arm_power_cut(after, mode=mode, tear=tear, seed=7)
    ref.arm_power_cut(after, mode=mode, tear=tear, seed=7)
    steps = [1, 4, 5, 11, 8]  # writes and an erase; the cut lands in the after-th of them
    with pytest.raises(PowerLoss) as c_loss:
        for i in steps:
            proc.call(P.OP_STEP, i)
    with pytest.raises(PowerLoss) as py_loss:
        for i in steps:
            _python_step(ref, i)
    assert (c_loss.value.kind, c_loss.value.offset, c_loss.value.length) == \
        (py_loss.value.kind, py_loss.value.offset, py_loss.value.length)
    assert dev.snapshot() == ref.snapshot()
    assert dev.stats.erase_cycles == ref.stats.erase_cycles
    with pytest.raises(CCodeError):  # that boot is over: the process is gone
        proc.call(P.OP_STEP, 1)


def _python_step(dev, i):
    d = bytes((0xA5 ^ (j * 17) ^ i) & 0xFF for j in range(16))
    {1: lambda: dev.write(0, d[:8]), 4: lambda: dev.write(16, d), 5: lambda: dev.erase(0, 1024),
     11: lambda: dev.write(1024 + 32, d[:12]), 8: lambda: dev.write(3 * 1024 - 8, d)}[i]()


def test_endurance_is_enforced_by_the_python_model():
    from flashstack.device import Endurance
    from flashstack.native import protocol as P
    t = custom("rawflash.c", geometry=PartitionGeometry.uniform(3 * 1024, 1024))
    dev, _ = t.build()
    dev.endurance = Endurance(rated_cycles=0)
    proc = dev.boot()
    assert proc.call(P.OP_STEP, 5)[0] == -errno.EIO  # erasing a worn-out page fails
    assert dev.stats.flash_erase_calls == 1


# --- campaigns: the correct store passes, planted defects are caught ------------------------------
def test_correct_store_survives_every_cut():
    report = run_campaign(Campaign(logstore(), workload="steps:reboot=0.1", ops=60), jobs=1)
    assert report.ok, report.failures[:3]
    assert report.cuts == 3 * report.flash_ops > 300
    assert not report.run_violations


@pytest.mark.parametrize("plant,needle", [
    ("LS_PLANT_DELETE_FIRST", "found nothing"),
    ("LS_PLANT_NO_COMMIT", "found other bytes"),
    ("LS_PLANT_RECOVERY", "found nothing"),
])
def test_planted_defects_are_caught_with_a_reproducer(plant, needle):
    ops = 120 if plant == "LS_PLANT_RECOVERY" else 40
    campaign = Campaign(logstore(defines=(plant,)), workload="steps:reboot=0.1", ops=ops)
    report = run_campaign(campaign, jobs=1)
    assert not report.ok and report.failures
    first = report.failures[0]
    assert any(needle in v for v in first.violations)
    assert f"-D {plant}" in first.reproducer and "replay c --api custom" in first.reproducer
    again = replay(campaign, first.index, first.tear)  # what the reproducer line runs
    assert again.violations == first.violations
    # the correct store passes the very same cut
    fixed = replay(Campaign(logstore(), workload="steps:reboot=0.1", ops=ops), first.index, first.tear)
    assert fixed.ok, fixed.violations


def test_worker_processes_give_the_same_report():
    campaign = Campaign(logstore(defines=("LS_PLANT_NO_COMMIT",)), workload="steps", ops=12)
    one, two = run_campaign(campaign, jobs=1), run_campaign(campaign, jobs=2)
    assert two.executor == "processes" and one.failures
    assert [(f.index, f.tear, f.violations) for f in one.failures] == \
        [(f.index, f.tear, f.violations) for f in two.failures]


def test_recovery_defect_is_found_in_a_reboot():
    campaign = Campaign(logstore(defines=("LS_PLANT_RECOVERY",)), workload="steps:reboot=0.1", ops=120)
    report = run_campaign(campaign, jobs=1)
    assert {f.op for f in report.failures} == {"reboot"}  # only an interrupted recovery breaks it


def test_reboot_gives_fresh_statics_and_crashes_are_reported():
    t = custom("crashes.c")
    _dev, area = t.build()
    store = t.mount(area)
    from flashstack.native import protocol as P
    assert store.call(P.OP_STEP, 1)[0] == 0
    again = t.mount(area)
    assert again.call(P.OP_CHECK)[0] == 0  # statics of the earlier boot are gone
    assert store.call(P.OP_CHECK)[0] != 0  # ...but the old process kept its own
    with pytest.raises(CCodeError, match="SIGSEGV"):
        store.call(P.OP_STEP, 2)
    with pytest.raises(CCodeError, match="exited"):
        t.mount(area).call(P.OP_STEP, 3)


def test_a_copy_keeps_the_ram_state_of_its_moment():
    import copy

    from flashstack.native import protocol as P
    t = custom("crashes.c")
    _dev, area = t.build()
    live = t.mount(area)
    live.call(P.OP_STEP, 1)
    checkpoint = copy.deepcopy(live)  # as the engine freezes a store before a step
    live.call(P.OP_STEP, 1)
    cut_a, cut_b = copy.deepcopy(checkpoint), copy.deepcopy(checkpoint)  # thawed per cut
    assert cut_a.call(P.OP_STEP, 5)[0] == 1 and cut_a.call(P.OP_STEP, 5)[0] == 2
    assert cut_b.call(P.OP_STEP, 5)[0] == 1  # a second copy starts from the same state
    assert live.call(P.OP_STEP, 5)[0] == 2


def test_hung_c_code_is_reported(monkeypatch):
    from flashstack.native import machine
    from flashstack.native import protocol as P
    monkeypatch.setattr(machine, "CALL_TIMEOUT_S", 0.5)
    t = custom("crashes.c")
    _dev, area = t.build()
    store = t.mount(area)
    with pytest.raises(CCodeError, match="hung"):
        store.call(P.OP_STEP, 4)


def test_64_bit_build_passes_too():
    if compiler_problem(64):
        pytest.skip(compiler_problem(64))
    report = run_campaign(Campaign(logstore(bits=64), workload="steps", ops=25), jobs=1)
    assert report.ok and report.cuts > 100


# --- a C port of a known API: --api zephyr-nvs and --compare-model -------------------------------
def test_nvs_api_port_passes_with_the_gc_exercise():
    report = run_campaign(Campaign(nvs_port(), workload="mixed", ops=40, gc_check=0.25), jobs=1)
    assert report.ok, report.failures[:3]
    assert report.gc_checked > 0


def test_nvs_api_port_with_a_planted_defect_fails():
    report = run_campaign(Campaign(nvs_port(("LS_PLANT_DELETE_FIRST",)), workload="hotkey", ops=30,
                                   gc_check=0.0), jobs=1)
    assert not report.ok
    assert "neither its old nor its new value" in report.failures[0].violations[0]


def test_compare_model_agrees_with_a_byte_compatible_twin(tmp_path):
    from flashstack.native.compare import compare_model
    res = compare_model(Campaign(nvs_port(), workload="mixed", ops=40), LogTwinTarget(), save=tmp_path)
    assert res.ok and res.steps == 41 and res.cuts > 300
    assert not list(tmp_path.iterdir())


def test_compare_model_reports_the_first_difference_with_both_images(tmp_path):
    from flashstack.native.compare import compare_model
    from flashstack.torture.targets.nvs import NVSTarget
    # the log store is not NVS: the very first mount already writes different flash
    res = compare_model(Campaign(nvs_port(), workload="mixed", ops=10), NVSTarget(), save=tmp_path)
    d = res.difference
    assert d is not None and d.step == 0 and "flash operations" in d.detail
    c_img = (tmp_path / "c.bin").read_bytes()
    m_img = (tmp_path / "model.bin").read_bytes()
    assert c_img != m_img and c_img[d.offset] == d.c_byte and m_img[d.offset] == d.model_byte
    assert json.loads((tmp_path / "difference.json").read_text())["step"] == 0


def test_compare_model_catches_a_changed_byte_after_a_cut(tmp_path):
    from flashstack.native.compare import compare_model
    # the planted defect writes a delete record first: same store, different bytes from step 2 on
    res = compare_model(Campaign(nvs_port(("LS_PLANT_DELETE_FIRST",)), workload="hotkey", ops=20),
                        LogTwinTarget(), save=tmp_path)
    assert not res.ok and res.difference.step >= 1
    assert (tmp_path / "c.bin").exists() and (tmp_path / "model.bin").exists()


def test_zms_api_port_passes_and_differs_from_flashstack_zms(tmp_path):
    from flashstack.native.compare import compare_model
    from flashstack.native.targets import CZMSTarget
    from flashstack.torture.targets.zms import ZMSTarget
    spec = BuildSpec("zephyr-zms", sources=(str(C / "logstore.c"), str(C / "logstore_zms.c")),
                     includes=(str(C / "include"), str(C)))
    report = run_campaign(Campaign(CZMSTarget(build_spec=spec), workload="mixed", ops=30,
                                   gc_check=0.25), jobs=1)
    assert report.ok, (report.failures[:3], report.run_violations[:3])
    # the log store is not ZMS: compared with flashstack's ZMS, the images differ
    res = compare_model(Campaign(CZMSTarget(build_spec=spec), workload="mixed", ops=10),
                        ZMSTarget(), save=tmp_path)
    assert not res.ok and (tmp_path / "model.bin").exists()


# --- AliOS-Things: the KV API and the kernel shim --------------------------------------------------
def test_alios_kv_api_port_passes_with_prefix_deletes():
    spec = BuildSpec("alios-kv", sources=(str(C / "logstore.c"), str(C / "logstore_aos.c")),
                     includes=(str(C),))
    from flashstack.native.targets import CKVTarget
    campaign = Campaign(CKVTarget(build_spec=spec), workload="mixed:prefix=0.1", ops=40, gc_check=0.25)
    assert any(op[0] == "delp" for op in campaign.steps())
    report = run_campaign(campaign, jobs=1)
    assert report.ok, (report.failures[:3], report.run_violations[:3])
    assert report.gc_checked > 0


def test_aos_task_runs_after_the_call_returns_or_when_the_caller_waits():
    from flashstack.native import protocol as P
    t = custom("aos_tasks.c")
    _dev, area = t.build()
    store = t.mount(area)
    assert store.call(P.OP_STEP, 1)[0] == 0  # created, not run inside aos_task_new_ext
    assert store.call(P.OP_STEP, 2)[0] == 1  # ran once the call had returned
    fresh = t.mount(area)
    assert fresh.call(P.OP_STEP, 3)[0] == 1  # waiting on its semaphore ran it


# --- MicroEJ feature storage: --api llkernel ------------------------------------------------------
def test_llkernel_api_port_passes_on_the_mapped_kf_region():
    from flashstack.native.targets import CFeatureTarget
    spec = BuildSpec("llkernel", sources=(str(C / "mini_llkernel.c"),))
    target = CFeatureTarget(build_spec=spec).with_c_ram()
    assert target.ram_size == 16384 and target.ram_base % 256 == 0
    dev, area = target.build()
    store = target.mount(area)
    h = store.allocate_feature(300, 40)
    assert h == 0x90000000  # the handle is the absolute slot address (KF region mapped there)
    assert store.copy_to_rom(h + 32, b"x" * 300) == 0 and store.flush_copy_to_rom() == 0
    [f] = target.mount(area).features()  # after a reboot, read from the header in flash
    assert (f.rom_size, f.ram_size, f.rom_address) == (300, 40, h + 32)
    report = run_campaign(Campaign(target, workload="churn", ops=6, gc_check=0.3), jobs=1)
    assert report.ok, (report.failures[:3], report.run_violations[:3])
    assert any(note.startswith("install interrupted") for note in report.notes)


# --- building -------------------------------------------------------------------------------------
def test_helper_is_cached_and_rebuilt_when_a_header_changes(tmp_path):
    src = tmp_path / "s.c"
    hdr = tmp_path / "v.h"
    hdr.write_text("#define V 1\n")
    src.write_text('#include "v.h"\n#include <flashstack/custom.h>\nint fs_boot(void){return 0;}\n'
                   "int fs_step(int i){return i * 0 + V - 1;}\nint fs_check(void){return 0;}\n")
    spec = BuildSpec("custom", sources=(str(src),), includes=(str(tmp_path),))
    exe = build_helper(spec)
    mtime = exe.stat().st_mtime_ns
    assert build_helper(spec) == exe and exe.stat().st_mtime_ns == mtime
    hdr.write_text("#define V 2\n")
    assert build_helper(spec) == exe and exe.stat().st_mtime_ns != mtime


def test_compile_errors_name_file_and_line(tmp_path):
    src = tmp_path / "broken.c"
    src.write_text("int fs_boot(void) { return nope; }\n")
    with pytest.raises(FlashError) as exc:
        build_helper(BuildSpec("custom", sources=(str(src),)))
    assert exc.value.errno == errno.EINVAL and "broken.c:1" in str(exc.value)


def test_without_a_compiler_the_error_says_so(monkeypatch):
    from flashstack.native import build
    with pytest.raises(NotSupported, match="no C compiler"):
        build_helper(BuildSpec("custom", sources=(str(C / "rawflash.c"),), compiler="no-such-cc"))
    assert build.compiler_problem(32, "no-such-cc").startswith("no C compiler")
