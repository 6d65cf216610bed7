/* --api custom code that misbehaves on purpose: step 2 dereferences NULL, step 3 calls exit(),
 * step 4 never returns, step 5 returns the steps seen before it; fs_check() fails when
 * statics survived a reboot (they must not). */
#include <stdlib.h>
#include <zephyr/storage/flash_map.h>
#include <flashstack/custom.h>

static int booted;
static int steps_seen;

int fs_boot(void)
{
	booted++;
	return 0;
}

int fs_step(int i)
{
	volatile int *p = NULL;

	steps_seen++;
	if (i == 2) {
		return *p;
	}
	if (i == 3) {
		exit(4);
	}
	while (i == 4) {
	}
	if (i == 5) {
		return steps_seen - 1; /* steps before this one */
	}
	return 0;
}

int fs_check(void)
{
	if (booted != 1 || steps_seen != 0) {
		return fs_fail("statics survived a reboot: booted %d, steps seen %d", booted, steps_seen);
	}
	return 0;
}
