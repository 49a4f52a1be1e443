import ArgumentParser

struct InvokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "invoke", abstract: "(not implemented yet)")

    func run() throws {
        throw UserFacingError("'invoke' is not implemented yet")
    }
}
