/* flashstack shim of <zephyr/sys/__assert.h>: a failed assertion aborts the helper process,
 * which flashstack reports as a crash of the C code (not as a power cut). */
#ifndef FS_SHIM_ZEPHYR_SYS_ASSERT_H
#define FS_SHIM_ZEPHYR_SYS_ASSERT_H
#include <stdio.h>
#include <stdlib.h>
#define __ASSERT(test, fmt, ...)                                                              \
	do {                                                                                  \
		if (!(test)) {                                                                \
			fprintf(stderr, "ASSERTION FAIL [%s] @ %s:%d: " fmt "\n", #test,      \
				__FILE__, __LINE__, ##__VA_ARGS__);                           \
			abort();                                                              \
		}                                                                             \
	} while (0)
#define __ASSERT_NO_MSG(test) __ASSERT(test, "")
#define __ASSERT_EVAL(expr1, expr2, test, fmt, ...) __ASSERT(test, fmt, ##__VA_ARGS__)
#endif
