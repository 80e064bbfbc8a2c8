import DemandSimulation
import Foundation
import SlotAllocation

/// A scenario file: what to simulate and how often. Sections are the simulator's own
/// configuration types, so a library user can build the same values in code.
///
/// ```yaml
/// name: clinic-flow
/// seed: 2021
/// replications: 20
/// clinic: { stages: [...], arrivals: {poisson: {perHour: 80}}, openSecond: 32400, closeSecond: 61200 }
/// ```
/// The format reference is `scenarios/README.md`.
public struct Scenario: Hashable, Sendable, Codable {
    public static let replicationsMax = Replications.countMax

    public var name: String
    public var description: String?
    /// Every random stream is derived from this seed and the replication number.
    public var seed: UInt64
    public var replications: Int
    /// A single clinic day (queue network).
    public var clinic: ClinicConfiguration?
    /// The allocation policy the campaign's engine applies (``AllocationPolicy/standard(walkInShare:dose2Share:walkInReleaseSecondOfDay:)`` if left out).
    public var policy: AllocationPolicy?
    /// A vaccination campaign: districts, people, centres, supply and behaviour.
    public var campaign: CampaignConfiguration?

    public init(name: String, description: String? = nil, seed: UInt64 = 1, replications: Int = 10,
                clinic: ClinicConfiguration? = nil, policy: AllocationPolicy? = nil, campaign: CampaignConfiguration? = nil) {
        self.name = name
        self.description = description
        self.seed = seed
        self.replications = replications
        self.clinic = clinic
        self.policy = policy
        self.campaign = campaign
    }

    /// The policy a campaign runs under.
    public var effectivePolicy: AllocationPolicy { policy ?? .standard() }

    private enum CodingKeys: String, CodingKey { case name, description, seed, replications, clinic, policy, campaign }

    /// `seed` (1) and `replications` (10) may be left out.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try c.decode(String.self, forKey: .name), description: try c.decodeIfPresent(String.self, forKey: .description),
                  seed: try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 1,
                  replications: try c.decodeIfPresent(Int.self, forKey: .replications) ?? 10,
                  clinic: try c.decodeIfPresent(ClinicConfiguration.self, forKey: .clinic),
                  policy: try c.decodeIfPresent(AllocationPolicy.self, forKey: .policy),
                  campaign: try c.decodeIfPresent(CampaignConfiguration.self, forKey: .campaign))
    }
}

/// Reads, decodes and checks scenario files; every error is positioned.
public enum ScenarioLoader {
    /// Loads the file at `path` with `overrides` (`key.path=value`) applied.
    public static func load(path: String, overrides: [String] = []) throws(ScenarioError) -> Scenario {
        try load(yaml: text(path), file: path, overrides: overrides)
    }

    /// The text of the scenario file at `path` (at most ``ScenarioDocument/bytesMax`` bytes of UTF-8).
    public static func text(_ path: String) throws(ScenarioError) -> String {
        // Read at most one byte past the limit: a device or a huge file must not hang or fill memory.
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ScenarioError(file: path, line: nil, column: nil, path: "", message: "cannot read the file")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: ScenarioDocument.bytesMax + 1) ?? Data()
        } catch {
            throw ScenarioError(file: path, line: nil, column: nil, path: "", message: "cannot read the file: \(error.localizedDescription)")
        }
        guard data.count <= ScenarioDocument.bytesMax else {
            throw ScenarioError(file: path, line: nil, column: nil, path: "", message: "the file is larger than \(ScenarioDocument.bytesMax) bytes")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ScenarioError(file: path, line: nil, column: nil, path: "", message: "the file is not UTF-8 text")
        }
        return text
    }

    /// Top-level sections that commands other than `run` read (`slotsim tune` reads `tune`).
    public static let otherSections: Set<String> = ["tune"]

    /// Decodes `yaml` (named `file` in errors) and checks every section.
    public static func load(yaml: String, file: String, overrides: [String] = []) throws(ScenarioError) -> Scenario {
        try loadDocument(yaml: yaml, file: file, overrides: overrides).scenario
    }

    /// The scenario and its document (for sections other commands decode, with positions).
    public static func loadDocument(yaml: String, file: String, overrides: [String] = []) throws(ScenarioError) -> (scenario: Scenario, document: ScenarioDocument) {
        let document = try ScenarioDocument(yaml: yaml, file: file, overrides: overrides)
        let scenario = try document.decode(Scenario.self, sections: otherSections)
        guard !scenario.name.isEmpty else { throw document.error(at: "name", "expected a name") }
        guard (1...Scenario.replicationsMax).contains(scenario.replications) else {
            throw document.error(at: "replications", "expected 1 to \(Scenario.replicationsMax), found \(scenario.replications)")
        }
        if let clinic = scenario.clinic {
            do {
                try clinic.validate()
            } catch {
                throw document.error(at: error.path, error.expected)
            }
        }
        if let policy = scenario.policy {
            do {
                _ = try BatchAllocator(policy: policy)
            } catch let .invalid(path, expected) {
                throw document.error(at: path.hasPrefix("policy") ? path : "policy." + path, expected)
            } catch {
                throw document.error(at: "policy", "\(error)")
            }
        }
        if let campaign = scenario.campaign {
            do {
                _ = try CampaignSimulation(campaign: campaign, policy: scenario.effectivePolicy)
            } catch {
                throw document.error(at: error.path, error.expected)
            }
        }
        guard scenario.clinic != nil || scenario.campaign != nil else {
            throw document.error(at: "", "expected a campaign or a clinic section: there is nothing to simulate")
        }
        return (scenario, document)
    }
}
