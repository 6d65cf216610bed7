/* The Zephyr ZMS API as thin functions over the test log store (16-bit ids only): a C port of
 * a known API for --api zephyr-zms; its on-flash format is the log store's, not ZMS's. */
#include <errno.h>
#include <zephyr/fs/zms.h>
#include "logstore.h"

int zms_mount(struct zms_fs *fs)
{
	int rc = ls_mount(fs->sector_size, fs->sector_count);

	fs->ready = rc == 0;
	return rc;
}

ssize_t zms_write(struct zms_fs *fs, zms_id_t id, const void *data, size_t len)
{
	int rc;

	if (!fs->ready || id > 0xFFFF) {
		return fs->ready ? -EINVAL : -EACCES;
	}
	rc = len ? ls_set((uint16_t)id, data, (uint16_t)len) : ls_delete((uint16_t)id);
	return rc == -ENOENT ? 0 : rc ? rc : (ssize_t)len;
}

int zms_delete(struct zms_fs *fs, zms_id_t id)
{
	return (int)zms_write(fs, id, NULL, 0);
}

ssize_t zms_get_data_length(struct zms_fs *fs, zms_id_t id)
{
	return fs->ready ? ls_get((uint16_t)id, NULL, 0) : -EACCES;
}

ssize_t zms_read(struct zms_fs *fs, zms_id_t id, void *data, size_t len)
{
	return fs->ready ? ls_get((uint16_t)id, data, (uint16_t)(len > 0xFFFF ? 0xFFFF : len)) : -EACCES;
}
