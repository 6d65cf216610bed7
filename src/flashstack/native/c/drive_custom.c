/* --api custom: the user's fs_boot / fs_step / fs_check. */
#include <flashstack/custom.h>

int fs_drive(int op, int32_t a, int32_t b, struct fs_io *io)
{
	(void)b;
	(void)io;
	switch (op) {
	case FS_OP_BOOT:
		return fs_boot();
	case FS_OP_STEP:
		return fs_step(a);
	case FS_OP_CHECK:
		return fs_check();
	default:
		return -95; /* EOPNOTSUPP */
	}
}
