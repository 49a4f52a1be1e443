import ArgumentParser
import Inference

@main
struct SSDEnergy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ssd-energy",
        abstract: "What does quantizing an SSD detector cost in accuracy, and what does it save in energy?",
        discussion: """
            Runs SSD detectors (.tflite, float32/float16/int8) on COCO images in Swift, samples the \
            machine's energy, counters and temperatures while it works, and joins joules per inference \
            with COCO mAP.
            Data (models, COCO subset) is found through --data DIR, else SSD_ENERGY_DATA, else ../shared.
            """,
        subcommands: [
            ProbeCommand.self,
            InspectCommand.self,
            InvokeCommand.self,
            DetectCommand.self,
            CocoEvalCommand.self,
            EvalCommand.self,
            RunCommand.self,
            ReportCommand.self,
            QuantizeCommand.self,
            BenchCommand.self,
            ProfileCommand.self,
        ]
    )
}

/// `--data DIR`, shared by every subcommand that reads models or images.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "Directory with models/ and data/ (default: SSD_ENERGY_DATA, else ../shared).")
    var data: String?
}

/// A failure the user should read: printed without a stack trace, exit code 1.
struct UserFacingError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `--weights float32|float16-on-the-fly`: ArgumentParser checks the value and lists the choices.
extension Interpreter.WeightPrecision: ExpressibleByArgument {}
extension Interpreter.KernelSet: ExpressibleByArgument {}
extension InstructionSetChoice: ExpressibleByArgument {}
