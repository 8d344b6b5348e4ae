import CreddCore
import CreddPlatform
import FoundationEssentials

/// Asks for an MFA code in a graphical dialog (`credd login --dialog`, what a notification's
/// "Enter code" runs where zenity or kdialog exists). The code comes back on the dialog's
/// stdout, never through arguments; a message for the next question (a mistyped or rejected
/// code) is shown in that question's text.
final class CodeDialog: CodePrompt {
    private let program: CodeDialogProgram
    private let title: String
    private var notes: [String] = []

    /// The question itself names the MFA device and the profile that takes the code.
    init(program: CodeDialogProgram, profile: String) {
        self.program = program
        self.title = "credd: MFA code for AWS profile \(profile)"
    }

    func ask(_ prompt: String) -> String? {
        // The terminal's prompt ends in ": " for the cursor; a dialog's label does not.
        var question = prompt.trimmingWhitespace(newlines: true)
        if question.hasSuffix(":") { question.removeLast() }
        let text = (notes + [question]).joined(separator: "\n")
        notes = []
        let arguments =
            switch program {
            case .zenity: ["zenity", "--entry", "--title=\(title)", "--text=\(Self.plain(text))"]
            case .kdialog: ["kdialog", "--title", title, "--inputbox", text]
            }
        // Cancel (or closing the window) exits 1: no code.
        guard case .success(let answer) = ForegroundProcess.output(arguments), answer.status == 0 else { return nil }
        return String(decoding: answer.stdout, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init)
    }

    func say(_ text: String) {
        notes.append(text.trimmingWhitespace(newlines: true))
    }

    func failed(_ problem: String) {
        printError("credd: \(problem)")
        let arguments =
            switch program {
            case .zenity: ["zenity", "--error", "--title=\(title)", "--text=\(Self.plain(problem))"]
            case .kdialog: ["kdialog", "--title", title, "--error", problem]
            }
        _ = ForegroundProcess.run(arguments)
    }

    /// `text` shown as it is: zenity reads its text as Pango markup.
    private static func plain(_ text: String) -> String {
        text.replacingEvery("&", with: "&amp;").replacingEvery("<", with: "&lt;").replacingEvery(">", with: "&gt;")
    }
}
