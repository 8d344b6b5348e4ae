#ifndef CREDD_CGLIBCGNU_SHIM_H
#define CREDD_CGLIBCGNU_SHIM_H

// glibc declares these only under _GNU_SOURCE, which Swift's Glibc module is built without.
// No #include of their headers: a second module claiming a header hides its names from Swift.

// ProcessRunner creates its pipes close-on-exec atomically, so that a concurrent spawn cannot
// inherit them.
extern int pipe2(int pipefd[2], int flags);

// ProcessRunner's children get no descriptor of credd's beyond stdin/stdout/stderr, whatever
// NIO or a library left inheritable (glibc 2.34+). `actions` is a posix_spawn_file_actions_t *.
extern int posix_spawn_file_actions_addclosefrom_np(void *actions, int from);

// credd's own threads are named (`credd-worker-0`, …) so that `/proc/PID/task/*/comm` tells them
// apart. `thread` is a pthread_t.
extern int pthread_setname_np(unsigned long thread, const char *name);

#endif
