/* A small log-structured key-value store written for flashstack's own tests (not a product).
 *
 * Layout: a ring of equal sectors (erase pages); the active sector starts with a header
 * (magic 0x4C53, sequence number, CRC-8) and holds records appended in order:
 *   header A bytes: key u16, length u16, flags u8 (1 = delete), CRC-8 of the 6 bytes before
 *   data   length bytes padded to A with the erase value
 *   commit A bytes of 0x5A: written last, a record without it never happened
 * A = max(8, write block). Compaction copies the live records into the next sector (erased
 * first) and writes that sector's header last. Mount picks the valid header with the highest
 * sequence number; when the active sector is over three quarters full it compacts at boot.
 *
 * Planted defects (compile with -D, for campaigns to catch):
 *   LS_PLANT_DELETE_FIRST   an update writes a delete record for the old value first
 *   LS_PLANT_NO_COMMIT      no commit word: a record counts once its header is valid
 *   LS_PLANT_RECOVERY       the boot-time compaction writes the new header before copying,
 *                           so a cut during recovery leaves a valid, half-filled sector
 */
#ifndef LOGSTORE_H
#define LOGSTORE_H
#include <stdint.h>

int ls_mount(uint32_t sector_size, uint32_t sector_count);
int ls_set(uint16_t key, const void *data, uint16_t len);
int ls_delete(uint16_t key);
/* value length (possibly more than cap; copies at most cap bytes), or -ENOENT */
int ls_get(uint16_t key, void *buf, uint16_t cap);
/* the i-th live key (0 <= i), in no particular order: 0, or -ENOENT past the last */
int ls_key_at(uint32_t i, uint16_t *key);
#endif
