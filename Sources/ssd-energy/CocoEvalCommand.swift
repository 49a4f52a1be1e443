import ArgumentParser

struct CocoEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cocoeval", abstract: "(not implemented yet)")

    func run() throws {
        throw UserFacingError("'cocoeval' is not implemented yet")
    }
}
