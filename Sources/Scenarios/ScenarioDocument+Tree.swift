import Yams

/// Walking the YAML tree: finding the node and the position of a key path, applying
/// overrides, and turning decoder errors into positioned messages.
extension ScenarioDocument {
    static func node(_ node: Node, at path: some Collection<KeyPathComponent>) -> Node? {
        var current = node
        for component in path {
            switch (component, current) {
            case let (.key(key), .mapping(mapping)):
                guard let next = mapping[key] else { return nil }
                current = next
            case let (.index(index), .sequence(sequence)):
                guard index < sequence.count else { return nil }
                current = sequence[index]
            default:
                return nil
            }
        }
        return current
    }

    /// The mark of the key at `path` (where an editor should jump), or of the deepest
    /// enclosing node that exists.
    static func mark(_ root: Node, at path: [KeyPathComponent]) -> Mark? {
        var current = root, best = root.mark
        for component in path {
            switch (component, current) {
            case let (.key(key), .mapping(mapping)):
                guard let pair = mapping.first(where: { $0.key.string == key }) else { return best }
                best = pair.key.mark
                current = pair.value
            case let (.index(index), .sequence(sequence)):
                guard index < sequence.count else { return best }
                current = sequence[index]
                best = current.mark
            default:
                return best
            }
        }
        return best
    }

    static func syntaxError(_ error: YamlError, file: String) -> ScenarioError {
        switch error {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return ScenarioError(file: file, line: mark.line, column: mark.column, path: "", message: "YAML syntax: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            return ScenarioError(file: file, line: context.mark.line, column: context.mark.column, path: "",
                                 message: "duplicate key \(duplicates.map { "\"\($0)\"" }.joined(separator: ", "))")
        default:
            return ScenarioError(file: file, line: nil, column: nil, path: "", message: "YAML: \(error)")
        }
    }

    /// Applies `key.path=value` (value in YAML syntax), creating mapping keys as needed;
    /// `key.path=null` removes the key. Returns the new tree and the path set.
    static func apply(_ override: String, to root: Node) throws(ScenarioError) -> (Node, [KeyPathComponent]) {
        func fail(_ message: String) -> ScenarioError {
            ScenarioError(file: "--set", line: nil, column: nil, path: "", message: "\(override): \(message)")
        }
        guard let equals = override.firstIndex(of: "="), let path = KeyPathComponent.parse(String(override[..<equals])) else {
            throw fail("expected key.path=value, e.g. policy.holdTimeoutSeconds=300")
        }
        let valueText = String(override[override.index(after: equals)...])
        let value: Node?
        do {
            try rejectAliases(valueText, file: "--set")
            let composed = try Yams.compose(yaml: valueText)
            value = composed?.null != nil ? nil : composed
        } catch {
            throw fail("the value is not valid YAML")
        }
        func set(_ node: Node, _ rest: ArraySlice<KeyPathComponent>) throws(ScenarioError) -> Node? {
            guard let first = rest.first else { return value }
            switch (first, node) {
            case let (.key(key), .mapping(mapping)):
                var copy = mapping
                copy[key] = try set(mapping[key] ?? Node([(Node, Node)]()), rest.dropFirst())
                return .mapping(copy)
            case let (.index(index), .sequence(sequence)):
                guard index < sequence.count else { throw fail("\(KeyPathComponent.text(Array(path))): the list has \(sequence.count) items") }
                var items = Array(sequence)
                guard let item = try set(items[index], rest.dropFirst()) else { throw fail("list items cannot be removed") }
                items[index] = item
                return Node(items, sequence.tag, sequence.style)
            default:
                throw fail("\(KeyPathComponent.text(Array(path))) does not lead through mappings and lists of the file")
            }
        }
        guard let tree = try set(root, path[...]) else { throw fail("the whole document cannot be removed") }
        return (tree, path)
    }

    /// A positioned message for a decoder error.
    func describe(_ error: DecodingError, base: [KeyPathComponent]) -> ScenarioError {
        func components(_ codingPath: [any CodingKey]) -> [KeyPathComponent] {
            base + codingPath.map { key in key.intValue.map(KeyPathComponent.index) ?? .key(key.stringValue) }
        }
        func found(_ path: [KeyPathComponent]) -> String {
            guard let node = Self.node(root, at: path) else { return "nothing" }
            switch node {
            case let .scalar(scalar): return node.null != nil ? "null" : "\"\(scalar.string)\""
            case .mapping: return "a mapping"
            case .sequence: return "a list"
            case .alias: return "an alias"
            }
        }
        switch error {
        case let .typeMismatch(type, context):
            let path = components(context.codingPath)
            return positioned(path, "expected \(Self.describeType(type)), found \(found(path))")
        case let .valueNotFound(type, context):
            let path = components(context.codingPath)
            return positioned(path, "expected \(Self.describeType(type)), found nothing")
        case let .keyNotFound(key, context):
            let path = components(context.codingPath)
            return positioned(path, "missing key \"\(key.stringValue)\"")
        case let .dataCorrupted(context):
            let path = components(context.codingPath)
            return positioned(path, "\(context.debugDescription) (found \(found(path)))")
        @unknown default:
            return positioned(base, "\(error)")
        }
    }

    static func describeType(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int32.Type, is Int64.Type, is UInt64.Type: return "a whole number"
        case is Double.Type, is Float.Type: return "a number"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        default:
            // Yams reports the shape it wanted as its own node types.
            let name = String(describing: type)
            if name.hasSuffix("Mapping") { return "a mapping (key: value lines)" }
            if name.hasSuffix("Sequence") { return "a list" }
            if name.hasSuffix("Scalar") { return "a single value" }
            return name
        }
    }

    /// Keys the type does not know: the decoded value, encoded again, has no such key.
    /// (A key whose value decodes to the type's default is still there when encoded; an
    /// explicit `null` for an optional key is allowed.)
    func rejectUnknownKeys<T: Encodable>(_ value: T, _ node: Node, base: [KeyPathComponent]) throws(ScenarioError) {
        let encoded: Node
        do {
            guard let again = try Yams.compose(yaml: YAMLEncoder().encode(value)) else {
                throw positioned(base, "could not be checked for unknown keys")
            }
            encoded = again
        } catch let error as ScenarioError {
            throw error
        } catch {
            throw positioned(base, "could not be checked for unknown keys: \(error)")
        }
        if let (path, problem) = Self.firstUnknown(node, encoded, path: base) {
            throw positioned(path, problem)
        }
    }

    /// The first key of `given` that the decoded value (`known`, encoded again) has no place
    /// for, with the problem in words.
    static func firstUnknown(_ given: Node, _ known: Node, path: [KeyPathComponent]) -> ([KeyPathComponent], String)? {
        switch (given, known) {
        case let (.mapping(given), .mapping(known)):
            for (key, value) in given {
                guard let name = key.string, key.scalar != nil else { return (path, "keys must be plain text") }
                let here = path + [.key(name)]
                guard let knownValue = known[name] else {
                    // An empty or null value for a key that is absent after decoding: either an unknown
                    // key or an optional one left empty; both are better written out or left out.
                    if value.null != nil { return (here, "\"\(name)\" has no value: give one, or leave the key out") }
                    let hint = known.keys.compactMap(\.string).sorted().joined(separator: ", ")
                    return (here, "unknown key \"\(name)\"" + (hint.isEmpty ? "" : "; keys set here that are known: \(hint)"))
                }
                if value.null != nil, knownValue.null == nil { return (here, "expected a value, found null") }
                if let found = firstUnknown(value, knownValue, path: here) { return found }
            }
        case let (.sequence(given), .sequence(known)):
            for (index, pair) in zip(given, known).enumerated() {
                if let found = firstUnknown(pair.0, pair.1, path: path + [.index(index)]) { return found }
            }
        default:
            break
        }
        return nil
    }
}
