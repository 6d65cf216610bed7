/* flashstack shims: MicroEJ flash_controller.h over the runtime's flash core. The KF region is
 * the simulated partition, mapped at its absolute address (fs_flash_memory()). */
#include <stdint.h>
#include <flash_controller.h>
#include <flashstack/runtime.h>

static uint32_t base(void)
{
	return (uint32_t)(uintptr_t)fs_flash_memory();
}

uint32_t flash_ctrl_startup(void)
{
	return FLASH_CTRL_OK;
}

uint32_t flash_ctrl_page_write(uint8_t *pData, uint32_t addr, uint32_t size)
{
	if (addr < base() || addr - base() > fs_flash_size()) {
		return FLASH_CTRL_ERROR;
	}
	return fs_flash_write(addr - base(), pData, size) ? FLASH_CTRL_ERROR : FLASH_CTRL_OK;
}

uint32_t flash_ctrl_erase_subsector(uint32_t addr)
{
	uint32_t start, size, index;

	if (addr < base() || fs_flash_page_at(addr - base(), &start, &size, &index)) {
		return FLASH_CTRL_ERROR;
	}
	return fs_flash_erase(start, size) ? FLASH_CTRL_ERROR : FLASH_CTRL_OK;
}

/* Reads always see the flash: the mapping never goes away in the simulation. */
uint32_t flash_ctrl_enable_memory_mapped_mode(void)
{
	return FLASH_CTRL_OK;
}

uint32_t flash_ctrl_disable_memory_mapped_mode(void)
{
	return FLASH_CTRL_OK;
}

uint32_t flash_ctrl_get_subsector_address(uint32_t address)
{
	uint32_t start, size, index;

	if (address < base() || fs_flash_page_at(address - base(), &start, &size, &index)) {
		return address;
	}
	return base() + start;
}

uint32_t flash_ctrl_get_page_address(uint32_t address)
{
	return address - (address - base()) % fs_flash_program_page_size();
}

uint32_t flash_ctrl_get_subsector_size(void)
{
	uint32_t start, size, index;

	return fs_flash_page_at(0, &start, &size, &index) ? 0 : size;
}

uint32_t flash_ctrl_get_page_size(void)
{
	return fs_flash_program_page_size();
}

uint32_t flash_ctrl_get_kf_start_address(void)
{
	return base();
}

uint32_t flash_ctrl_get_kf_end_address(void)
{
	return base() + fs_flash_size();
}
