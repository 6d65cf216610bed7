/* flashstack shims: the AliOS-Things kernel calls of storage code, as a cooperative scheduler.
 *
 * Tasks are ucontext coroutines. A new task is READY but does not run inside aos_task_new_ext:
 * it runs when the running code waits on a semaphore it cannot take, or when the operation
 * flashstack called returns (fs_tasks_run, called by the runtime before it answers). A task
 * that waits yields to the caller it was started from. Nothing preempts anything.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <aos/kernel.h>

#define MAX_TASKS 16
#define STACK 65536

struct sem {
	int count;
	int valid;
};
struct task {
	ucontext_t ctx;
	void (*fn)(void *);
	void *arg;
	void *stack;
	int state; /* 0 free, 1 ready, 2 waiting, 3 done */
	struct sem *waits;
};

static struct task tasks[MAX_TASKS];
static ucontext_t main_ctx;
static int current = -1; /* -1: the code flashstack called */

static void trampoline(void)
{
	struct task *t = &tasks[current];

	t->fn(t->arg);
	aos_task_exit(0);
}

static int runnable(const struct task *t)
{
	return t->state == 1 || (t->state == 2 && t->waits->count > 0);
}

/* Run one runnable task until it waits or ends; 0 when none could run. */
static int run_one(void)
{
	for (int i = 0; i < MAX_TASKS; i++) {
		if (runnable(&tasks[i])) {
			tasks[i].state = 1;
			current = i;
			swapcontext(&main_ctx, &tasks[i].ctx);
			current = -1;
			if (tasks[i].state == 3) {
				free(tasks[i].stack);
				tasks[i].state = 0;
			}
			return 1;
		}
	}
	return 0;
}

/* The runtime calls this before answering a request: tasks run while the device would idle. */
void fs_tasks_run(void)
{
	while (current == -1 && run_one()) {
	}
}

int aos_task_new_ext(aos_task_t *task, const char *name, void (*fn)(void *), void *arg,
		     int stack_size, int prio)
{
	(void)name;
	(void)stack_size;
	(void)prio;
	for (int i = 0; i < MAX_TASKS; i++) {
		if (tasks[i].state == 0) {
			struct task *t = &tasks[i];

			t->stack = malloc(STACK);
			if (t->stack == NULL) {
				return -ENOMEM;
			}
			getcontext(&t->ctx);
			t->ctx.uc_stack.ss_sp = t->stack;
			t->ctx.uc_stack.ss_size = STACK;
			t->ctx.uc_link = NULL;
			makecontext(&t->ctx, trampoline, 0);
			t->fn = fn;
			t->arg = arg;
			t->state = 1;
			if (task != NULL) {
				task->hdl = t;
			}
			return 0;
		}
	}
	return -ENOMEM;
}

int aos_task_new(const char *name, void (*fn)(void *), void *arg, int stack_size)
{
	return aos_task_new_ext(NULL, name, fn, arg, stack_size, AOS_DEFAULT_APP_PRI);
}

void aos_task_exit(int code)
{
	(void)code;
	if (current >= 0) {
		tasks[current].state = 3;
		swapcontext(&tasks[current].ctx, &main_ctx);
	}
}

int aos_sem_new(aos_sem_t *sem, int count)
{
	struct sem *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		return -ENOMEM;
	}
	s->count = count;
	s->valid = 1;
	sem->hdl = s;
	return 0;
}

void aos_sem_free(aos_sem_t *sem)
{
	free(sem->hdl);
	sem->hdl = NULL;
}

int aos_sem_is_valid(aos_sem_t *sem)
{
	return sem != NULL && sem->hdl != NULL;
}

int aos_sem_wait(aos_sem_t *sem, unsigned int timeout)
{
	struct sem *s = sem->hdl;

	if (s == NULL) {
		return -EINVAL;
	}
	while (s->count == 0) {
		if (timeout == AOS_NO_WAIT) {
			return -ETIMEDOUT;
		}
		if (current >= 0) { /* a task waits: back to whoever ran it */
			tasks[current].state = 2;
			tasks[current].waits = s;
			swapcontext(&tasks[current].ctx, &main_ctx);
		} else if (!run_one()) {
			return -ETIMEDOUT; /* nothing else can ever signal it */
		}
	}
	s->count--;
	return 0;
}

void aos_sem_signal(aos_sem_t *sem)
{
	if (sem->hdl != NULL) {
		((struct sem *)sem->hdl)->count++;
	}
}

void aos_sem_signal_all(aos_sem_t *sem)
{
	aos_sem_signal(sem);
}

/* A mutex is a semaphore of one. */
int aos_mutex_new(aos_mutex_t *mutex)
{
	return aos_sem_new((aos_sem_t *)mutex, 1);
}

void aos_mutex_free(aos_mutex_t *mutex)
{
	aos_sem_free((aos_sem_t *)mutex);
}

int aos_mutex_lock(aos_mutex_t *mutex, unsigned int timeout)
{
	return aos_sem_wait((aos_sem_t *)mutex, timeout);
}

int aos_mutex_unlock(aos_mutex_t *mutex)
{
	aos_sem_signal((aos_sem_t *)mutex);
	return 0;
}

int aos_mutex_is_valid(aos_mutex_t *mutex)
{
	return aos_sem_is_valid((aos_sem_t *)mutex);
}

void *aos_malloc(unsigned int size)
{
	return malloc(size);
}

void *aos_zalloc(unsigned int size)
{
	return calloc(1, size);
}

void *aos_calloc(unsigned int nitems, unsigned int size)
{
	return calloc(nitems, size);
}

void *aos_realloc(void *mem, unsigned int size)
{
	return realloc(mem, size);
}

void aos_free(void *mem)
{
	free(mem);
}

void aos_msleep(int ms)
{
	(void)ms;
}

long long aos_now_ms(void)
{
	return 0;
}
