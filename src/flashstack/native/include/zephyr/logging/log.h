/* flashstack shim of <zephyr/logging/log.h>: errors and warnings go to the helper's log
 * (shown when the C code crashes); debug and info are compiled (type-checked) but silent
 * unless FS_LOG_VERBOSE is defined. */
#ifndef FS_SHIM_ZEPHYR_LOGGING_LOG_H
#define FS_SHIM_ZEPHYR_LOGGING_LOG_H
#include <stdio.h>
#define LOG_MODULE_REGISTER(...) extern int fs_log_module_unused
#define LOG_MODULE_DECLARE(...) extern int fs_log_module_unused
#define LOG_LEVEL_NONE 0
#define LOG_LEVEL_ERR 1
#define LOG_LEVEL_WRN 2
#define LOG_LEVEL_INF 3
#define LOG_LEVEL_DBG 4
#define FS_LOG_PRINT(lvl, fmt, ...) fprintf(stderr, lvl ": " fmt "\n", ##__VA_ARGS__)
#ifdef FS_LOG_VERBOSE
#define FS_LOG_QUIET(lvl, fmt, ...) FS_LOG_PRINT(lvl, fmt, ##__VA_ARGS__)
#else
#define FS_LOG_QUIET(lvl, fmt, ...) do { if (0) { FS_LOG_PRINT(lvl, fmt, ##__VA_ARGS__); } } while (0)
#endif
#define LOG_ERR(fmt, ...) FS_LOG_PRINT("E", fmt, ##__VA_ARGS__)
#define LOG_WRN(fmt, ...) FS_LOG_PRINT("W", fmt, ##__VA_ARGS__)
#define LOG_INF(fmt, ...) FS_LOG_QUIET("I", fmt, ##__VA_ARGS__)
#define LOG_DBG(fmt, ...) FS_LOG_QUIET("D", fmt, ##__VA_ARGS__)
#define LOG_HEXDUMP_DBG(data, len, str) do { (void)(data); (void)(len); (void)(str); } while (0)
#define LOG_HEXDUMP_ERR(data, len, str) do { (void)(data); (void)(len); (void)(str); } while (0)
#define LOG_HEXDUMP_WRN(data, len, str) do { (void)(data); (void)(len); (void)(str); } while (0)
#define LOG_HEXDUMP_INF(data, len, str) do { (void)(data); (void)(len); (void)(str); } while (0)
#endif
