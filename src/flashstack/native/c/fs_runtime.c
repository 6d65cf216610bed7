/* flashstack native runtime: process life cycle, the request protocol with the Python side,
 * and the flash core over the shared image (see flashstack/runtime.h).
 *
 * Life cycle: the first process ("zygote") maps the image and the control block, connects to
 * the Python side and never runs user code. FORK makes a copy of any process: a copy of the
 * zygote is a fresh boot (pristine globals, statics and heap); a copy of a process that ran
 * user code is a checkpoint of its RAM. Each process talks over its own SOCK_SEQPACKET
 * connection; a process whose connection closes exits. Payloads travel in the control block.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <fcntl.h>
#include <unistd.h>

#include <flashstack/runtime.h>

/* Control block header: keep in step with flashstack/native/protocol.py (CTL_FORMAT). */
struct fs_ctl {
	uint32_t magic, size, wbs, erase_value, explicit_erase, allow_double, unaligned_read, slow;
	uint32_t page_count, counting, after, count, address, pages_off, cycles_off, cb_off;
	uint32_t scratch_off, scratch_cap, steps_done, interrupted;
	/* the armed cut's tear (0 clean, 1 prefix, 2 bits), its seed and keep (prefix bytes, or
	 * keep_set 0 for a seeded count); what the cut did: kind (1 write, 2 erase), offset,
	 * length and applied (bytes kept, bits applied or pages erased) */
	uint32_t tear, seed, keep_set, keep, cut_kind, cut_off, cut_len, cut_applied;
	uint32_t program_page_size, reserved; /* keeps the 64-bit counters 8-aligned */
	uint64_t bytes_read, bytes_written, double_writes, read_calls, write_calls, erase_calls;
	uint64_t cpu_us; /* CPU time of every helper process that ended (the bench's figure) */
};

struct fs_msg {
	int32_t op, a, b, c;
	uint32_t len;
	int32_t pid; /* the sender (C side) */
};

enum { Q_FORK = 1, Q_CALL = 2, Q_CBREPLY = 3, Q_EXIT = 4 };
enum { R_DONE = 100, R_CB = 101, R_CRASH = 102, R_CUT = 103, R_HELLO = 104 };
enum { CB_READ = 1, CB_WRITE = 2, CB_ERASE = 3 };
#define FS_DEAD (-100000)
#define TEAR_IN_PYTHON 3 /* a seed the C port does not take: the Python model tears */
#define FS_MAGIC 0x524e5346u /* "FSNR" */

static struct fs_ctl *ctl;
static uint8_t *image;
static const uint32_t *page_starts; /* page_count + 1 entries, the last is the size */
static uint32_t *cycles;
static uint8_t *cb_area, *scratch_in, *scratch_out;
static int sock = -1;
static int32_t mypid;
static const char *sock_path;

/* End this process, adding its CPU time to the shared total first. */
static void __attribute__((noreturn)) leave(int code)
{
	struct rusage ru;

	if (ctl != NULL && getrusage(RUSAGE_SELF, &ru) == 0) {
		uint64_t us = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
			      (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);

		__atomic_fetch_add(&ctl->cpu_us, us, __ATOMIC_RELAXED);
	}
	_exit(code);
}

static void die(const char *what)
{
	fprintf(stderr, "flashstack runtime: %s: %s\n", what, strerror(errno));
	_exit(70);
}

static void send_msg(int32_t op, int32_t a, int32_t b, int32_t c, uint32_t len)
{
	struct fs_msg m = {op, a, b, c, len, mypid};

	if (send(sock, &m, sizeof(m), MSG_NOSIGNAL) != (ssize_t)sizeof(m)) {
		leave(0); /* the Python side went away */
	}
}

static int recv_msg(struct fs_msg *m)
{
	ssize_t n = recv(sock, m, sizeof(*m), 0);

	if (n != (ssize_t)sizeof(*m)) {
		leave(0); /* closed: this process is no longer wanted */
	}
	return m->op;
}

/* A flash operation the Python SimulatedFlash performs (cut point, slow mode). */
static int callback(int kind, uint32_t off, const void *data, uint32_t len)
{
	struct fs_msg m;

	if (kind == CB_WRITE) {
		memcpy(cb_area, data, len);
	}
	send_msg(R_CB, kind, (int32_t)off, (int32_t)len, kind == CB_WRITE ? len : 0);
	recv_msg(&m);
	if (m.a == FS_DEAD) {
		leave(0); /* power lost: nothing more of this boot may reach the flash */
	}
	return m.a;
}

static void crash_handler(int sig)
{
	struct fs_msg m = {R_CRASH, sig, 0, 0, 0, mypid};

	(void)!send(sock, &m, sizeof(m), MSG_NOSIGNAL);
	_exit(128 + sig);
}

static void connect_back(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (sock >= 0) {
		close(sock);
	}
	mypid = (int32_t)getpid();
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		die("socket");
	}
	strncpy(sa.sun_path, sock_path, sizeof(sa.sun_path) - 1);
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		die("connect");
	}
}

static void *map_file(const char *path, size_t len, uintptr_t at)
{
	int fd = open(path, O_RDWR);
	void *p;

	if (fd < 0) {
		die(path);
	}
	p = mmap((void *)at, len, PROT_READ | PROT_WRITE,
		 MAP_SHARED | (at ? MAP_FIXED_NOREPLACE : 0), fd, 0);
	if (p == MAP_FAILED || (at && (uintptr_t)p != at)) {
		die(at ? "mapping the image at its address" : path);
	}
	close(fd);
	return p;
}

/* --- power cut: the tear of SimulatedFlash (flashstack/device/faults.py), seeded the same way:
 * Python's random.Random(seed) (MT19937, init_by_array) with randrange and getrandbits ------ */
static uint32_t mt[624];
static int mti;

static void mt_seed(uint32_t seed)
{
	int i = 1, j = 0;

	mt[0] = 19650218u;
	for (mti = 1; mti < 624; mti++) {
		mt[mti] = 1812433253u * (mt[mti - 1] ^ (mt[mti - 1] >> 30)) + (uint32_t)mti;
	}
	for (int k = 624; k; k--) { /* init_by_array with the one key word */
		mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525u)) + seed + (uint32_t)j;
		i++;
		j = 0;
		if (i >= 624) {
			mt[0] = mt[623];
			i = 1;
		}
	}
	for (int k = 623; k; k--) {
		mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941u)) - (uint32_t)i;
		i++;
		if (i >= 624) {
			mt[0] = mt[623];
			i = 1;
		}
	}
	mt[0] = 0x80000000u;
	mti = 624;
}

static uint32_t mt_next(void)
{
	uint32_t y;

	if (mti >= 624) {
		for (int k = 0; k < 624; k++) {
			y = (mt[k] & 0x80000000u) | (mt[(k + 1) % 624] & 0x7fffffffu);
			mt[k] = mt[(k + 397) % 624] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
		}
		mti = 0;
	}
	y = mt[mti++];
	y ^= y >> 11;
	y ^= (y << 7) & 0x9d2c5680u;
	y ^= (y << 15) & 0xefc60000u;
	return y ^ (y >> 18);
}

/* random.randrange(n) for 1 <= n < 2**32 */
static uint32_t mt_below(uint32_t n)
{
	int k = 32 - __builtin_clz(n);
	uint32_t r;

	do {
		r = mt_next() >> (32 - k);
	} while (r >= n);
	return r;
}

/* faults.tear_bits: each bit where p and target differ moves to target with probability 1/2
 * (the mask is random.getrandbits(8 * n), little endian); returns the bits moved. */
static uint32_t tear_bits(uint8_t *p, const uint8_t *target, uint32_t n)
{
	uint32_t moved = 0;

	for (uint32_t i = 0; i < n; i += 4) {
		uint32_t left = (n - i) * 8, r = mt_next();

		if (left < 32) {
			r >>= 32 - left;
		}
		for (uint32_t b = 0; b < 4 && i + b < n; b++) {
			uint8_t m = (uint8_t)(r >> (8 * b)) & (uint8_t)(p[i + b] ^ target[i + b]);

			p[i + b] ^= m;
			moved += (uint32_t)__builtin_popcount(m);
		}
	}
	return moved;
}

static void __attribute__((noreturn)) power_lost(int kind, uint32_t off, uint32_t len, uint32_t applied)
{
	struct fs_msg m = {R_CUT, 0, 0, 0, 0, mypid};

	ctl->count++;
	ctl->cut_kind = (uint32_t)kind;
	ctl->cut_off = off;
	ctl->cut_len = len;
	ctl->cut_applied = applied;
	(void)!send(sock, &m, sizeof(m), MSG_NOSIGNAL);
	leave(0); /* nothing more of this boot reaches the flash */
}

/* The cut write (SimulatedFlash._cut_write): ``full`` is what the whole write would leave. */
static void cut_write(uint32_t off, const uint8_t *full, uint32_t len)
{
	uint32_t applied = 0;

	mt_seed(ctl->seed);
	if (ctl->tear == 1) {
		applied = ctl->keep_set ? ctl->keep : mt_below(len);
		if (applied > len) {
			applied = len;
		}
		memcpy(image + off, full, applied);
	} else if (ctl->tear == 2) {
		applied = tear_bits(image + off, full, len);
	}
	power_lost(CB_WRITE, off, len, applied);
}

/* The cut erase (SimulatedFlash._cut_erase): pages before a seeded one are erased, that one
 * is torn bit by bit towards the erase value. */
static void cut_erase(uint32_t off, uint32_t len, uint32_t first, uint32_t last)
{
	uint32_t applied = 0;

	if (ctl->tear) {
		uint32_t j, p, size;
		static uint8_t erased[1u << 16];
		uint8_t *ev = erased;

		mt_seed(ctl->seed);
		j = mt_below(last - first);
		p = first + j;
		for (uint32_t q = first; q < p; q++) {
			memset(image + page_starts[q], (int)ctl->erase_value, page_starts[q + 1] - page_starts[q]);
			cycles[q]++;
		}
		size = page_starts[p + 1] - page_starts[p];
		if (size > sizeof(erased)) {
			ev = malloc(size);
		}
		memset(ev, (int)ctl->erase_value, size);
		(void)tear_bits(image + page_starts[p], ev, size);
		if (ev != erased) {
			free(ev);
		}
		cycles[p]++;
		applied = j + 1;
	}
	power_lost(CB_ERASE, off, len, applied);
}

/* --- flash core ------------------------------------------------------------------------ */
uint32_t fs_flash_size(void) { return ctl->size; }
uint32_t fs_flash_write_block_size(void) { return ctl->wbs; }
uint8_t fs_flash_erase_value(void) { return (uint8_t)ctl->erase_value; }
int fs_flash_explicit_erase(void) { return (int)ctl->explicit_erase; }
uint32_t fs_flash_page_count(void) { return ctl->page_count; }
uint32_t fs_flash_program_page_size(void) { return ctl->program_page_size; }
const uint8_t *fs_flash_memory(void) { return image; }

/* Index of the page holding ``off`` (off < size). */
static uint32_t page_index(uint32_t off)
{
	uint32_t lo = 0, hi = ctl->page_count;

	while (hi - lo > 1) {
		uint32_t mid = (lo + hi) / 2;

		if (page_starts[mid] <= off) {
			lo = mid;
		} else {
			hi = mid;
		}
	}
	return lo;
}

int fs_flash_page_at(uint32_t off, uint32_t *start, uint32_t *size, uint32_t *index)
{
	uint32_t i;

	if (off >= ctl->size) {
		return -EINVAL;
	}
	i = page_index(off);
	*start = page_starts[i];
	*size = page_starts[i + 1] - page_starts[i];
	*index = i;
	return 0;
}

int fs_flash_page_by_index(uint32_t index, uint32_t *start, uint32_t *size)
{
	if (index >= ctl->page_count) {
		return -EINVAL;
	}
	*start = page_starts[index];
	*size = page_starts[index + 1] - page_starts[index];
	return 0;
}

static int in_range(uint32_t off, uint32_t len)
{
	return off <= ctl->size && len <= ctl->size - off;
}

int fs_flash_read(uint32_t off, void *buf, uint32_t len)
{
	if (!in_range(off, len)) {
		return -EINVAL;
	}
	if (len == 0) {
		return 0;
	}
	if (!ctl->unaligned_read && ((off | len) & (ctl->wbs - 1))) {
		return -EINVAL;
	}
	if (ctl->slow) {
		int rc = callback(CB_READ, off, NULL, len);

		if (rc) {
			return rc;
		}
	} else {
		ctl->read_calls++;
		ctl->bytes_read += len;
	}
	memcpy(buf, image + off, len);
	return 0;
}

/* Write blocks of ``[off, off+len)`` that hold anything but the erase value (DEV-15). */
static uint32_t programmed_blocks(uint32_t off, uint32_t len)
{
	uint32_t n = 0, wbs = ctl->wbs;
	uint8_t ev = (uint8_t)ctl->erase_value;

	for (uint32_t b = off; b < off + len; b += wbs) {
		for (uint32_t i = 0; i < wbs; i++) {
			if (image[b + i] != ev) {
				n++;
				break;
			}
		}
	}
	return n;
}

/* What a write of ``d`` leaves at ``off`` (DEV-17 merge over programmed blocks). */
static const uint8_t *merged(uint32_t off, const uint8_t *d, uint32_t len, uint32_t programmed)
{
	uint8_t *full;

	if (!programmed) {
		return d;
	}
	full = malloc(len);
	if (full == NULL) {
		die("out of memory");
	}
	for (uint32_t i = 0; i < len; i++) {
		full[i] = ctl->erase_value ? (image[off + i] & d[i]) : (image[off + i] | d[i]);
	}
	return full;
}

int fs_flash_write(uint32_t off, const void *buf, uint32_t len)
{
	const uint8_t *d = buf;
	uint32_t programmed = 0;

	if (!in_range(off, len)) {
		return -EINVAL;
	}
	if (len == 0) {
		return 0;
	}
	if ((off | len) & (ctl->wbs - 1)) {
		return -EINVAL;
	}
	if (ctl->slow) {
		return callback(CB_WRITE, off, buf, len);
	}
	if (ctl->explicit_erase) {
		programmed = programmed_blocks(off, len);
	}
	if (programmed && !ctl->allow_double) {
		ctl->write_calls++;
		ctl->double_writes++;
		return -EIO; /* DEV-16: a double write without multi-program is refused */
	}
	if (ctl->counting && ctl->after && ctl->count + 1 == ctl->after) {
		if (ctl->tear == TEAR_IN_PYTHON) {
			return callback(CB_WRITE, off, buf, len);
		}
		ctl->write_calls++;
		ctl->double_writes += programmed;
		cut_write(off, merged(off, d, len, programmed), len);
	}
	ctl->write_calls++;
	ctl->count += ctl->counting;
	ctl->double_writes += programmed;
	if (programmed) { /* DEV-17: AND into 0xFF-erased flash, OR into 0x00-erased flash */
		for (uint32_t i = 0; i < len; i++) {
			image[off + i] = ctl->erase_value ? (image[off + i] & d[i]) : (image[off + i] | d[i]);
		}
	} else {
		memcpy(image + off, d, len);
	}
	ctl->bytes_written += len;
	return 0;
}

int fs_flash_erase(uint32_t off, uint32_t len)
{
	uint32_t first, last;

	if (!in_range(off, len)) {
		return -EINVAL;
	}
	if (len == 0) {
		return 0;
	}
	first = page_index(off);
	last = off + len == ctl->size ? ctl->page_count : page_index(off + len);
	if (page_starts[first] != off || page_starts[last] != off + len) {
		return -EINVAL; /* not on erase-page boundaries */
	}
	if (ctl->slow) {
		return callback(CB_ERASE, off, NULL, len);
	}
	if (ctl->counting && ctl->after && ctl->count + 1 == ctl->after) {
		if (ctl->tear == TEAR_IN_PYTHON) {
			return callback(CB_ERASE, off, NULL, len);
		}
		ctl->erase_calls++;
		cut_erase(off, len, first, last);
	}
	ctl->erase_calls++;
	ctl->count += ctl->counting;
	for (uint32_t p = first; p < last; p++) {
		cycles[p]++;
	}
	memset(image + off, (int)ctl->erase_value, len);
	return 0;
}

/* --- custom API helpers -------------------------------------------------------------- */
static struct fs_io *current_io;

int fs_completed_steps(void)
{
	return (int)ctl->steps_done;
}

int fs_interrupted_step(void)
{
	return (int)ctl->interrupted;
}

int fs_fail(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return -1;
	}
	if (n > (int)sizeof(line) - 2) {
		n = (int)sizeof(line) - 2;
	}
	line[n++] = '\n';
	if (current_io != NULL) {
		(void)fs_out(current_io, line, (uint32_t)n);
	}
	return -1;
}

int fs_out(struct fs_io *io, const void *data, uint32_t len)
{
	if (len > io->out_cap - io->out_len) {
		return -ENOSPC;
	}
	memcpy(io->out + io->out_len, data, len);
	io->out_len += len;
	return 0;
}

const uint8_t *fs_next_kv(const uint8_t *p, const uint8_t *end, const uint8_t **key,
			  uint16_t *klen, const uint8_t **val, uint32_t *vlen)
{
	if (end - p < 2) {
		return NULL;
	}
	memcpy(klen, p, 2);
	p += 2;
	if (end - p < (ptrdiff_t)*klen + 4) {
		return NULL;
	}
	*key = p;
	p += *klen;
	memcpy(vlen, p, 4);
	p += 4;
	if ((uint32_t)(end - p) < *vlen) {
		return NULL;
	}
	*val = p;
	return p + *vlen;
}

int fs_out_kv(struct fs_io *io, const void *key, uint16_t klen, const void *val, uint32_t vlen)
{
	if (2u + klen + 4u + vlen > io->out_cap - io->out_len) {
		return -ENOSPC;
	}
	(void)fs_out(io, &klen, 2);
	(void)fs_out(io, key, klen);
	(void)fs_out(io, &vlen, 4);
	return fs_out(io, val, vlen);
}

/* --- main loop --------------------------------------------------------------------------- */
/* The AliOS shim's scheduler, when linked: tasks run after the operation returns. */
extern void fs_tasks_run(void) __attribute__((weak));

static void call(const struct fs_msg *m)
{
	struct fs_io io = {scratch_in, m->len, scratch_out, ctl->scratch_cap / 2, 0};
	int rc;

	current_io = &io;
	rc = fs_drive(m->a, m->b, m->c, &io);
	if (fs_tasks_run) {
		fs_tasks_run();
	}
	current_io = NULL;
	send_msg(R_DONE, rc, 0, 0, io.out_len);
}

static void serve(void)
{
	struct fs_msg m;

	for (;;) {
		switch (recv_msg(&m)) {
		case Q_FORK: /* a copy, on its own connection; a != 0: it runs that call first */
			if (fork() == 0) {
				connect_back();
				if (m.a != 0) {
					call(&m);
				} else {
					send_msg(R_HELLO, 0, 0, 0, 0);
				}
			}
			break;
		case Q_CALL:
			call(&m);
			break;
		case Q_EXIT:
			leave(0);
		default:
			fprintf(stderr, "flashstack runtime: unexpected message %d\n", m.op);
			_exit(71);
		}
	}
}

int main(int argc, char **argv)
{
	struct fs_ctl head;
	int fd;
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};

	if (argc != 4) {
		fprintf(stderr, "usage: %s SOCKET IMAGE CONTROL (started by flashstack)\n", argv[0]);
		return 2;
	}
	sock_path = argv[1];
	fd = open(argv[3], O_RDONLY);
	if (fd < 0 || read(fd, &head, sizeof(head)) != (ssize_t)sizeof(head) || head.magic != FS_MAGIC) {
		die("control block");
	}
	close(fd);
	ctl = map_file(argv[3], head.scratch_off + head.scratch_cap, 0);
	image = map_file(argv[2], head.size, head.address);
	page_starts = (const uint32_t *)((uint8_t *)ctl + ctl->pages_off);
	cycles = (uint32_t *)((uint8_t *)ctl + ctl->cycles_off);
	cb_area = (uint8_t *)ctl + ctl->cb_off;
	scratch_in = (uint8_t *)ctl + ctl->scratch_off;
	scratch_out = scratch_in + ctl->scratch_cap / 2;
	signal(SIGCHLD, SIG_IGN); /* forked copies reap themselves */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		signal(sigs[i], crash_handler);
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	connect_back();
	send_msg(R_HELLO, 0, 0, 0, 0);
	serve();
	return 0;
}
