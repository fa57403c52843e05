/*
 * What the card's link to its controller needs from the OS: a thread for
 * the management channel (its TLS handshakes and reconnects may block,
 * the packet loop must not) and the environment the boot stage passes
 * (the firmware version and boot state of the slot it booted).
 *
 * Convention as in CPlatform: a non-negative result or `-errno`. The
 * definitions are in cardlink.c, so that this header pulls no system
 * header into the module (pthread.h would redefine types CPlatform's
 * headers already brought in).
 */
#ifndef CCARDLINK_H
#define CCARDLINK_H

/* Starts `body(context)` on a new joinable thread; its id in `*thread`. */
int ccp_thread_start(void *(*body)(void *), void *context, unsigned long *thread);
int ccp_thread_join(unsigned long thread);

/* The environment variable's value, NULL when unset. */
const char *ccp_environment(const char *name);

#endif
