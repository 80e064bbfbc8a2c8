import Foundation
import SlotAllocation
import Testing

/// The README's "Use the library" code, verbatim between the markers: this file compiling
/// is the proof that the README's example compiles, and the test runs it.
func readmeExample() throws -> [String] {
    var printed: [String] = []
    func print(_ items: Any...) { printed.append(items.map { "\($0)" }.joined(separator: " ")) }
    // README-BEGIN
    // One policy for every session: 20 % held for walk-ins until 13:00, 40 % for online dose 2.
    let engine = try BookingEngine(policy: .standard(walkInShare: 0.2, dose2Share: 0.4))
    let center = try engine.addCenter(CenterSpec(externalID: 600_001, name: "UPHC Sohna", district: 0))
    let session = try engine.addSession(SessionSpec(center: center, day: 1, vaccine: 0, minAge: 18, capacity: 100))
    let person = try engine.registerBeneficiary(BeneficiarySpec(birthYear: 1990))

    // Time is seconds since an epoch you choose (day d starts at d * 86400); 16:00 on day 0:
    let now = 16 * 3600
    switch engine.book(person, session: session, slot: 0, dose: .one, now: now, requestID: RequestID(1)) {
    case .success(let appointment):
        print("booked", appointment.id, "in category", appointment.category)
        _ = engine.cancel(appointment.id, now: now + 60)
    case .failure(let refusal):
        print("refused:", refusal.code, refusal)
    }
    let left = engine.availability(session, now: now)!
    print("available", left.availableCapacity, "dose 1", left.availableCapacityDose1, "dose 2", left.availableCapacityDose2)
    // README-END
    return printed
}

@Suite struct ReadmeExampleTests {
    @Test func readmeExampleIsThisCodeAndRuns() throws {
        let here = URL(fileURLWithPath: #filePath)
        let source = try String(contentsOf: here, encoding: .utf8)
        let readme = try String(contentsOf: here.deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md"), encoding: .utf8)
        let marked = source.components(separatedBy: "    // README-BEGIN\n")[1].components(separatedBy: "    // README-END\n")[0]
        let dedented = marked.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("    ") ? String($0.dropFirst(4)) : String($0) }.joined(separator: "\n")
        let section = try #require(readme.components(separatedBy: "## Use the library").dropFirst().first)
        let block = section.components(separatedBy: "```swift\n")[1].components(separatedBy: "```")[0]
        #expect(block == dedented, "README's example differs from the tested code")
        let printed = try readmeExample()
        #expect(printed.first?.hasPrefix("booked appointment#") == true)
        #expect(printed.last == "available 80 dose 1 40 dose 2 80")
    }
}
