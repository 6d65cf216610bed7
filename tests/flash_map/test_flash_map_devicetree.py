"""Devicetree input (spec §8.1, §8.3, §9): the extra real trees, MTD resolution, geometry,
validation errors naming file/node/line, warnings, preprocessing and DTB errors."""

from __future__ import annotations

import errno
import warnings

import fm_data
import pytest

from flashstack.board.devicetree import flash_map_from_devicetree, load_devicetree
from flashstack.board.devicetree import preprocess as pp
from flashstack.board.devicetree.dtb import parse_dtb
from flashstack.errors import InvalidArgument, NotFound, NotSupported
from flashstack.flash_map import PartitionWarning

EXTRA = fm_data.DATA / "extra"


def write(tmp_path, text: str, name: str = "board.dts"):
    p = tmp_path / name
    p.write_text(text)
    return p


def dts(body: str, root_extra: str = "") -> str:
    return f"""/dts-v1/;
/ {{
    #address-cells = <1>;
    #size-cells = <1>;
    {root_extra}
    {body}
}};
"""


def nv_flash(parts: str, *, ebs="erase-block-size = <4096>;", size="0x100000", label="flash0") -> str:
    return f"""
    ctrl: flash-controller@4000 {{
        compatible = "vnd,flash-controller";
        reg = <0x4000 0x100>;
        #address-cells = <1>;
        #size-cells = <1>;
        {label}: flash@8000000 {{
            compatible = "soc-nv-flash";
            reg = <0x8000000 {size}>;
            {ebs}
            write-block-size = <8>;
            partitions {{
                compatible = "fixed-partitions";
                #address-cells = <1>;
                #size-cells = <1>;
                {parts}
            }};
        }};
    }};"""


# --- the extra real trees ------------------------------------------------------------------------

@pytest.mark.parametrize("name", fm_data.EXTRA)
def test_every_extra_tree_loads_and_opens(name):
    info = fm_data.load_quiet(EXTRA / f"{name}.dts")
    assert info.partitions
    m = info.flash_map({d.name: d.create() for d in info.devices})
    for fa in m:  # every area is readable end to end on its device
        assert len(fa.read(0, min(fa.size, 64))) == min(fa.size, 64)
    ids = [p.id for p in info.numbered() if p.id is not None]
    assert ids == list(range(len(ids)))


@pytest.mark.parametrize("name,bus", [("nrf52840dk_nrf52840_littlefs_qspi", "/soc/qspi@40029000"),
                                      ("nrf52840dk_nrf52840_littlefs_spi", "/soc/spi@40023000")])
def test_external_nor_by_jedec_id(name, bus):
    info = fm_data.load_quiet(EXTRA / f"{name}.dts")
    nor = {d.name: d for d in info.devices}["mx25r64"]
    assert nor.chip == "mx25r6435f"  # jedec-id [c2 28 17]
    assert nor.size == 8 << 20 and nor.layout == ((2048, 4096),)  # 'size' is 67108864 bits
    assert nor.node == f"{bus}/mx25r6435f@0" and nor.base_address is None
    lfs = [p for p in info.partitions if p.device == "mx25r64"]
    assert len(lfs) == 1 and (lfs[0].offset, lfs[0].size, lfs[0].address) == (0, 0x10000, None)
    # the fstab entry references the partition by phandle: it is numbered first (/fstab < /soc)
    assert lfs[0].id == 0
    assert lfs[0].memory_node == lfs[0].device_node == nor.node
    internal = [p.node_label for p in info.partitions if p.device == "flash0"]
    if name.endswith("qspi"):  # the overlay deletes storage_partition
        assert internal == ["boot_partition", "slot0_partition", "slot1_partition"]
    else:
        assert "storage_partition" in internal


def test_rpi_pico_littlefs_deleted_and_replaced_node():
    info = fm_data.load_quiet(EXTRA / "rpi_pico_littlefs.dts")
    got = {p.node_label: (p.id, p.offset, p.size, p.read_only) for p in info.partitions}
    assert got == {"second_stage_bootloader": (0, 0, 0x100, True),
                   "code_partition": (1, 0x100, 0x1FBF00, True),
                   "storage_partition": (2, 0x1FC000, 0x4000, False)}
    assert info.partitions[2].address == 0x10000000 + 0x1FC000


def test_fixed_subpartitions_on_an_enabled_device(tmp_path):
    body = nv_flash("""
        a: partition@8000 {
            compatible = "fixed-subpartitions";
            reg = <0x8000 0x4000>;
            ranges = <0x0 0x8000 0x4000>;
            #address-cells = <1>;
            #size-cells = <1>;
            a_a: partition@0 { reg = <0x0 0x1000>; };
            a_b: partition@1000 { reg = <0x1000 0x3000>; };
        };
        b: partition@c000 { reg = <0xc000 0x4000>; };""")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nested areas are not reported as overlaps
        m = flash_map_from_devicetree(write(tmp_path, dts(body)))
    # b is a leaf (a root of the dependency walk) and is numbered before a, which is reached
    # only through its children; the children get no Zephyr ID (§8.2)
    assert [(a.name, a.id, a.offset, a.size) for a in m] == [
        ("a", 1, 0x8000, 0x4000), ("b", 0, 0xC000, 0x4000),
        ("a_a", None, 0x8000, 0x1000), ("a_b", None, 0x9000, 0x3000)]
    assert m.by_node_label("a_b").address == 0x8000000 + 0x9000
    assert m.overlaps() == []


# --- MTD resolution and geometry -----------------------------------------------------------------

def test_sim_flash_erase_value_and_chosen(tmp_path):
    body = """
    sim: flash-controller@0 {
        compatible = "zephyr,sim-flash";
        reg = <0x0 0x100>;
        #address-cells = <1>;
        #size-cells = <1>;
        erase-value = <0x00>;
        flash0: flash@0 {
            compatible = "soc-nv-flash";
            reg = <0x0 0x10000>;
            erase-block-size = <1024>;
            write-block-size = <4>;
            partitions {
                compatible = "fixed-partitions";
                #address-cells = <1>;
                #size-cells = <1>;
                code: partition@0 { reg = <0x0 0x8000>; };
                st: partition@8000 { reg = <0x8000 0x8000>; label = "storage"; };
            };
        };
    };
    uart0: uart@9000 { reg = <0x9000 0x100>; };
    chosen { zephyr,code-partition = &code; zephyr,flash = &flash0; zephyr,console = &uart0;
             zephyr,flash-controller = &sim; };"""
    info = load_devicetree(write(tmp_path, dts(body)))
    (dev,) = info.devices
    assert (dev.erase_value, dev.write_block_size, dev.layout) == (0x00, 4, ((64, 1024),))
    m = info.flash_map({dev.name: dev.create()})
    assert m.chosen["zephyr,code-partition"] is m.by_node_label("code")
    assert m.chosen["zephyr,flash"] is m.devices[0]
    assert "zephyr,console" not in m.chosen
    assert info.chosen["zephyr,console"] == "/uart@9000"
    assert m.chosen["zephyr,flash-controller"] is m.devices[0]
    assert m.by_label("storage").read(0, 4) == b"\x00" * 4


@pytest.mark.filterwarnings("ignore::flashstack.flash_map.PartitionWarning")
def test_unknown_controller_without_erase_block_size_has_unknown_layout(tmp_path):
    """BL-3: an unknown controller is not refused: its partitions are listed and the device
    says its erase layout is unknown; a chip or an explicit layout fills it in."""
    path = write(tmp_path, dts(nv_flash("p: partition@0 { reg = <0x0 0x8000>; };", ebs="",
                                        size="0x200000")))
    info = load_devicetree(path)
    (dev,) = info.devices
    assert not dev.layout_known and dev.layout_source == "unknown"
    assert dev.size == 0x200000 and [p.node_label for p in info.partitions] == ["p"]
    info = load_devicetree(path, device_settings={"flash0": {"chip": "stm32f429xi"}})
    assert info.devices[0].layout[0] == (4, 16384) and info.devices[0].layout_known
    info = load_devicetree(path, device_settings={"/flash-controller@4000": {
        "erase_page_size": 0x20000}})
    assert info.devices[0].layout == ((16, 0x20000),)


def test_chip_must_agree_with_devicetree(tmp_path):
    path = write(tmp_path, dts(nv_flash("p: partition@0 { reg = <0x0 0x8000>; };", ebs="")))
    with pytest.raises(InvalidArgument, match="differs"):
        load_devicetree(path, device_settings={"flash0": {"chip": "stm32f429xi"}})
    path = write(tmp_path, dts(nv_flash("p: partition@0 { reg = <0x0 0x8000>; };",
                                        ebs="erase-block-size = <2048>;")))
    with pytest.raises(InvalidArgument, match="erase-block-size 2048 disagrees"):
        load_devicetree(path, device_settings={"flash0": {"chip": "nrf52840"}})
    ok = load_devicetree(path, device_settings={"flash0": {"chip": "nrf52840",
                                                           "erase_page_size": 2048}})
    assert ok.devices[0].layout == ((512, 2048),) and ok.devices[0].chip == "nrf52840"


def nor(jedec: str, size_bits: int, status: str = "okay") -> str:
    return f"""
    spi@1000 {{
        reg = <0x1000 0x100>;
        #address-cells = <1>;
        #size-cells = <0>;
        nor0: flash@0 {{
            compatible = "jedec,spi-nor";
            reg = <0>;
            status = "{status}";
            {jedec}
            size = <{size_bits}>;
            partitions {{
                compatible = "fixed-partitions";
                #address-cells = <1>;
                #size-cells = <1>;
                lfs: partition@0 {{ reg = <0x0 0x100000>; }};
            }};
        }};
    }};"""


def test_external_nor_errors(tmp_path):
    ok = load_devicetree(write(tmp_path, dts(nor("jedec-id = [ef 40 18];", 134217728))))
    assert ok.devices[0].chip == "w25q128jv" and ok.partitions[0].device == "nor0"
    with pytest.raises(InvalidArgument, match="differs"):  # 8 MiB in the tree, 16 MiB chip
        load_devicetree(write(tmp_path, dts(nor("jedec-id = [ef 40 18];", 67108864))))
    unknown = load_devicetree(write(tmp_path, dts(nor("", 67108864))))  # BL-3: no chip known
    assert not unknown.devices[0].layout_known and unknown.devices[0].size == 8 << 20
    with pytest.raises(NotFound) as e:
        load_devicetree(write(tmp_path, dts(nor("jedec-id = [00 11 22];", 67108864))))
    assert "001122" in str(e.value) and "/spi@1000/flash@0" in str(e.value)
    # a disabled device needs no geometry: its partition is only numbered
    off = load_devicetree(write(tmp_path, dts(nor("", 67108864, status="disabled"))))
    assert off.partitions == [] and [p.node_label for p in off.disabled] == ["lfs"]
    # a memory-mapped window comes from the board
    mm = load_devicetree(write(tmp_path, dts(nor("jedec-id = [ef 40 18];", 134217728))),
                         device_settings={"nor0": {"base_address": 0x90000000}})
    assert mm.partitions[0].address == 0x90000000


# --- validation ----------------------------------------------------------------------------------

def test_partition_past_device_end_names_file_and_node(tmp_path):
    path = write(tmp_path, dts(nv_flash("big: partition@f0000 { reg = <0xf0000 0x20000>; };")))
    with pytest.raises(InvalidArgument) as e:
        load_devicetree(path)
    msg = str(e.value)
    assert e.value.errno == errno.EINVAL
    assert str(path) in msg and "partitions/partition@f0000" in msg and "big" in msg


def test_overlap_and_alignment_warnings(tmp_path):
    path = write(tmp_path, dts(nv_flash("""
        a: partition@0 { reg = <0x0 0x2000>; };
        b: partition@1000 { reg = <0x1000 0x1800>; };""")))
    with pytest.warns(PartitionWarning) as rec:
        load_devicetree(path)
    msgs = [str(w.message) for w in rec]
    assert any("overlap" in m and "partition a" in m and "partition b" in m for m in msgs)
    assert any("not aligned" in m and "partition b" in m and str(path) in m for m in msgs)


def test_malformed_dts_names_file_and_line(tmp_path):
    path = write(tmp_path, "/dts-v1/;\n/ {\n    a = <1>;\n    b = <2\n};\n")
    with pytest.raises(InvalidArgument) as e:
        load_devicetree(path)
    assert f"{path}:5" in str(e.value)


def test_unknown_label_is_an_error(tmp_path):
    path = write(tmp_path, dts(nv_flash("p: partition@0 { reg = <0x0 0x1000>; };"))
                 + "&no_such_label { status = \"okay\"; };\n")
    with pytest.raises(InvalidArgument, match="no_such_label"):
        load_devicetree(path)


@pytest.mark.parametrize("tool", ["cpp", "pcpp"])
def test_preprocessed_error_names_the_included_file(tmp_path, tool):
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "part.dtsi").write_text("/ {\n  node {\n    x = <1>\n  };\n};\n")
    main = write(tmp_path, "/dts-v1/;\n#include <part.dtsi>\n/ { };\n")
    with pytest.raises(InvalidArgument) as e:
        load_devicetree(main, [inc], preprocess_tool=tool)
    assert "part.dtsi:4" in str(e.value)


@pytest.mark.parametrize("tool", ["cpp", "pcpp"])
def test_preprocessor_macros_and_detection(tmp_path, tool):
    """FM-26/27: a file with #define is preprocessed; DT_SIZE_K/M are predefined."""
    text = "#define PSIZE DT_SIZE_K(8)\n" + dts(nv_flash(
        "p: partition@0 { reg = <0x0 PSIZE>; };\n"
        "q: partition@2000 { reg = <0x2000 (DT_SIZE_M(1) - 0x2000)>; };"))
    info = load_devicetree(write(tmp_path, text), preprocess_tool=tool)
    assert [(p.offset, p.size) for p in info.partitions] == [(0, 0x2000), (0x2000, 0xFE000)]
    assert pp.needs_preprocessing("  #include <a.h>\n")
    assert not pp.needs_preprocessing("#address-cells = <1>;\n#interrupt-cells = <2>;")


def test_missing_include_is_an_error(tmp_path):
    main = write(tmp_path, "/dts-v1/;\n#include <nowhere.dtsi>\n/ { };\n")
    for tool in ("cpp", "pcpp"):
        with pytest.raises(InvalidArgument, match="nowhere.dtsi"):
            load_devicetree(main, [tmp_path], preprocess_tool=tool)


def test_no_preprocessor_available(tmp_path, monkeypatch):
    import builtins
    monkeypatch.setattr(pp.shutil, "which", lambda name: None)
    real_import = builtins.__import__

    def no_pcpp(name, *a, **kw):
        if name == "pcpp":
            raise ImportError("no pcpp")
        return real_import(name, *a, **kw)
    monkeypatch.setattr(builtins, "__import__", no_pcpp)
    with pytest.raises(NotSupported) as e:
        pp.preprocess(write(tmp_path, "#define X 1\n"), ())
    assert "cpp" in str(e.value) and "pcpp" in str(e.value)


# --- DTB errors ------------------------------------------------------------------------------------

def test_malformed_dtb_errors():
    good = (fm_data.DATA / "dtb" / "qemu_x86.dtb").read_bytes()
    with pytest.raises(InvalidArgument, match="magic"):
        parse_dtb(b"\x00" * 64, source="x.dtb")
    with pytest.raises(InvalidArgument, match="x.dtb"):
        parse_dtb(good[:200], source="x.dtb")
    bad_version = bytearray(good)
    bad_version[20:24] = (15).to_bytes(4, "big")
    with pytest.raises(InvalidArgument, match="version"):
        parse_dtb(bytes(bad_version), source="x.dtb")
    off_struct = int.from_bytes(good[8:12], "big")
    bad_token = bytearray(good)
    bad_token[off_struct:off_struct + 4] = (7).to_bytes(4, "big")
    with pytest.raises(InvalidArgument, match="unknown token"):
        parse_dtb(bytes(bad_token), source="x.dtb")
