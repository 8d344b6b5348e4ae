import CreddINI
import CreddTestSupport
import Testing

/// Random INI documents assembled from the fragments real files are made of.
struct RandomDocumentBuilder {
    var generator: SplitMix64
    /// Whether to mix in lines AWS tools reject (invalid lines, duplicates, a BOM).
    let messy: Bool

    static let keys = ["region", "output", "aws_access_key_id", "role_arn", "source_profile", "mfa_serial", "Duration_Seconds", "x"]
    static let values = ["us-east-1", "", "a # b", "x:y=z", "開発 🚀", "arn:aws:iam::123456789012:role/a#b", "json ; c", "\tpadded\t"]
    static let comments = ["# comment", "; semicolon", "   # indented", "\t; tabbed", "#[old]", "# ünïcödé"]
    static let terminators = ["\n", "\n", "\n", "\r\n", "\r"]

    mutating func pick<T>(_ options: [T]) -> T {
        options[Int.random(in: options.indices, using: &generator)]
    }

    mutating func chance(_ percent: Int) -> Bool {
        Int.random(in: 0..<100, using: &generator) < percent
    }

    mutating func makeText() -> String {
        var lines: [String] = []
        if messy && chance(5) { lines.append("\u{FEFF}# bom") }
        for _ in 0..<Int.random(in: 0...2, using: &generator) { lines.append(pick(Self.comments + [""])) }
        for sectionNumber in 0..<Int.random(in: 0...6, using: &generator) {
            let name = messy && chance(10) ? "profile p0" : "profile p\(sectionNumber)"
            lines.append(pick(["[\(name)]", "[\(name)] # note", "[\(name)]  "]))
            var unusedKeys = Self.keys
            // Indented entries (and headers, below) are where configparser's reading of a line
            // depends on the lines above it.
            let indent = messy && chance(15) ? "  " : ""
            for _ in 0..<Int.random(in: 0...5, using: &generator) {
                if chance(20) { lines.append(pick(Self.comments + ["", "  "])) }
                let key = messy && chance(10) ? pick(Self.keys) : (unusedKeys.popLast() ?? "extra")
                let value = pick(Self.values)
                lines.append(indent + pick(["\(key) = \(value)", "\(key)=\(value)", "\(key): \(value)", "\(key)\t=\t\(value)"]))
                if chance(15) {
                    for _ in 0..<Int.random(in: 1...3, using: &generator) {
                        lines.append(indent + "  nested_\(Int.random(in: 0...99, using: &generator)) = \(pick(Self.values))")
                    }
                }
            }
            if messy && chance(15) { lines.append(pick(["no delimiter here", " = nokey", "[unclosed", "[]"])) }
            if chance(60) { lines.append("") }
            if messy && chance(5) { lines.append("    [indented \(sectionNumber)]") }
        }
        var text = ""
        for (index, line) in lines.enumerated() {
            text += line
            if index < lines.count - 1 || chance(80) { text += pick(Self.terminators) }
        }
        return text
    }
}

@Suite("Random documents")
struct INIPropertyTests {
    @Test("random documents round-trip byte-identically", arguments: [false, true])
    func randomRoundTrip(messy: Bool) throws {
        for seed in UInt64(1)...300 {
            var builder = RandomDocumentBuilder(generator: SplitMix64(seed: seed), messy: messy)
            let text = builder.makeText()
            let document = INIDocument(parsing: text)
            #expect(Array(document.serialized().utf8) == Array(text.utf8), "seed \(seed)")
            let fromBytes = try INIDocument(bytes: Array(text.utf8))
            #expect(fromBytes == document, "seed \(seed)")
        }
    }

    @Test("random edits change only lines inside the edited section", arguments: [false, true])
    func randomEditsAreLocal(messy: Bool) throws {
        for seed in UInt64(1)...200 {
            var builder = RandomDocumentBuilder(generator: SplitMix64(seed: seed &* 7919), messy: messy)
            var document = INIDocument(parsing: builder.makeText())
            for step in 0..<6 {
                let context = "seed \(seed) step \(step)"
                let before = document
                let edit = RandomEdit.pick(for: before, step: step, using: &builder)
                try edit.apply(to: &document)
                switch edit {
                case let .set(name, entries):
                    for entry in entries {
                        #expect(document.value(forKey: entry.key, inSection: name) == entry.value, "\(context)")
                    }
                    try expectLocal(before: before, after: document, section: name, context: context)
                case let .removeValue(name, _):
                    try expectLocal(before: before, after: document, section: name, context: context)
                case let .removeSection(name):
                    #expect(document.sectionCount(named: name) == before.sectionCount(named: name) - 1, "\(context)")
                    try expectLocal(before: before, after: document, section: name, context: context)
                case let .append(name):
                    #expect(document.value(forKey: "k", inSection: name) == "v", "\(context)")
                    let unchangedCount = before.lines.count - 1
                    #expect(
                        Array(document.lines.prefix(max(unchangedCount, 0)).map(\.text))
                            == Array(before.lines.prefix(max(unchangedCount, 0)).map(\.text)), "\(context)")
                }
                // Edits reclassify exactly as a fresh parse of the new text would.
                #expect(INIDocument(parsing: document.serialized()) == document, "\(context)")
            }
        }
    }

    /// The lines that differ between `before` and `after` all lie within the edited section
    /// (plus the blank line separating it from the previous one): everything else is kept,
    /// byte for byte, except that the file's last line may lose its terminator to keep "no
    /// final newline".
    func expectLocal(before: INIDocument, after: INIDocument, section name: String, context: String) throws {
        let section = try #require(before.section(named: name), "\(context)")
        let old = before.lines
        let new = after.lines
        func same(_ oldIndex: Int, _ newIndex: Int) -> Bool {
            let a = old[oldIndex]
            let b = new[newIndex]
            let isNewLast = newIndex == new.count - 1
            return a.text == b.text && (a.terminator == b.terminator || (isNewLast && b.terminator.isEmpty))
        }
        // Identical lines make the changed window ambiguous: accept either alignment.
        func changedWindow(suffixFirst: Bool) -> Range<Int> {
            var prefix = 0
            var suffix = 0
            func growPrefix() {
                while prefix < old.count - suffix, prefix < new.count - suffix, same(prefix, prefix) { prefix += 1 }
            }
            func growSuffix() {
                while suffix < old.count - prefix, suffix < new.count - prefix, same(old.count - 1 - suffix, new.count - 1 - suffix) { suffix += 1 }
            }
            if suffixFirst {
                growSuffix()
                growPrefix()
            } else {
                growPrefix()
                growSuffix()
            }
            return prefix..<(old.count - suffix)
        }
        let allowed = (section.headerIndex - 1)...section.endIndex
        let windows = [changedWindow(suffixFirst: false), changedWindow(suffixFirst: true)]
        let local = windows.contains { $0.isEmpty || (allowed.contains($0.lowerBound) && allowed.contains($0.upperBound)) }
        #expect(local, "\(context): changed \(windows) outside \(section.headerIndex)..<\(section.endIndex)")
    }
}

/// One edit of the kinds credd makes, chosen at random.
enum RandomEdit {
    case set(section: String, entries: [(key: String, value: String)])
    case removeValue(section: String, key: String)
    case removeSection(String)
    case append(String)

    static func pick(for document: INIDocument, step: Int, using builder: inout RandomDocumentBuilder) -> RandomEdit {
        let names = document.sections.map(\.name)
        switch Int.random(in: 0..<4, using: &builder.generator) {
        case 0 where !names.isEmpty:
            let keys = Set((0..<Int.random(in: 1...3, using: &builder.generator)).map { _ in builder.pick(RandomDocumentBuilder.keys + ["new_key"]) })
            // An empty value opens a nested block, which changes how indented lines below read.
            return .set(section: builder.pick(names), entries: keys.sorted().map { (key: $0, value: builder.chance(20) ? "" : "v\(step)") })
        case 1 where !names.isEmpty:
            return .removeValue(section: builder.pick(names), key: builder.pick(RandomDocumentBuilder.keys))
        case 2 where !names.isEmpty:
            return .removeSection(builder.pick(names))
        default:
            return .append("added \(step)")
        }
    }

    func apply(to document: inout INIDocument) throws {
        switch self {
        case let .set(section, entries): try document.setValues(entries, inSection: section)
        case let .removeValue(section, key): document.removeValue(forKey: key, inSection: section)
        case let .removeSection(name): document.removeSection(named: name)
        case let .append(name): try document.appendSection(name, comments: ["# managed by credd"], entries: [(key: "k", value: "v")])
        }
    }
}

@Suite("Edits against a fresh parse")
struct INIIncrementalParseTests {
    /// Edits re-read only the lines they touch and keep a section index; after every edit of a
    /// long random sequence, everything readable must equal what a from-scratch parse of the
    /// new text gives.
    @Test("after each of many random edits, lines, lookups and diagnostics equal a fresh parse", arguments: [false, true])
    func editSequencesMatchFreshParse(messy: Bool) throws {
        for seed in UInt64(1)...150 {
            var builder = RandomDocumentBuilder(generator: SplitMix64(seed: seed &* 104_729), messy: messy)
            var document = INIDocument(parsing: builder.makeText())
            var everSeen = Set(document.sections.map(\.name))
            for step in 0..<25 {
                let edit = RandomEdit.pick(for: document, step: step, using: &builder)
                try edit.apply(to: &document)
                let context = "seed \(seed) step \(step) \(edit)"
                let fresh = INIDocument(parsing: document.serialized())
                #expect(document.lines == fresh.lines, "\(context)")
                #expect(document.diagnostics == fresh.diagnostics, "\(context)")
                everSeen.formUnion(fresh.sections.map(\.name))
                for name in everSeen {
                    #expect(document.section(named: name) == fresh.section(named: name), "\(context) [\(name)]")
                    #expect(document.sectionCount(named: name) == fresh.sectionCount(named: name), "\(context) [\(name)]")
                }
                for section in fresh.sections {
                    let expected = fresh.diagnostics.filter {
                        (section.headerLineNumber...section.endIndex).contains($0.line) && $0.problem != .byteOrderMark
                    }
                    #expect(document.diagnostics(in: section) == expected, "\(context) [\(section.name)] line \(section.headerLineNumber)")
                }
            }
        }
    }
}
