import CreddINI
import FuzzSupport

/// libFuzzer's entry point: one input is one would-be INI file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzINI(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    INIFuzzCase(bytes: fuzzInput(data, size)).run()
    return 0
}

/// The INI parser's invariants on arbitrary bytes: lossless round trip, positions inside the
/// input, and edits that touch only their own section and read back as they were made.
struct INIFuzzCase {
    let bytes: [UInt8]

    func run() {
        let document: INIDocument
        do {
            document = try INIDocument(bytes: bytes)
        } catch {
            guard case .invalidUTF8(let line) = error else {
                return check(false, "parsing failed with \(error); only invalid UTF-8 may fail")
            }
            check(String(validating: bytes, as: UTF8.self) == nil, "valid UTF-8 was refused")
            let lineCount = bytes.reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
            check((1...lineCount).contains(line), "invalid UTF-8 reported on line \(line) of \(lineCount)")
            return
        }
        check(Array(document.serialized().utf8) == bytes, "serialising the unedited document changed its bytes")
        checkPositions(document)
        editSections(of: document)
    }

    /// Diagnostics point at a line of the document and a column of that line (or just past it).
    private func checkPositions(_ document: INIDocument) {
        for diagnostic in document.diagnostics {
            check((1...max(document.lines.count, 1)).contains(diagnostic.line), "diagnostic on line \(diagnostic.line) of \(document.lines.count)")
            let width = document.lines.indices.contains(diagnostic.line - 1) ? document.lines[diagnostic.line - 1].text.count : 0
            check((1...(width + 1)).contains(diagnostic.column), "diagnostic at column \(diagnostic.column) of a \(width)-character line")
        }
    }

    /// Edits chosen by a hash of the input, so a crasher replays the same edits.
    private func editSections(of document: INIDocument) {
        let seed = bytes.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
        let sections = document.sections
        let appended = "fuzz \(seed % 1000)"
        checkEdit("appendSection", of: document, inside: nil) { edited throws(INIError) in
            try edited.appendSection(appended, entries: [(key: "fuzz_key", value: "fuzz-value")])
            check(edited.value(forKey: "fuzz_key", inSection: appended) == "fuzz-value", "the appended section does not read back")
        }
        guard !sections.isEmpty, let section = document.section(named: sections[Int(seed % UInt64(sections.count))].name) else { return }
        let name = section.name
        checkEdit("setValue of a new key", of: document, inside: section) { edited throws(INIError) in
            try edited.setValue("fuzz-value", forKey: "fuzz_new_key", inSection: name)
            check(edited.value(forKey: "fuzz_new_key", inSection: name) == "fuzz-value", "a new key does not read back")
        }
        // A removal that would change how the next lines read is announced beforehand (the writer refuses it).
        let removalKeepsFollowingLines = !document.removingSectionChangesFollowingLines(named: name)
        checkEdit("removeSection", of: document, inside: section, followingLinesKeepKinds: removalKeepsFollowingLines) { edited throws(INIError) in
            check(edited.removeSection(named: name), "removeSection missed an existing section")
            // An announced removal changes how later lines read, and so may what sections they make.
            check(
                !removalKeepsFollowingLines || edited.sectionCount(named: name) == document.sectionCount(named: name) - 1,
                "removeSection removed no section")
        }
        guard !section.entries.isEmpty else { return }
        let key = section.entries[Int((seed >> 16) % UInt64(section.entries.count))].key
        checkEdit("setValue of an existing key", of: document, inside: section) { edited throws(INIError) in
            try edited.setValue("fuzz-value", forKey: key, inSection: name)
            check(edited.value(forKey: key, inSection: name) == "fuzz-value", "a replaced key does not read back")
        }
        checkEdit("removeValue", of: document, inside: section) { edited throws(INIError) in
            check(edited.removeValue(forKey: key, inSection: name), "removeValue missed an existing key")
        }
    }

    /// Applies `edit` to a copy. A refused edit must leave the document alone; an accepted one must
    /// serialise to text that parses back to the same document, and must leave every line before
    /// `section` (bar the blank line just before it) and after it as it was. `nil` means the edit
    /// only appends.
    private func checkEdit(
        _ name: String, of document: INIDocument, inside section: INISection?, followingLinesKeepKinds: Bool = true,
        _ edit: (inout INIDocument) throws(INIError) -> Void
    ) {
        var edited = document
        do {
            try edit(&edited)
        } catch {
            check(edited == document, "\(name) failed with \(error) but changed the document")
            return
        }
        check(INIDocument(parsing: edited.serialized()) == edited, "after \(name), parsing the output gives a different document")
        checkPositions(edited)
        // Compared as text; lines before the section also keep their kinds then, since a line's kind
        // depends only on the text up to it.
        let output = Array(edited.serialized().utf8)
        let prefixEnd = section.map { max($0.headerIndex - 1, 0) } ?? document.lines.count
        let suffixStart = section?.endIndex ?? document.lines.count
        let prefix = (document.hasByteOrderMark ? Array("\u{FEFF}".utf8) : []) + Self.text(of: document.lines[..<prefixEnd])
        let suffix = Self.text(of: document.lines[suffixStart...])
        check(output.count >= suffix.count && output.suffix(suffix.count).elementsEqual(suffix), "\(name) changed lines after the section it edits")
        let suffixKinds = document.lines[suffixStart...].map(\.kind)
        check(
            !followingLinesKeepKinds || edited.lines.suffix(suffixKinds.count).map(\.kind) == suffixKinds,
            "\(name) changed how lines after the section it edits read")
        // A file that ended without a newline still does, even when its last line is now one from before the section.
        let endsInPrefix =
            suffix.isEmpty && prefix.starts(with: output)
            && ["\n", "\r\n", "\r"].contains(String(decoding: prefix.dropFirst(output.count), as: UTF8.self))
        check(output.starts(with: prefix) || endsInPrefix, "\(name) changed lines before the section it edits")
    }

    private static func text(of lines: ArraySlice<INILine>) -> [UInt8] {
        lines.flatMap { Array(($0.text + $0.terminator).utf8) }
    }
}
