#define _GNU_SOURCE 1
#include <pthread.h>
#include <stdlib.h>

#include "ccardlink.h"

int ccp_thread_start(void *(*body)(void *), void *context, unsigned long *thread) {
  pthread_t id;
  int status = pthread_create(&id, NULL, body, context);
  if (status != 0) return -status;
  *thread = (unsigned long)id;
  return 0;
}

int ccp_thread_join(unsigned long thread) { return -pthread_join((pthread_t)thread, NULL); }

const char *ccp_environment(const char *name) { return getenv(name); }
