/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Preloaded (first) into the programs the preload tests run when the shim
 * is built with AddressSanitizer, and only then. The ASan runtime's
 * aligned_alloc refuses a size that is not a multiple of the alignment
 * (C11's first rule, dropped by C17); glibc accepts it and coreutils' cat
 * and dd rely on that, so under the ASan runtime they would abort before
 * touching any file. memalign has no such rule.
 */
#include <malloc.h>
#include <stdlib.h>

void *aligned_alloc(size_t alignment, size_t size)
{
	return memalign(alignment, size);
}
