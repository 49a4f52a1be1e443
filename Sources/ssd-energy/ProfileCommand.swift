import ArgumentParser
import Foundation
import Inference
import Telemetry
import TFLiteModel

/// Where one inference's time (and, where the machine has an energy counter, its joules) goes: per
/// operator and per operator type.
struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Time per operator and per operator type (and energy per type when an energy counter exists).",
        discussion: """
            Runs the graph --iterations times on a constant input (zeros, or the zero point for \
            quantized inputs) and sums each kernel's wall time. Energy per operator type is measured, \
            not estimated: every kernel of that type is re-run in a loop for --energy-seconds while the \
            energy counters are read before and after; without a counter it says why it is unavailable.
            """
    )

    @Option(name: .long, help: "The .tflite model.")
    var model: String

    @Option(name: .long, help: "Threads the convolutions split their work across.")
    var threads: Int = 1

    @Option(name: .long, help: "Profiled inferences (after 2 untimed ones).")
    var iterations: Int = 20

    @Option(name: .customLong("energy-seconds"), help: "Seconds of repeated runs per operator type for energy.")
    var energySeconds: Double = 1

    @Option(name: .long, help: "Instruction set of the kernels: the best this CPU has, or a lower one to compare paths.")
    var isa: InstructionSetChoice = .best

    @Flag(name: .customLong("unfused"), help: "Run every convolution as its own operator (no fused depthwise chains), for comparison.")
    var unfused = false

    @Option(name: .long, help: "How many of the slowest operators to list.")
    var top: Int = 15

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1") }
        guard energySeconds > 0 else { throw ValidationError("--energy-seconds must be positive") }
    }

    func run() throws {
        do { try isa.makeActive() } catch { throw UserFacingError("\(error)") }
        let interpreter: Interpreter
        do {
            let file = try TFLiteModel(contentsOf: URL(fileURLWithPath: model))
            interpreter = try Interpreter(model: file, options: .init(threads: threads, fusesConvolutionChains: !unfused))
        } catch {
            throw UserFacingError("\(error)")
        }
        let names = interpreter.kernelOperatorNames
        var nanoseconds = [UInt64](repeating: 0, count: names.count)
        do {
            for (i, input) in interpreter.inputs.enumerated() {
                let zeroPoint = input.quantization?.zeroPoints.first ?? 0
                let byte: UInt8 = input.type == .int8 ? UInt8(bitPattern: Int8(clamping: zeroPoint)) : UInt8(clamping: zeroPoint)
                try interpreter.setInput(i, bytes: [UInt8](repeating: input.type == .float32 ? 0 : byte,
                                                          count: input.byteCount))
            }
            for _ in 0..<2 { try interpreter.invoke() }
            for _ in 0..<iterations { try interpreter.invokeProfiled(into: &nanoseconds) }
        } catch {
            throw UserFacingError("\(model): \(error)")
        }
        let perInference = nanoseconds.map { Double($0) / Double(iterations) / 1e6 }
        let total = perInference.reduce(0, +)
        print("\(model): \(names.count) kernels, \(String(format: "%.2f", total)) ms per inference "
            + "(\(threads) thread(s), \(OptimizedFloatKernels.instructionSetName) kernels, mean of \(iterations))")

        var byType: [String: (ms: Double, count: Int)] = [:]
        for (name, ms) in zip(names, perInference) {
            byType[name, default: (0, 0)].ms += ms
            byType[name, default: (0, 0)].count += 1
        }
        let energy = try measureEnergy(interpreter: interpreter, types: Array(byType.keys))
        print("\nper operator type (a fused chain counts as one kernel of its joined type):")
        for (name, entry) in byType.sorted(by: { $0.value.ms > $1.value.ms }) {
            var line = "  " + padded(name, 34) + String(format: " %3d kernels %9.3f ms %5.1f%%", entry.count, entry.ms,
                                                        total > 0 ? 100 * entry.ms / total : 0)
            if case let .measured(joules) = energy, let j = joules[name] {
                line += String(format: "  %9.3f mJ per inference", j * 1000)
            }
            print(line)
        }
        if case let .unavailable(reason) = energy { print("energy per operator type: unavailable (\(reason))") }

        print("\nslowest \(min(top, names.count)) kernels (operator indices as `inspect` lists them):")
        for i in perInference.indices.sorted(by: { perInference[$0] > perInference[$1] }).prefix(top) {
            let operators = interpreter.kernelOperatorIndices[i]
            let label = operators.count > 1 ? "ops \(operators.first!)-\(operators.last!)" : "op \(operators.first ?? i)"
            // A space after the label even when it fills its column ("ops 194-195"), so scripts can split on it.
            print("  " + padded(label, 10) + " " + padded(names[i], 34) + String(format: " %9.3f ms", perInference[i]))
        }
    }

    private func padded(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    enum EnergyResult {
        /// Joules per inference for each operator type.
        case measured([String: Double])
        case unavailable(String)
    }

    /// Re-runs each type's kernels in a loop and reads the counter domains around the loop.
    private func measureEnergy(interpreter: Interpreter, types: [String]) throws -> EnergyResult {
        let selection = EnergySourceSelection.discover()
        if let missing = selection.unavailable { return .unavailable(missing.reason) }
        guard !selection.totalDomains.isEmpty else { return .unavailable("no energy domain to read") }
        let domains = Set(selection.totalDomains.map(\.id))
        guard selection.totalDomains.allSatisfy({ $0.quantity == .counter }) else {
            return .unavailable("the energy source is a power gauge, too coarse to attribute to single operators")
        }
        func readMicrojoules() -> [String: (UInt64, EnergyDomain)]? {
            var values: [String: (UInt64, EnergyDomain)] = [:]
            for source in selection.sources {
                for (domain, result) in zip(source.domains, source.read()) where domains.contains(domain.id) {
                    guard case let .success(.counter(value)) = result else { return nil }
                    values[domain.id] = (value, domain)
                }
            }
            return values
        }
        var joules: [String: Double] = [:]
        for type in types {
            let kernels = interpreter.kernelOperatorNames.indices.filter { interpreter.kernelOperatorNames[$0] == type }
            guard let before = readMicrojoules() else { return .unavailable("an energy counter could not be read") }
            let start = monotonicNanoseconds()
            var rounds = 0
            repeat {
                for k in kernels { try interpreter.rerunKernel(k) }
                rounds += 1
            } while Double(monotonicNanoseconds() - start) < energySeconds * 1e9
            guard let after = readMicrojoules() else { return .unavailable("an energy counter could not be read") }
            var microjoules = 0.0
            for (id, (end, domain)) in after {
                guard let (begin, _) = before[id] else { continue }
                // One wrap at most in a few seconds (RAPL wraps after minutes at full power).
                let delta = end >= begin ? end - begin : (domain.counterModulus ?? 0) &- begin &+ end
                microjoules += Double(delta) * domain.microjoulesPerCount
            }
            joules[type] = microjoules / 1e6 / Double(rounds)
        }
        // A counter that never moves (a VM exposing the interface without data) is no measurement of 0 J.
        guard joules.values.contains(where: { $0 > 0 }) else {
            return .unavailable("the energy counters did not advance (virtualised?)")
        }
        // Inputs of later operators were recomputed identically, so the graph state is unchanged.
        return .measured(joules)
    }
}
