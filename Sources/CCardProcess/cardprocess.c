#define _GNU_SOURCE 1
#include "ccardprocess.h"

static int saved_argc;
static char **saved_argv;

/* glibc calls .init_array functions with (argc, argv, envp), in static
 * executables too; this keeps them for the Swift side. */
__attribute__((constructor)) static void ccp_capture_arguments(int argc, char **argv, char **envp) {
  (void)envp;
  saved_argc = argc;
  saved_argv = argv;
}

int ccp_argument_count(void) { return saved_argc; }

const char *ccp_argument(int index) {
  return index >= 0 && index < saved_argc ? saved_argv[index] : NULL;
}
