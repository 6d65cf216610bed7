/* The project's own small C implementation of the Zephyr NVS API (nvs_mount, nvs_write,
 * nvs_delete, nvs_read, nvs_calc_free_space), written for the tests from docs/zephyr-nvs.md: the
 * on-flash format (8-byte ATEs with CRC-8, data up from offset 0, ATEs down from slot F, the
 * close ATE in slot L), mount recovery (§8 with flashstack's recovery rules), garbage collection
 * (§10) and the flash operation sequence (NVS-6) of flashstack's NVSStore, so that
 * `torture c --api zephyr-nvs --compare-model` finds the same image after every step and cut.
 *
 * Lookups walk the ATEs (§7) instead of keeping a RAM index; the walk answers as the index does
 * (NVS-25). Not modelled (they never change bytes on the images a workload and its cuts
 * produce): the write-block plausibility check of mount, the dry run of mount's "erase and
 * collect again" recovery, the inner sector-boundary checks.
 *
 * Options: CONFIG_NVS_DATA_CRC (a CRC-32 after each value), CONFIG_NVS_INIT_BAD_REGION.
 * Planted defect: NVS_OWN_PLANT_CLOSE_PART writes 0x00 in the close ATE's part byte (a valid,
 * working store whose bytes differ from NVS at the first sector close).
 *
 * Positions (fs->ate_wra, fs->data_wra, slots) are partition-relative byte offsets, not
 * Zephyr's packed (sector << 16 | offset) form.
 */
#include <errno.h>
#include <string.h>
#include <zephyr/fs/nvs.h>
#include <zephyr/sys/crc.h>

#define ID_MARKER 0xFFFFu
#define ATE_SIZE 8u
#define CHUNK 32u /* garbage-collection copy chunk (NVS_BLOCK_SIZE) */
#define MAX_SLOTS 8192u

#ifdef CONFIG_NVS_DATA_CRC
#define CRC_SIZE 4u
#else
#define CRC_SIZE 0u
#endif
#ifdef NVS_OWN_PLANT_CLOSE_PART
#define CLOSE_PART 0x00u
#else
#define CLOSE_PART 0xFFu
#endif

struct ate {
	uint16_t id, offset, len;
	uint8_t part, crc8;
};

/* The geometry of a mounted store (§3): S, N, W, E; A slot size, L close slot, F first slot. */
struct geo {
	uint32_t S, N, W, A, L, F;
	uint8_t E;
};

static struct geo g;
static const struct device *dev;
static off_t base_off;
/* per-id scratch of one walk: the stamp says whether the entry belongs to this walk */
static uint32_t seen_stamp[65536], seen_addr[65536], stamp;
static struct ate seen_ate[65536];
static uint8_t buf[65536];
static const uint32_t crc_size = CRC_SIZE; /* a variable: no always-false warning without CRC */

static uint32_t al(uint32_t x)
{
	return g.W <= 1 ? x : (x + g.W - 1) & ~(g.W - 1);
}

static int rd(uint32_t off, void *data, uint32_t n)
{
	return flash_read(dev, base_off + (off_t)off, data, n);
}

static int wr(uint32_t off, const void *data, uint32_t n)
{
	return flash_write(dev, base_off + (off_t)off, data, n);
}

/* 1 when [off, off+n) holds only the erase value, 0 otherwise, or a negative errno. */
static int all_erased(uint32_t off, uint32_t n)
{
	uint8_t chunk[256];

	while (n) {
		uint32_t k = n < sizeof(chunk) ? n : sizeof(chunk);
		int rc = rd(off, chunk, k);

		if (rc) {
			return rc;
		}
		for (uint32_t i = 0; i < k; i++) {
			if (chunk[i] != g.E) {
				return 0;
			}
		}
		off += k;
		n -= k;
	}
	return 1;
}

/* --- ATEs (§4.2, NVS-4) --------------------------------------------------------------- */
static uint8_t ate_crc(const struct ate *a)
{
	return crc8_ccitt(0xFF, a, 7);
}

static void read_ate(uint32_t off, struct ate *a)
{
	if (rd(off, a, ATE_SIZE)) {
		memset(a, g.E, sizeof(*a)); /* an unreadable slot counts as erased */
	}
}

static int is_erased_ate(const struct ate *a)
{
	const uint8_t *p = (const uint8_t *)a;

	for (uint32_t i = 0; i < ATE_SIZE; i++) {
		if (p[i] != g.E) {
			return 0;
		}
	}
	return 1;
}

static int valid(const struct ate *a)
{
	return ate_crc(a) == a->crc8 && (uint32_t)a->offset + a->len < g.L;
}

static int close_valid(const struct ate *a)
{
	return valid(a) && a->len == 0 && a->id == ID_MARKER && (g.S - a->offset) % g.A == 0;
}

static int gc_done(const struct ate *a)
{
	return a->id == ID_MARKER && a->len == 0 && valid(a);
}

/* --- flash primitives (NVS-6) ------------------------------------------------------------ */
/* The W-multiple prefix in one write, then the rest padded with E in one write block. */
static int program(uint32_t pos, const uint8_t *b, uint32_t n)
{
	uint32_t k = n - n % g.W;
	uint8_t tail[32];
	int rc;

	if (n == 0) {
		return 0;
	}
	if (k) {
		rc = wr(pos, b, k);
		if (rc || k == n) {
			return rc;
		}
	}
	memset(tail, g.E, g.W);
	memcpy(tail, b + k, n - k);
	return wr(pos + k, tail, g.W);
}

static int write_data(struct nvs_fs *fs, const uint8_t *b, uint32_t n, int with_crc)
{
	uint8_t tail[40];
	uint32_t k, crc;
	int rc;

	if (!(with_crc && CRC_SIZE && n)) {
		rc = program(fs->data_wra, b, n);
		fs->data_wra += al(n);
		return rc;
	}
	k = n - n % g.W;
	rc = program(fs->data_wra, b, k);
	if (rc) {
		return rc;
	}
	fs->data_wra += k;
	crc = crc32_ieee(b, n);
	memcpy(tail, b + k, n - k);
	memcpy(tail + n - k, &crc, CRC_SIZE); /* little endian, as the target */
	rc = program(fs->data_wra, tail, n - k + CRC_SIZE);
	fs->data_wra += al(n - k + CRC_SIZE);
	return rc;
}

static int write_ate(struct nvs_fs *fs, uint16_t id, uint16_t offset, uint16_t len, uint8_t part)
{
	struct ate a = {id, offset, len, part, 0};
	uint32_t slot = fs->ate_wra;

	a.crc8 = ate_crc(&a);
	fs->ate_wra -= g.A;
	return program(slot, (const uint8_t *)&a, ATE_SIZE);
}

static int erase_sector(uint32_t s)
{
	int rc = flash_flatten(dev, base_off + (off_t)(s * g.S), g.S);

	if (rc) {
		return rc;
	}
	rc = all_erased(s * g.S, g.S);
	return rc < 0 ? rc : (rc ? 0 : -ENXIO);
}

/* --- the ATE walk (§7) ------------------------------------------------------------------ */
/* The last valid ATE of sector s, else slot F; flashstack's recovery rules 1 and 2 (§8). */
static uint32_t recover_last(uint32_t s)
{
	uint32_t base = s * g.S, best = base + g.F, data_end = base;
	int64_t pos = base + g.F;
	int written = 0;
	struct ate a;

	while (pos > (int64_t)data_end || (pos == (int64_t)data_end && data_end != base)) {
		read_ate((uint32_t)pos, &a);
		if (is_erased_ate(&a)) {
			if (written) {
				break;
			}
		} else {
			written = 1;
			if (valid(&a)) {
				data_end = base + a.offset + a.len;
				best = (uint32_t)pos;
			}
		}
		pos -= g.A;
	}
	return best;
}

/* nvs_prev_ate: the ATE at pos and the next position of the walk from ate_wra. */
static uint32_t step(const struct nvs_fs *fs, uint32_t pos, struct ate *a)
{
	uint32_t nxt = pos + g.A, prev;
	struct ate c;

	read_ate(pos, a);
	if (nxt % g.S != g.L) {
		return nxt;
	}
	prev = (nxt / g.S + g.N - 1) % g.N;
	read_ate(prev * g.S + g.L, &c);
	if (is_erased_ate(&c)) {
		return fs->ate_wra;
	}
	return close_valid(&c) ? prev * g.S + c.offset : recover_last(prev);
}

/* Walk every slot from ate_wra (NVS-8); fn returns non-zero to stop. */
static void walk(const struct nvs_fs *fs, int (*fn)(uint32_t addr, const struct ate *a, void *ctx),
		 void *ctx)
{
	uint32_t start = fs->ate_wra, pos = start, nxt, jumps = 0;
	struct ate a;

	for (;;) {
		nxt = step(fs, pos, &a);
		if (fn(pos, &a, ctx) || nxt == start) {
			return;
		}
		if (nxt / g.S != pos / g.S && ++jumps > g.N) {
			return;
		}
		pos = nxt;
	}
}

struct lookup {
	uint16_t id;
	int found;
	uint32_t addr;
	struct ate a;
};

static int find_newest(uint32_t addr, const struct ate *a, void *ctx)
{
	struct lookup *l = ctx;

	if (a->id == l->id && valid(a)) {
		l->found = 1;
		l->addr = addr;
		l->a = *a;
		return 1;
	}
	return 0;
}

/* The newest valid entry of id (NVS-9): 1 and its slot and ATE, else 0. */
static int newest(const struct nvs_fs *fs, uint16_t id, uint32_t *addr, struct ate *a)
{
	struct lookup l = {.id = id};

	walk(fs, find_newest, &l);
	*addr = l.addr;
	*a = l.a;
	return l.found;
}

static int record_newest(uint32_t addr, const struct ate *a, void *ctx)
{
	(void)ctx;
	if (valid(a) && seen_stamp[a->id] != stamp) {
		seen_stamp[a->id] = stamp;
		seen_addr[a->id] = addr;
		seen_ate[a->id] = *a;
	}
	return 0;
}

/* One walk recording the newest valid entry of every id (seen_* of this stamp). */
static void index_newest(const struct nvs_fs *fs)
{
	stamp++;
	walk(fs, record_newest, NULL);
}

/* --- close and garbage collection (§10) ----------------------------------------------- */
static void close_sector(struct nvs_fs *fs)
{
	uint32_t s = fs->ate_wra / g.S, nxt = (s + 1) % g.N;
	struct ate c = {ID_MARKER, (uint16_t)((fs->ate_wra + g.A) % g.S), 0, CLOSE_PART, 0};

	c.crc8 = ate_crc(&c);
	(void)program(s * g.S + g.L, (const uint8_t *)&c, ATE_SIZE); /* result ignored */
	fs->ate_wra = nxt * g.S + g.F;
	fs->data_wra = nxt * g.S;
}

struct copy {
	uint32_t src;
	struct ate a;
};

static struct copy copies[MAX_SLOTS];

/* The copies that collecting sector victim makes (newest entries of their ids, newest first),
 * with seen_* holding the newest entries; their count. */
static uint32_t gc_plan(const struct nvs_fs *fs, uint32_t victim)
{
	uint32_t vbase = victim * g.S, stop = vbase + g.F, pos, prev, n = 0;
	struct ate c, a;

	read_ate(vbase + g.L, &c);
	if (is_erased_ate(&c)) {
		return 0;
	}
	pos = close_valid(&c) ? vbase + c.offset : recover_last(victim);
	do {
		prev = pos;
		pos = step(fs, pos, &a);
		if (valid(&a) && a.len && seen_stamp[a.id] == stamp && seen_addr[a.id] == prev &&
		    n < MAX_SLOTS) {
			copies[n].src = vbase + a.offset;
			copies[n++].a = a;
		}
	} while (prev != stop);
	return n;
}

/* -ENOSPC unless the copies fit the write sector without an ATE slot on copied data. */
static int gc_fits(const struct nvs_fs *fs, uint32_t n)
{
	uint32_t data_end = fs->data_wra;
	int64_t last_slot;

	if (n == 0) {
		return 0;
	}
	for (uint32_t i = 0; i < n; i++) {
		data_end += al(copies[i].a.len);
	}
	last_slot = (int64_t)fs->ate_wra - (int64_t)(n - 1) * g.A;
	if (last_slot < data_end || last_slot < (int64_t)(fs->ate_wra - fs->ate_wra % g.S)) {
		return -ENOSPC;
	}
	return 0;
}

static int move(struct nvs_fs *fs, uint32_t src, uint32_t n)
{
	uint8_t chunk[CHUNK];

	while (n) {
		uint32_t k = n < CHUNK ? n : CHUNK;
		int rc = rd(src, chunk, k);

		if (rc || (rc = write_data(fs, chunk, k, 0))) {
			return rc;
		}
		src += k;
		n -= k;
	}
	return 0;
}

static int gc(struct nvs_fs *fs)
{
	uint32_t victim = (fs->ate_wra / g.S + 1) % g.N, n;
	int rc;

	index_newest(fs);
	n = gc_plan(fs, victim);
	rc = gc_fits(fs, n);
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		uint16_t off = (uint16_t)(fs->data_wra % g.S);

		rc = move(fs, copies[i].src, copies[i].a.len);
		if (rc == 0) {
			rc = write_ate(fs, copies[i].a.id, off, copies[i].a.len, copies[i].a.part);
		}
	}
	if (rc == 0 && fs->ate_wra >= fs->data_wra + g.A) {
		rc = write_ate(fs, ID_MARKER, (uint16_t)(fs->data_wra % g.S), 0, 0xFF);
	}
	return rc ? rc : erase_sector(victim);
}

/* Before a close: -ENOSPC when the collection that follows it could not fit. */
static int next_gc_fits(struct nvs_fs *fs)
{
	uint32_t ate_wra = fs->ate_wra, data_wra = fs->data_wra;
	uint32_t nxt = (ate_wra / g.S + 1) % g.N;
	int rc;

	index_newest(fs); /* from the current write position, before the pointers move */
	fs->ate_wra = nxt * g.S + g.F;
	fs->data_wra = nxt * g.S;
	rc = gc_fits(fs, gc_plan(fs, (nxt + 1) % g.N));
	fs->ate_wra = ate_wra;
	fs->data_wra = data_wra;
	return rc;
}

/* --- mount (§8) --------------------------------------------------------------------------- */
static int geometry(const struct nvs_fs *fs)
{
	const struct flash_parameters *p = flash_get_parameters(fs->flash_device);
	struct flash_pages_info page;
	uint32_t w = (uint32_t)flash_get_write_block_size(fs->flash_device);

	if (w == 0 || w > 32 || (w & (w - 1))) {
		return -EINVAL;
	}
	if (flash_get_page_info_by_offs(fs->flash_device, fs->offset, &page)) {
		return -EINVAL;
	}
	if (fs->sector_size == 0 || fs->sector_size % page.size || fs->sector_count < 2) {
		return -EINVAL;
	}
	g.S = fs->sector_size;
	g.N = fs->sector_count;
	g.W = w;
	g.E = p->erase_value;
	g.A = al(ATE_SIZE);
	g.L = g.S - g.A;
	g.F = g.S - 2 * g.A;
	dev = fs->flash_device;
	base_off = fs->offset;
	return 0;
}

static int find_write_sector(uint32_t *sector)
{
	uint32_t closed = 0;
	int e;

	for (uint32_t i = 0; i < g.N; i++) {
		if (all_erased(i * g.S + g.L, ATE_SIZE) == 0) {
			closed++;
			if (all_erased((i + 1) % g.N * g.S + g.L, ATE_SIZE) == 1) {
				*sector = (i + 1) % g.N;
				return 0;
			}
		}
	}
	if (closed == g.N) {
#ifdef CONFIG_NVS_INIT_BAD_REGION
		int rc = flash_flatten(dev, base_off, g.N * g.S);

		if (rc) {
			return rc;
		}
#else
		return -EDEADLK;
#endif
	}
	e = all_erased((g.N - 1) * g.S + g.F, ATE_SIZE);
	if (e < 0) {
		return e;
	}
	*sector = e ? 0 : g.N - 1;
	return 0;
}

/* Step 5: data written without its ATE is stepped over, a write block at a time. */
static void skip_orphan_data(struct nvs_fs *fs)
{
	int64_t gap = (int64_t)fs->ate_wra - fs->data_wra, last;
	uint32_t needed, most;

	if (gap <= 0 || gap > (int64_t)sizeof(buf) || rd(fs->data_wra, buf, (uint32_t)gap)) {
		return;
	}
	for (last = gap - 1; last >= 0 && buf[last] == g.E; last--) {
	}
	if (last < 0) {
		return;
	}
	needed = (uint32_t)last / g.W + 1;
	most = (uint32_t)(gap + g.W - 1) / g.W;
	fs->data_wra += (needed < most ? needed : most) * g.W;
}

static int gc_done_above(const struct nvs_fs *fs, uint32_t s)
{
	struct ate a;

	for (uint32_t pos = fs->ate_wra + g.A; pos < s * g.S + g.L; pos += g.A) {
		read_ate(pos, &a);
		if (gc_done(&a)) {
			return 1;
		}
	}
	return 0;
}

static int startup(struct nvs_fs *fs)
{
	uint32_t s, base, nxt;
	int64_t ate_wra;
	struct ate a;
	int rc = find_write_sector(&s);

	if (rc) {
		return rc;
	}
	base = s * g.S;
	nxt = (s + 1) % g.N;
	/* recovery rule 3 (N1): slot F erased while the next sector is dirty: only copied data */
	if (all_erased(base + g.F, ATE_SIZE) == 1 && all_erased(nxt * g.S, g.S) == 0) {
		ate_wra = base + g.F;
	} else {
		ate_wra = recover_last(s);
	}
	fs->data_wra = base;
	for (;;) { /* step 3: the first erased slot; where the data ends */
		if (ate_wra < (int64_t)base) {
			if (s == 0) {
				return -EINVAL; /* the packed pointer would leave the partition */
			}
			break;
		}
		if (ate_wra < (int64_t)fs->data_wra) {
			break;
		}
		read_ate((uint32_t)ate_wra, &a);
		if (is_erased_ate(&a)) {
			break;
		}
		if (valid(&a)) {
			fs->data_wra = base + al((uint32_t)a.offset + a.len);
			if (ate_wra == (int64_t)fs->data_wra && a.len) {
				return -ESPIPE;
			}
		}
		ate_wra -= g.A;
	}
	fs->ate_wra = (uint32_t)ate_wra;
	if (all_erased(nxt * g.S, g.S) == 0) { /* step 4: an interrupted garbage collection */
		if (gc_done_above(fs, s)) {
			rc = erase_sector(nxt);
		} else {
			rc = erase_sector(s);
			fs->ate_wra = base + g.F;
			fs->data_wra = base;
			rc = rc ? rc : gc(fs);
		}
	} else {
		skip_orphan_data(fs);
		if (s == 0 && fs->ate_wra == g.F && fs->data_wra != base) { /* step 6 (NVS-10) */
			rc = erase_sector(s);
			fs->data_wra = base;
		}
	}
	if (rc == 0 && fs->ate_wra % g.S == g.F) { /* step 7 */
		rc = write_ate(fs, ID_MARKER, (uint16_t)(fs->data_wra % g.S), 0, 0xFF);
	}
	return rc;
}

int nvs_mount(struct nvs_fs *fs)
{
	int rc;

	fs->ready = false;
	rc = geometry(fs);
	if (rc == 0) {
		rc = startup(fs);
	}
	fs->ready = rc == 0;
	return rc;
}

/* --- write, delete, read, free space (§9, §11, §12) --------------------------------------- */
ssize_t nvs_write(struct nvs_fs *fs, uint16_t id, const void *data, size_t len)
{
	uint32_t maxlen, required, addr;
	struct ate e;
	int rc;

	if (!fs->ready) {
		return -EACCES;
	}
	maxlen = g.S - 4 * g.A - CRC_SIZE;
	if (id == ID_MARKER || len > maxlen || (len && data == NULL)) {
		return -EINVAL;
	}
	if (newest(fs, id, &addr, &e)) {
		if (len == 0 && e.len == 0) {
			return 0;
		}
		if (len && len + CRC_SIZE == e.len) {
			rc = rd(addr - addr % g.S + e.offset, buf, (uint32_t)len);
			if (rc) {
				return rc;
			}
			if (memcmp(buf, data, len) == 0) {
				return 0; /* unchanged */
			}
		}
	} else if (len == 0) {
		return 0; /* delete of a missing id */
	}
	required = len ? al((uint32_t)len) + g.A + CRC_SIZE : 0;
	for (uint32_t i = 0; i < g.N; i++) {
		if (fs->ate_wra >= fs->data_wra + required && fs->ate_wra % g.S != 0) {
			uint16_t off = (uint16_t)(fs->data_wra % g.S);

			rc = write_data(fs, data, (uint32_t)len, 1);
			if (rc == 0) {
				rc = write_ate(fs, id, off, (uint16_t)(len ? len + CRC_SIZE : 0), 0xFF);
			}
			return rc ? rc : (ssize_t)len;
		}
		rc = next_gc_fits(fs);
		if (rc) {
			return rc;
		}
		close_sector(fs);
		rc = gc(fs);
		if (rc) {
			return rc;
		}
	}
	return -ENOSPC;
}

int nvs_delete(struct nvs_fs *fs, uint16_t id)
{
	return (int)nvs_write(fs, id, NULL, 0);
}

ssize_t nvs_read(struct nvs_fs *fs, uint16_t id, void *data, size_t len)
{
	uint32_t addr, vlen, start, crc, stored;
	struct ate a;
	int rc;

	if (!fs->ready) {
		return -EACCES;
	}
	if (len > g.S - 2 * g.A) {
		return -EINVAL;
	}
	if (id == ID_MARKER || !newest(fs, id, &addr, &a) || a.len == 0 || a.len < crc_size) {
		return -ENOENT;
	}
	vlen = a.len - CRC_SIZE;
	start = addr - addr % g.S + a.offset;
	rc = rd(start, data, vlen < len ? vlen : (uint32_t)len);
	if (rc) {
		return rc;
	}
	if (CRC_SIZE && len >= vlen) {
		rc = rd(start + vlen, &stored, CRC_SIZE);
		crc = crc32_ieee(data, vlen);
		if (rc || crc != stored) {
			return -EIO;
		}
	}
	return (ssize_t)vlen;
}

struct space {
	int64_t free;
};

static int count_space(uint32_t addr, const struct ate *a, void *ctx)
{
	struct space *sp = ctx;

	if (seen_stamp[a->id] != stamp) { /* the first slot of this raw id, valid or not */
		seen_stamp[a->id] = stamp;
		seen_addr[a->id] = addr;
	}
	if (valid(a)) {
		if (a->len == 0) {
			sp->free -= a->id == ID_MARKER ? g.A : 0;
		} else if (seen_addr[a->id] == addr) {
			sp->free -= al(a->len) + g.A;
		}
	}
	return 0;
}

ssize_t nvs_calc_free_space(struct nvs_fs *fs)
{
	struct space sp;

	if (!fs->ready) {
		return -EACCES;
	}
	sp.free = (int64_t)(g.N - 1) * (g.S - 2 * g.A);
	stamp++;
	walk(fs, count_space, &sp);
	return (ssize_t)sp.free;
}
