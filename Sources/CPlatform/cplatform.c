#define _GNU_SOURCE 1
/* CPlatform is header-only (static inline wrappers); this file gives
 * SwiftPM a compilation unit for the target. */
#include "cplatform.h"
