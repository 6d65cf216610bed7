/* flashstack shim of <zephyr/toolchain.h>: the compiler attributes Zephyr storage code uses. */
#ifndef FS_SHIM_ZEPHYR_TOOLCHAIN_H
#define FS_SHIM_ZEPHYR_TOOLCHAIN_H
#ifndef __packed
#define __packed __attribute__((__packed__))
#endif
#ifndef __aligned
#define __aligned(x) __attribute__((__aligned__(x)))
#endif
#ifndef __weak
#define __weak __attribute__((__weak__))
#endif
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
#ifndef __maybe_unused
#define __maybe_unused __attribute__((__unused__))
#endif
#ifndef __used
#define __used __attribute__((__used__))
#endif
#ifndef __noinit
#define __noinit
#endif
#ifndef __fallthrough
#define __fallthrough __attribute__((fallthrough))
#endif
#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif
#ifndef ALWAYS_INLINE
#define ALWAYS_INLINE inline __attribute__((always_inline))
#endif
#ifndef BUILD_ASSERT
#define BUILD_ASSERT(cond, ...) _Static_assert(cond, "" __VA_ARGS__)
#endif
#ifndef CODE_UNREACHABLE
#define CODE_UNREACHABLE __builtin_unreachable()
#endif
#ifndef FUNC_NORETURN
#define FUNC_NORETURN __attribute__((__noreturn__))
#endif
#ifndef __syscall
#define __syscall
#endif
#ifndef __deprecated
#define __deprecated __attribute__((deprecated))
#endif
#ifndef __printf_like
#define __printf_like(f, a) __attribute__((format(printf, f, a)))
#endif
#ifndef __section
#define __section(x) __attribute__((section(x)))
#endif
#ifndef __DEPRECATED_MACRO
#define __DEPRECATED_MACRO
#endif
#endif
