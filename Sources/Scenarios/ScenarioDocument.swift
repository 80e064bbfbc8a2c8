import Yams

/// A parsed scenario file: its YAML tree, kept so that any key path — from the decoder,
/// from a validation error of the simulator's configuration types, or from a command-line
/// override — can be traced back to a line and column.
///
/// ```swift
/// let document = try ScenarioDocument(yaml: text, file: "scenarios/clinic-flow.yaml", overrides: ["clinic.stages[1].staff=6"])
/// let clinic = try document.decode(ClinicConfiguration.self, at: "clinic")
/// ```
public struct ScenarioDocument: @unchecked Sendable {
    // @unchecked: Yams' Node is an immutable value tree here, never mutated after init.
    public let file: String
    let root: Node
    /// Key paths set by `--set`, with the override as written: errors there blame the override, not the file.
    let overridden: [(path: [KeyPathComponent], text: String)]

    /// Limits: a scenario is a hand-written file, not a data dump.
    public static let bytesMax = 16 * 1024 * 1024

    /// Parses `yaml`; a syntax error keeps its position. `overrides` are `key.path=value`
    /// pairs (the value in YAML syntax) applied before anything is decoded.
    public init(yaml: String, file: String, overrides: [String] = []) throws(ScenarioError) {
        self.file = file
        guard yaml.utf8.count <= Self.bytesMax else {
            throw ScenarioError(file: file, line: nil, column: nil, path: "", message: "the file is larger than \(Self.bytesMax) bytes")
        }
        try Self.rejectAliases(yaml, file: file)
        var root: Node
        do {
            guard let composed = try Yams.compose(yaml: yaml) else {
                throw ScenarioError(file: file, line: 1, column: 1, path: "", message: "the file is empty; expected a mapping of keys")
            }
            root = composed
        } catch let error as ScenarioError {
            throw error
        } catch let error as YamlError {
            throw Self.syntaxError(error, file: file)
        } catch {
            throw ScenarioError(file: file, line: nil, column: nil, path: "", message: "\(error)")
        }
        var overridden: [(path: [KeyPathComponent], text: String)] = []
        for override in overrides {
            let (tree, path) = try Self.apply(override, to: root)
            root = tree
            overridden.append((path, override))
        }
        self.root = root
        self.overridden = overridden
    }

    /// Decodes the value at `keyPath` (the whole document if empty) as `T`, rejecting keys
    /// that `T` does not know. Errors name file, line, column and key path.
    /// `sections` are top-level keys that `T` does not decode but other readers of the same
    /// file do (the `tune` section of ``TuningProblem``-reading commands): they are not unknown.
    public func decode<T: Codable>(_ type: T.Type, at keyPath: String = "", sections: Set<String> = []) throws(ScenarioError) -> T {
        let parsed = keyPath.isEmpty ? [] : KeyPathComponent.parse(keyPath)
        guard let base = parsed else {
            throw ScenarioError(file: file, line: nil, column: nil, path: keyPath, message: "not a key path (expected e.g. clinic.stages[0])")
        }
        guard let node = Self.node(root, at: base) else {
            throw error(at: keyPath, "missing; expected a value here")
        }
        let value: T
        do {
            value = try YAMLDecoder().decode(T.self, from: node)
        } catch let decoding as DecodingError {
            throw describe(decoding, base: base)
        } catch {
            throw self.error(at: keyPath, "\(error)")
        }
        var checked = node
        if base.isEmpty, !sections.isEmpty, case let .mapping(mapping) = node {
            checked = .mapping(Node.Mapping(mapping.filter { !sections.contains($0.key.string ?? "") }.map { ($0.key, $0.value) },
                                            mapping.tag, mapping.style, mapping.mark))
        }
        try rejectUnknownKeys(value, checked, base: base)
        return value
    }

    /// Whether the document has a value at `keyPath`.
    public func has(_ keyPath: String) -> Bool {
        KeyPathComponent.parse(keyPath).flatMap { Self.node(root, at: $0) } != nil
    }

    /// The document (with its overrides applied) as YAML text; comments are not kept.
    public func yamlText() throws(ScenarioError) -> String {
        do {
            return try Yams.serialize(node: root, allowUnicode: true, sortKeys: false)
        } catch {
            throw ScenarioError(file: file, line: nil, column: nil, path: "", message: "could not be written as YAML: \(error)")
        }
    }

    /// An error at a key path of this file, with the line and column of the key (or of the
    /// nearest enclosing node that exists).
    public func error(at keyPath: String, _ message: String) -> ScenarioError {
        positioned(KeyPathComponent.parse(keyPath) ?? [], message)
    }

    /// An error at `path`: in the file at the key's line and column, or on the command line if
    /// a `--set` put the value there.
    func positioned(_ path: [KeyPathComponent], _ message: String) -> ScenarioError {
        if let override = overridden.last(where: { path.starts(with: $0.path) }) {
            return ScenarioError(file: "--set", line: nil, column: nil, path: KeyPathComponent.text(path),
                                 message: "\(message) (from --set \(override.text))")
        }
        let mark = Self.mark(root, at: path)
        return ScenarioError(file: file, line: mark?.line, column: mark?.column, path: KeyPathComponent.text(path), message: message)
    }

    /// Aliases (`*name`) and merge keys (`<<`) are refused before Yams sees the text: scenario files
    /// need neither, and both let a few hundred bytes expand into billions of nodes.
    static func rejectAliases(_ yaml: String, file: String) throws(ScenarioError) {
        for (n, line) in yaml.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var quote: Character?, previous: Character?, column = 0
            var chars = line.makeIterator()
            while let c = chars.next() {
                column += 1
                if let open = quote {
                    if c == open { quote = nil }
                    continue
                }
                if c == "#", previous == nil || line[line.index(line.startIndex, offsetBy: column - 2)] == " " { break }
                if c == "\"" || c == "'", previous == nil || ":-[{,?".contains(previous!) { quote = c }
                // A node starts at the beginning of a line or after an indicator: only there is `*` an alias.
                let atNodeStart = previous == nil || ":-[{,?".contains(previous!)
                if atNodeStart, c == "*" || (c == "<" && line.dropFirst(column).hasPrefix("<")) {
                    let what = c == "*" ? "aliases (*name)" : "merge keys (<<)"
                    throw ScenarioError(file: file, line: n + 1, column: column, path: "",
                                        message: "\(what) are not supported in scenario files; write the values out")
                }
                if c != " " && c != "\t" { previous = c }
            }
        }
    }
}
