/* flashstack shim of the AliOS-Things flash HAL (aos/hal/flash.h, aos_hal_flash.h): every
 * partition number names the simulated partition. Offsets are partition-relative bytes; read
 * and write advance *off_set by the length (HAL-3). 0 or a negative errno. */
#ifndef FS_SHIM_AOS_HAL_FLASH_H
#define FS_SHIM_AOS_HAL_FLASH_H
#include <stdint.h>

typedef enum {
	HAL_PARTITION_ERROR = -1,
	HAL_PARTITION_BOOTLOADER,
	HAL_PARTITION_APPLICATION,
	HAL_PARTITION_ATE,
	HAL_PARTITION_OTA_TEMP,
	HAL_PARTITION_RF_FIRMWARE,
	HAL_PARTITION_PARAMETER_1,
	HAL_PARTITION_PARAMETER_2,
	HAL_PARTITION_PARAMETER_3,
	HAL_PARTITION_PARAMETER_4,
	HAL_PARTITION_BT_FIRMWARE,
	HAL_PARTITION_SPIFFS,
	HAL_PARTITION_CUSTOM_1,
	HAL_PARTITION_CUSTOM_2,
	HAL_PARTITION_2ND_BOOT,
	HAL_PARTITION_MBINS_APP,
	HAL_PARTITION_MBINS_KERNEL,
	HAL_PARTITION_MAX,
	HAL_PARTITION_NONE
} hal_partition_t;
typedef enum {
	HAL_FLASH_EMBEDDED,
	HAL_FLASH_SPI,
	HAL_FLASH_QSPI,
	HAL_FLASH_MAX,
	HAL_FLASH_NONE
} hal_flash_t;
typedef struct {
	hal_flash_t partition_owner;
	const char *partition_description;
	uint32_t partition_start_addr;
	uint32_t partition_length;
	uint32_t partition_options;
} hal_logic_partition_t;
#define PAR_OPT_READ_POS (0)
#define PAR_OPT_WRITE_POS (1)
#define PAR_OPT_READ_EN (0x1u << PAR_OPT_READ_POS)
#define PAR_OPT_WRITE_EN (0x1u << PAR_OPT_WRITE_POS)

int32_t hal_flash_info_get(hal_partition_t in_partition, hal_logic_partition_t *partition);
int32_t hal_flash_erase(hal_partition_t in_partition, uint32_t off_set, uint32_t size);
int32_t hal_flash_write(hal_partition_t in_partition, uint32_t *off_set, const void *in_buf,
			uint32_t in_buf_len);
int32_t hal_flash_erase_write(hal_partition_t in_partition, uint32_t *off_set, const void *in_buf,
			      uint32_t in_buf_len);
int32_t hal_flash_read(hal_partition_t in_partition, uint32_t *off_set, void *out_buf,
		       uint32_t in_buf_len);
int32_t aos_hal_flash_info_get(hal_partition_t in_partition, hal_logic_partition_t *partition);
int32_t aos_hal_flash_erase(hal_partition_t in_partition, uint32_t off_set, uint32_t size);
int32_t aos_hal_flash_write(hal_partition_t in_partition, uint32_t *off_set, const void *in_buf,
			    uint32_t in_buf_len);
int32_t aos_hal_flash_erase_write(hal_partition_t in_partition, uint32_t *off_set,
				  const void *in_buf, uint32_t in_buf_len);
int32_t aos_hal_flash_read(hal_partition_t in_partition, uint32_t *off_set, void *out_buf,
			   uint32_t in_buf_len);
#endif
