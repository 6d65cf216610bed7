/* --api custom over the test log store: fs_step(i) sets or deletes one of 13 keys,
 * fs_check() recomputes the expected contents after the completed steps and accepts the state
 * after them or after the interrupted step too (all-or-nothing). */
#include <errno.h>
#include <string.h>
#include <flashstack/custom.h>
#include "logstore.h"

#define KEYS 13
#ifndef LS_SECTOR_SIZE
#define LS_SECTOR_SIZE 4096
#endif

static uint16_t step_key(int i) { return (uint16_t)((i * 7) % KEYS); }
static int step_is_delete(int i) { return i % 5 == 0; }
static uint16_t step_len(int i) { return (uint16_t)(1 + (i * 37) % 120); }

static void step_value(int i, uint8_t *v)
{
	for (int j = 0; j < step_len(i); j++) {
		v[j] = (uint8_t)(i * 31 + j);
	}
}

int fs_boot(void)
{
	return ls_mount(LS_SECTOR_SIZE, fs_flash_size() / LS_SECTOR_SIZE);
}

int fs_step(int i)
{
	uint8_t v[256];
	int rc;

	if (step_is_delete(i)) {
		rc = ls_delete(step_key(i));
		return rc == -ENOENT ? 0 : rc;
	}
	step_value(i, v);
	return ls_set(step_key(i), v, step_len(i));
}

/* The step that last wrote key k among steps 1..n: 0 = absent (never set or deleted). */
static int last_writer(int k, int n)
{
	int w = 0;

	for (int i = 1; i <= n; i++) {
		if (step_key(i) == k) {
			w = step_is_delete(i) ? 0 : i;
		}
	}
	return w;
}

static int holds(int k, int writer, const uint8_t *got, int rc)
{
	uint8_t v[256];

	if (writer == 0) {
		return rc == -ENOENT;
	}
	step_value(writer, v);
	return rc == step_len(writer) && memcmp(got, v, (size_t)rc) == 0;
}

int fs_check(void)
{
	int n = fs_completed_steps(), bad = 0;
	uint8_t got[256];

	for (int k = 0; k < KEYS; k++) {
		int rc = ls_get((uint16_t)k, got, sizeof(got));
		int old = last_writer(k, n);
		int new = fs_interrupted_step() ? last_writer(k, fs_interrupted_step()) : old;

		if (!holds(k, old, got, rc) && !holds(k, new, got, rc)) {
			bad = fs_fail("key %d after %d steps: expected %s%d or %s%d, found %s (%d bytes)",
				      k, n, old ? "the value of step " : "absent, step ", old,
				      new ? "the value of step " : "absent, step ", new,
				      rc == -ENOENT ? "nothing" : "other bytes", rc < 0 ? 0 : rc);
		}
	}
	return bad;
}
