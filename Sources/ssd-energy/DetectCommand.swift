import ArgumentParser

struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "detect", abstract: "(not implemented yet)")

    func run() throws {
        throw UserFacingError("'detect' is not implemented yet")
    }
}
