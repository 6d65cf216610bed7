/* flashstack shim of <zephyr/sys/crc.h>: the CRCs Zephyr storage code uses, implemented by
 * the flashstack runtime (same polynomials and conventions as Zephyr lib/crc). */
#ifndef FS_SHIM_ZEPHYR_SYS_CRC_H
#define FS_SHIM_ZEPHYR_SYS_CRC_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#define CRC8_CCITT_INITIAL_VALUE 0xFF
#define CRC8_ROHC_INITIAL_VALUE 0xFF
uint8_t crc8_ccitt(uint8_t initial_value, const void *buf, size_t len);
uint8_t crc8(const uint8_t *src, size_t len, uint8_t polynomial, uint8_t initial_value,
	     bool reversed);
uint16_t crc16_ccitt(uint16_t seed, const uint8_t *src, size_t len);
uint32_t crc32_ieee(const uint8_t *data, size_t len);
uint32_t crc32_ieee_update(uint32_t crc, const uint8_t *data, size_t len);
uint32_t crc32_c(uint32_t crc, const uint8_t *data, size_t len, bool first_pkt, bool last_pkt);
#endif
