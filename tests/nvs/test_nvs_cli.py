"""``flashstack nvs`` on image files of the flashstack-demo board (storage_partition:
flash0 0x1e000 + 0x2000, 4 KiB erase pages, write block 1)."""

from __future__ import annotations

import json

STORAGE = 0x1E000


def flash0(img) -> bytes:
    return (img / "flash0.bin").read_bytes()


def test_write_read_list_by_id(cli_run, nvs_img):
    assert cli_run.json("nvs", "write", "--image", nvs_img, "-p", "storage_partition", "0x10",
                        "--data", "hello")["written"] == 5
    cli_run("nvs", "write", "--image", nvs_img, "-p", "storage_partition", "17", "--hex", "01 02 03")
    assert flash0(nvs_img)[STORAGE:STORAGE + 5] == b"hello"
    got = cli_run.json("nvs", "read", "--image", nvs_img, "-p", "storage_partition", "16")
    assert got["hex"] == b"hello".hex() and got["id"] == 16 and got["length"] == 5
    out = cli_run("nvs", "read", "--image", nvs_img, "-p", "storage_partition", "0x11").stdout
    assert "01 02 03" in out
    listed = cli_run.json("nvs", "list", "--image", nvs_img, "-p", "storage_partition")
    assert listed["items"] == {"0x0010": b"hello".hex(), "0x0011": "010203"}
    # unchanged value: nothing written; history
    assert cli_run.json("nvs", "write", "--image", nvs_img, "-p", "storage", "16",
                        "--data", "hello")["written"] == 0
    cli_run("nvs", "write", "--image", nvs_img, "-p", "storage_partition", "16", "--data", "world")
    assert bytes.fromhex(cli_run.json("nvs", "read", "--image", nvs_img, "-p", "storage_partition",
                                      "16", "--hist", "1")["hex"]) == b"hello"


def test_reading_commands_never_write(cli_run, nvs_img):
    before = flash0(nvs_img)
    for cmd in ("list", "dump", "export"):
        cli_run("nvs", cmd, "--image", nvs_img, "storage_partition")
    assert flash0(nvs_img) == before == b"\xff" * (1 << 20)


def test_settings_by_name(cli_run, nvs_img):
    cli_run("nvs", "write", "--image", nvs_img, "-p", "storage_partition", "--settings", "bt/name",
            "--data", "dev1")
    cli_run("nvs", "write", "--image", nvs_img, "-p", "storage_partition", "--settings", "app/x",
            "--hex", "0102")
    got = cli_run.json("nvs", "read", "--image", nvs_img, "-p", "storage_partition", "--settings",
                       "bt/name")
    assert bytes.fromhex(got["hex"]) == b"dev1"
    assert cli_run.json("nvs", "list", "--image", nvs_img, "-p", "storage_partition",
                        "--settings")["settings"] == {"app/x": "0102", "bt/name": b"dev1".hex()}
    cli_run("nvs", "delete", "--image", nvs_img, "-p", "storage_partition", "--settings", "app/x")
    line = cli_run.error("nvs", "read", "--image", nvs_img, "-p", "storage_partition", "--settings",
                         "app/x")
    assert "app/x" in line and "ENOENT" in line
    # the raw ids follow Zephyr's scheme
    items = cli_run.json("nvs", "list", "--image", nvs_img, "-p", "storage_partition")["items"]
    assert items["0x8001"] == b"bt/name".hex() and items["0xc001"] == b"dev1".hex()


def test_export_import_round_trip(cli_run, nvs_img, tmp_path):
    cli_run("nvs", "write", "--image", nvs_img, "-p", "storage_partition", "1", "--data", "a")
    cli_run("nvs", "write", "--image", nvs_img, "-p", "storage_partition", "2", "--hex", "ff00")
    out = tmp_path / "nvs.json"
    summary = cli_run.json("nvs", "export", "--image", nvs_img, "-p", "storage_partition", "-o", out)
    assert summary == {"partition": "storage_partition", "file": str(out), "entries": 2}
    assert json.loads(cli_run("nvs", "export", "--image", nvs_img, "-p", "storage_partition",
                              "--json").stdout)["items"] == {"0x0001": "61", "0x0002": "ff00"}
    doc = json.loads(out.read_text())
    assert doc["format"] == "zephyr-nvs" and doc["items"] == {"0x0001": "61", "0x0002": "ff00"}
    doc["settings"] = {"net/host": {"text": "example.org"}}
    out.write_text(json.dumps(doc))
    fresh = tmp_path / "fresh"
    cli_run("image", "create", "-o", fresh)
    res = cli_run.json("nvs", "import", "--image", fresh, "-p", "storage_partition", out)
    assert res.pop("parameters")["sector_size"] == {"value": 4096,
                                                    "source": "default (the erase page at the partition start)"}
    assert res == {"partition": "storage_partition", "items": 2, "settings": 1, "written": 3}
    assert cli_run.json("nvs", "list", "--image", fresh, "-p", "storage_partition",
                        "--settings")["settings"] == {"net/host": b"example.org".hex()}
    assert cli_run.json("nvs", "read", "--image", fresh, "-p", "storage_partition", "2")["hex"] == "ff00"


def test_dump_reports_sectors_ates_and_verdict(cli_run, nvs_img):
    cli_run("nvs", "write", "--image", nvs_img, "-p", "storage_partition", "5", "--data", "x")
    cli_run("nvs", "write", "--image", nvs_img, "-p", "storage_partition", "5", "--data", "y")
    cli_run("nvs", "delete", "--image", nvs_img, "-p", "storage_partition", "5")
    r = cli_run.json("nvs", "dump", "--image", nvs_img, "-p", "storage_partition")
    assert r["verdict"] == "healthy" and r["geometry"]["sector_size"] == 4096
    assert [(a["id"], a["state"]) for a in r["ates"]] == [
        (5, "deleted"), (5, "deleted"), (5, "deleted"), (0xFFFF, "marker")]
    assert r["sectors"][0]["gc_done"] and r["sectors"][1]["erased"]
    text = cli_run("nvs", "dump", "--image", nvs_img, "-p", "storage_partition").stdout
    assert "verdict: healthy" in text and "gc_done" in text


def test_errors_are_one_line(cli_run, nvs_img):
    cli_run("flash", "write", "--image", nvs_img, "-p", "slot0_partition", "0", "--data", "not nvs")
    line = cli_run.error("nvs", "write", "--image", nvs_img, "-p", "slot0_partition", "1", "--data", "v")
    assert "neither erased nor Zephyr NVS" in line
    assert "0xffff" in cli_run.error("nvs", "read", "--image", nvs_img, "-p", "storage_partition",
                                     "0xffff")
    assert "read-only" in cli_run.error("nvs", "write", "--image", nvs_img, "-p", "boot_partition",
                                        "1", "--data", "v")
    line = cli_run.error("nvs", "dump", "--image", nvs_img, "-p", "storage_partition",
                         "--sector-size", "1000")
    assert "EINVAL" in line


def test_settings_read_hist_gives_older_values_of_the_value_id(cli_run, nvs_img):
    for v in ("v1", "v2", "v3"):
        cli_run("nvs", "write", "--image", nvs_img, "-p", "storage_partition", "--settings", "bt/name",
                "--data", v)

    def hist(n):
        return cli_run.json("nvs", "read", "--image", nvs_img, "-p", "storage_partition",
                            "--settings", "bt/name", "--hist", str(n))

    got = [hist(n) for n in range(3)]
    assert [bytes.fromhex(g["hex"]) for g in got] == [b"v3", b"v2", b"v1"]
    assert got[2]["name"] == "bt/name" and got[2]["hist"] == 2
    line = cli_run.error("nvs", "read", "--image", nvs_img, "-p", "storage_partition", "--settings",
                         "bt/name", "--hist", "3")
    assert "bt/name" in line and "history entry 3" in line and "ENOENT" in line
    cli_run("nvs", "delete", "--image", nvs_img, "-p", "storage_partition", "--settings", "bt/name")
    assert "no setting named" in cli_run.error("nvs", "read", "--image", nvs_img,
                                               "-p", "storage_partition", "--settings", "bt/name",
                                               "--hist", "1")
