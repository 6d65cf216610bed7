/* A small log-structured key-value store for flashstack's tests: see logstore.h. */
#include <errno.h>
#include <string.h>
#include <flashstack/runtime.h>
#include "logstore.h"

#define MAGIC 0x4C53u
#define COMMIT_BYTE 0x5A
#define F_DEL 0x01
#define MAX_LIVE 256 /* live keys at most (any 16-bit key) */

struct slot {
	uint16_t key;
	uint16_t len;
	uint32_t off; /* data offset inside the active sector */
};

static uint32_t ss, sc, A, active, seq, wpos;
static uint8_t ev;
static struct slot index_[MAX_LIVE]; /* the live keys, in no particular order */
static uint32_t live;
static uint8_t buf[8192];

static struct slot *find(uint16_t key)
{
	for (uint32_t i = 0; i < live; i++) {
		if (index_[i].key == key) {
			return &index_[i];
		}
	}
	return NULL;
}

static int put(uint16_t key, uint16_t len, uint32_t off)
{
	struct slot *s = find(key);

	if (s == NULL) {
		if (live == MAX_LIVE) {
			return -ENOSPC;
		}
		s = &index_[live++];
	}
	*s = (struct slot){key, len, off};
	return 0;
}

static void drop(uint16_t key)
{
	struct slot *s = find(key);

	if (s != NULL) {
		*s = index_[--live];
	}
}

static uint8_t crc8(const uint8_t *p, uint32_t n)
{
	uint8_t c = 0xFF;

	for (uint32_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int b = 0; b < 8; b++) {
			c = (c & 0x80) ? (uint8_t)((c << 1) ^ 0x07) : (uint8_t)(c << 1);
		}
	}
	return c;
}

static uint32_t pad(uint32_t n) { return (n + A - 1) / A * A; }
static uint32_t base(uint32_t s) { return s * ss; }

static int all_erased(const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (p[i] != ev) {
			return 0;
		}
	}
	return 1;
}

static int write_header(uint32_t s, uint32_t sq)
{
	uint8_t h[64];

	memset(h, ev, A);
	h[0] = MAGIC & 0xFF;
	h[1] = MAGIC >> 8;
	memcpy(h + 2, &sq, 4);
	h[6] = crc8(h, 6);
	return fs_flash_write(base(s), h, A);
}

static int read_header(uint32_t s, uint32_t *sq)
{
	uint8_t h[8];

	if (fs_flash_read(base(s), h, 8)) {
		return 0;
	}
	if (h[0] != (MAGIC & 0xFF) || h[1] != (MAGIC >> 8) || h[6] != crc8(h, 6)) {
		return 0;
	}
	memcpy(sq, h + 2, 4);
	return 1;
}

/* Append one record at wpos of the active sector: header, data, commit (in that order). */
static int append(uint16_t key, const uint8_t *data, uint16_t len, uint8_t flags)
{
	uint8_t h[64];
	uint32_t at = base(active) + wpos;
	int rc;

	memset(h, ev, A);
	memcpy(h, &key, 2);
	memcpy(h + 2, &len, 2);
	h[4] = flags;
	h[5] = crc8(h, 5);
	rc = fs_flash_write(at, h, A);
	if (rc == 0 && len) {
		uint32_t full = len / A * A;

		if (full) {
			rc = fs_flash_write(at + A, data, full);
		}
		if (rc == 0 && full < len) {
			memset(h, ev, A);
			memcpy(h, data + full, len - full);
			rc = fs_flash_write(at + A + full, h, A);
		}
	}
#ifndef LS_PLANT_NO_COMMIT
	if (rc == 0) {
		memset(h, COMMIT_BYTE, A);
		rc = fs_flash_write(at + A + pad(len), h, A);
	}
#endif
	if (rc == 0) {
		if (flags & F_DEL) {
			drop(key);
		} else {
			rc = put(key, len, wpos + A);
		}
	}
	wpos += 2 * A + pad(len);
	return rc;
}

/* Copy the live records into the next sector; ``header_first`` is the planted defect. */
static int compact(int header_first)
{
	uint32_t from = active, to = (active + 1) % sc, n = live;
	struct slot moved[MAX_LIVE];
	int rc;

	rc = fs_flash_erase(base(to), ss);
	if (rc == 0 && header_first) {
		rc = write_header(to, seq + 1);
	}
	memcpy(moved, index_, sizeof(moved));
	for (uint32_t i = 1; i < n; i++) { /* copied in key order */
		struct slot s = moved[i];
		uint32_t j = i;

		for (; j > 0 && moved[j - 1].key > s.key; j--) {
			moved[j] = moved[j - 1];
		}
		moved[j] = s;
	}
	active = to;
	wpos = A;
	live = 0;
	for (uint32_t k = 0; k < n && rc == 0; k++) {
		rc = fs_flash_read(base(from) + moved[k].off, buf, moved[k].len);
		if (rc == 0) {
			rc = append(moved[k].key, buf, moved[k].len, 0);
		}
	}
	if (rc == 0 && !header_first) {
		rc = write_header(to, seq + 1);
	}
	if (rc) {
		return rc;
	}
	seq++;
	return 0;
}

static int format(void)
{
	int rc = fs_flash_erase(base(0), ss);

	if (rc == 0) {
		rc = write_header(0, 1);
	}
	active = 0;
	seq = 1;
	wpos = A;
	return rc;
}

/* Scan the active sector into the RAM index; the write position follows the last record. */
static int scan(void)
{
	uint8_t h[64];
	uint32_t pos = A;

	live = 0;
	while (pos + A <= ss) {
		uint16_t key, len;
		uint32_t size;
		uint8_t flags;

		if (fs_flash_read(base(active) + pos, h, A)) {
			return -EIO;
		}
		if (all_erased(h, A)) {
			break;
		}
		memcpy(&key, h, 2);
		memcpy(&len, h + 2, 2);
		flags = h[4];
		size = 2 * A + pad(len);
		if (h[5] != crc8(h, 5) || pos + size > ss) {
			pos = ss; /* unreadable: the sector is closed, the next write compacts */
			break;
		}
#ifndef LS_PLANT_NO_COMMIT
		if (fs_flash_read(base(active) + pos + A + pad(len), h, A)) {
			return -EIO;
		}
		for (uint32_t i = 0; i < A; i++) {
			if (h[i] != COMMIT_BYTE) {
				goto next; /* never committed: it never happened */
			}
		}
#endif
		if (flags & F_DEL) {
			drop(key);
		} else if (put(key, len, pos + A)) {
			return -ENOSPC;
		}
#ifndef LS_PLANT_NO_COMMIT
next:
#endif
		pos += size;
	}
	wpos = pos;
	return 0;
}

int ls_mount(uint32_t sector_size, uint32_t sector_count)
{
	uint32_t best = 0, found = 0, sq;
	int rc;

	ss = sector_size;
	sc = sector_count;
	A = fs_flash_write_block_size() > 8 ? fs_flash_write_block_size() : 8;
	ev = fs_flash_erase_value();
	if (sc < 2 || ss < 4 * A || ss > sizeof(buf) || A > 64) {
		return -EINVAL;
	}
	for (uint32_t s = 0; s < sc; s++) {
		if (read_header(s, &sq) && (!found || (int32_t)(sq - best) > 0)) {
			best = sq;
			active = s;
			found = 1;
		}
	}
	if (!found) {
		return format();
	}
	seq = best;
	rc = scan();
	if (rc == 0 && wpos > ss / 4 * 3) {
#ifdef LS_PLANT_RECOVERY
		rc = compact(1);
#else
		rc = compact(0);
#endif
	}
	return rc;
}

int ls_set(uint16_t key, const void *data, uint16_t len)
{
	uint32_t need = 2 * A + pad(len);
	int rc;

	if (need > ss - A) {
		return -EINVAL;
	}
	if (find(key) == NULL && live == MAX_LIVE) {
		return -ENOSPC;
	}
#ifdef LS_PLANT_DELETE_FIRST
	if (find(key) != NULL) {
		if (wpos + 2 * A > ss && (rc = compact(0)) != 0) {
			return rc;
		}
		if (wpos + 2 * A > ss) {
			return -ENOSPC;
		}
		if ((rc = append(key, NULL, 0, F_DEL)) != 0) {
			return rc;
		}
	}
#endif
	if (wpos + need > ss) {
		rc = compact(0);
		if (rc) {
			return rc;
		}
		if (wpos + need > ss) {
			return -ENOSPC;
		}
	}
	return append(key, data, len, 0);
}

int ls_delete(uint16_t key)
{
	int rc;

	if (find(key) == NULL) {
		return -ENOENT;
	}
	if (wpos + 2 * A > ss) {
		rc = compact(0);
		if (rc) {
			return rc;
		}
		if (wpos + 2 * A > ss) {
			return -ENOSPC;
		}
	}
	return append(key, NULL, 0, F_DEL);
}

int ls_key_at(uint32_t i, uint16_t *key)
{
	if (i >= live) {
		return -ENOENT;
	}
	*key = index_[i].key;
	return 0;
}

int ls_get(uint16_t key, void *out, uint16_t cap)
{
	struct slot *s = find(key);
	int rc;

	if (s == NULL) {
		return -ENOENT;
	}
	rc = fs_flash_read(base(active) + s->off, out, s->len < cap ? s->len : cap);
	return rc ? rc : s->len;
}
