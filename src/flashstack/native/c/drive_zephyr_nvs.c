/* --api zephyr-nvs: drive nvs_mount / nvs_write / nvs_delete / nvs_read of the user's NVS
 * (include/zephyr/fs/nvs.h of the user's Zephyr tree, or any code with those signatures). */
#include <string.h>
#include <zephyr/fs/nvs.h>
#include <flashstack/runtime.h>

static struct nvs_fs fs;
static uint8_t value[65536];

static uint16_t key_id(const uint8_t *key)
{
	uint16_t id;

	memcpy(&id, key, 2);
	return id;
}

int fs_drive(int op, int32_t a, int32_t b, struct fs_io *io)
{
	const uint8_t *p = io->in, *end = io->in + io->in_len, *key, *val;
	uint16_t klen;
	uint32_t vlen;
	ssize_t rc;

	switch (op) {
	case FS_OP_BOOT:
		memset(&fs, 0, sizeof(fs));
		fs.flash_device = &fs_flash_device;
		fs.offset = 0;
		fs.sector_size = (uint16_t)a;
		fs.sector_count = (uint16_t)b;
		return nvs_mount(&fs); /* can be 1: any non-zero result is a failed mount */
	case FS_OP_SET:
		if (!fs_next_kv(p, end, &key, &klen, &val, &vlen)) {
			return -22;
		}
		rc = nvs_write(&fs, key_id(key), val, vlen);
		return rc < 0 ? (int)rc : 0;
	case FS_OP_DEL:
		if (!fs_next_kv(p, end, &key, &klen, &val, &vlen)) {
			return -22;
		}
		return nvs_delete(&fs, key_id(key));
	case FS_OP_OBSERVE:
		while ((p = fs_next_kv(p, end, &key, &klen, &val, &vlen)) != NULL) {
			/* the length first: nvs_read refuses a buffer longer than a sector */
			rc = nvs_read(&fs, key_id(key), value, 0);
			if (rc > (ssize_t)sizeof(value)) {
				return -27; /* EFBIG */
			}
			if (rc > 0) {
				rc = nvs_read(&fs, key_id(key), value, (size_t)rc);
			}
			if (rc >= 0 && fs_out_kv(io, key, klen, value, (uint32_t)rc)) {
				return -28;
			}
			if (rc < 0 && rc != -2) {
				return (int)rc; /* a read error other than ENOENT */
			}
		}
		return 0;
	default:
		return -95;
	}
}
