/* --api llkernel: drive the nine LLKERNEL_IMPL_* functions of the user's feature storage
 * (MicroEJ LLKERNEL_flash.c or a port). Handles and addresses travel as 32-bit values. */
#include <stdlib.h>
#include <string.h>
#include <LLKERNEL_impl.h>
#include <flashstack/runtime.h>

static int out_u32(struct fs_io *io, uint32_t v)
{
	return fs_out(io, &v, 4);
}

int fs_drive(int op, int32_t a, int32_t b, struct fs_io *io)
{
	uint32_t dest;
	uint8_t *chunk;

	switch (op) {
	case FS_OP_BOOT: /* the Kernel's first call at boot */
		return LLKERNEL_IMPL_getAllocatedFeaturesCount() < 0 ? -5 : 0;
	case FS_OP_ALLOC:
		return out_u32(io, (uint32_t)LLKERNEL_IMPL_allocateFeature(a, b));
	case FS_OP_FREE:
		LLKERNEL_IMPL_freeFeature(a);
		return 0;
	case FS_OP_COPY:
		/* a buffer of its own: copyToROM may return before it has used the bytes */
		chunk = malloc(io->in_len < 4 ? 1 : io->in_len - 4);
		if (io->in_len < 4 || chunk == NULL) {
			return -22;
		}
		memcpy(&dest, io->in, 4);
		memcpy(chunk, io->in + 4, io->in_len - 4);
		return LLKERNEL_IMPL_copyToROM((void *)(uintptr_t)dest, chunk, (int32_t)(io->in_len - 4));
	case FS_OP_FLUSH:
		return LLKERNEL_IMPL_flushCopyToROM();
	case FS_OP_INITERR:
		return LLKERNEL_IMPL_onFeatureInitializationError(a, b);
	case FS_OP_LIST: {
		int32_t n = LLKERNEL_IMPL_getAllocatedFeaturesCount();

		for (int32_t i = 0; i < n; i++) {
			int32_t h = LLKERNEL_IMPL_getFeatureHandle(i);

			if (out_u32(io, (uint32_t)h) ||
			    out_u32(io, (uint32_t)(uintptr_t)LLKERNEL_IMPL_getFeatureAddressROM(h)) ||
			    out_u32(io, (uint32_t)(uintptr_t)LLKERNEL_IMPL_getFeatureAddressRAM(h))) {
				return -28;
			}
		}
		return 0;
	}
	default:
		return -95;
	}
}
