/* flashstack shim of <zephyr/storage/flash_map.h>: one flash area, id 0, the whole simulated
 * partition (FIXED_PARTITION_ID(any label) is 0). Offsets are area-relative bytes. */
#ifndef FS_SHIM_ZEPHYR_STORAGE_FLASH_MAP_H
#define FS_SHIM_ZEPHYR_STORAGE_FLASH_MAP_H
#include <zephyr/types.h>
#include <zephyr/device.h>

struct flash_area {
	uint8_t fa_id;
	uint8_t fa_device_id;
	uint16_t pad16;
	off_t fa_off;
	size_t fa_size;
	const struct device *fa_dev;
	const char *fa_label;
};
struct flash_sector {
	off_t fs_off;
	size_t fs_size;
};
int flash_area_open(uint8_t id, const struct flash_area **fa);
void flash_area_close(const struct flash_area *fa);
int flash_area_read(const struct flash_area *fa, off_t off, void *dst, size_t len);
int flash_area_write(const struct flash_area *fa, off_t off, const void *src, size_t len);
int flash_area_erase(const struct flash_area *fa, off_t off, size_t len);
int flash_area_flatten(const struct flash_area *fa, off_t off, size_t len);
uint32_t flash_area_align(const struct flash_area *fa);
uint8_t flash_area_erased_val(const struct flash_area *fa);
int flash_area_get_sectors(int fa_id, uint32_t *count, struct flash_sector *sectors);
int flash_area_sectors(const struct flash_area *fa, uint32_t *count, struct flash_sector *sectors);
const struct device *flash_area_get_device(const struct flash_area *fa);
static inline bool flash_area_device_is_ready(const struct flash_area *fa) { return fa != NULL; }
extern const struct flash_area fs_flash_area;
#define FIXED_PARTITION_ID(label) 0
#define FIXED_PARTITION_OFFSET(label) 0
#define FIXED_PARTITION_SIZE(label) ((size_t)fs_flash_area.fa_size)
#define FIXED_PARTITION_DEVICE(label) (&fs_flash_device)
#define FIXED_PARTITION(label) (&fs_flash_area)
#define FLASH_AREA_ID(label) 0
#define FLASH_AREA_OFFSET(label) 0
#endif
