/* The Zephyr ZMS API as thin functions over the test log store: a C port of a known API for
 * --api zephyr-zms; its on-flash format is the log store's, not ZMS's. A 32-bit id is folded
 * to the store's 16-bit key (no collision among the tests' ids). */
#include <errno.h>
#include <zephyr/fs/zms.h>
#include "logstore.h"

static uint16_t key(zms_id_t id)
{
	return (uint16_t)(id ^ (id >> 16));
}

int zms_mount(struct zms_fs *fs)
{
	int rc = ls_mount(fs->sector_size, fs->sector_count);

	fs->ready = rc == 0;
	return rc;
}

ssize_t zms_write(struct zms_fs *fs, zms_id_t id, const void *data, size_t len)
{
	int rc;

	if (!fs->ready) {
		return -EACCES;
	}
	rc = len ? ls_set(key(id), data, (uint16_t)len) : ls_delete(key(id));
	return rc == -ENOENT ? 0 : rc ? rc : (ssize_t)len;
}

int zms_delete(struct zms_fs *fs, zms_id_t id)
{
	return (int)zms_write(fs, id, NULL, 0);
}

ssize_t zms_get_data_length(struct zms_fs *fs, zms_id_t id)
{
	return fs->ready ? ls_get(key(id), NULL, 0) : -EACCES;
}

ssize_t zms_read(struct zms_fs *fs, zms_id_t id, void *data, size_t len)
{
	return fs->ready ? ls_get(key(id), data, (uint16_t)(len > 0xFFFF ? 0xFFFF : len)) : -EACCES;
}
