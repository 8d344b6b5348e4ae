#ifndef CREDD_CGLIBCGNU_SHIM_H
#define CREDD_CGLIBCGNU_SHIM_H

// glibc declares these only under _GNU_SOURCE, which Swift's Glibc module is built without.
// No #include of their headers: a second module claiming a header hides its names from Swift.

// The daemon turns itself non-dumpable (no core dumps, no same-uid ptrace or /proc/PID/mem), and
// Swift cannot call the variadic prctl(2). 4 is PR_SET_DUMPABLE.
extern int prctl(int option, ...);
static inline int credd_set_dumpable(int dumpable) { return prctl(4, (unsigned long)dumpable, 0UL, 0UL, 0UL); }

// ProcessRunner creates its pipes close-on-exec atomically, so that a concurrent spawn cannot
// inherit them.
extern int pipe2(int pipefd[2], int flags);

// ProcessRunner's children get no descriptor of credd's beyond stdin/stdout/stderr, whatever
// NIO or a library left inheritable (glibc 2.34+). `actions` is a posix_spawn_file_actions_t *.
extern int posix_spawn_file_actions_addclosefrom_np(void *actions, int from);

// credd's own threads are named (`credd-inotify`, `credd-walltimer`, …) so that `/proc/PID/task/*/comm` tells them
// apart. `thread` is a pthread_t.
extern int pthread_setname_np(unsigned long thread, const char *name);

// add_key(2) and keyctl(2): libkeyutils wraps them, but one small wrapper each spares a library.
// Swift cannot call the variadic syscall(2); <sys/syscall.h> only defines numbers.
#include <sys/syscall.h>
extern long syscall(long number, ...);

static inline long credd_add_key(const char *type, const char *description, const void *payload, unsigned long length, int keyring) {
    return syscall(SYS_add_key, type, description, payload, length, keyring);
}

static inline long credd_keyctl(int operation, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5) {
    return syscall(SYS_keyctl, operation, arg2, arg3, arg4, arg5);
}

#endif
