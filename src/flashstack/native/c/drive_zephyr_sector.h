/* The body shared by the zephyr-nvs and zephyr-zms drivers (drive_zephyr_nvs.c, _zms.c): both
 * APIs mount a struct with flash_device/offset/sector_size/sector_count and offer write, delete,
 * read and free-space calls over an integer id. The including file defines:
 *   FS_T                the file system struct      ID_T      the id type (its bytes travel)
 *   FS_MOUNT/WRITE/DELETE/READ/FREE_SPACE            the API's functions (FREE_SPACE weak)
 *   FS_VALUE_LEN(fs, id) the stored length of id (>= 0), or a negative errno
 */
#include <string.h>
#include <flashstack/runtime.h>

static FS_T fs;
static uint8_t value[65536];

static ID_T key_id(const uint8_t *key)
{
	ID_T id;

	memcpy(&id, key, sizeof(id));
	return id;
}

/* The one key of a set/delete request: 0, or -EINVAL for a malformed request. */
static int one_key(const struct fs_io *io, const uint8_t **key, const uint8_t **val, uint32_t *vlen)
{
	uint16_t klen;

	if (!fs_next_kv(io->in, io->in + io->in_len, key, &klen, val, vlen) || klen != sizeof(ID_T)) {
		return -22;
	}
	return 0;
}

static int observe(struct fs_io *io)
{
	const uint8_t *p = io->in, *end = io->in + io->in_len, *key, *val;
	uint16_t klen;
	uint32_t vlen;
	ssize_t rc;

	while ((p = fs_next_kv(p, end, &key, &klen, &val, &vlen)) != NULL) {
		rc = FS_VALUE_LEN(&fs, key_id(key));
		if (rc > (ssize_t)sizeof(value)) {
			return -27; /* EFBIG */
		}
		if (rc > 0) {
			rc = FS_READ(&fs, key_id(key), value, (size_t)rc);
		}
		if (rc >= 0 && fs_out_kv(io, key, klen, value, (uint32_t)rc)) {
			return -28;
		}
		if (rc < 0 && rc != -2) {
			return (int)rc; /* a read error other than ENOENT */
		}
	}
	return 0;
}

int fs_drive(int op, int32_t a, int32_t b, struct fs_io *io)
{
	const uint8_t *key, *val;
	uint32_t vlen;
	ssize_t rc;
	int bad;

	switch (op) {
	case FS_OP_BOOT:
		memset(&fs, 0, sizeof(fs));
		fs.flash_device = &fs_flash_device;
		fs.offset = 0;
		fs.sector_size = (__typeof__(fs.sector_size))a;
		fs.sector_count = (__typeof__(fs.sector_count))b;
		return FS_MOUNT(&fs); /* NVS can return 1: any non-zero result is a failed mount */
	case FS_OP_SET:
		bad = one_key(io, &key, &val, &vlen);
		rc = bad ? bad : FS_WRITE(&fs, key_id(key), val, vlen);
		return rc < 0 ? (int)rc : 0;
	case FS_OP_DEL:
		bad = one_key(io, &key, &val, &vlen);
		return bad ? bad : FS_DELETE(&fs, key_id(key));
	case FS_OP_OBSERVE:
		return observe(io);
	case FS_OP_SPACE:
		if (!FS_FREE_SPACE) { /* a weak symbol the code under test does not define */
			return -95;
		}
		rc = FS_FREE_SPACE(&fs);
		if (rc >= 0) {
			int64_t n = rc;

			(void)fs_out(io, &n, sizeof(n));
		}
		return rc < 0 ? (int)rc : 0;
	default:
		return -95;
	}
}
