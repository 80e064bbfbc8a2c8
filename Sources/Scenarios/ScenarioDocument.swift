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

    /// Limits: a scenario is a hand-written file, not a data dump.
    public static let bytesMax = 16 * 1024 * 1024

    /// Parses `yaml`; a syntax error keeps its position. `overrides` are `key.path=value`
    /// pairs (the value in YAML syntax) applied before anything is decoded.
    public init(yaml: String, file: String, overrides: [String] = []) throws(ScenarioError) {
        self.file = file
        guard yaml.utf8.count <= Self.bytesMax else {
            throw ScenarioError(file: file, line: nil, column: nil, path: "", message: "the file is larger than \(Self.bytesMax) bytes")
        }
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
        for override in overrides {
            root = try Self.apply(override, to: root)
        }
        self.root = root
    }

    /// Decodes the value at `keyPath` (the whole document if empty) as `T`, rejecting keys
    /// that `T` does not know. Errors name file, line, column and key path.
    public func decode<T: Codable>(_ type: T.Type, at keyPath: String = "") throws(ScenarioError) -> T {
        let base = keyPath.isEmpty ? [] : (KeyPathComponent.parse(keyPath) ?? [])
        guard let node = Self.node(root, at: base) else {
            throw error(at: keyPath, "missing; expected a value here")
        }
        let value: T
        do {
            value = try YAMLDecoder().decode(T.self, from: node)
        } catch let decoding as DecodingError {
            throw describe(decoding, base: base, in: node)
        } catch {
            throw self.error(at: keyPath, "\(error)")
        }
        try rejectUnknownKeys(value, node, base: base)
        return value
    }

    /// An error at a key path of this file, with the line and column of the key (or of the
    /// nearest enclosing node that exists).
    public func error(at keyPath: String, _ message: String) -> ScenarioError {
        let path = KeyPathComponent.parse(keyPath) ?? []
        let mark = Self.mark(root, at: path)
        return ScenarioError(file: file, line: mark?.line, column: mark?.column, path: keyPath, message: message)
    }
}
