/* A small LLKERNEL_IMPL_* feature storage written for flashstack's tests (not MicroEJ's):
 * N = the address of _java_max_nb_dynamic_features, slots of whole subsectors, a 32-byte
 * header read straight from the memory-mapped KF region, ROM written through
 * flash_controller.h. A free clears the status word in one 4-byte program (multi-program
 * NOR): the Feature is gone or still whole. */
#include <string.h>
#include <LLKERNEL_impl.h>
#include <flash_controller.h>

#define USED 0x181C77E8u
#define RAM_ALIGN 256u

struct header {
	uint32_t status, nb_subsectors, rom_address, rom_size, ram_address, ram_size, index, reserved;
};

extern char _java_max_nb_dynamic_features;
static uint8_t kernel_ram_buffer[16384] __attribute__((aligned(RAM_ALIGN)));

static uint32_t n_slots(void) { return (uint32_t)(uintptr_t)&_java_max_nb_dynamic_features; }

static uint32_t slot_size(void)
{
	uint32_t sub = flash_ctrl_get_subsector_size();

	return (flash_ctrl_get_kf_end_address() - flash_ctrl_get_kf_start_address()) / sub /
	       n_slots() * sub;
}

static const struct header *slot(uint32_t i)
{
	return (const struct header *)(uintptr_t)(flash_ctrl_get_kf_start_address() + i * slot_size());
}

int32_t LLKERNEL_IMPL_getAllocatedFeaturesCount(void)
{
	int32_t n = 0;

	for (uint32_t i = 0; i < n_slots(); i++) {
		n += slot(i)->status == USED;
	}
	return n;
}

int32_t LLKERNEL_IMPL_getFeatureHandle(int32_t allocation_index)
{
	for (uint32_t i = 0; i < n_slots(); i++) {
		if (slot(i)->status == USED && allocation_index-- == 0) {
			return (int32_t)(uintptr_t)slot(i);
		}
	}
	return 0;
}

static const struct header *used(int32_t handle)
{
	const struct header *h = (const struct header *)(uintptr_t)(uint32_t)handle;

	for (uint32_t i = 0; i < n_slots(); i++) {
		if (slot(i) == h && h->status == USED) {
			return h;
		}
	}
	return NULL;
}

void *LLKERNEL_IMPL_getFeatureAddressRAM(int32_t handle)
{
	const struct header *h = used(handle);

	return h ? (void *)(uintptr_t)h->ram_address : NULL;
}

void *LLKERNEL_IMPL_getFeatureAddressROM(int32_t handle)
{
	const struct header *h = used(handle);

	return h ? (void *)(uintptr_t)h->rom_address : NULL;
}

int32_t LLKERNEL_IMPL_allocateFeature(int32_t size_ROM, int32_t size_RAM)
{
	uint32_t ram = (uint32_t)(uintptr_t)kernel_ram_buffer, sub = flash_ctrl_get_subsector_size();
	struct header h;
	const struct header *free_slot = NULL;

	if (size_ROM < 0 || size_RAM < 0 || (uint32_t)size_ROM + sizeof(h) > slot_size()) {
		return 0;
	}
	for (uint32_t i = 0; i < n_slots(); i++) {
		const struct header *s = slot(i);

		if (s->status == USED && s->ram_address + s->ram_size > ram) {
			ram = s->ram_address + s->ram_size;
		} else if (s->status != USED && free_slot == NULL) {
			free_slot = s;
		}
	}
	ram = (ram + RAM_ALIGN - 1) / RAM_ALIGN * RAM_ALIGN;
	if (free_slot == NULL || ram + (uint32_t)size_RAM >
	    (uint32_t)(uintptr_t)kernel_ram_buffer + sizeof(kernel_ram_buffer)) {
		return 0;
	}
	h = (struct header){USED, (uint32_t)(sizeof(h) + (uint32_t)size_ROM + sub - 1) / sub,
			    (uint32_t)(uintptr_t)free_slot + sizeof(h), (uint32_t)size_ROM, ram,
			    (uint32_t)size_RAM, (uint32_t)LLKERNEL_IMPL_getAllocatedFeaturesCount(),
			    0xFFFFFFFFu};
	for (uint32_t s = 0; s < h.nb_subsectors; s++) {
		if (flash_ctrl_erase_subsector((uint32_t)(uintptr_t)free_slot + s * sub) != FLASH_CTRL_OK) {
			return 0;
		}
	}
	if (flash_ctrl_page_write((uint8_t *)&h, (uint32_t)(uintptr_t)free_slot, sizeof(h)) != FLASH_CTRL_OK) {
		return 0;
	}
	return (int32_t)(uintptr_t)free_slot;
}

void LLKERNEL_IMPL_freeFeature(int32_t handle)
{
	uint32_t zero = 0;

	if (used(handle) != NULL) {
		(void)flash_ctrl_page_write((uint8_t *)&zero, (uint32_t)handle, 4);
	}
}

int32_t LLKERNEL_IMPL_copyToROM(void *dest_address_ROM, void *src_address, int32_t size)
{
	uint32_t dest = (uint32_t)(uintptr_t)dest_address_ROM, page = flash_ctrl_get_page_size();
	uint8_t *src = src_address;

	if (size < 0 || dest < flash_ctrl_get_kf_start_address() ||
	    dest + (uint32_t)size > flash_ctrl_get_kf_end_address()) {
		return LLKERNEL_ERROR;
	}
	while (size > 0) { /* one program per page piece */
		uint32_t n = page - dest % page;

		n = n < (uint32_t)size ? n : (uint32_t)size;
		if (flash_ctrl_page_write(src, dest, n) != FLASH_CTRL_OK) {
			return LLKERNEL_ERROR;
		}
		dest += n;
		src += n;
		size -= (int32_t)n;
	}
	return LLKERNEL_OK;
}

int32_t LLKERNEL_IMPL_flushCopyToROM(void)
{
	return LLKERNEL_OK;
}

int32_t LLKERNEL_IMPL_onFeatureInitializationError(int32_t handle, int32_t error_code)
{
	if (error_code == 1 || error_code == 2 || error_code == 5) {
		LLKERNEL_IMPL_freeFeature(handle);
	}
	return LLKERNEL_OK;
}
