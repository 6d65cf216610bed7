/* The public part of Zephyr's <zephyr/fs/zms.h> that flashstack's zephyr-zms driver uses,
 * written for the tests (a team points -I at its own Zephyr include/ instead). */
#ifndef TEST_ZEPHYR_FS_ZMS_H
#define TEST_ZEPHYR_FS_ZMS_H
#include <sys/types.h>
#include <zephyr/kernel.h>
#include <zephyr/device.h>
#include <zephyr/drivers/flash.h>

typedef uint32_t zms_id_t;
struct zms_fs {
	off_t offset;
	uint64_t ate_wra;
	uint64_t data_wra;
	uint32_t sector_size;
	uint32_t sector_count;
	bool ready;
	struct k_mutex zms_lock;
	const struct device *flash_device;
	const struct flash_parameters *flash_parameters;
};

int zms_mount(struct zms_fs *fs);
ssize_t zms_write(struct zms_fs *fs, zms_id_t id, const void *data, size_t len);
int zms_delete(struct zms_fs *fs, zms_id_t id);
ssize_t zms_read(struct zms_fs *fs, zms_id_t id, void *data, size_t len);
ssize_t zms_get_data_length(struct zms_fs *fs, zms_id_t id);
#endif
