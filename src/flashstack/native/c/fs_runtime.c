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
	uint64_t bytes_read, bytes_written, double_writes, read_calls, write_calls, erase_calls;
};

struct fs_msg {
	int32_t op, a, b, c;
	uint32_t len;
};

enum { Q_FORK = 1, Q_CALL = 2, Q_CBREPLY = 3, Q_EXIT = 4 };
enum { R_DONE = 100, R_CB = 101, R_CRASH = 102 };
enum { CB_READ = 1, CB_WRITE = 2, CB_ERASE = 3 };
#define FS_DEAD (-100000)
#define FS_MAGIC 0x524e5346u /* "FSNR" */

static struct fs_ctl *ctl;
static uint8_t *image;
static const uint32_t *page_starts; /* page_count + 1 entries, the last is the size */
static uint32_t *cycles;
static uint8_t *cb_area, *scratch_in, *scratch_out;
static int sock = -1;
static const char *sock_path;

static void die(const char *what)
{
	fprintf(stderr, "flashstack runtime: %s: %s\n", what, strerror(errno));
	_exit(70);
}

static void send_msg(int32_t op, int32_t a, int32_t b, int32_t c, uint32_t len)
{
	struct fs_msg m = {op, a, b, c, len};

	if (send(sock, &m, sizeof(m), MSG_NOSIGNAL) != (ssize_t)sizeof(m)) {
		_exit(0); /* the Python side went away */
	}
}

static int recv_msg(struct fs_msg *m)
{
	ssize_t n = recv(sock, m, sizeof(*m), 0);

	if (n != (ssize_t)sizeof(*m)) {
		_exit(0); /* closed: this process is no longer wanted */
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
		_exit(0); /* power lost: nothing more of this boot may reach the flash */
	}
	return m.a;
}

static void crash_handler(int sig)
{
	struct fs_msg m = {R_CRASH, sig, 0, 0, 0};

	(void)!send(sock, &m, sizeof(m), MSG_NOSIGNAL);
	_exit(128 + sig);
}

static void connect_back(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (sock >= 0) {
		close(sock);
	}
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

/* --- flash core ------------------------------------------------------------------------ */
uint32_t fs_flash_size(void) { return ctl->size; }
uint32_t fs_flash_write_block_size(void) { return ctl->wbs; }
uint8_t fs_flash_erase_value(void) { return (uint8_t)ctl->erase_value; }
int fs_flash_explicit_erase(void) { return (int)ctl->explicit_erase; }
uint32_t fs_flash_page_count(void) { return ctl->page_count; }
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
		return callback(CB_WRITE, off, buf, len); /* the cut: the Python model tears it */
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
	if (ctl->slow || (ctl->counting && ctl->after && ctl->count + 1 == ctl->after)) {
		return callback(CB_ERASE, off, NULL, len);
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
static void serve(void)
{
	struct fs_msg m;

	for (;;) {
		switch (recv_msg(&m)) {
		case Q_FORK: {
			pid_t pid = fork();

			if (pid < 0) {
				send_msg(R_DONE, -errno, 0, 0, 0);
			} else if (pid == 0) {
				connect_back(); /* the copy gets its own connection */
			} else {
				send_msg(R_DONE, pid, 0, 0, 0);
			}
			break;
		}
		case Q_CALL: {
			struct fs_io io = {scratch_in, m.len, scratch_out, ctl->scratch_cap / 2, 0};
			int rc;

			current_io = &io;
			rc = fs_drive(m.a, m.b, m.c, &io);
			current_io = NULL;
			send_msg(R_DONE, rc, 0, 0, io.out_len);
			break;
		}
		case Q_EXIT:
			_exit(0);
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
	serve();
	return 0;
}
