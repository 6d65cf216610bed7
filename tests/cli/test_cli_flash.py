"""``flashstack flash read / write / erase`` on image files, with the device's NOR rules."""

import json

STORAGE = 0x1E000   # storage_partition on flash0
LFS = 0x400000      # lfs_partition on qspi0


def _flash0(img):
    return (img / "flash0.bin").read_bytes()


def test_write_then_read_hexdump(run, demo_img):
    out = run("flash", "write", "--image", demo_img, "-p", "storage_partition", "0x10", "--hex",
              "de ad be ef").stdout
    assert "wrote 4 bytes" in out and "storage_partition" in out and "0x1e010" in out
    assert _flash0(demo_img)[STORAGE + 0x10:STORAGE + 0x14] == b"\xde\xad\xbe\xef"
    dump = run("flash", "read", "--image", demo_img, "-p", "storage_partition", 0x10, 16).stdout
    assert "00000010  de ad be ef ff ff ff ff  ff ff ff ff ff ff ff ff  |................|" in dump
    assert dump.rstrip().endswith("00000020")


def test_read_json_and_output_file(run, demo_img, tmp_path):
    run("flash", "write", "--image", demo_img, "-p", "storage", 0, "--data", "hello")   # label property
    res = run.json("flash", "read", "--image", demo_img, "-p", "1", 0, 8)                 # id
    assert res == {"partition": "storage_partition", "id": 1, "device": "flash0", "offset": 0,
                   "device_offset": STORAGE, "address": STORAGE, "length": 8,
                   "hex": b"hello\xff\xff\xff".hex()}
    run("flash", "read", "--image", demo_img, "-p", "storage_partition", 0, 0x2000, "-o", tmp_path / "st.bin")
    assert (tmp_path / "st.bin").read_bytes() == _flash0(demo_img)[STORAGE:STORAGE + 0x2000]


def test_read_default_length_is_capped_at_partition_end(run, demo_img):
    assert run.json("flash", "read", "--image", demo_img, "-p", "storage_partition", 0)["length"] == 256
    assert run.json("flash", "read", "--image", demo_img, "-p", "storage_partition", 0x1FF0)["length"] == 16


def test_second_device_lands_in_its_own_file(run, demo_img):
    src = demo_img.parent / "blob"
    src.write_bytes(bytes(range(256)))
    run("flash", "write", "--image", demo_img, "-p", "lfs_partition", "4K", "--file", src)
    res = run.json("flash", "read", "--image", demo_img, "-p", "lfs_partition", "4K", 4)
    assert (res["device"], res["device_offset"], res["address"], res["hex"]) == (
        "qspi0", LFS + 4096, 0x90000000 + LFS + 4096, "00010203")
    qspi = (demo_img / "qspi0.bin").read_bytes()
    assert qspi[LFS + 4096:LFS + 4096 + 256] == bytes(range(256))
    assert _flash0(demo_img) == b"\xff" * (1 << 20)


def test_write_from_stdin(run, demo_img):
    from flashstack.cli.app import cli
    r = run.runner.invoke(cli, ["flash", "write", "--image", str(demo_img), "-p", "slot0_partition", "0",
                                "--file", "-"], input=b"\x01\x02\x03")
    assert r.exit_code == 0, r.output
    assert _flash0(demo_img)[0x20000:0x20004] == b"\x01\x02\x03\xff"


def test_double_write_is_refused_and_leaves_the_image(run, demo_img):
    run("flash", "write", "--image", demo_img, "-p", "storage_partition", 0, "--hex", "f0")
    before = _flash0(demo_img)
    # the partition now holds data: a raw writer refuses it without --force
    line = run.error("flash", "write", "--image", demo_img, "-p", "storage_partition", 0, "--hex", "0f")
    assert "not erased" in line and "--force" in line
    line = run.error("flash", "write", "--image", demo_img, "-p", "storage_partition", 0, "--hex", "0f",
                     "--force")
    assert "double write" in line and "EIO" in line
    assert _flash0(demo_img) == before
    # erase the page, then the same write is fine
    run("flash", "erase", "--image", demo_img, "-p", "storage_partition", 0, "4K", "--force")
    run("flash", "write", "--image", demo_img, "-p", "storage_partition", 0, "--hex", "0f")
    assert _flash0(demo_img)[STORAGE] == 0x0F


def test_erase_whole_partition_by_default_and_only_it(run, demo_img):
    for name in ("scratch_partition", "storage_partition"):
        run("flash", "write", "--image", demo_img, "-p", name, 0x1000, "--hex", "00 00")
    out = run("flash", "erase", "--image", demo_img, "-p", "storage_partition", "--force").stdout
    assert "erased 8192 bytes" in out
    img = _flash0(demo_img)
    assert img[STORAGE:STORAGE + 0x2000] == b"\xff" * 0x2000
    assert img[0xE1000:0xE1002] == b"\x00\x00"


def test_erase_must_cover_whole_pages(run, demo_img):
    line = run.error("flash", "erase", "--image", demo_img, "-p", "storage_partition", 0x10, 0x100)
    # the device's message (device offsets) comes after the partition and its offset
    assert line.startswith("error: erase storage_partition at 0x10: flash0:") and "EINVAL" in line


def test_read_only_partition_needs_force(run, demo_img):
    line = run.error("flash", "write", "--image", demo_img, "-p", "boot_partition", 0, "--hex", "aa")
    assert "boot_partition" in line and "read-only" in line and "--force" in line
    assert run.error("flash", "erase", "--image", demo_img, "-p", "boot_partition", 0, "4K")
    assert _flash0(demo_img)[0] == 0xFF
    run("flash", "write", "--image", demo_img, "-p", "boot_partition", 0, "--hex", "aa", "--force")
    assert _flash0(demo_img)[0] == 0xAA
    # reading a read-only partition needs nothing special
    assert run.json("flash", "read", "--image", demo_img, "-p", "boot_partition", 0, 1)["hex"] == "aa"


def test_errors_are_one_line(run, demo_img, tmp_path):
    assert "out of bounds" in run.error("flash", "read", "--image", demo_img, "-p", "storage_partition",
                                        0x1FFF, 2)
    assert "nope_partition" in run.error("flash", "read", "--image", demo_img, "-p", "nope_partition", 0)
    assert "does not exist" in run.error("flash", "read", "--image", tmp_path / "none", "-p", "storage", 0)
    assert "exactly one of" in run.error("flash", "write", "--image", demo_img, "-p", "storage", 0)
    assert "hex" in run.error("flash", "write", "--image", demo_img, "-p", "storage", 0, "--hex", "abc")
    assert "no_file" in run.error("flash", "write", "--image", demo_img, "-p", "storage", 0,
                                  "--file", tmp_path / "no_file")
    assert _flash0(demo_img) == b"\xff" * (1 << 20)


def test_usage_errors_exit_2(run, demo_img):
    assert "--image" in run.error("flash", "read", "storage_partition", 0, code=2)
    assert "OFFSET" in run.error("flash", "read", "--image", demo_img, "-p", "storage", "zz", code=2)


def test_device_name_gives_raw_device_access(run, demo_img):
    # the unpartitioned gap 0x10000..0x1e000 of flash0 is reachable through the device
    line = run.error("flash", "write", "--image", demo_img, "-p", "flash0", 0x10000, "--hex", "5a")
    assert "flash0" in line and "whole device" in line and "--force" in line
    assert _flash0(demo_img)[0x10000] == 0xFF
    run("flash", "write", "--image", demo_img, "-p", "flash0", 0x10000, "--hex", "5a", "--force")
    assert _flash0(demo_img)[0x10000] == 0x5A
    res = run.json("flash", "read", "--image", demo_img, "-p", "qspi0", LFS - 2, 4)
    assert (res["partition"], res["device"], res["device_offset"], res["address"]) == (
        None, "qspi0", LFS - 2, 0x90000000 + LFS - 2)
    out = run("flash", "read", "--image", demo_img, "-p", "flash0", 0x10000, 1).stdout
    assert out.startswith("device flash0 offset 0x10000, 1 bytes")
    run("flash", "erase", "--image", demo_img, "-p", "flash0", 0x10000, "4K", "--force")
    assert _flash0(demo_img) == b"\xff" * (1 << 20)


def test_positional_partition_still_works_with_a_deprecation_note(run, demo_img):
    r = run("flash", "write", "--image", demo_img, "storage_partition", 0, "--hex", "f0")
    assert "deprecated" in r.stderr and "-p storage_partition" in r.stderr
    r = run("flash", "read", "--image", demo_img, "storage_partition", 0, 1, "--json")
    assert json.loads(r.stdout)["hex"] == "f0"
    r = run("flash", "read", "--image", demo_img, "-p", "storage_partition", 0, 1)
    assert "deprecated" not in r.stderr
    assert run("flash", "read", "--image", demo_img, 0, 1, ok=False).exit_code == 2   # no partition


def test_flash_erase_refuses_a_store_unless_forced(run, demo_img):
    run("kv", "set", "--image", demo_img, "k", "v")
    before = _flash0(demo_img)
    line = run.error("flash", "erase", "--image", demo_img, "-p", "storage_partition")
    assert "AliOS KV" in line and "--force" in line
    assert _flash0(demo_img) == before
