"""Every reference case of vectors/llkernel (KERNEL-FLASH 1.0.3) under the README's comparison
rules and spec §17: same handles, addresses, counts, return codes, header bytes (reserved word
don't-care; feature_index against its allocation-time value) and content; masked region hashes."""

from __future__ import annotations

import gzip
import hashlib
import json
import struct
from pathlib import Path

import pytest

from flashstack.device import SimulatedFlash
from flashstack.flash_map import FlashArea
from flashstack.llkernel import FeatureStore, USED_MAGIC
from flashstack.llkernel import capi as L

DATA = Path(__file__).resolve().parent.parent / "data" / "llkernel"
CASES = json.loads((DATA / "index.json").read_text())["cases"]


def _bin(name):
    with gzip.open(DATA / f"{name}.gz") as f:
        return f.read()


def _open(cfg, image=None):
    dev = SimulatedFlash(cfg["kf_size"], erase_page_size=cfg["subsector_size"],
                         program_page_size=cfg["page_size"], name="kf")
    if image is not None:
        dev.restore(image)
    area = FlashArea(0, 0, cfg["kf_size"], dev, label="kf_partition", address=cfg["kf_start"])
    store = FeatureStore(area, max_features=cfg["max_features"], ram_base=cfg["ram_buffer_address"],
                         ram_size=cfg["ram_buffer_size"], ram_align=cfg["ram_align"])
    return dev, area, store


def _masked(image: bytes, kf_start: int, ranges) -> bytes:
    img = bytearray(image)
    for s, e in ranges:
        img[s - kf_start:e - kf_start] = b"\xff" * (e - s)
    return bytes(img)


class Replay:
    """Runs one case through the seed API and checks every result."""

    def __init__(self, case):
        self.case = case
        self.cfg = cfg = case["config"]
        self.kf = cfg["kf_start"]
        self.slot_size = cfg["slot_size"]
        initial = _bin(case["initial_image"]) if case["initial_image"] else None
        if initial is not None:
            assert hashlib.sha256(initial).hexdigest() == case["initial_image_sha256"]
        self.dev, self.area, self.store = _open(cfg, initial)
        # Allocation-time feature_index per slot (LLK-11), and whether the reference may have
        # renumbered that header since (a count/reboot after its allocation).
        self.alloc_index: dict[int, int] = {}
        self.may_renumber: dict[int, bool] = {}
        self.live: set[int] = set()
        for slot in range(cfg["max_features"]):
            w = struct.unpack_from("<8I", initial or b"\xff" * 32, slot * self.slot_size if initial else 0)
            if initial and w[0] == USED_MAGIC:
                self.alloc_index[slot] = w[6]
                self.may_renumber[slot] = False
                self.live.add(slot)
        self.written: set[int] = set()        # headers this replay programmed
        self.ref_index: dict[int, int] = {}   # the reference's index words at the last expect_headers

    def slot_of(self, handle: int) -> int | None:
        off = (handle & 0xFFFFFFFF) - self.kf
        if off < 0 or off % self.slot_size or off // self.slot_size >= self.cfg["max_features"]:
            return None
        return off // self.slot_size

    def _freed(self, handle):
        self.live.discard(self.slot_of(handle))

    def run(self):
        for i, step in enumerate(self.case["steps"]):
            getattr(self, "op_" + step["op"])(step, f"step {i} {step['op']} {step.get('note', '')}")

    # --- API steps ------------------------------------------------------------------
    def op_count(self, s, where):
        assert L.LLKERNEL_IMPL_getAllocatedFeaturesCount(store=self.store) == s["result"], where
        for slot in self.live:
            self.may_renumber[slot] = True

    def op_reboot(self, s, where):
        cfg = self.cfg  # a new store on the same flash: all RAM state dropped
        self.store = FeatureStore(self.area, max_features=cfg["max_features"],
                                  ram_base=cfg["ram_buffer_address"], ram_size=cfg["ram_buffer_size"],
                                  ram_align=cfg["ram_align"])
        self.op_count(s, where)

    def op_allocate(self, s, where):
        h = L.LLKERNEL_IMPL_allocateFeature(s["size_rom"], s["size_ram"], store=self.store)
        assert h == s["handle"], where
        if h:
            assert L.LLKERNEL_IMPL_getFeatureAddressROM(h, store=self.store) == s["rom_address"], where
            assert L.LLKERNEL_IMPL_getFeatureAddressRAM(h, store=self.store) == s["ram_address"], where
            slot = self.slot_of(h)
            self.alloc_index[slot] = len(self.live)
            self.may_renumber[slot] = False
            self.live.add(slot)
            self.written.add(slot)

    def op_copy(self, s, where):
        data = bytes.fromhex(s["data_hex"])
        size = s.get("size", len(data))
        assert L.LLKERNEL_IMPL_copyToROM(s["dest"], data, size, store=self.store) == s["rc"], where

    def op_flush(self, s, where):
        assert L.LLKERNEL_IMPL_flushCopyToROM(store=self.store) == s["rc"], where

    def op_free(self, s, where):
        assert L.LLKERNEL_IMPL_freeFeature(s["handle"], store=self.store) is None
        self._freed(s["handle"])

    def op_handle(self, s, where):
        assert L.LLKERNEL_IMPL_getFeatureHandle(s["index"], store=self.store) == s["result"], where

    def op_address_rom(self, s, where):
        assert (L.LLKERNEL_IMPL_getFeatureAddressROM(s["handle"], store=self.store) or 0) == s["result"], where

    def op_address_ram(self, s, where):
        assert (L.LLKERNEL_IMPL_getFeatureAddressRAM(s["handle"], store=self.store) or 0) == s["result"], where

    def op_init_error(self, s, where):
        rc = L.LLKERNEL_IMPL_onFeatureInitializationError(s["handle"], s["code"], store=self.store)
        assert rc == s["result"], where
        if s["code"] in (1, 2, 5):
            self._freed(s["handle"])

    # --- checks -----------------------------------------------------------------------
    def op_expect_headers(self, s, where):
        self.ref_index = {}
        for exp in s["slots"]:
            slot, addr = exp["slot"], exp["address"]
            assert addr == self.kf + slot * self.slot_size, where
            ours = self.dev.read(addr - self.kf, 32)
            want = bytes.fromhex(exp["header_hex"])
            if exp["state"] != "used":
                assert ours == want, f"{where}: slot {slot} {ours.hex()} != {want.hex()}"
                continue
            assert ours[:24] == want[:24], f"{where}: slot {slot} {ours.hex()} != {want.hex()}"
            ours_index = struct.unpack_from("<I", ours, 24)[0]
            ref_index = struct.unpack_from("<I", want, 24)[0]
            assert ref_index == exp["fields"]["feature_index"]
            assert ours_index == self.alloc_index[slot], f"{where}: slot {slot} index {ours_index}"
            if ref_index != ours_index:  # only where the reference renumbered (§17)
                assert self.may_renumber[slot], f"{where}: slot {slot} differs without a renumbering"
            if slot in self.written:
                assert ours[28:] == b"\xff" * 4, f"{where}: reserved word must stay erased"
            self.ref_index[slot] = ref_index

    def op_expect_content(self, s, where):
        for r in s["ranges"]:
            data = self.dev.read(r["address"] - self.kf, r["length"])
            assert hashlib.sha256(data).hexdigest() == r["content_sha256"], f"{where}: slot {r['slot']}"
            assert r["rom_address"] == L.LLKERNEL_IMPL_getFeatureAddressROM(r["handle"], store=self.store)

    def _image_for_compare(self) -> bytes:
        """Our image with the index word of renumbered headers set to the reference's value."""
        img = bytearray(self.dev.snapshot())
        for slot, idx in self.ref_index.items():
            off = slot * self.slot_size + 24
            img[off:off + 4] = struct.pack("<I", idx)
        return bytes(img)

    def op_expect_region_sha256(self, s, where):
        assert hashlib.sha256(self._image_for_compare()).hexdigest() == s["sha256"], where

    def op_expect_region_masked(self, s, where):
        img = _masked(self._image_for_compare(), self.kf, s["dont_care"])
        assert hashlib.sha256(img).hexdigest() == s["sha256_masked"], where

    def op_expect_features(self, s, where):
        got = [f.to_json() for f in self.store.features()]
        want = s["features"]
        assert len(got) == len(want), where
        for g, w in zip(got, want):
            assert g["handle_int32"] == w["handle"], where
            for k in ("index", "slot", "rom_address", "rom_size", "ram_address", "ram_size",
                      "nb_subsectors"):
                assert g[k] == w[k], f"{where}: {k}"


@pytest.mark.parametrize("name", [c["name"] for c in CASES])
def test_llkernel_vector_case(name):
    case = json.loads((DATA / f"{name}.json").read_text())
    rp = Replay(case)
    rp.run()
    # Final image: byte-for-byte equal to the reference's, don't-care bytes masked (64 KiB cases).
    if case["final_image"]:
        ref = _bin(case["final_image"])
        assert hashlib.sha256(ref).hexdigest() == case["final_image_sha256"]
        ours = _masked(rp._image_for_compare(), rp.kf, case["final_dont_care"])
        theirs = _masked(ref, rp.kf, case["final_dont_care"])
        if ours != theirs:
            diff = next(i for i in range(len(ours)) if ours[i] != theirs[i])
            pytest.fail(f"{name}: final image differs first at {rp.kf + diff:#x}")
        assert hashlib.sha256(theirs).hexdigest() == case["final_masked_sha256"]
    # No operation wrote the reserved word or padded with anything but 0xFF.
    for slot in rp.live & rp.written:
        assert rp.dev.read(slot * rp.slot_size + 28, 4) == b"\xff" * 4


def test_llkernel_vectors_all_listed():
    names = {p.name[:-5] for p in DATA.glob("*.json")} - {"index"}
    assert names == {c["name"] for c in CASES} and len(CASES) == 27
