/* --api alios-kv: drive aos_kv_init / aos_kv_set / aos_kv_get / aos_kv_del /
 * aos_kv_del_by_prefix of the user's AliOS-Things KV (components/kv or a port). */
#include <string.h>
#include <flashstack/runtime.h>

int aos_kv_init(void);
int aos_kv_set(const char *key, const void *value, int len, int sync);
int aos_kv_get(const char *key, void *buffer, int *buffer_len);
int aos_kv_del(const char *key);
int aos_kv_del_by_prefix(const char *prefix);

static char keybuf[256];
static uint8_t value[65536];

static const char *cstr(const uint8_t *key, uint16_t klen)
{
	if (klen >= sizeof(keybuf)) {
		klen = sizeof(keybuf) - 1;
	}
	memcpy(keybuf, key, klen);
	keybuf[klen] = '\0';
	return keybuf;
}

int fs_drive(int op, int32_t a, int32_t b, struct fs_io *io)
{
	const uint8_t *p = io->in, *end = io->in + io->in_len, *key, *val;
	uint16_t klen;
	uint32_t vlen;
	int rc, len;

	(void)a;
	(void)b;
	if (op == FS_OP_BOOT) {
		return aos_kv_init();
	}
	if (op == FS_OP_OBSERVE) {
		while ((p = fs_next_kv(p, end, &key, &klen, &val, &vlen)) != NULL) {
			len = (int)sizeof(value);
			rc = aos_kv_get(cstr(key, klen), value, &len);
			if (rc == 0 && fs_out_kv(io, key, klen, value, (uint32_t)len)) {
				return -28;
			}
			if (rc != 0 && rc != -2) {
				return rc; /* a read error other than ENOENT */
			}
		}
		return 0;
	}
	if (!fs_next_kv(p, end, &key, &klen, &val, &vlen)) {
		return -22;
	}
	switch (op) {
	case FS_OP_SET:
		return aos_kv_set(cstr(key, klen), val, (int)vlen, 1);
	case FS_OP_DEL:
		return aos_kv_del(cstr(key, klen));
	case FS_OP_DELP:
		return aos_kv_del_by_prefix(cstr(key, klen));
	default:
		return -95;
	}
}
