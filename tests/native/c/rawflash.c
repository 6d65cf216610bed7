/* --api custom probe of the flash rules: fs_step(i) performs raw flash operation i of a fixed
 * script through the Zephyr flash API and returns its result code; the test performs the same
 * script on a Python SimulatedFlash and compares results, image and counters. */
#include <string.h>
#include <zephyr/drivers/flash.h>
#include <flashstack/custom.h>

static const struct device *dev = &fs_flash_device;

int fs_boot(void) { return 0; }
int fs_check(void) { return 0; }

int fs_step(int i)
{
	uint8_t d[16];
	size_t page = flash_get_write_block_size(dev) * 0 + 1024;

	for (int j = 0; j < 16; j++) {
		d[j] = (uint8_t)(0xA5 ^ (j * 17) ^ i);
	}
	switch (i) {
	case 1: return flash_write(dev, 0, d, 8);
	case 2: return flash_write(dev, 0, d + 8, 8);       /* double write */
	case 3: return flash_write(dev, 2, d, 4);           /* unaligned when wbs > 2 */
	case 4: return flash_write(dev, 16, d, 16);
	case 5: return flash_erase(dev, 0, page);
	case 6: return flash_erase(dev, 4, page);           /* not on a page boundary */
	case 7: return flash_read(dev, 3 * 1024 - 4, d, 8); /* beyond the end */
	case 8: return flash_write(dev, 3 * 1024 - 8, d, 16);
	case 9: return flash_write(dev, 1024, d, 0);        /* zero length */
	case 10: return flash_erase(dev, 1024, 2 * page);
	case 11: return flash_write(dev, 1024 + 32, d, 12);
	case 12: return flash_write(dev, 1024 + 32, d + 4, 12);
	default: return 0;
	}
}
