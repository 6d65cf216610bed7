/* flashstack shim of the legacy <crc32.h> (older Zephyr trees): see <zephyr/sys/crc.h>. */
#ifndef FS_SHIM_CRC32_H
#define FS_SHIM_CRC32_H
#include <zephyr/sys/crc.h>
#endif
