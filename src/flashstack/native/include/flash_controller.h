/* flashstack shim of MicroEJ's flash_controller.h (AbstractionLayer-KERNEL-FLASH): the flash
 * controller functions LLKERNEL_flash.c calls, over the simulated KF region. Addresses are
 * absolute: the region is mapped at its real address in the helper process, so the code can
 * read headers straight from memory. Page = the chip's program page, subsector = erase page. */
#ifndef FLASH_CONTROLLER_H
#define FLASH_CONTROLLER_H
#ifdef __cplusplus
extern "C" {
#endif
#include <stdint.h>

#define FLASH_CTRL_OK ((uint32_t)0x00)
#define FLASH_CTRL_ERROR ((uint32_t)0x01)

uint32_t flash_ctrl_startup(void);
uint32_t flash_ctrl_page_write(uint8_t *pData, uint32_t addr, uint32_t size);
uint32_t flash_ctrl_erase_subsector(uint32_t addr);
uint32_t flash_ctrl_enable_memory_mapped_mode(void);
uint32_t flash_ctrl_disable_memory_mapped_mode(void);
uint32_t flash_ctrl_get_subsector_address(uint32_t address);
uint32_t flash_ctrl_get_page_address(uint32_t address);
uint32_t flash_ctrl_get_subsector_size(void);
uint32_t flash_ctrl_get_page_size(void);
uint32_t flash_ctrl_get_kf_start_address(void);
uint32_t flash_ctrl_get_kf_end_address(void);

#ifdef __cplusplus
}
#endif
#endif
