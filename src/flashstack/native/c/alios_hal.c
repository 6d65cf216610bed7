/* flashstack shims: the AliOS-Things flash HAL over the runtime's flash core (the Python twin
 * is flashstack.hal). An erase covers every erase page the range touches (HAL-10). */
#include <errno.h>
#include <stdint.h>
#include <aos_hal_flash.h>
#include <flashstack/runtime.h>

static int bad(hal_partition_t p)
{
	return p <= HAL_PARTITION_ERROR || p >= HAL_PARTITION_MAX;
}

int32_t hal_flash_info_get(hal_partition_t in_partition, hal_logic_partition_t *partition)
{
	if (bad(in_partition) || partition == NULL) {
		return -ENOENT;
	}
	partition->partition_owner = HAL_FLASH_EMBEDDED;
	partition->partition_description = "flashstack";
	partition->partition_start_addr = (uint32_t)(uintptr_t)fs_flash_memory();
	partition->partition_length = fs_flash_size();
	partition->partition_options = PAR_OPT_READ_EN | PAR_OPT_WRITE_EN;
	return 0;
}

int32_t hal_flash_erase(hal_partition_t in_partition, uint32_t off_set, uint32_t size)
{
	uint32_t start, psize, index, end, last_start, last_size;

	if (bad(in_partition)) {
		return -ENOENT;
	}
	if (off_set > fs_flash_size() || size > fs_flash_size() - off_set) {
		return -EINVAL;
	}
	if (size == 0) {
		return 0;
	}
	(void)fs_flash_page_at(off_set, &start, &psize, &index);
	(void)fs_flash_page_at(off_set + size - 1, &last_start, &last_size, &index);
	end = last_start + last_size;
	return fs_flash_erase(start, end - start);
}

int32_t hal_flash_write(hal_partition_t in_partition, uint32_t *off_set, const void *in_buf,
			uint32_t in_buf_len)
{
	int rc;

	if (bad(in_partition)) {
		return -ENOENT;
	}
	rc = fs_flash_write(*off_set, in_buf, in_buf_len);
	if (rc == 0) {
		*off_set += in_buf_len;
	}
	return rc;
}

int32_t hal_flash_erase_write(hal_partition_t in_partition, uint32_t *off_set, const void *in_buf,
			      uint32_t in_buf_len)
{
	int rc = hal_flash_erase(in_partition, *off_set, in_buf_len);

	return rc ? rc : hal_flash_write(in_partition, off_set, in_buf, in_buf_len);
}

int32_t hal_flash_read(hal_partition_t in_partition, uint32_t *off_set, void *out_buf,
		       uint32_t in_buf_len)
{
	int rc;

	if (bad(in_partition)) {
		return -ENOENT;
	}
	rc = fs_flash_read(*off_set, out_buf, in_buf_len);
	if (rc == 0) {
		*off_set += in_buf_len;
	}
	return rc;
}

int32_t aos_hal_flash_info_get(hal_partition_t p, hal_logic_partition_t *info)
{
	return hal_flash_info_get(p, info);
}

int32_t aos_hal_flash_erase(hal_partition_t p, uint32_t off_set, uint32_t size)
{
	return hal_flash_erase(p, off_set, size);
}

int32_t aos_hal_flash_write(hal_partition_t p, uint32_t *off_set, const void *buf, uint32_t len)
{
	return hal_flash_write(p, off_set, buf, len);
}

int32_t aos_hal_flash_erase_write(hal_partition_t p, uint32_t *off_set, const void *buf, uint32_t len)
{
	return hal_flash_erase_write(p, off_set, buf, len);
}

int32_t aos_hal_flash_read(hal_partition_t p, uint32_t *off_set, void *buf, uint32_t len)
{
	return hal_flash_read(p, off_set, buf, len);
}
