import FoundationEssentials
import Glibc

/// The local time zone, for times people read (`STATUS=`, `credd status`).
public enum LocalTime {
    /// The local time zone's offset at `date`, from the C library (TZ, /etc/localtime):
    /// Foundation's time zones other than UTC need ICU.
    public static func secondsFromGMT(_ date: Date) -> Int {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        guard localtime_r(&seconds, &parts) != nil else { return 0 }
        return parts.tm_gmtoff
    }
}
