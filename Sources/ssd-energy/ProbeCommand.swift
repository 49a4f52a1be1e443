import ArgumentParser

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "probe", abstract: "(not implemented yet)")

    func run() throws {
        throw UserFacingError("'probe' is not implemented yet")
    }
}
