import Testing

@testable import CreddCLI

/// Which browser `credd login` opens, and how the URL is passed.
struct BrowserCommandTests {
    static let url = "http://127.0.0.1:9/authorize?a=1&b=2"

    @Test(arguments: [
        ([:], ["xdg-open", url]),
        (["BROWSER": "firefox"], ["firefox", url]),
        (["BROWSER": "w3m -dump %s:firefox"], ["w3m", "-dump", url]),
        (["BROWSER": ""], ["xdg-open", url]),
        (["CREDD_BROWSER": "'/opt/my browser' --new-tab", "BROWSER": "firefox"], ["/opt/my browser", "--new-tab", url]),
        (["CREDD_BROWSER": "", "BROWSER": "lynx"], ["lynx", url]),
    ])
    func theCommandLineFollowsTheVariables(environment: [String: String], expected: [String]) throws {
        #expect(try BrowserCommand.commandLine(for: Self.url, environment: environment) == expected)
    }

    @Test func anUnsplittableCommandIsAnError() {
        #expect(throws: (any Error).self) { try BrowserCommand.commandLine(for: Self.url, environment: ["CREDD_BROWSER": "'open"]) }
    }
}
