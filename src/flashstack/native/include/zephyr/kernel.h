/* flashstack shim of <zephyr/kernel.h>: a single-threaded kernel. Mutexes never block (the
 * C code under test runs alone in its helper process); time does not pass. */
#ifndef FS_SHIM_ZEPHYR_KERNEL_H
#define FS_SHIM_ZEPHYR_KERNEL_H
#include <errno.h>
#include <string.h>
#include <zephyr/types.h>
#include <zephyr/toolchain.h>
#include <zephyr/sys/util.h>
#include <zephyr/sys/__assert.h>
#include <zephyr/device.h>

typedef struct {
	int64_t ticks;
} k_timeout_t;
#define K_FOREVER ((k_timeout_t){-1})
#define K_NO_WAIT ((k_timeout_t){0})
#define K_MSEC(ms) ((k_timeout_t){(ms)})

struct k_mutex {
	int lock_count;
};
static inline int k_mutex_init(struct k_mutex *m)
{
	m->lock_count = 0;
	return 0;
}
static inline int k_mutex_lock(struct k_mutex *m, k_timeout_t timeout)
{
	(void)timeout;
	m->lock_count++;
	return 0;
}
static inline int k_mutex_unlock(struct k_mutex *m)
{
	if (m->lock_count <= 0) {
		return -EINVAL;
	}
	m->lock_count--;
	return 0;
}

struct k_sem {
	unsigned int count, limit;
};
static inline int k_sem_init(struct k_sem *s, unsigned int initial, unsigned int limit)
{
	s->count = initial;
	s->limit = limit;
	return 0;
}
static inline int k_sem_take(struct k_sem *s, k_timeout_t timeout)
{
	(void)timeout;
	if (s->count == 0) {
		return -EBUSY; /* nobody else runs: waiting would never end */
	}
	s->count--;
	return 0;
}
static inline void k_sem_give(struct k_sem *s)
{
	if (s->count < s->limit) {
		s->count++;
	}
}
static inline int64_t k_uptime_get(void) { return 0; }
static inline uint32_t k_uptime_get_32(void) { return 0; }
static inline void k_yield(void) {}
static inline int32_t k_sleep(k_timeout_t t) { (void)t; return 0; }
static inline bool k_is_in_isr(void) { return false; }
void *k_malloc(size_t size);
void k_free(void *ptr);
#endif
