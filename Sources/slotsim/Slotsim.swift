import ArgumentParser

/// The command-line face of slotsim. Subcommands wire library calls together; no domain logic here.
@main
struct Slotsim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slotsim",
        abstract: "Simulate and tune vaccination slot allocation policies.",
        subcommands: [Validate.self, Run.self, Tune.self, Merge.self, Serve.self, PartnerKey.self])
}

/// The version written into every export's manifest.
let slotsimVersion = "0.1.0-dev"
