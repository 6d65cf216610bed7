/* --api custom probe of the AliOS kernel shim: step 1 starts a task and returns whether it
 * already ran (it must not have); step 2 returns how often it ran by then (once); step 3
 * waits on a semaphore the task signals (the wait runs the task). */
#include <aos/kernel.h>
#include <flashstack/custom.h>

static int ran;
static aos_sem_t done;

static void task(void *arg)
{
	(void)arg;
	ran++;
	aos_sem_signal(&done);
}

int fs_boot(void) { return aos_sem_new(&done, 0); }
int fs_check(void) { return 0; }

int fs_step(int i)
{
	aos_task_t t;

	switch (i) {
	case 1:
		aos_task_new_ext(&t, "probe", task, NULL, 2048, 32);
		return ran;
	case 2:
		return ran;
	case 3:
		aos_task_new_ext(&t, "probe", task, NULL, 2048, 32);
		return aos_sem_wait(&done, AOS_WAIT_FOREVER) * 100 + ran;
	default:
		return -1;
	}
}
