/* --api zephyr-zms: drive zms_mount / zms_write / zms_delete / zms_get_data_length / zms_read
 * of the user's ZMS (include/zephyr/fs/zms.h of the user's Zephyr tree, or any code with those
 * signatures). Ids travel as 4 bytes. */
#include <string.h>
#include <zephyr/fs/zms.h>
#include <flashstack/runtime.h>

static struct zms_fs fs;
static uint8_t value[65536];

static uint32_t key_id(const uint8_t *key)
{
	uint32_t id;

	memcpy(&id, key, 4);
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
		fs.sector_size = (uint32_t)a;
		fs.sector_count = (uint32_t)b;
		return zms_mount(&fs); /* any non-zero result is a failed mount */
	case FS_OP_SET:
		if (!fs_next_kv(p, end, &key, &klen, &val, &vlen) || klen != 4) {
			return -22;
		}
		rc = zms_write(&fs, key_id(key), val, vlen);
		return rc < 0 ? (int)rc : 0;
	case FS_OP_DEL:
		if (!fs_next_kv(p, end, &key, &klen, &val, &vlen) || klen != 4) {
			return -22;
		}
		return zms_delete(&fs, key_id(key));
	case FS_OP_OBSERVE:
		while ((p = fs_next_kv(p, end, &key, &klen, &val, &vlen)) != NULL) {
			rc = zms_get_data_length(&fs, key_id(key));
			if (rc > (ssize_t)sizeof(value)) {
				return -27; /* EFBIG */
			}
			if (rc > 0) {
				rc = zms_read(&fs, key_id(key), value, (size_t)rc);
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
