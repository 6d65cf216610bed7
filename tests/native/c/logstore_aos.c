/* The AliOS-Things KV API (aos_kv_init/set/get/del/del_by_prefix) as thin functions over the
 * test log store, through the AliOS kernel shim (a mutex): a C port of a known API for
 * --api alios-kv. A string key is stored under a 16-bit hash, the key itself leads the value. */
#include <errno.h>
#include <string.h>
#include <aos/kernel.h>
#include <flashstack/runtime.h>
#include "logstore.h"

static aos_mutex_t lock;
static uint8_t rec[4096];

static uint16_t key_id(const char *key)
{
	uint16_t h = 0x1D0F;

	for (; *key; key++) {
		h = (uint16_t)((h << 5) + h + (uint8_t)*key);
	}
	return h;
}

int aos_kv_init(void)
{
	if (aos_mutex_new(&lock)) {
		return -ENOMEM;
	}
	return ls_mount(4096, fs_flash_size() / 4096);
}

int aos_kv_set(const char *key, const void *value, int len, int sync)
{
	size_t klen = strlen(key);
	int rc;

	(void)sync;
	if (len <= 0 || klen > 255 || klen + 1 + (size_t)len > sizeof(rec)) {
		return -EINVAL;
	}
	rec[0] = (uint8_t)klen;
	memcpy(rec + 1, key, klen);
	memcpy(rec + 1 + klen, value, (size_t)len);
	aos_mutex_lock(&lock, AOS_WAIT_FOREVER);
	rc = ls_set(key_id(key), rec, (uint16_t)(1 + klen + (size_t)len));
	aos_mutex_unlock(&lock);
	return rc;
}

/* The value of ``key`` into rec: its length, or -ENOENT (also when another key has the hash). */
static int lookup(const char *key)
{
	size_t klen = strlen(key);
	int n = ls_get(key_id(key), rec, sizeof(rec));

	if (n < 0) {
		return n;
	}
	if ((size_t)n < 1 + klen || rec[0] != klen || memcmp(rec + 1, key, klen) != 0) {
		return -ENOENT;
	}
	return n - 1 - (int)klen;
}

int aos_kv_get(const char *key, void *buffer, int *buffer_len)
{
	int n = lookup(key);

	if (n < 0) {
		return n;
	}
	if (n > *buffer_len) {
		*buffer_len = n;
		return -ENOSPC;
	}
	memcpy(buffer, rec + 1 + strlen(key), (size_t)n);
	*buffer_len = n;
	return 0;
}

int aos_kv_del(const char *key)
{
	int rc = lookup(key);

	if (rc < 0) {
		return rc;
	}
	aos_mutex_lock(&lock, AOS_WAIT_FOREVER);
	rc = ls_delete(key_id(key));
	aos_mutex_unlock(&lock);
	return rc;
}

int aos_kv_del_by_prefix(const char *prefix)
{
	size_t plen = strlen(prefix);
	uint16_t id;
	int rc = 0;

	for (uint32_t i = 0; rc == 0 && ls_key_at(i, &id) == 0;) {
		int n = ls_get(id, rec, sizeof(rec));

		if (n > 0 && rec[0] >= plen && memcmp(rec + 1, prefix, plen) == 0) {
			rc = ls_delete(id); /* the live list shrank: the same i is the next key */
		} else {
			i++;
		}
	}
	return rc;
}
