import ArgumentParser
import DataLocation
import Detector
import Foundation
import Imaging
import Inference

/// Latency of one model: the graph alone and the whole detection, plus memory, for side-by-side
/// comparison with LiteRT (benchmarks/speed).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time inferences of a model: graph alone and whole detection; report peak memory.",
        discussion: """
            The graph is timed on the preprocessed tensor of one image (--image, else the first image \
            of data/coco-val2017-subset/images). The whole detection is Pillow-exact resize + normalisation, \
            the graph and decoding the outputs into detections (the JPEG is decoded once, outside the \
            timing). Warm-up runs are not timed. Peak memory: the activation arena, the constants, and \
            the process's peak resident set size (VmHWM).
            """
    )

    @Option(name: .long, help: "The .tflite model.")
    var model: String

    @Option(name: .long, help: "Threads the convolutions split their work across.")
    var threads: Int = 1

    @Option(name: .long, help: "Timed inferences of each kind.")
    var iterations: Int = 50

    @Option(name: .long, help: "Untimed inferences first.")
    var warmup: Int = 5

    @Option(name: .long, help: "JPEG image to run on.")
    var image: String?

    @Option(name: .customLong("weights"), help: "How convolutions read float16 weights: widened to float32 at load, or on the fly.")
    var weightPrecision: Interpreter.WeightPrecision = .float32

    @Flag(name: .long, help: "Print one JSON object (graph median in median_ms).")
    var json = false

    @Option(name: .long, help: "Instruction set of the kernels: the best this CPU has, or a lower one to compare paths.")
    var isa: InstructionSetChoice = .best

    @Flag(name: .customLong("unfused"), help: "Run every convolution as its own operator (no fused depthwise chains), for comparison.")
    var unfused = false

    @OptionGroup var data: DataOptions

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must not be negative") }
    }

    struct Report: Encodable {
        let model: String
        let threads: Int
        let warmup: Int
        let instructionSet: String
        let medianMs: Double
        let graph: LatencyStatistics
        let detection: LatencyStatistics
        let arenaBytes: Int
        let constantBytes: Int
        let peakRSSBytes: Int?

        enum CodingKeys: String, CodingKey {
            case model, threads, warmup, graph, detection
            case instructionSet = "instruction_set", medianMs = "median_ms", arenaBytes = "arena_bytes"
            case constantBytes = "constant_bytes", peakRSSBytes = "peak_rss_bytes"
        }
    }

    func run() throws {
        do { try isa.makeActive() } catch { throw UserFacingError("\(error)") }
        let imagePath = try image ?? firstSubsetImage()
        let detector: SSDDetector
        let picture: RGBImage
        do {
            detector = try SSDDetector(modelPath: model, options: .init(weightPrecision: weightPrecision, threads: threads,
                                                                                  fusesConvolutionChains: !unfused))
            picture = try JPEGDecoder.decode(path: imagePath)
        } catch {
            throw UserFacingError("\(error)")
        }
        let tensor = detector.inputTensor(for: picture)
        do {
            try detector.invoke(tensor)
            for _ in 0..<warmup { try detector.interpreter.invoke() }
            var graphTimes: [UInt64] = []
            for _ in 0..<iterations {
                let start = monotonicNanoseconds()
                try detector.interpreter.invoke()
                graphTimes.append(monotonicNanoseconds() - start)
            }
            var detectionTimes: [UInt64] = []
            for _ in 0..<iterations {
                let start = monotonicNanoseconds()
                _ = try detector.detect(picture)
                detectionTimes.append(monotonicNanoseconds() - start)
            }
            let graph = LatencyStatistics(nanoseconds: graphTimes)
            let report = Report(
                model: model, threads: threads, warmup: warmup,
                instructionSet: OptimizedFloatKernels.instructionSetName, medianMs: graph.medianMs, graph: graph,
                detection: LatencyStatistics(nanoseconds: detectionTimes),
                arenaBytes: detector.interpreter.peakArenaBytes, constantBytes: detector.interpreter.constantBytes,
                peakRSSBytes: peakResidentBytes())
            print(json ? try jsonText(report) : text(report))
        } catch {
            throw UserFacingError("\(model): \(error)")
        }
    }

    private func firstSubsetImage() throws -> String {
        let directory = try DataDirectory.locate(explicit: data.data)
        let subset = directory.path("data/coco-val2017-subset/images")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: subset)) ?? []
        guard let first = names.filter({ $0.lowercased().hasSuffix(".jpg") }).sorted().first else {
            throw UserFacingError("\(subset): no .jpg images (give --image)")
        }
        return subset + "/" + first
    }

    private func jsonText(_ report: Report) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(report), as: UTF8.self)
    }

    private func text(_ r: Report) -> String {
        func line(_ name: String, _ s: LatencyStatistics) -> String {
            String(format: "%@ median %.2f ms, p90 %.2f ms, min %.2f ms (%d runs)", name, s.medianMs, s.p90Ms, s.minMs,
                   s.samples)
        }
        let mib = { (bytes: Int) in String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        return """
            \(r.model) (\(r.threads) thread(s), \(r.instructionSet) kernels)
            \(line("graph:    ", r.graph))
            \(line("detection:", r.detection))
            memory: arena \(mib(r.arenaBytes)), constants \(mib(r.constantBytes)), peak RSS \(r.peakRSSBytes.map(mib) ?? "unknown")
            """
    }
}
