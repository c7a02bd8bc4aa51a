/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Constants that older system headers lack. */
#ifndef LIBKSM_MISSING_H
#define LIBKSM_MISSING_H

#include <sys/mman.h>
#include <sys/prctl.h>

#ifndef MADV_MERGEABLE
#define MADV_MERGEABLE 12
#endif
#ifndef MADV_UNMERGEABLE
#define MADV_UNMERGEABLE 13
#endif
#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#endif
#ifndef PR_GET_MEMORY_MERGE
#define PR_GET_MEMORY_MERGE 68
#endif

#endif
