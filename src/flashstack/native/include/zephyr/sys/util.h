/* flashstack shim of <zephyr/sys/util.h>: the helper macros Zephyr storage code uses.
 * IS_ENABLED(CONFIG_X) is 1 when CONFIG_X is defined as 1 (-DCONFIG_X=1), else 0, as in Zephyr. */
#ifndef FS_SHIM_ZEPHYR_SYS_UTIL_H
#define FS_SHIM_ZEPHYR_SYS_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <zephyr/toolchain.h>
#ifndef MIN
#define MIN(a, b) (((a) < (b)) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) (((a) > (b)) ? (a) : (b))
#endif
#ifndef CLAMP
#define CLAMP(val, low, high) (((val) <= (low)) ? (low) : MIN(val, high))
#endif
#define ARRAY_SIZE(array) (sizeof(array) / sizeof((array)[0]))
#define BIT(n) (1UL << (n))
#define BIT_MASK(n) (BIT(n) - 1UL)
#define BITS_PER_LONG (8 * (int)sizeof(long))
#define BITS_PER_LONG_LONG (8 * (int)sizeof(long long))
#define GENMASK(h, l) (((~0UL) - (1UL << (l)) + 1) & (~0UL >> (BITS_PER_LONG - 1 - (h))))
#define GENMASK64(h, l) (((~0ULL) - (1ULL << (l)) + 1) & (~0ULL >> (BITS_PER_LONG_LONG - 1 - (h))))
/* the lowest set bit of a mask; a field's value is (value & mask) / that bit (zms_priv.h) */
#define LSB_GET(value) ((value) & -(value))
#define FIELD_GET(mask, value) (((value) & (mask)) / LSB_GET(mask))
#define FIELD_PREP(mask, value) (((value) * LSB_GET(mask)) & (mask))
#define ROUND_UP(x, align) ((((unsigned long)(x) + ((unsigned long)(align) - 1)) / \
			    (unsigned long)(align)) * (unsigned long)(align))
#define ROUND_DOWN(x, align) (((unsigned long)(x) / (unsigned long)(align)) * (unsigned long)(align))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define KB(x) ((x) << 10) /* e.g. NVS_MAX_SECTOR_SIZE of subsys/kvss/nvs (Zephyr 4.x) */
#define MB(x) (KB(x) << 10)
#define GB(x) (MB(x) << 10)
#define ceiling_fraction(n, d) DIV_ROUND_UP(n, d)
#define SIZEOF_FIELD(type, member) sizeof(((type *)0)->member)
#define CONTAINER_OF(ptr, type, field) ((type *)(((char *)(ptr)) - offsetof(type, field)))
#define ARG_UNUSED(x) (void)(x)
#define IS_POWER_OF_TWO(x) (((x) != 0U) && (((x) & ((x) - 1U)) == 0U))
#define POINTER_TO_UINT(x) ((uintptr_t)(x))
#define UINT_TO_POINTER(x) ((void *)(uintptr_t)(x))
#define STRINGIFY(s) Z_STRINGIFY(s)
#define Z_STRINGIFY(s) #s
/* IS_ENABLED: Zephyr's trick, a macro defined as 1 expands to a placeholder with a comma */
#define Z_IS_ENABLED_PLACEHOLDER_1 0,
#define IS_ENABLED(config_macro) Z_IS_ENABLED1(config_macro)
#define Z_IS_ENABLED1(config_macro) Z_IS_ENABLED2(Z_IS_ENABLED_PLACEHOLDER_##config_macro)
#define Z_IS_ENABLED2(one_or_two_args) Z_IS_ENABLED3(one_or_two_args 1, 0)
#define Z_IS_ENABLED3(ignore_this, val, ...) val
#endif
