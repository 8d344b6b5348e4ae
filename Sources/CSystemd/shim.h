#ifndef CREDD_CSYSTEMD_SHIM_H
#define CREDD_CSYSTEMD_SHIM_H

// credd supplies CODE_FILE/CODE_LINE/CODE_FUNC from the log event itself; without this,
// sd-journal.h turns sd_journal_sendv into a macro that records this header's location.
#define SD_JOURNAL_SUPPRESS_LOCATION 1

// The parts of libsystemd credd uses: sd_notify, socket activation, the watchdog query
// and the native journal protocol. Both headers come from libsystemd-dev.
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#endif
