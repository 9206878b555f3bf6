import Testing

/// Every error type declared anywhere in Sources/ declares its exit class in its own module, so
/// a new error type cannot end up as exit 1 because nobody mapped it (issue #24).
@Suite struct ErrorDeclarationTests {
    static let errorProtocols: Set<String> = ["Error", "LocalizedError", "CustomNSError", "ClassifiedError"]

    static let scanned = Result { try SwiftDeclarations.ofSources() }

    /// The error types of each module, by name from the top level (`WriterTrust.NoWriters`):
    /// those conforming to `Error` or to a protocol that refines it.
    static func errorTypes(_ scanned: SwiftDeclarations) -> [String: Set<String>] {
        var protocols = errorProtocols
        while true {
            let refining = scanned.declarations.filter { $0.keyword == "protocol" && !$0.conformances.filter(protocols.contains).isEmpty }
            let grown = protocols.union(refining.map(\.name))
            if grown == protocols { break }
            protocols = grown
        }
        var found: [String: Set<String>] = [:]
        for declaration in scanned.declarations where declaration.keyword != "protocol"
            && !declaration.conformances.filter(protocols.contains).isEmpty {
            found[declaration.module, default: []].insert(declaration.name)
        }
        return found
    }

    /// The types each module declares `ClassifiedError` for (in a declaration or an extension).
    static func classified(_ scanned: SwiftDeclarations) -> [String: Set<String>] {
        var found: [String: Set<String>] = [:]
        for declaration in scanned.declarations where declaration.conformances.contains("ClassifiedError") {
            found[declaration.module, default: []].insert(declaration.name)
        }
        return found
    }

    @Test func everyErrorTypeDeclaresItsExitClassInItsModule() throws {
        let scanned = try Self.scanned.get()
        let classified = Self.classified(scanned)
        for (module, types) in Self.errorTypes(scanned).sorted(by: { $0.key < $1.key }) {
            let missing = types.subtracting(classified[module] ?? [])
            let files = scanned.declarations.filter { missing.contains($0.name) && $0.module == module }.map(\.file)
            #expect(missing.isEmpty, """
                \(module): \(missing.sorted().joined(separator: ", ")) (\(Set(files).sorted().joined(separator: ", "))) \
                conform(s) to Error but declare(s) no exit class: add `extension TYPE: ClassifiedError` to \
                Sources/\(module)/ErrorClasses.swift, choosing the class from README's "Exit codes"
                """)
        }
    }

    /// The scan sees what is there: top-level, nested (in a type, in an enum namespace, private
    /// once) and typed-throws error types, in every module, and ignores words in strings and
    /// comments.
    @Test func theScanFindsNestedErrorTypesInEveryModule() throws {
        let types = Self.errorTypes(try Self.scanned.get())
        #expect(types["DrctlStorage"]?.isSuperset(of: ["WriterTrust.NoWriters", "StorageError", "S3ConfigurationError", "RegionWriterGone"]) == true, "\(types)")
        #expect(types["DrctlSources"]?.isSuperset(of: ["CustomArchiveScanner.NeedMore", "RDBHeaderParser.NeedMore", "LoopbackPort.Failure", "ArchiveHead.Complete"]) == true, "\(types)")
        #expect(types["drctl"]?.isSuperset(of: ["KeygenCommand.KeyFileExists", "KeygenCommand.KeyDirectoryError"]) == true, "\(types)")
        #expect(types["DrctlPolicy"]?.contains("FileIO.Failure") == true && types["DrctlCrypto"]?.contains("AuthenticatedBytes.Failure") == true, "\(types)")
        #expect(types["DrctlJobs"]?.isSuperset(of: ["StagedLoad.Abandoned", "StagedBlockReader.Malformed", "JobError"]) == true, "\(types)")
        #expect(types.values.map(\.count).reduce(0, +) >= 55, "\(types)")

        var sample = SwiftDeclarations()
        sample.read("""
            // struct Commented: Error {}
            let text = "struct Quoted: Error { \\(value.map { "}" }) }"
            /* enum Block: Error { case a } */
            public enum Outer {
                struct Inner: Swift.Error, CustomStringConvertible { var description: String { "}{" } }
                enum Kind: Error { case a, b(String), c
                    case d(x: Int, y: Int) = 1
                    var name: String { switch self { case .a: return "a" default: return "" } } }
            }
            extension DrctlX.Outer.Inner: ClassifiedError {}
            protocol Refined: Sendable, Error {}
            struct Indirect: Refined {}
            """, module: "DrctlX", file: "sample.swift")
        #expect(sample.declarations.map(\.name) == ["Outer", "Outer.Inner", "Outer.Kind", "Outer.Inner", "Refined", "Indirect"])
        #expect(sample.declarations.first { $0.name == "Outer.Kind" }?.cases == ["a", "b", "c", "d"])
        #expect(Self.errorTypes(sample) == ["DrctlX": ["Outer.Inner", "Outer.Kind", "Indirect"]])
        #expect(Self.classified(sample) == ["DrctlX": ["Outer.Inner"]])
    }
}
