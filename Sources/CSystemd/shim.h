#ifndef CREDD_CSYSTEMD_SHIM_H
#define CREDD_CSYSTEMD_SHIM_H

// libsystemd's D-Bus client. Only its non-variadic calls are used from Swift
// (sd_bus_message_append_basic and the container calls instead of sd_bus_message_append).
#include <systemd/sd-bus.h>

// sd_bus_error starts out as SD_BUS_ERROR_NULL, a macro Swift cannot import.
static inline sd_bus_error credd_sd_bus_error_null(void) {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    return error;
}

#endif
