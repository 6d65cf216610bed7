/* flashstack --api custom: the three functions your C exports.
 *
 *   int fs_boot(void);    mount your store from the flash alone; 0 = mounted
 *   int fs_step(int i);   workload step i (1..ops): change the store; 0 = acknowledged
 *   int fs_check(void);   after a boot: 0 when the state is right, else call fs_fail() and
 *                         return non-zero. fs_completed_steps() says how many steps returned
 *                         before the power cut (the next one was interrupted).
 *
 * Flash access: the Zephyr flash API (<zephyr/drivers/flash.h>, <zephyr/storage/flash_map.h>),
 * the AliOS HAL (<aos_hal_flash.h>) or <flashstack/runtime.h> directly.
 */
#ifndef FLASHSTACK_CUSTOM_H
#define FLASHSTACK_CUSTOM_H
#include <flashstack/runtime.h>
int fs_boot(void);
int fs_step(int i);
int fs_check(void);
#endif
