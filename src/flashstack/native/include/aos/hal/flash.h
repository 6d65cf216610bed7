/* flashstack shim of <aos/hal/flash.h>: see <aos_hal_flash.h>. */
#ifndef FS_SHIM_AOS_HAL_FLASH_H2
#define FS_SHIM_AOS_HAL_FLASH_H2
#include <aos_hal_flash.h>
#endif
