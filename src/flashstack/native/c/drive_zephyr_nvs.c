/* --api zephyr-nvs: drive nvs_mount / nvs_write / nvs_delete / nvs_read / nvs_calc_free_space
 * of the user's NVS (include/zephyr/fs/nvs.h of the user's Zephyr tree, or any code with those
 * signatures). Ids travel as 2 bytes. */
/* Zephyr 4.x moved the header to zephyr/kvss/ (subsys/kvss/nvs); older trees have zephyr/fs/ */
#if __has_include(<zephyr/kvss/nvs.h>)
#include <zephyr/kvss/nvs.h>
#else
#include <zephyr/fs/nvs.h>
#endif

#define FS_T struct nvs_fs
#define ID_T uint16_t
#define FS_MOUNT nvs_mount
#define FS_WRITE nvs_write
#define FS_DELETE nvs_delete
#define FS_READ nvs_read
#define FS_FREE_SPACE nvs_calc_free_space
/* the length first: nvs_read refuses a buffer longer than a sector */
#define FS_VALUE_LEN(f, id) nvs_read((f), (id), value, 0)
/* optional (weak): older trees and other ports may lack it */
ssize_t nvs_calc_free_space(struct nvs_fs *fs) __attribute__((weak));
#include "drive_zephyr_sector.h"
