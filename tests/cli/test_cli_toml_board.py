"""A board TOML given by path: geometry rules reach the commands (write block 4, erase value 0)."""

import pytest

BOARD = """
name = "tiny"

[[devices]]
name = "nor0"
size = 0x4000
erase_page_size = 0x1000
write_block_size = 4
erase_value = 0x00

[[partitions]]
name = "cfg_partition"
label = "[red]cfg[/red]"
offset = 0x1000
size = 0x2000
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(BOARD)
    return path


def test_toml_board_show_and_literal_names(run, tiny):
    out = run.json("board", "show", tiny)
    (dev,) = out["devices"]
    assert (dev["name"], dev["size"], dev["write_block_size"], dev["erase_value"]) == ("nor0", 0x4000, 4, 0)
    (p,) = out["partitions"]
    assert (p["node_label"], p["label_property"], p["offset"], p["size"]) == (
        "cfg_partition", "[red]cfg[/red]", 0x1000, 0x2000)
    table = run("board", "show", tiny).stdout
    assert "[red]cfg[/red]" in table                     # a label is data, not markup
    free = [l for l in table.splitlines() if "(free)" in l]
    assert len(free) == 2 and "0x0 " in free[0] and "0x3000" in free[1]


def test_single_file_image_with_erase_value_zero_and_write_block_4(run, tiny, tmp_path):
    img = tmp_path / "tiny.bin"
    run("image", "create", "--board", tiny, "-o", img)
    assert img.read_bytes() == b"\x00" * 0x4000
    line = run.error("flash", "write", "--board", tiny, "--image", img, "-p", "cfg_partition", 2,
                     "--hex", "01020304")
    assert "cfg_partition" in line and "write block 4" in line and "EINVAL" in line
    run("flash", "write", "--board", tiny, "--image", img, "-p", "cfg_partition", 4, "--hex", "01020304")
    assert img.read_bytes()[0x1004:0x1008] == b"\x01\x02\x03\x04"
    info = {p["name"]: p for p in run.json("image", "info", "--board", tiny, img)["partitions"]}
    assert (info["cfg_partition"]["erase_value"], info["cfg_partition"]["used_bytes"]) == (0, 4)
    # a second program of the same write block is a double write (EIO), whatever the bits
    assert "double write" in run.error("flash", "write", "--board", tiny, "--image", img,
                                       "-p", "cfg_partition", 4, "--hex", "ffffffff", "--force")
    run("flash", "erase", "--board", tiny, "--image", img, "-p", "cfg_partition", 0, "4K", "--force")
    assert img.read_bytes() == b"\x00" * 0x4000


def test_board_and_partition_names_with_markup_are_printed_literally(run, tmp_path):
    """A board or partition name is data: '[bold]' and a stray '[/x]' reach the tables as is."""
    path = tmp_path / "markup.toml"
    path.write_text(BOARD.replace('name = "tiny"', 'name = "[bold]tiny[/x]"')
                    .replace('name = "cfg_partition"', 'name = "[bold]cfg[/x]"'))
    img = tmp_path / "markup.bin"
    assert "board [bold]tiny[/x]: erased images" in run("image", "create", "--board", path, "-o", img).stdout
    shown = run("board", "show", path).stdout
    assert "board [bold]tiny[/x]: partitions" in shown and "[bold]cfg[/x]" in shown
    info = run("image", "info", img, "--board", path).stdout
    assert "board [bold]tiny[/x]: image usage" in info and "[bold]cfg[/x]" in info
