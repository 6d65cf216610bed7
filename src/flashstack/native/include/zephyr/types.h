/* flashstack shim of <zephyr/types.h>. */
#ifndef FS_SHIM_ZEPHYR_TYPES_H
#define FS_SHIM_ZEPHYR_TYPES_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>
#endif
