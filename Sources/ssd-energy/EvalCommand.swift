import ArgumentParser

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "(not implemented yet)")

    func run() throws {
        throw UserFacingError("'eval' is not implemented yet")
    }
}
