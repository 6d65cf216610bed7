/* The Zephyr NVS API (nvs_mount, nvs_write, nvs_delete, nvs_read) as thin functions over the
 * test log store: a C port of a known API whose on-flash format is the log store's, not NVS's. */
#include <errno.h>
#include <zephyr/fs/nvs.h>
#include "logstore.h"

int nvs_mount(struct nvs_fs *fs)
{
	int rc = ls_mount(fs->sector_size, fs->sector_count);

	fs->ready = rc == 0;
	return rc;
}

ssize_t nvs_write(struct nvs_fs *fs, uint16_t id, const void *data, size_t len)
{
	int rc;

	if (!fs->ready) {
		return -EACCES;
	}
	rc = ls_set(id, data, (uint16_t)len);
	return rc ? rc : (ssize_t)len;
}

int nvs_delete(struct nvs_fs *fs, uint16_t id)
{
	int rc;

	if (!fs->ready) {
		return -EACCES;
	}
	rc = ls_delete(id);
	return rc == -ENOENT ? 0 : rc;
}

ssize_t nvs_read(struct nvs_fs *fs, uint16_t id, void *data, size_t len)
{
	if (!fs->ready) {
		return -EACCES;
	}
	return ls_get(id, data, (uint16_t)(len > 0xFFFF ? 0xFFFF : len));
}
