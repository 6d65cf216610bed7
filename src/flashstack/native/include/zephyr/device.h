/* flashstack shim of <zephyr/device.h>: one device, the simulated flash. */
#ifndef FS_SHIM_ZEPHYR_DEVICE_H
#define FS_SHIM_ZEPHYR_DEVICE_H
#include <stdbool.h>
#include <stddef.h>

struct device {
	const char *name;
	const void *config;
	const void *api;
	void *data;
};
/* The simulated flash device (every DEVICE_DT_GET names it). */
extern const struct device fs_flash_device;
#define DEVICE_DT_GET(node_id) (&fs_flash_device)
#define DEVICE_DT_GET_OR_NULL(node_id) (&fs_flash_device)
#define DEVICE_DT_GET_ONE(compat) (&fs_flash_device)
#define DT_CHOSEN(x) 0
#define DT_NODELABEL(x) 0
#define DT_MTD_FROM_FIXED_PARTITION(x) 0
static inline bool device_is_ready(const struct device *dev) { return dev != NULL; }
const struct device *device_get_binding(const char *name);
#endif
