"""``flashstack image create`` / ``image info``."""

import hashlib

MiB = 1 << 20


def test_create_writes_one_erased_file_per_device(run, tmp_path):
    out = tmp_path / "img"
    res = run.json("image", "create", "-o", out)
    assert res["board"] == "flashstack-demo"
    assert [(d["device"], d["size"], d["erase_value"]) for d in res["devices"]] == [
        ("flash0", MiB, 0xFF), ("qspi0", 16 * MiB, 0xFF)]
    assert res["devices"][0]["partitions"][:2] == ["boot_partition", "storage_partition"]
    assert res["devices"][1]["partitions"] == ["kf_partition", "lfs_partition"]
    flash0, qspi0 = (out / "flash0.bin").read_bytes(), (out / "qspi0.bin").read_bytes()
    assert flash0 == b"\xff" * MiB
    assert len(qspi0) == 16 * MiB and qspi0.count(b"\xff") == len(qspi0)
    assert sorted(p.name for p in out.iterdir()) == ["flash0.bin", "qspi0.bin"]


def test_create_prints_a_summary(run, tmp_path):
    text = run("image", "create", "-o", tmp_path / "x").stdout
    assert "flash0.bin" in text and "qspi0.bin" in text and "16 MiB" in text
    assert "next: flashstack flash read" in text


def test_create_refuses_to_overwrite_without_force(run, demo_img):
    run("flash", "write", "--image", demo_img, "-p", "storage_partition", 0, "--hex", "00")
    line = run.error("image", "create", "-o", demo_img)
    assert "flash0.bin" in line and "--force" in line
    assert (demo_img / "flash0.bin").read_bytes()[0x1E000] == 0x00   # untouched
    run("image", "create", "-o", demo_img, "--force")
    assert (demo_img / "flash0.bin").read_bytes()[0x1E000] == 0xFF


def test_create_single_file_needs_a_one_device_board(run, tmp_path):
    line = run.error("image", "create", "-o", tmp_path / "demo.bin")
    assert "2 flash devices" in line and "flash0" in line and "qspi0" in line
    assert not (tmp_path / "demo.bin").exists()
    res = run.json("image", "create", "--board", "native_sim", "-o", tmp_path / "sim.bin")
    (dev,) = res["devices"]
    assert (tmp_path / "sim.bin").stat().st_size == dev["size"] > 0


def test_info_of_an_erased_image(run, demo_img):
    res = run.json("image", "info", demo_img)
    assert res["board"] == "flashstack-demo"
    parts = {p["name"]: p for p in res["partitions"]}
    assert list(parts) == ["boot_partition", "storage_partition", "slot0_partition",
                           "slot1_partition", "scratch_partition", "kf_partition", "lfs_partition"]
    for p in parts.values():
        assert p["erased"] and p["used_bytes"] == 0 and p["first_used"] is None
        assert p["erased_pages"] == p["pages"] > 0
        assert p["sha256"] == hashlib.sha256(b"\xff" * p["size"]).hexdigest()


def test_info_after_writes(run, demo_img):
    run("flash", "write", "--image", demo_img, "-p", "storage_partition", 0x1001, "--hex", "01 02 ff 03")
    run("flash", "write", "--image", demo_img, "-p", "lfs_partition", 0x10, "--data", "littlefs")
    res = run.json("image", "info", demo_img)
    parts = {p["name"]: p for p in res["partitions"]}
    st = parts["storage_partition"]
    assert (st["erased"], st["first_used"], st["used_end"], st["used_bytes"]) == (False, 0x1001, 0x1005, 3)
    assert (st["pages"], st["erased_pages"]) == (2, 1)
    flash0 = (demo_img / "flash0.bin").read_bytes()
    assert st["sha256"] == hashlib.sha256(flash0[0x1E000:0x20000]).hexdigest()
    lfs = parts["lfs_partition"]
    assert (lfs["device"], lfs["device_offset"], lfs["first_used"], lfs["used_bytes"]) == (
        "qspi0", 0x400000, 0x10, 8)
    assert all(parts[n]["erased"] for n in parts if n not in ("storage_partition", "lfs_partition"))
    table = run("image", "info", demo_img).stdout
    row = next(l for l in table.splitlines() if " storage_partition " in l)
    assert "used" in row and "0x1001" in row and st["sha256"][:16] in row and "1/2" in row
    assert "outside every partition" not in table


def test_info_reports_data_outside_the_partitions(run, demo_img):
    res = run.json("image", "info", demo_img)
    assert [(f["device"], f["device_offset"], f["size"], f["erased"]) for f in res["unpartitioned"]] == [
        ("flash0", 0x10000, 0xE000, True)]
    run("flash", "write", "--image", demo_img, "-p", "flash0", 0x10100, "--hex", "00 11", "--force")
    (free,) = run.json("image", "info", demo_img)["unpartitioned"]
    assert (free["erased"], free["first_used"], free["used_bytes"]) == (False, 0x100, 2)
    table = run("image", "info", demo_img).stdout
    assert "warning: data outside every partition: 2 programmed byte(s) in flash0 (free 0x10000..0x1e000)" in table


def test_info_leaves_the_image_unchanged(run, demo_img):
    before = (demo_img / "flash0.bin").stat().st_mtime_ns, (demo_img / "flash0.bin").read_bytes()
    run("image", "info", demo_img)
    assert (demo_img / "flash0.bin").read_bytes() == before[1]


def test_info_errors(run, tmp_path, demo_img):
    line = run.error("image", "info", tmp_path / "nothing")
    assert "does not exist" in line and "image create" in line
    (demo_img / "qspi0.bin").write_bytes(b"\xff" * 1000)      # truncated dump
    line = run.error("image", "info", demo_img)
    assert "qspi0.bin" in line and "1000" in line
