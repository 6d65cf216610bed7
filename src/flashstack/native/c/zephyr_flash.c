/* flashstack shims: Zephyr's flash driver API and flash map over the runtime's flash core.
 * Model: Zephyr include/zephyr/drivers/flash.h and include/zephyr/storage/flash_map.h;
 * flashstack.device.capi and flashstack.flash_map.capi are the Python twins. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zephyr/drivers/flash.h>
#include <zephyr/storage/flash_map.h>
#include <flashstack/runtime.h>

const struct device fs_flash_device = {.name = "flashstack_flash"};
const struct flash_area fs_flash_area = {.fa_id = 0, .fa_dev = &fs_flash_device,
					 .fa_label = "storage_partition"};
static struct flash_parameters params = {.write_block_size = 1};
static struct flash_area area; /* fs_flash_area with the size filled in on first use */

const struct device *device_get_binding(const char *name)
{
	(void)name;
	return &fs_flash_device;
}

static int bad_off(off_t offset)
{
	return offset < 0;
}

int flash_read(const struct device *dev, off_t offset, void *data, size_t len)
{
	(void)dev;
	return bad_off(offset) ? -EINVAL : fs_flash_read((uint32_t)offset, data, (uint32_t)len);
}

int flash_write(const struct device *dev, off_t offset, const void *data, size_t len)
{
	(void)dev;
	return bad_off(offset) ? -EINVAL : fs_flash_write((uint32_t)offset, data, (uint32_t)len);
}

int flash_erase(const struct device *dev, off_t offset, size_t size)
{
	(void)dev;
	return bad_off(offset) ? -EINVAL : fs_flash_erase((uint32_t)offset, (uint32_t)size);
}

int flash_fill(const struct device *dev, uint8_t val, off_t offset, size_t size)
{
	uint8_t buf[64];
	size_t wbs = fs_flash_write_block_size();
	size_t chunk = sizeof(buf) - sizeof(buf) % (wbs <= sizeof(buf) ? wbs : 1);
	int rc = 0;

	memset(buf, val, sizeof(buf));
	while (size > 0 && rc == 0) {
		size_t n = size < chunk ? size : chunk;

		rc = flash_write(dev, offset, buf, n);
		offset += (off_t)n;
		size -= n;
	}
	return rc;
}

/* Erase, or on a device without explicit erase write the erase value (flash_flatten). */
int flash_flatten(const struct device *dev, off_t offset, size_t size)
{
	if (fs_flash_explicit_erase()) {
		return flash_erase(dev, offset, size);
	}
	return flash_fill(dev, fs_flash_erase_value(), offset, size);
}

const struct flash_parameters *flash_get_parameters(const struct device *dev)
{
	(void)dev;
	*(size_t *)&params.write_block_size = fs_flash_write_block_size();
	params.erase_value = fs_flash_erase_value();
	params.caps.no_explicit_erase = !fs_flash_explicit_erase();
	return &params;
}

size_t flash_get_write_block_size(const struct device *dev)
{
	(void)dev;
	return fs_flash_write_block_size();
}

int flash_get_page_info_by_offs(const struct device *dev, off_t offset, struct flash_pages_info *info)
{
	uint32_t start, size, index;

	(void)dev;
	if (bad_off(offset) || fs_flash_page_at((uint32_t)offset, &start, &size, &index)) {
		return -EINVAL;
	}
	info->start_offset = (off_t)start;
	info->size = size;
	info->index = index;
	return 0;
}

int flash_get_page_info_by_idx(const struct device *dev, uint32_t page_index,
			       struct flash_pages_info *info)
{
	uint32_t start, size;

	(void)dev;
	if (fs_flash_page_by_index(page_index, &start, &size)) {
		return -EINVAL;
	}
	info->start_offset = (off_t)start;
	info->size = size;
	info->index = page_index;
	return 0;
}

size_t flash_get_page_count(const struct device *dev)
{
	(void)dev;
	return fs_flash_page_count();
}

void flash_page_foreach(const struct device *dev, flash_page_cb cb, void *data)
{
	struct flash_pages_info info;

	for (uint32_t i = 0; i < fs_flash_page_count(); i++) {
		(void)flash_get_page_info_by_idx(dev, i, &info);
		if (!cb(&info, data)) {
			break;
		}
	}
}

/* --- flash map: area 0 is the whole simulated partition ------------------------------------ */
int flash_area_open(uint8_t id, const struct flash_area **fa)
{
	if (id != 0) {
		return -ENOENT;
	}
	area = fs_flash_area;
	area.fa_size = fs_flash_size();
	*fa = &area;
	return 0;
}

void flash_area_close(const struct flash_area *fa)
{
	(void)fa;
}

static int area_range(const struct flash_area *fa, off_t off, size_t len)
{
	size_t size = fs_flash_size();

	(void)fa;
	return off < 0 || (size_t)off > size || len > size - (size_t)off ? -EINVAL : 0;
}

int flash_area_read(const struct flash_area *fa, off_t off, void *dst, size_t len)
{
	return area_range(fa, off, len) ? -EINVAL : flash_read(&fs_flash_device, off, dst, len);
}

int flash_area_write(const struct flash_area *fa, off_t off, const void *src, size_t len)
{
	return area_range(fa, off, len) ? -EINVAL : flash_write(&fs_flash_device, off, src, len);
}

int flash_area_erase(const struct flash_area *fa, off_t off, size_t len)
{
	return area_range(fa, off, len) ? -EINVAL : flash_erase(&fs_flash_device, off, len);
}

int flash_area_flatten(const struct flash_area *fa, off_t off, size_t len)
{
	return area_range(fa, off, len) ? -EINVAL : flash_flatten(&fs_flash_device, off, len);
}

uint32_t flash_area_align(const struct flash_area *fa)
{
	(void)fa;
	return fs_flash_write_block_size();
}

uint8_t flash_area_erased_val(const struct flash_area *fa)
{
	(void)fa;
	return fs_flash_erase_value();
}

const struct device *flash_area_get_device(const struct flash_area *fa)
{
	(void)fa;
	return &fs_flash_device;
}

int flash_area_sectors(const struct flash_area *fa, uint32_t *count, struct flash_sector *sectors)
{
	uint32_t n = fs_flash_page_count(), start, size;

	(void)fa;
	if (*count < n) {
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		(void)fs_flash_page_by_index(i, &start, &size);
		sectors[i].fs_off = (off_t)start;
		sectors[i].fs_size = size;
	}
	*count = n;
	return 0;
}

int flash_area_get_sectors(int fa_id, uint32_t *count, struct flash_sector *sectors)
{
	return fa_id != 0 ? -ENOENT : flash_area_sectors(NULL, count, sectors);
}

void *k_malloc(size_t size)
{
	return malloc(size);
}

void k_free(void *ptr)
{
	free(ptr);
}
