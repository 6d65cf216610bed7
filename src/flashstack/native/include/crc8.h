/* flashstack shim of the legacy <crc8.h> (older Zephyr trees): see <zephyr/sys/crc.h>. */
#ifndef FS_SHIM_CRC8_H
#define FS_SHIM_CRC8_H
#include <zephyr/sys/crc.h>
#endif
