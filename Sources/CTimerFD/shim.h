#ifndef CREDD_CTIMERFD_SHIM_H
#define CREDD_CTIMERFD_SHIM_H

// timerfd is in glibc but not in Swift's Glibc module; CreddPlatform's wall clock sleeps on one.
#include <sys/timerfd.h>

#endif
