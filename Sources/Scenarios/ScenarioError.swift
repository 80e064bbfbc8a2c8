/// Something wrong in a scenario file, said the way an editor can jump to it:
/// `scenarios/x.yaml:14:9: policy.categories[0].share: expected a number between 0 and 1, found 1.5`.
public struct ScenarioError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file (or `--set` for a command-line override).
    public var file: String
    /// 1-based line and column, when the place is known.
    public var line: Int?
    public var column: Int?
    /// The key path, as scenario files spell it (`clinic.stages[1].staff`); empty for the whole document.
    public var path: String
    public var message: String

    public init(file: String, line: Int?, column: Int?, path: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
    }

    public var description: String {
        let place = [file, line.map(String.init), column.map(String.init)].compactMap { $0 }.joined(separator: ":")
        return place + ": " + (path.isEmpty ? "" : path + ": ") + message
    }
}

/// One step of a key path: a mapping key or a list index.
public enum KeyPathComponent: Hashable, Sendable, CustomStringConvertible {
    case key(String)
    case index(Int)

    public var description: String {
        switch self {
        case let .key(key): key
        case let .index(index): "[\(index)]"
        }
    }

    /// `a.b[2].c` as text.
    public static func text(_ path: [KeyPathComponent]) -> String {
        var text = ""
        for component in path {
            switch component {
            case let .key(key): text += (text.isEmpty ? "" : ".") + key
            case let .index(index): text += "[\(index)]"
            }
        }
        return text
    }

    /// Parses `a.b[2].c`; nil if it is not a key path.
    public static func parse(_ text: String) -> [KeyPathComponent]? {
        var path: [KeyPathComponent] = []
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            var rest = Substring(part)
            let key = rest.prefix { $0 != "[" }
            guard !key.isEmpty, !key.contains("]") else { return nil }
            path.append(.key(String(key)))
            rest = rest.dropFirst(key.count)
            while rest.first == "[" {
                guard let close = rest.firstIndex(of: "]") else { return nil }
                let digits = rest[rest.index(after: rest.startIndex)..<close]
                // Plain decimal digits, no sign and no leading zero.
                guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
                      digits == "0" || digits.first != "0", let index = Int(digits) else { return nil }
                path.append(.index(index))
                rest = rest[rest.index(after: close)...]
            }
            guard rest.isEmpty else { return nil }
        }
        return path.isEmpty ? nil : path
    }
}
