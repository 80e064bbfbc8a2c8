import Dispatch
import Foundation
import SlotAllocation
import Synchronization

/// A vaccination campaign over many districts, replicated.
///
/// ```swift
/// let simulation = try CampaignSimulation(campaign: campaign, policy: .standard())
/// let results = try simulation.run(seed: 2021, replications: 10, threads: 2)
/// print(CampaignSummary(results).table)
/// ```
///
/// Work is split into (replication, district) tasks on `threads` threads. Each task has its
/// own engine and streams, and adds integer counts into its replication's result, so the
/// results are bit-for-bit the same on any number of threads.
public struct CampaignSimulation: Sendable {
    public let campaign: CampaignConfiguration
    public let policy: AllocationPolicy
    let clinic: ClinicSimulation?
    /// (entry, number) of every district, copies expanded.
    let districts: [(entry: Int, number: Int)]

    public init(campaign: CampaignConfiguration, policy: AllocationPolicy) throws(ConfigurationError) {
        try campaign.validate(policy: policy)
        do {
            _ = try BookingEngine(policy: policy, configuration: .singleThreaded)
        } catch let .invalid(path, expected) {
            throw ConfigurationError(path.hasPrefix("policy") ? path : "policy." + path, expected)
        } catch {
            throw ConfigurationError("policy", "\(error)")
        }
        let cells = campaign.days * campaign.districts.count * policy.ageBands.count
        guard cells <= CampaignResult.cellsMax else {
            throw ConfigurationError("campaign.districts", "expected days × district entries × age bands of at most \(CampaignResult.cellsMax) (results are kept per replication; give alike districts one entry with copies), found \(cells)")
        }
        self.campaign = campaign
        self.policy = policy
        if let c = campaign.clinic {
            clinic = try ClinicSimulation(ClinicConfiguration(
                stages: c.stages, arrivals: .blocks(startSeconds: [0], perBlock: 0, offsetMeanSeconds: 0, offsetStandardDeviationSeconds: 0),
                openSecond: 0, closeSecond: 86_400, queueLengthMax: c.queueLengthMax))
        } else {
            clinic = nil
        }
        var list: [(Int, Int)] = []
        for (e, district) in campaign.districts.enumerated() {
            for _ in 0..<district.copies { list.append((e, list.count)) }
        }
        districts = list
    }

    /// Replications `0..<replications` with streams of `seed`. `progress(done, total)` is
    /// called from worker threads as (replication, district) tasks finish.
    public func run(seed: UInt64, replications: Int, threads: Int,
                    progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil) throws(SimulationError) -> [CampaignResult] {
        precondition(replications >= 1 && threads >= 1)
        // Every replication's counts are held until the end: bound them (4 GiB).
        let perReplication = (campaign.days * campaign.districts.count * policy.ageBands.count * 120 + campaign.days * campaign.districts.count * 6) * 8
            + ((campaign.clinic?.stages.count ?? 0) + 1) * WaitRecorder.bucketCount * 8
        guard replications <= (4 << 30) / perReplication else {
            throw .resultsTooLarge(replications: replications, bytesEach: perReplication)
        }
        let shape = CampaignResult(days: campaign.days, districts: campaign.districts.map(\.name), bands: policy.ageBands.map(\.name),
                                   stageNames: campaign.clinic?.stages.map(\.name) ?? [])
        let shared = Accumulator(Array(repeating: shape, count: replications))
        let total = replications * districts.count
        let done = Atomic<Int>(0)
        let workers = min(threads, total)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for task in stride(from: worker, to: total, by: workers) {
                let r = task / districts.count
                let (entry, number) = districts[task % districts.count]
                var own = CampaignResult(days: shape.days, districts: [shape.districts[entry]], bands: shape.bands, stageNames: shape.stageNames)
                let district = DistrictSimulation(campaign: campaign, policy: policy, entry: entry, number: number, seed: seed,
                                                  replication: r, clinic: clinic)
                do throws(SimulationError) {
                    try district.run(into: &own)
                    shared.add(own, replication: r, row: entry)
                } catch {
                    shared.fail(task, error)
                }
                let finished = done.add(1, ordering: .relaxed).newValue
                progress?(finished, total)
            }
        }
        return try shared.finish()
    }
}

/// The replications' results while tasks add into them, behind one lock (a merge is short
/// next to a district's simulation).
private final class Accumulator: @unchecked Sendable {
    // @unchecked: every access to `results` and `failure` is under `lock`.
    private let lock = NSLock()
    private var results: [CampaignResult]
    private var failure: (task: Int, error: SimulationError)?

    init(_ results: [CampaignResult]) { self.results = results }

    func add(_ result: CampaignResult, replication: Int, row: Int) {
        lock.lock()
        results[replication].merge(result, intoDistrict: row)
        lock.unlock()
    }

    func fail(_ task: Int, _ error: SimulationError) {
        lock.lock()
        if failure == nil || task < failure!.task { failure = (task, error) }
        lock.unlock()
    }

    /// The results, or the error of the first failed task (by task number, so it does not depend on threads).
    func finish() throws(SimulationError) -> [CampaignResult] {
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure.error }
        return results
    }
}
