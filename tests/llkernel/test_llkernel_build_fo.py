"""`build` installs a `.fo` exactly as `feature install` does (issue 10): ROM = the ELF's
unrelocated ROM sections, RAM = its RAM upper bound, never the raw ELF bytes."""

from __future__ import annotations

import json

from flashstack.build import build
from flashstack.llkernel.fo import feature_input, read_fo

MANIFEST = """\
[partitions.kf_partition]
type = "llkernel"
max_features = 8
ram_base = 0x20000000
[[partitions.kf_partition.features]]
file = "app.fo"
"""


def test_build_installs_a_fo_like_feature_install(tmp_path, make_fo):
    fo = make_fo(tmp_path / "app.fo")
    (tmp_path / "manifest.toml").write_text(MANIFEST)
    result = build(tmp_path / "manifest.toml", tmp_path / "out")
    size, rom = read_fo(fo)
    assert rom[:4] != b"\x7fELF" and (rom, size.ram_upper, {"fo": size.to_json()}) == feature_input(fo)
    record = json.loads((tmp_path / "out" / "build.json").read_text())
    kf = next(p for p in record["partitions"] if p["label"] == "kf_partition")
    (feat,) = kf["content"]["features"]
    assert feat["rom_size"] == len(rom) and feat["ram_size"] == size.ram_upper
    qspi = result.images["qspi0"]
    assert qspi[32:32 + len(rom)] == rom   # after the 32-byte header of slot 0


def test_a_given_ram_size_wins_and_a_blob_stays_raw(tmp_path, make_fo):
    fo = make_fo(tmp_path / "app.fo")
    rom, ram, _ = feature_input(fo, 12)
    assert ram == 12 and rom == read_fo(fo)[1]
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\x11" * 40)
    assert feature_input(blob) == (b"\x11" * 40, 0, {})
