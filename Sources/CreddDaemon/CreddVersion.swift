/// credd's version, the one place it is written: `credd --version`, the status document and
/// the daemon's start message all read it.
public enum CreddVersion {
    public static let number = "0.1.0"
}
