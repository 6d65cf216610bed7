/* flashstack shim of <zephyr/drivers/flash.h>: the flash driver API over the simulated flash
 * (offsets are bytes from the start of the simulated partition). Returns 0 or -errno. */
#ifndef FS_SHIM_ZEPHYR_DRIVERS_FLASH_H
#define FS_SHIM_ZEPHYR_DRIVERS_FLASH_H
#include <zephyr/types.h>
#include <zephyr/device.h>

struct flash_parameters {
	const size_t write_block_size;
	uint8_t erase_value;
	struct {
		uint8_t no_explicit_erase: 1;
	} caps;
};
struct flash_pages_info {
	off_t start_offset;
	size_t size;
	uint32_t index;
};
struct flash_pages_layout {
	size_t pages_count;
	size_t pages_size;
};
#define FLASH_ERASE_C_EXPLICIT 0x01
#define FLASH_ERASE_CAPS_UNSET (int)-1
#define FLASH_ERASE_C_SUPPORTED 0x02
#define FLASH_ERASE_C_VAL_BIT 0x04
#define FLASH_ERASE_UNIFORM_PAGE 0x08

int flash_read(const struct device *dev, off_t offset, void *data, size_t len);
int flash_write(const struct device *dev, off_t offset, const void *data, size_t len);
int flash_erase(const struct device *dev, off_t offset, size_t size);
int flash_flatten(const struct device *dev, off_t offset, size_t size);
int flash_fill(const struct device *dev, uint8_t val, off_t offset, size_t size);
const struct flash_parameters *flash_get_parameters(const struct device *dev);
size_t flash_get_write_block_size(const struct device *dev);
int flash_get_page_info_by_offs(const struct device *dev, off_t offset,
				struct flash_pages_info *info);
int flash_get_page_info_by_idx(const struct device *dev, uint32_t page_index,
			       struct flash_pages_info *info);
size_t flash_get_page_count(const struct device *dev);
typedef bool (*flash_page_cb)(const struct flash_pages_info *info, void *data);
void flash_page_foreach(const struct device *dev, flash_page_cb cb, void *data);
static inline int flash_params_get_erase_cap(const struct flash_parameters *p)
{
	return p->caps.no_explicit_erase ? 0 : FLASH_ERASE_C_EXPLICIT;
}
static inline int flash_write_protection_set(const struct device *dev, bool enable)
{
	(void)dev;
	(void)enable;
	return 0;
}
#endif
