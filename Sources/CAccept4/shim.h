#ifndef CREDD_CACCEPT4_SHIM_H
#define CREDD_CACCEPT4_SHIM_H

// glibc declares accept4 only under _GNU_SOURCE, which Swift's Glibc module is built without;
// the endpoint accepts with it so that client sockets are close-on-exec from the start.
// No #include <sys/socket.h>: a second module claiming that header hides its names from Swift.
struct sockaddr;
extern int accept4(int fd, struct sockaddr *address, unsigned int *length, int flags);

#endif
