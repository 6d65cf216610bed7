/*
 * Shape of an AliOS-Things board partition table (board/<board>/config/partition_conf.c,
 * hal_logic_partition_t of include/aos/hal/flash.h).
 */
#include <aos/hal/flash.h>
#include "board_flash.h"

const hal_logic_partition_t hal_partitions[] = {
    [HAL_PARTITION_BOOTLOADER] = {
        .partition_owner       = HAL_FLASH_EMBEDDED,
        .partition_description = "Bootloader",
        .partition_start_addr  = FLASH_BASE,
        .partition_length      = 0x10000, /* 64k bytes */
        .partition_options     = PAR_OPT_READ_EN | PAR_OPT_WRITE_DIS,
    },
    [HAL_PARTITION_APPLICATION] = {
        .partition_owner       = HAL_FLASH_EMBEDDED,
        .partition_description = "Application",
        .partition_start_addr  = FLASH_BASE + 0x10000,
        .partition_length      = APP_SIZE,
        .partition_options     = PAR_OPT_READ_EN | PAR_OPT_WRITE_EN,
    },
    [HAL_PARTITION_PARAMETER_1] = {
        .partition_owner       = HAL_FLASH_EMBEDDED,
        .partition_description = "PARAMETER1",
        .partition_start_addr  = FLASH_BASE + 0x10000 + APP_SIZE,
        .partition_length      = 4 * 1024,
        .partition_options     = PAR_OPT_READ_EN | PAR_OPT_WRITE_EN,
    },
    [HAL_PARTITION_PARAMETER_2] = {
        .partition_owner       = HAL_FLASH_EMBEDDED,
        .partition_description = "PARAMETER2",
        .partition_start_addr  = FLASH_BASE + 0xF0000,
        .partition_length      = 0x2000,
        .partition_options     = PAR_OPT_READ_EN | PAR_OPT_WRITE_EN,
    },
    [HAL_PARTITION_SPIFFS] = {
        .partition_owner       = HAL_FLASH_QSPI,
        .partition_description = "spiffs",
        .partition_start_addr  = 0x0,
        .partition_length      = (1 << 20),
        .partition_options     = PAR_OPT_READ_EN | PAR_OPT_WRITE_EN,
    },
};
