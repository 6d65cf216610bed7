/* --api zephyr-zms: drive zms_mount / zms_write / zms_delete / zms_get_data_length / zms_read /
 * zms_calc_free_space of the user's ZMS (include/zephyr/fs/zms.h of the user's Zephyr tree, or
 * any code with those signatures). Ids travel as 4 bytes. */
/* Zephyr 4.x moved the header to zephyr/kvss/ (subsys/kvss/zms); older trees have zephyr/fs/ */
#if __has_include(<zephyr/kvss/zms.h>)
#include <zephyr/kvss/zms.h>
#else
#include <zephyr/fs/zms.h>
#endif

#define FS_T struct zms_fs
#define ID_T uint32_t
#define FS_MOUNT zms_mount
#define FS_WRITE zms_write
#define FS_DELETE zms_delete
#define FS_READ zms_read
#define FS_FREE_SPACE zms_calc_free_space
#define FS_VALUE_LEN(f, id) zms_get_data_length((f), (id))
/* optional (weak): older trees and other ports may lack it */
ssize_t zms_calc_free_space(struct zms_fs *fs) __attribute__((weak));
#include "drive_zephyr_sector.h"
