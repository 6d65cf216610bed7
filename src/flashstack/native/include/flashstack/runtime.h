/* flashstack native runtime: the flash device and the link to flashstack's device model.
 *
 * Every flash access of the C code under test ends in fs_flash_read/write/erase. They apply
 * the NOR rules of flashstack's SimulatedFlash (range and write-block checks, programming only
 * erased write blocks unless the device allows double writes, erase on page boundaries) to the
 * image shared with the Python process, and count calls, bytes and erase cycles in the shared
 * control block. The power-cut operation itself, and every write/erase of a device with
 * endurance, thresholds, timing or stuck bits, is performed by the Python SimulatedFlash
 * (one implementation of tears and wear): the call does not return when the power is cut.
 *
 * Offsets are partition-relative bytes (the partition is the whole simulated device).
 */
#ifndef FLASHSTACK_RUNTIME_H
#define FLASHSTACK_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Flash core: 0 or a negative errno (-EINVAL range/alignment, -EIO double write or wear). */
int fs_flash_read(uint32_t off, void *buf, uint32_t len);
int fs_flash_write(uint32_t off, const void *buf, uint32_t len);
int fs_flash_erase(uint32_t off, uint32_t len);

/* Geometry of the simulated device. */
uint32_t fs_flash_size(void);
uint32_t fs_flash_write_block_size(void);
uint8_t fs_flash_erase_value(void);
int fs_flash_explicit_erase(void);
uint32_t fs_flash_page_count(void);
/* Largest program command of the chip (timing model's program page, e.g. 256). */
uint32_t fs_flash_program_page_size(void);
/* The erase page holding offset ``off``: 0 and its start, size and index, or -EINVAL. */
int fs_flash_page_at(uint32_t off, uint32_t *start, uint32_t *size, uint32_t *index);
/* The erase page number ``index``: 0 and its start and size, or -EINVAL. */
int fs_flash_page_by_index(uint32_t index, uint32_t *start, uint32_t *size);
/* Absolute (memory-mapped) address of offset 0 of the image: the image is mapped there. */
const uint8_t *fs_flash_memory(void);

/* --api custom: the steps done before the one in progress (the interrupted one, after a cut). */
int fs_completed_steps(void);
/* --api custom: in fs_check(), the step the cut interrupted, or 0 when the cut fell in a
 * reboot (or there was no cut): then the state must be that of fs_completed_steps() steps. */
int fs_interrupted_step(void);
/* --api custom: report a violation from fs_check() (printf format; returns -1). */
int fs_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Driver interface between the runtime and an API driver (drive_*.c). */
struct fs_io {
	const uint8_t *in;  /* request payload */
	uint32_t in_len;
	uint8_t *out;       /* response payload buffer */
	uint32_t out_cap;
	uint32_t out_len;
};
int fs_drive(int op, int32_t a, int32_t b, struct fs_io *io);
/* Append to the response; -ENOSPC when it does not fit. */
int fs_out(struct fs_io *io, const void *data, uint32_t len);

/* Driver operations (the Python side names them in flashstack/native/protocol.py). */
enum {
	FS_OP_BOOT = 1,    /* a, b: API parameters; mount from the image alone */
	FS_OP_SET = 2,     /* key, value */
	FS_OP_DEL = 3,     /* key */
	FS_OP_OBSERVE = 4, /* keys to look up -> found (key, value) */
	FS_OP_STEP = 5,    /* custom: fs_step(a), b = steps completed before it */
	FS_OP_CHECK = 6,   /* custom: fs_check(), b = steps completed */
	FS_OP_DELP = 7,    /* prefix delete (AliOS KV) */
	FS_OP_ALLOC = 8,   /* llkernel: allocateFeature(a, b) -> handle */
	FS_OP_FREE = 9,    /* llkernel: freeFeature(a) */
	FS_OP_LIST = 10,   /* llkernel: (handle, ROM, RAM) of every allocated Feature */
	FS_OP_COPY = 11,   /* llkernel: copyToROM(u32 destination, data) */
	FS_OP_FLUSH = 12,  /* llkernel: flushCopyToROM() */
	FS_OP_INITERR = 13, /* llkernel: onFeatureInitializationError(a, b) */
	FS_OP_SPACE = 14    /* zephyr-nvs/zms: the free-space call -> int64 bytes */
};

/* Key/value payload records: u16 key length, key, u32 value length, value (little endian). */
const uint8_t *fs_next_kv(const uint8_t *p, const uint8_t *end, const uint8_t **key,
			  uint16_t *klen, const uint8_t **val, uint32_t *vlen);
int fs_out_kv(struct fs_io *io, const void *key, uint16_t klen, const void *val, uint32_t vlen);

#ifdef __cplusplus
}
#endif
#endif
