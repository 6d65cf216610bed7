"""``build`` of MCUboot slots: imgtool signing, boot-state trailers, and the round trip through
``inspect --key`` (throwaway keys made in the test)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from flashstack.build import build
from flashstack.build.manifest import ManifestError
from flashstack.cli.app import cli

keys = pytest.importorskip("imgtool.keys")   # the mcuboot extra; CI installs it with [all]


@pytest.fixture
def keypair(tmp_path):
    key = keys.ECDSA256P1.generate()
    key.export_private(str(tmp_path / "root.pem"))
    key.export_public(str(tmp_path / "root.pub"))
    other = keys.ECDSA256P1.generate()
    other.export_public(str(tmp_path / "other.pub"))
    return tmp_path / "root.pem", tmp_path / "root.pub", tmp_path / "other.pub"


def _manifest(tmp_path, slot0: str, slot1: str = "") -> str:
    (tmp_path / "app.bin").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "app2.bin").write_bytes(b"version two " * 300)
    text = ('board = "flashstack-demo"\n[output]\nformats = ["bin"]\n'
            f'[partitions.slot0_partition]\ntype = "mcuboot"\nfile = "app.bin"\n{slot0}\n')
    if slot1:
        text += f'[partitions.slot1_partition]\ntype = "mcuboot"\nfile = "app2.bin"\n{slot1}\n'
    path = tmp_path / "manifest.toml"
    path.write_text(text)
    return str(path)


def test_build_sign_confirm_inspect_verify(tmp_path, keypair):
    pem, pub, other = keypair
    manifest = _manifest(tmp_path, f'key = "{pem}"\nversion = "1.2.3+4"\nstate = "confirmed"',
                         f'key = "{pem}"\nversion = "2.0.0"\nstate = "test"')
    out = tmp_path / "out"
    result = build(manifest, out)
    content = {p["label"]: p["content"] for p in result.record["partitions"]}
    assert content["slot0_partition"]["version"] == "1.2.3+4" and content["slot0_partition"]["state"] == "confirmed"
    run = CliRunner().invoke(cli, ["inspect", str(out), "--key", str(pub), "--mcuboot-mode", "swap-move", "--json"])
    assert run.exit_code == 0, run.output
    (pair,) = json.loads(run.stdout)["mcuboot"]
    prim, sec = pair["slots"]["primary"], pair["slots"]["secondary"]
    assert (prim["image"]["version"], prim["image"]["signature"], prim["image"]["hash_ok"]) == ("1.2.3+4", "ok", True)
    assert (sec["image"]["version"], sec["image"]["signature"]) == ("2.0.0+0", "ok")
    assert prim["trailer"]["magic"] == "good" and prim["trailer"]["image_ok"] == "set"
    assert prim["trailer"]["swap_info"]["raw"] == "0xff"          # never a swap_info in a primary
    assert prim["flags"]["confirmed"] and sec["flags"]["pending"] and not sec["flags"]["permanent"]
    assert pair["swap_type"] == "test" and pair["next_boot"]["action"] == "swap"
    assert pair["next_boot"]["version"] == "2.0.0+0"
    assert pair["next_boot"]["notes"][0] == "signature ok"
    wrong = CliRunner().invoke(cli, ["inspect", str(out), "--key", str(other), "--json"])
    (pair,) = json.loads(wrong.stdout)["mcuboot"]
    assert pair["slots"]["primary"]["image"]["signature"] != "ok"


def test_hash_only_signing_and_permanent(tmp_path):
    manifest = _manifest(tmp_path, 'sign = true\nversion = "1.0.0"\nstate = "confirmed"',
                         'sign = true\nversion = "1.1.0"\nstate = "permanent"')
    result = build(manifest, None)
    flash = result.images["flash0"]
    slot1 = flash[0x80000:0xE0000]
    assert slot1[-16:] == bytes.fromhex("77c295f360d2ef7f3552500f2cb67980")
    assert slot1[-24] == 0x01 and slot1[-40] == 0x03            # image_ok, swap_info perm


def test_image_leaving_no_room_for_the_trailer_is_refused(tmp_path):
    (tmp_path / "big.bin").write_bytes(b"\x5a" * (0x60000 - 0x200 - 100))
    path = tmp_path / "m.toml"
    path.write_text('board = "flashstack-demo"\n[partitions.slot0_partition]\ntype = "mcuboot"\n'
                    'file = "big.bin"\nsign = true\nstate = "confirmed"\n')
    out = tmp_path / "out"
    with pytest.raises(ManifestError, match="slot0_partition"):
        build(str(path), out)
    assert not out.exists()


@pytest.mark.parametrize("keys_,message", [('state = "test"', "does not apply"),
                                           ('state = "maybe"', "expected one of"),
                                           ('version = "one"', "version")])
def test_bad_slot_entries_name_the_key(tmp_path, keys_, message):
    manifest = _manifest(tmp_path, f'sign = true\n{keys_}')
    with pytest.raises(ManifestError, match=message):
        build(manifest, None)


def test_unsigned_binary_without_key_is_refused(tmp_path):
    manifest = _manifest(tmp_path, 'state = "confirmed"')
    with pytest.raises(ManifestError, match="not an MCUboot image"):
        build(manifest, None)
