#ifndef CREDD_CPIPE2_SHIM_H
#define CREDD_CPIPE2_SHIM_H

// pipe2 is in glibc but Swift's Glibc module leaves it out (it needs _GNU_SOURCE); ProcessRunner
// creates its pipes close-on-exec atomically so that a concurrent spawn cannot inherit them.
int pipe2(int pipefd[2], int flags);

#endif
