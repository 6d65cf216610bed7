/* CRCs with Zephyr lib/crc conventions (crc8_ccitt: poly 0x07 MSB-first; crc16_ccitt: poly
 * 0x1021 reflected as Zephyr's; crc32_ieee: reflected 0xEDB88320, init/xorout 0xFFFFFFFF). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

uint8_t crc8_ccitt(uint8_t val, const void *buf, size_t cnt)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < cnt; i++) {
		val ^= p[i];
		for (int b = 0; b < 8; b++) {
			val = (val & 0x80) ? (uint8_t)((val << 1) ^ 0x07) : (uint8_t)(val << 1);
		}
	}
	return val;
}

uint8_t crc8(const uint8_t *src, size_t len, uint8_t polynomial, uint8_t initial_value,
	     bool reversed)
{
	uint8_t crc = initial_value;

	for (size_t i = 0; i < len; i++) {
		crc ^= src[i];
		for (int j = 0; j < 8; j++) {
			if (reversed) {
				crc = (crc & 0x01) ? (uint8_t)((crc >> 1) ^ polynomial) : (uint8_t)(crc >> 1);
			} else {
				crc = (crc & 0x80) ? (uint8_t)((crc << 1) ^ polynomial) : (uint8_t)(crc << 1);
			}
		}
	}
	return crc;
}

uint16_t crc16_ccitt(uint16_t seed, const uint8_t *src, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t e = (uint8_t)(seed ^ src[i]);
		uint8_t f = (uint8_t)(e ^ (e << 4));

		seed = (uint16_t)((seed >> 8) ^ ((uint16_t)f << 8) ^ ((uint16_t)f << 3) ^ ((uint16_t)f >> 4));
	}
	return seed;
}

uint32_t crc32_ieee_update(uint32_t crc, const uint8_t *data, size_t len)
{
	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= data[i];
		for (int b = 0; b < 8; b++) {
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
		}
	}
	return ~crc;
}

uint32_t crc32_ieee(const uint8_t *data, size_t len)
{
	return crc32_ieee_update(0x0, data, len);
}

uint32_t crc32_c(uint32_t crc, const uint8_t *data, size_t len, bool first_pkt, bool last_pkt)
{
	if (first_pkt) {
		crc = 0xFFFFFFFFu;
	}
	for (size_t i = 0; i < len; i++) {
		crc ^= data[i];
		for (int b = 0; b < 8; b++) {
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
		}
	}
	return last_pkt ? ~crc : crc;
}
