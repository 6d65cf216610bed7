/* flashstack shim of MicroEJ's LLKERNEL_impl.h (Architecture 8.1+): the constants and the nine
 * functions a Kernel's feature storage implements (plain names; the generated header of a
 * MicroEJ build renames them, e.g. LLKERNEL_IMPL_allocateFeature__II). */
#ifndef LLKERNEL_IMPL_H
#define LLKERNEL_IMPL_H
#ifdef __cplusplus
extern "C" {
#endif
#include <stdint.h>

#define LLKERNEL_OK 0
#define LLKERNEL_ERROR (-1)
#define LLKERNEL_RAM_AREA_ALIGNMENT 8
#define LLKERNEL_ROM_AREA_ALIGNMENT 16

#define LLKERNEL_FEATURE_INIT_ERROR_CORRUPTED_CONTENT 1
#define LLKERNEL_FEATURE_INIT_ERROR_INCOMPATIBLE_KERNEL_WRONG_UID 2
#define LLKERNEL_FEATURE_INIT_ERROR_TOO_MANY_INSTALLED 3
#define LLKERNEL_FEATURE_INIT_ERROR_ALREADY_INSTALLED 4
#define LLKERNEL_FEATURE_INIT_ERROR_INCOMPATIBLE_KERNEL_WRONG_ADDRESSES 5
#define LLKERNEL_FEATURE_INIT_ERROR_ROM_OVERLAP 6
#define LLKERNEL_FEATURE_INIT_ERROR_RAM_OVERLAP 7
#define LLKERNEL_FEATURE_INIT_ERROR_RAM_ADDRESS_CHANGED 8
#define LLKERNEL_FEATURE_INIT_ERROR_NULL_HANDLE 9

int32_t LLKERNEL_IMPL_allocateFeature(int32_t size_ROM, int32_t size_RAM);
void LLKERNEL_IMPL_freeFeature(int32_t handle);
int32_t LLKERNEL_IMPL_getAllocatedFeaturesCount(void);
int32_t LLKERNEL_IMPL_getFeatureHandle(int32_t allocation_index);
void *LLKERNEL_IMPL_getFeatureAddressRAM(int32_t handle);
void *LLKERNEL_IMPL_getFeatureAddressROM(int32_t handle);
int32_t LLKERNEL_IMPL_copyToROM(void *dest_address_ROM, void *src_address, int32_t size);
int32_t LLKERNEL_IMPL_flushCopyToROM(void);
int32_t LLKERNEL_IMPL_onFeatureInitializationError(int32_t handle, int32_t error_code);

#ifdef __cplusplus
}
#endif
#endif
