/// The graphical dialog program that asks for an MFA code where one exists: `zenity` (GNOME and
/// most desktops) or `kdialog` (KDE). The daemon's "Enter code" picks the dialog over a terminal
/// when one is on `PATH`; `credd login --dialog` runs it.
public enum CodeDialogProgram: String, Sendable, Hashable {
    case zenity
    case kdialog

    /// The program on `environment`'s `PATH`: kdialog first on KDE (`XDG_CURRENT_DESKTOP`),
    /// zenity first elsewhere; `nil` when neither is installed.
    public static func find(environment: [String: String]) -> CodeDialogProgram? {
        let onKDE = (environment["XDG_CURRENT_DESKTOP"] ?? "").split(separator: ":").contains { $0.uppercased() == "KDE" }
        let preferred: [CodeDialogProgram] = onKDE ? [.kdialog, .zenity] : [.zenity, .kdialog]
        return preferred.first { (try? ExecutableSearch.locate($0.rawValue, path: environment["PATH"]).get()) != nil }
    }
}
