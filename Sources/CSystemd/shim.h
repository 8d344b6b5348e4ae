#ifndef CREDD_CSYSTEMD_SHIM_H
#define CREDD_CSYSTEMD_SHIM_H

// libsystemd: its D-Bus client and the service protocols. Only its non-variadic calls are used from Swift
// (sd_bus_message_append_basic and the container calls instead of sd_bus_message_append).
#include <systemd/sd-bus.h>
// sd_notify, sd_listen_fds_with_names and sd_journal_sendv: systemd's own implementations of the
// service protocols (docs/decisions/0006).
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

// sd_bus_error starts out as SD_BUS_ERROR_NULL, a macro Swift cannot import.
static inline sd_bus_error credd_sd_bus_error_null(void) {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    return error;
}

#endif
