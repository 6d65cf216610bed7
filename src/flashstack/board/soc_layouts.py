"""Built-in flash-controller erase layouts, keyed by devicetree compatible and flash size.

A devicetree usually gives a uniform ``erase-block-size`` on its ``soc-nv-flash`` node; some
do not (STM32F2/F4/F7 sectors are not uniform, so their trees carry none) and external NOR
nodes rarely do. Zephyr's flash drivers then compute the page layout from the part; this table
does the same from the controller (or memory) compatible and the flash size in bytes
(docs/board-layouts.md, rules BL-1..BL-4).

Each entry names the Zephyr driver whose page layout it follows. A size the entry does not
know gives no layout (the caller then reports the erase layout as unknown, BL-3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

KiB = 1024
MiB = 1024 * KiB

Layout = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class SocLayout:
    """One controller family: ``compatibles`` (any of them on the controller or the memory
    node selects it), ``pages(size) -> layout or None`` (runs of ``(count, bytes)``),
    ``write_block_size`` (bytes, None: keep the devicetree's), ``driver`` (Zephyr source)."""

    family: str
    compatibles: tuple[str, ...]
    pages: Callable[[int], Layout | None]
    write_block_size: int | None
    driver: str

    def layout_for(self, size: int) -> Layout | None:
        """The layout of a ``size``-byte flash, or None when the family has no such size."""
        return self.pages(size) if size > 0 else None


def uniform(page: int) -> Callable[[int], Layout | None]:
    """Pages of ``page`` bytes over any size that is a multiple of it."""
    return lambda size: ((size // page, page),) if size % page == 0 else None


def _stm32f4_bank(size: int) -> Layout | None:
    """One STM32F2/F4 bank: 4 x 16 KiB, 1 x 64 KiB, then 128 KiB sectors (RM0090 table 5/6)."""
    if size < 128 * KiB or (size - 128 * KiB) % (128 * KiB):
        return None
    rest = (size - 128 * KiB) // (128 * KiB)
    return ((4, 16 * KiB), (1, 64 * KiB)) + (((rest, 128 * KiB),) if rest else ())


def stm32f4(size: int) -> Layout | None:
    """STM32F2/F4 (Zephyr drivers/flash/flash_stm32f4x.c / flash_stm32f2x.c, page layout from
    the sector table): up to 1 MiB one bank; 2 MiB parts (F42x/F43x/F469) are dual-bank, each
    bank 4 x 16 KiB + 1 x 64 KiB + 7 x 128 KiB."""
    if size == 2 * MiB:
        bank = _stm32f4_bank(MiB)
        return None if bank is None else bank * 2
    return _stm32f4_bank(size) if size <= MiB else None


def stm32f7(size: int) -> Layout | None:
    """STM32F7 (Zephyr drivers/flash/flash_stm32f7x.c): F72x/F73x up to 512 KiB use the F4
    sectors; F74x/F75x (1 MiB) 4 x 32 KiB + 1 x 128 KiB + 3 x 256 KiB; F76x/F77x (2 MiB,
    single-bank default) 4 x 32 KiB + 1 x 128 KiB + 7 x 256 KiB."""
    if size <= 512 * KiB:
        return _stm32f4_bank(size)
    if size in (MiB, 2 * MiB):
        return ((4, 32 * KiB), (1, 128 * KiB), ((size - 256 * KiB) // (256 * KiB), 256 * KiB))
    return None


def kinetis_ftfa(size: int) -> Layout | None:
    """Kinetis FTFA (Zephyr drivers/flash/soc_flash_mcux.c, sector size from the SoC's
    FSL_FEATURE_FLASH_PFLASH_BLOCK_SECTOR_SIZE): 1 KiB sectors on KL parts up to 256 KiB,
    2 KiB on the 512 KiB parts (K22FN512, KW41Z)."""
    return uniform(2 * KiB if size >= 512 * KiB else KiB)(size)


def stm32l4(size: int) -> Layout | None:
    """STM32L4 (Zephyr drivers/flash/flash_stm32l4x.c): 2 KiB pages; the 2 MiB L4R/L4S parts
    in their default dual-bank mode have 4 KiB pages."""
    return uniform(4 * KiB if size == 2 * MiB else 2 * KiB)(size)


SOC_LAYOUTS: tuple[SocLayout, ...] = (
    SocLayout("STM32F4", ("st,stm32f4-flash-controller",), stm32f4, None,
              "zephyr drivers/flash/flash_stm32f4x.c"),
    SocLayout("STM32F2", ("st,stm32f2-flash-controller",), stm32f4, None,
              "zephyr drivers/flash/flash_stm32f2x.c"),
    SocLayout("STM32F7", ("st,stm32f7-flash-controller",), stm32f7, None,
              "zephyr drivers/flash/flash_stm32f7x.c"),
    SocLayout("STM32L4", ("st,stm32l4-flash-controller",), stm32l4, 8,
              "zephyr drivers/flash/flash_stm32l4x.c"),
    SocLayout("STM32G4", ("st,stm32g4-flash-controller",), uniform(2 * KiB), 8,
              "zephyr drivers/flash/flash_stm32g4x.c (FLASH_PAGE_SIZE, dual-bank default)"),
    SocLayout("STM32H7", ("st,stm32h7-flash-controller",), uniform(128 * KiB), 32,
              "zephyr drivers/flash/flash_stm32h7x.c (FLASH_SECTOR_SIZE)"),
    SocLayout("nRF51", ("nordic,nrf51-flash-controller",), uniform(KiB), 4,
              "zephyr drivers/flash/soc_flash_nrf.c (nrfx_nvmc_flash_page_size_get)"),
    SocLayout("nRF52", ("nordic,nrf52-flash-controller",), uniform(4 * KiB), 4,
              "zephyr drivers/flash/soc_flash_nrf.c (nrfx_nvmc_flash_page_size_get)"),
    SocLayout("nRF53", ("nordic,nrf53-flash-controller",), uniform(4 * KiB), 4,
              "zephyr drivers/flash/soc_flash_nrf.c (nrfx_nvmc_flash_page_size_get)"),
    SocLayout("nRF91", ("nordic,nrf91-flash-controller",), uniform(4 * KiB), 4,
              "zephyr drivers/flash/soc_flash_nrf.c (nrfx_nvmc_flash_page_size_get)"),
    SocLayout("RP2040/RP2350", ("raspberrypi,pico-flash-controller", "raspberrypi,rp2040-flash-controller"),
              uniform(4 * KiB), 1, "zephyr drivers/flash/flash_rpi_pico.c (4 KiB QSPI sector erase)"),
    SocLayout("ESP32", ("espressif,esp32-flash-controller",), uniform(4 * KiB), 4,
              "zephyr drivers/flash/flash_esp32.c (SPI_FLASH_SEC_SIZE)"),
    SocLayout("Atmel SAM", ("atmel,sam-flash-controller",), uniform(8 * KiB), 16,
              "zephyr drivers/flash/flash_sam.c (16 pages of 512 bytes per erase)"),
    SocLayout("Atmel SAM0", ("atmel,sam0-nvmctrl",), uniform(256), 4,
              "zephyr drivers/flash/flash_sam0.c (row = 4 pages of 64 bytes, SAMD2x/L2x)"),
    SocLayout("NXP Kinetis FTFE", ("nxp,kinetis-ftfe",), uniform(4 * KiB), 8,
              "zephyr drivers/flash/soc_flash_mcux.c (FSL_FEATURE_FLASH_PFLASH_BLOCK_SECTOR_SIZE)"),
    SocLayout("NXP Kinetis FTFL", ("nxp,kinetis-ftfl",), uniform(2 * KiB), 4,
              "zephyr drivers/flash/soc_flash_mcux.c (FSL_FEATURE_FLASH_PFLASH_BLOCK_SECTOR_SIZE)"),
    SocLayout("NXP Kinetis FTFA", ("nxp,kinetis-ftfa",), kinetis_ftfa, 4,
              "zephyr drivers/flash/soc_flash_mcux.c (FSL_FEATURE_FLASH_PFLASH_BLOCK_SECTOR_SIZE)"),
    SocLayout("NXP LPC55", ("nxp,iap-fmc55", "nxp,iap-fmc553"), uniform(512), 512,
              "zephyr drivers/flash/soc_flash_mcux.c (LPC55xx IAP page)"),
    SocLayout("NXP i.MX RT FlexSPI NOR", ("nxp,imx-flexspi-nor",), uniform(4 * KiB), 1,
              "zephyr drivers/flash/flash_mcux_flexspi_nor.c (SPI_NOR_SECTOR_SIZE)"),
    SocLayout("Silicon Labs Series 1", ("silabs,gecko-flash-controller",), uniform(2 * KiB), 4,
              "zephyr drivers/flash/flash_gecko.c (FLASH_PAGE_SIZE, EFR32xG1x)"),
    SocLayout("Silicon Labs Series 2", ("silabs,series2-flash-controller",), uniform(8 * KiB), 4,
              "zephyr drivers/flash/flash_silabs_series2.c (FLASH_PAGE_SIZE, EFR32xG2x)"),
)


def find(compatibles: Iterable[str]) -> SocLayout | None:
    """The table entry for the first of ``compatibles`` it knows (controller compatibles
    first, then the memory node's), or None."""
    wanted = list(compatibles)
    for compat in wanted:
        for entry in SOC_LAYOUTS:
            if compat in entry.compatibles:
                return entry
    return None


def parse_layout(text: str) -> Layout:
    """A layout from ``"4x16K,1x64K,7x128K"`` (runs of COUNT x SIZE, sizes in bytes with an
    optional K/M suffix or 0x hex). Errors: InvalidArgument (EINVAL) naming the bad run."""
    from ..errors import InvalidArgument

    runs = []
    for part in (p.strip() for p in text.split(",")):
        count, sep, size = part.lower().partition("x")
        if part.lower().startswith("0x") or not sep:
            raise InvalidArgument(f"layout {text!r}: run {part!r} is not COUNTxSIZE (e.g. 4x16K)")
        try:
            n = int(count, 0)
            mult = {"k": KiB, "m": MiB}.get(size[-1:], 1)
            b = int(size[:-1] if mult != 1 else size, 0) * mult
        except ValueError:
            raise InvalidArgument(f"layout {text!r}: run {part!r} is not COUNTxSIZE (e.g. 4x16K)") from None
        if n <= 0 or b <= 0:
            raise InvalidArgument(f"layout {text!r}: run {part!r} needs a positive count and size")
        runs.append((n, b))
    return tuple(runs)
