"""Replay every Zephyr NVS reference case (vectors/zephyr-nvs, copied to tests/data).

Each step goes through the seed functions of ``flashstack.nvs.capi`` on a SimulatedFlash
that rejects double writes; return codes, read bytes, image SHA-256 and write pointers must
match. ``quirk`` cases are the reference's defects: flashstack must instead reproduce their
``fixed`` companions, and must differ from the quirk somewhere (README "Variants").
"""

from __future__ import annotations

import errno
import hashlib


from flashstack.device import SimulatedFlash
from flashstack.errors import PowerLoss
from flashstack.flash_map import FlashArea
from flashstack.nvs import Ate, Geometry
from flashstack.nvs.capi import (NvsFs, nvs_calc_free_space, nvs_clear, nvs_delete, nvs_mount,
                                   nvs_read, nvs_read_hist, nvs_sector_max_data_size,
                                   nvs_sector_use_next, nvs_write)

LINUX_ERRNO = {2: "ENOENT", 5: "EIO", 6: "ENXIO", 13: "EACCES", 22: "EINVAL", 28: "ENOSPC",
               29: "ESPIPE", 35: "EDEADLK"}


def rc_name(rc: int):
    """A vector code in the host's numbering: errors are matched by name (Linux numbers there)."""
    return rc if rc >= 0 else -getattr(errno, LINUX_ERRNO[-rc])


def our_rc(rc: int):
    return rc


class Replayer:
    def __init__(self, case: dict):
        g = case["geometry"]
        self.g = g
        self.S, self.N = g["sector_size"], g["sector_count"]
        self.dev = SimulatedFlash(self.S * self.N, erase_page_size=g["erase_page_size"],
                                  write_block_size=g["write_block_size"],
                                  erase_value=g["erase_value"], allow_double_writes=False)
        self.area = FlashArea(0, g["partition_offset"], self.S * self.N, self.dev, label="storage")
        self.fs = NvsFs(self.area, 0, self.S, self.N, data_crc=g["data_crc"])
        self.used_ids: set[int] = set()
        self.failures: list[str] = []

    # -- helpers
    def sha(self) -> str:
        return hashlib.sha256(self.dev.snapshot()).hexdigest()

    def wra(self):
        st = self.fs.store
        return [st.ate_wra, st.data_wra]

    def check(self, i, what, got, want):
        if got != want:
            self.failures.append(f"step {i} {what}: got {got!r}, want {want!r}")

    def new_fs(self):
        self.fs = NvsFs(self.area, 0, self.S, self.N, data_crc=self.g["data_crc"])
        return self.fs

    def full_len(self):
        a = Geometry(self.S, self.N, self.g["write_block_size"], 0xFF, 0).A
        return self.S - 2 * a

    def call(self, op: dict) -> int:
        kind = op["op"]
        if "id" in op:
            self.used_ids.add(op["id"])
        if kind == "write":
            v = bytes.fromhex(op["value_hex"])
            return nvs_write(self.fs, op["id"], v, len(v))
        if kind == "delete":
            return nvs_delete(self.fs, op["id"])
        if kind == "sector_use_next":
            return nvs_sector_use_next(self.fs)
        raise AssertionError(kind)

    # -- steps
    def run(self, case: dict) -> list[str]:
        for i, step in enumerate(case["steps"]):
            getattr(self, "op_" + step["op"])(i, step)
            if "image_sha256" in step:
                self.check(i, f"{step['op']} image", self.sha(), step["image_sha256"])
            if "wra" in step:
                self.check(i, f"{step['op']} wra", self.wra(), step["wra"])
            if len(self.failures) > 5:
                break
        return self.failures

    def op_mount(self, i, step):
        self.check(i, "mount rc", our_rc(nvs_mount(self.new_fs())), rc_name(step["rc"]))

    op_remount = op_mount

    def op_write(self, i, step):
        self.check(i, f"write {step['id']} rc", our_rc(self.call(step)), rc_name(step["rc"]))

    def op_delete(self, i, step):
        self.check(i, f"delete {step['id']} rc", our_rc(self.call(step)), rc_name(step["rc"]))

    def _read(self, i, step, cnt):
        self.used_ids.add(step["id"])
        buf = bytearray(step["len"])
        if cnt is None:
            rc = nvs_read(self.fs, step["id"], buf, step["len"])
        else:
            rc = nvs_read_hist(self.fs, step["id"], buf, step["len"], cnt)
        self.check(i, f"read {step['id']}/{cnt} rc", our_rc(rc), rc_name(step["rc"]))
        if rc >= 0 and step["value_hex"] is not None:
            self.check(i, f"read {step['id']} value", buf[:min(rc, step['len'])].hex(),
                       step["value_hex"])

    def op_read(self, i, step):
        self._read(i, step, None)

    def op_read_hist(self, i, step):
        self._read(i, step, step["cnt"])

    def op_calc_free_space(self, i, step):
        self.check(i, "free space", our_rc(nvs_calc_free_space(self.fs)), rc_name(step["rc"]))

    def op_sector_max_data_size(self, i, step):
        # a signed size: -8 / -4 are sizes, -13 is -EACCES (Linux number, as on this host)
        self.check(i, "sector_max_data_size", nvs_sector_max_data_size(self.fs), step["rc"])

    def op_sector_use_next(self, i, step):
        self.check(i, "sector_use_next rc", our_rc(self.call(step)), rc_name(step["rc"]))

    def op_clear(self, i, step):
        self.check(i, "clear rc", our_rc(nvs_clear(self.fs)), rc_name(step["rc"]))

    def op_raw_write(self, i, step):
        img = bytearray(self.dev.snapshot())
        for k, b in enumerate(bytes.fromhex(step["value_hex"])):
            img[step["offset"] + k] &= b
        self.dev.restore(bytes(img))

    def _arm(self, cut):
        torn = cut["torn_bytes"]
        self.dev.arm_power_cut(after=cut["cut_at_flash_op"] + 1,
                               mode="clean" if torn is None else "torn", tear="prefix", keep=torn)

    def op_power_cut(self, i, step):
        self._arm(step)
        try:
            self.call(step["during"])
        except PowerLoss:
            pass
        else:
            self.failures.append(f"step {i}: the power cut did not happen")
        self.check(i, "image at cut", self.sha(), step["image_sha256_at_cut"])
        self.dev.power_restore()
        for k, cut in enumerate(step.get("reboot_cuts", ())):
            self._arm(cut)
            try:
                nvs_mount(self.new_fs())
            except PowerLoss:
                pass
            else:
                self.failures.append(f"step {i}: reboot cut {k} did not happen")
            self.check(i, f"image at reboot cut {k}", self.sha(), cut["image_sha256_at_cut"])
            self.dev.power_restore()
        self.check(i, "reboot rc", our_rc(nvs_mount(self.new_fs())), rc_name(step["reboot_rc"]))
        self.check(i, "image after reboot", self.sha(), step["image_sha256_after_reboot"])

    def op_expect_all(self, i, step):
        ids = set(self.used_ids)
        img = self.dev.snapshot()
        geo = Geometry(self.S, self.N, self.g["write_block_size"], 0xFF, 0)
        for s in range(self.N):
            for off in range(0, self.S, geo.A):
                a = Ate.unpack(img[s * self.S + off:s * self.S + off + 8])
                if a.crc_ok and a.id != 0xFFFF:
                    ids.add(a.id)
        items, errors = {}, {}
        for id_ in sorted(ids):
            buf = bytearray(self.full_len())
            rc = nvs_read(self.fs, id_, buf, len(buf))
            if rc >= 0:
                items[str(id_)] = bytes(buf[:rc]).hex()
            elif rc != -errno.ENOENT:
                errors[str(id_)] = our_rc(rc)
        self.check(i, "expect_all items", items, step["items"])
        want_err = {k: rc_name(v) for k, v in step.get("read_errors", {}).items()}
        self.check(i, "expect_all read errors", errors, want_err)
        st = self.fs.store
        if st is not None and st.mounted and not want_err:
            self.check(i, "items()", {str(k): v.hex() for k, v in st.items()}, step["items"])


def replay(case: dict) -> tuple[list[str], bytes]:
    r = Replayer(case)
    return r.run(case), r.dev.snapshot()


def test_nvs_vector(vector_name, vectors):
    case = vectors.load(vector_name)
    failures, image = replay(case)
    if case["variant"] == "quirk":
        # flashstack fixes the defect: the reference's behaviour must NOT be reproduced;
        # the fixed companion (same calls) is asserted in full by its own case.
        fixed = vector_name.replace("_quirk_", "_fixed_")
        assert fixed in vectors.names()
        assert failures, f"{vector_name}: flashstack reproduced the reference defect"
        assert vectors.load(fixed)["steps"].__len__() == len(case["steps"])
        return
    assert not failures, "\n".join(failures)
    final = vectors.bin(case["final_image"])
    assert hashlib.sha256(image).hexdigest() == hashlib.sha256(final).hexdigest()
