/* flashstack shim of AliOS-Things <aos/kernel.h>: tasks, mutexes and semaphores as a
 * cooperative scheduler in the helper process. A task created with aos_task_new_ext() does not
 * run inside that call: it runs when the caller waits on a semaphore or when the operation
 * flashstack called returns (as a lower-priority task on the device). Time does not pass. */
#ifndef FS_SHIM_AOS_KERNEL_H
#define FS_SHIM_AOS_KERNEL_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
	void *hdl;
} aos_hdl_t;
typedef aos_hdl_t aos_task_t;
typedef aos_hdl_t aos_mutex_t;
typedef aos_hdl_t aos_sem_t;

#define AOS_WAIT_FOREVER 0xffffffffu
#define AOS_NO_WAIT 0x0u
#define AOS_DEFAULT_APP_PRI 32

int aos_task_new_ext(aos_task_t *task, const char *name, void (*fn)(void *), void *arg,
		     int stack_size, int prio);
int aos_task_new(const char *name, void (*fn)(void *), void *arg, int stack_size);
void aos_task_exit(int code);
int aos_mutex_new(aos_mutex_t *mutex);
void aos_mutex_free(aos_mutex_t *mutex);
int aos_mutex_lock(aos_mutex_t *mutex, unsigned int timeout);
int aos_mutex_unlock(aos_mutex_t *mutex);
int aos_mutex_is_valid(aos_mutex_t *mutex);
int aos_sem_new(aos_sem_t *sem, int count);
void aos_sem_free(aos_sem_t *sem);
int aos_sem_wait(aos_sem_t *sem, unsigned int timeout);
void aos_sem_signal(aos_sem_t *sem);
void aos_sem_signal_all(aos_sem_t *sem);
int aos_sem_is_valid(aos_sem_t *sem);
void *aos_malloc(unsigned int size);
void *aos_zalloc(unsigned int size);
void *aos_calloc(unsigned int nitems, unsigned int size);
void *aos_realloc(void *mem, unsigned int size);
void aos_free(void *mem);
void aos_msleep(int ms);
long long aos_now_ms(void);
#endif
