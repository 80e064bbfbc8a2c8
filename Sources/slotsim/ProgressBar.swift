import Foundation
import Synchronization

/// A one-line progress bar on standard error, only when it is a terminal (tasks done, ETA);
/// silent otherwise, so logs and pipes stay clean.
final class ProgressBar: Sendable {
    let label: String
    let start = Date()
    /// Last drawn tenth of a percent, so the bar is redrawn at most a thousand times.
    let drawn = Mutex<Int>(-1)

    /// nil when standard error is not a terminal.
    init?(label: String) {
        guard isatty(FileHandle.standardError.fileDescriptor) != 0 else { return nil }
        self.label = label
    }

    func update(_ done: Int, _ total: Int, note: String = "") {
        let permille = total > 0 ? done * 1000 / total : 1000
        let draw = drawn.withLock { last -> Bool in
            guard permille > last else { return false }
            last = permille
            return true
        }
        guard draw else { return }
        let elapsed = Date().timeIntervalSince(start)
        let eta = done > 0 ? elapsed * Double(total - done) / Double(done) : 0
        let width = 30, filled = width * permille / 1000
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = "\r[\(bar)] \(done)/\(total) \(label)\(note.isEmpty ? "" : ", " + note), \(Int(elapsed)) s, ETA \(Int(eta.rounded())) s \u{1B}[K"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
