"""Replay of one Zephyr ZMS reference case (tests/data/zephyr-zms, README there).

Each step goes through the seed functions of ``flashstack.zms.capi`` (and the Settings
backend for ``s`` cases) on a SimulatedFlash that rejects double writes; return codes, read
bytes, image SHA-256, write pointers and cycles must match. After every step the RAM index
must equal a fresh walk (ZMS-29).
"""

from __future__ import annotations

import errno
import hashlib

from flashstack.device import SimulatedFlash
from flashstack.errors import PowerLoss
from flashstack.flash_map import FlashArea
from flashstack.zms import Geometry
from flashstack.zms.capi import (
    ZmsFs,
    zms_active_sector_free_space,
    zms_calc_free_space,
    zms_clear,
    zms_delete,
    zms_get_data_length,
    zms_mount,
    zms_read,
    zms_read_hist,
    zms_sector_use_next,
    zms_write,
)


class Replayer:
    def __init__(self, case: dict, allow_double_writes: bool = False):
        g = case["geometry"]
        self.case = case
        self.g, self.cfg = g, case["config"]
        self.S, self.N = g["sector_size"], g["sector_count"]
        self.X = g["explicit_erase"]
        self.dev = SimulatedFlash(self.S * self.N, erase_page_size=g["erase_page_size"],
                                  write_block_size=g["write_block_size"],
                                  erase_value=g["erase_value"], explicit_erase=self.X,
                                  allow_double_writes=allow_double_writes)
        self.area = FlashArea(0, g["partition_offset"], self.S * self.N, self.dev,
                              label="storage")
        self.geo = Geometry(self.S, self.N, g["write_block_size"], g["erase_value"], self.X,
                            self.cfg["data_crc"], self.cfg["id_64bit"])
        self.fs = self.new_fs()
        self.settings = None
        self.used_ids: set[int] = set()
        self.failures: list[str] = []

    def new_fs(self) -> ZmsFs:
        c = self.cfg
        self.fs = ZmsFs(self.area, 0, self.S, self.N, data_crc=c["data_crc"],
                        id_64bit=c["id_64bit"], no_double_write=c["no_double_write"])
        return self.fs

    def sha(self) -> str:
        return hashlib.sha256(self.dev.snapshot()).hexdigest()

    def check(self, i, what, got, want):
        if got != want:
            self.failures.append(f"step {i} {what}: got {got!r}, want {want!r}")

    def zfs(self) -> ZmsFs:
        return self.settings.fs if self.settings is not None else self.fs

    def run(self) -> list[str]:
        if self.case.get("initial_image"):
            from .conftest import load_vector_bin
            self.dev.restore(load_vector_bin(self.case["initial_image"]))
        for i, step in enumerate(self.case["steps"]):
            getattr(self, "op_" + step["op"])(i, step)
            if "image_sha256" in step:
                self.check(i, f"{step['op']} image", self.sha(), step["image_sha256"])
            st = self.zfs().store
            if "wra" in step and st is not None and st.mounted:
                self.check(i, f"{step['op']} wra", [st.ate_wra, st.data_wra], step["wra"])
            if "cycle" in step and st is not None and st.mounted:
                self.check(i, f"{step['op']} cycle", st.sector_cycle, step["cycle"])
            if st is not None and st.mounted and not st.failed \
                    and not st.index_matches_walk():
                self.failures.append(f"step {i}: RAM index differs from the walk")
            if len(self.failures) > 5:
                break
        return self.failures

    # --- calls ---------------------------------------------------------------------
    def call(self, op: dict) -> int:
        kind = op["op"]
        if "id" in op:
            self.used_ids.add(op["id"])
        if kind == "write":
            v = bytes.fromhex(op["value_hex"])
            return zms_write(self.fs, op["id"], v, len(v))
        if kind == "delete":
            return zms_delete(self.fs, op["id"])
        if kind == "sector_use_next":
            return zms_sector_use_next(self.fs)
        if kind == "settings_save":
            return self.settings.save(op["name"], bytes.fromhex(op["value_hex"]))
        if kind == "settings_delete":
            return self.settings.save(op["name"], b"")
        raise AssertionError(kind)

    def reboot(self) -> int:
        if self.settings is not None:
            return self.settings_reboot()
        return zms_mount(self.new_fs())

    # --- steps -------------------------------------------------------------------
    def op_mount(self, i, step):
        self.check(i, "mount rc", zms_mount(self.new_fs()), step["rc"])

    op_remount = op_mount

    def op_write(self, i, step):
        self.check(i, f"write {step['id']} rc", self.call(step), step["rc"])

    def op_delete(self, i, step):
        self.check(i, f"delete {step['id']} rc", self.call(step), step["rc"])

    def _read(self, i, step, cnt):
        self.used_ids.add(step["id"])
        buf = bytearray(step["len"])
        if cnt is None:
            rc = zms_read(self.fs, step["id"], buf, step["len"])
        else:
            rc = zms_read_hist(self.fs, step["id"], buf, step["len"], cnt)
        self.check(i, f"read {step['id']}/{cnt} rc", rc, step["rc"])
        if rc >= 0 and step["value_hex"] is not None:
            self.check(i, f"read {step['id']} value", buf[:min(rc, step["len"])].hex(),
                       step["value_hex"])

    def op_read(self, i, step):
        self._read(i, step, None)

    def op_read_hist(self, i, step):
        self._read(i, step, step["cnt"])

    def op_get_data_length(self, i, step):
        self.used_ids.add(step["id"])
        self.check(i, "get_data_length", zms_get_data_length(self.fs, step["id"]), step["rc"])

    def op_calc_free_space(self, i, step):
        self.check(i, "free space", zms_calc_free_space(self.fs), step["rc"])

    def op_active_sector_free_space(self, i, step):
        self.check(i, "active sector free space", zms_active_sector_free_space(self.fs),
                   step["rc"])

    def op_sector_use_next(self, i, step):
        self.check(i, "sector_use_next rc", self.call(step), step["rc"])

    def op_clear(self, i, step):
        self.check(i, "clear rc", zms_clear(self.fs), step["rc"])

    def op_raw_write(self, i, step):
        img = bytearray(self.dev.snapshot())
        for k, b in enumerate(bytes.fromhex(step["value_hex"])):
            off = step["offset"] + k
            img[off] = img[off] & b if self.X else b
        self.dev.restore(bytes(img))

    def _arm(self, cut):
        torn = cut["torn_bytes"]
        if torn is not None and cut["cut_flash_op"]["length"] <= torn:
            torn = None  # README: a tear only applies to a write longer than k bytes
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
                self.reboot()
            except PowerLoss:
                pass
            else:
                self.failures.append(f"step {i}: reboot cut {k} did not happen")
            self.check(i, f"image at reboot cut {k}", self.sha(), cut["image_sha256_at_cut"])
            self.dev.power_restore()
        self.check(i, "reboot rc", self.reboot(), step["reboot_rc"])
        self.check(i, "image after reboot", self.sha(), step["image_sha256_after_reboot"])
        if "backend" in step:
            self.check(i, "backend", self.settings.state(), step["backend"])

    def op_expect_all(self, i, step):
        ids = set(self.used_ids)
        img = self.dev.snapshot()
        geo = self.geo
        for s in range(self.N):
            for off in range(0, self.S, geo.A):
                a = geo.parse(img[s * self.S + off:s * self.S + off + 16])
                if a.crc_ok and a.id != geo.head:
                    ids.add(a.id)
        fs = self.zfs()
        items, errors = {}, {}
        for id_ in sorted(ids):
            buf = bytearray(geo.maxlen)
            rc = zms_read(fs, id_, buf, len(buf))
            if rc >= 0:
                items[str(id_)] = bytes(buf[:rc]).hex()
            elif rc != -errno.ENOENT:
                errors[str(id_)] = rc
        self.check(i, "expect_all items", items, step["items"])
        self.check(i, "expect_all read errors", errors, step.get("read_errors", {}))
        st = fs.store
        if st is not None and st.mounted and not errors:
            self.check(i, "items()", {str(k): v.hex() for k, v in st.items()}, step["items"])

    # --- Settings steps (s cases) ----------------------------------------------------
    def settings_reboot(self) -> int:
        from flashstack.zms.settings import ZmsSettingsBackend
        self.settings = ZmsSettingsBackend(self.area)
        return self.settings.init()

    def op_settings_init(self, i, step):
        self.check(i, "settings_init rc", self.settings_reboot(), step["rc"])
        self.check(i, "backend", self.settings.state(), step["backend"])

    def op_settings_save(self, i, step):
        self.check(i, f"save {step['name']} rc", self.call(step), step["rc"])
        if "backend" in step:
            self.check(i, "backend", self.settings.state(), step["backend"])
        if "ids" in step:
            self.check(i, "ids", self.settings.ids_of(step["name"]), step["ids"])

    def op_settings_delete(self, i, step):
        self.check(i, f"delete {step['name']} rc", self.call(step), step["rc"])
        if "backend" in step:
            self.check(i, "backend", self.settings.state(), step["backend"])

    def op_settings_load(self, i, step):
        got = [[n, v.hex()] for n, v in self.settings.load()]
        self.check(i, "load", got, step["items"])

    def op_settings_load_one(self, i, step):
        rc, data = self.settings.load_one(step["name"], step["len"])
        self.check(i, f"load_one {step['name']} rc", rc, step["rc"])
        if rc >= 0 and step.get("value_hex") is not None:
            self.check(i, "load_one value", data[:min(rc, step["len"])].hex(), step["value_hex"])


def replay(case: dict, allow_double_writes: bool = False) -> tuple[list[str], bytes]:
    r = Replayer(case, allow_double_writes)
    return r.run(), r.dev.snapshot()
