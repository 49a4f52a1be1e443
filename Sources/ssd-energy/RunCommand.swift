import ArgumentParser
import DataLocation
import Foundation
import Harness
import Telemetry

/// `ssd-energy run`: the trade-off run (see Harness.TradeoffRunner for the protocol).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Measure energy, time, counters and accuracy of each model × thread count; write results/<run>/.",
        discussion: """
            Per repetition of each configuration: idle baseline, warm-up, a measured window (at least \
            --window-seconds and --min-inferences; MLPerf Power asks for 600 s, the default here is 10 s), \
            cool-down. Configurations run interleaved in a seeded random order. Ctrl-C stops after the \
            current write and leaves a valid partial run. Without an energy source the run still reports \
            time, counters and accuracy; --power-model adds energy ESTIMATES, labelled as such. \
            --resume results/<run> continues an interrupted run with its stored plan and run order, running \
            only the repetitions not yet finished and keeping accuracy already computed. Without --model the \
            default suite runs: every shared model in fp32, fp16 and int8, where v1's and ST's fp32 and fp16 \
            are derived from their shipped quantized files at the start (kept in --derived-models, remade \
            when missing, damaged or older than their source) and marked derived in every report.
            """)

    @OptionGroup var dataOptions: DataOptions

    @Option(name: .customLong("model"), help: "A .tflite model (repeatable; default: the shared suite). Precision is read from the file name.")
    var models: [String] = []

    @Option(help: "Only models of these precisions, comma separated (fp32,fp16,int8,uint8).")
    var precision: String?

    @Option(help: "Thread counts, comma separated (default 1).")
    var threads: String?

    @Option(help: "Repetitions of each configuration (default 3).")
    var repetitions: Int?

    @Option(name: .customLong("window-seconds"), help: "Minimum measured window per repetition (default 10).")
    var windowSeconds: Double?

    @Option(name: .customLong("min-inferences"), help: "Minimum inferences per measured window (default 20).")
    var minInferences: Int?

    @Option(name: .customLong("idle-seconds"), help: "Idle baseline before each window (default 3).")
    var idleSeconds: Double?

    @Option(name: .customLong("warmup-inferences"), help: "Unmeasured inferences before each window (default 5).")
    var warmupInferences: Int?

    @Option(help: "Images to cycle through (default: all the workload prepared).")
    var images: Int?

    @Option(help: "Seed of the run order (default 1).")
    var seed: UInt64?

    @Option(name: .customLong("interval-ms"), help: "Sampling interval in ms (default 10).")
    var intervalMs: Double?

    @Option(help: "COCO annotations to score accuracy on (default: the shared val2017 subset).")
    var annotations: String?

    @Option(name: .customLong("images-dir"), help: "Folder of the annotated images (default: the shared val2017 subset's).")
    var imagesDirectory: String?

    @Option(help: "Output directory (default results/<UTC timestamp>); must not exist yet.")
    var output: String?

    @Option(help: "A JSON run plan (the keys of summary.json's \"plan\"); flags given as well override it.")
    var config: String?

    @Option(help: "Continue this interrupted run (results/<run>) instead of starting a new one.")
    var resume: String?

    @Option(name: .customLong("power-model"), help: "Estimate energy where none can be measured: idle=W,busy=W or tdp=W.")
    var powerModel: String?

    @Option(name: .customLong("derived-models"),
            help: "Folder for the models the default suite derives (v1 and ST in fp32/fp16), kept between runs (default: derived-models beside the run directory).")
    var derivedModels: String?

    func run() throws {
        let data = try? DataDirectory.locate(explicit: dataOptions.data)
        if let explicit = dataOptions.data, data == nil { throw UserFacingError("--data \(explicit): not a directory") }
        if let resume {
            try resumeRun(URL(fileURLWithPath: resume), data: data)
            return
        }
        let outputURL = URL(fileURLWithPath: output ?? "results/\(Self.timestamp())")
        if FileManager.default.fileExists(atPath: outputURL.path) {
            throw UserFacingError("--output \(outputURL.path): already exists; choose a new run directory")
        }
        var plan: RunPlan
        do {
            let derivedDirectory = URL(fileURLWithPath: derivedModels
                ?? outputURL.deletingLastPathComponent().appendingPathComponent("derived-models").path)
            plan = try makePlan(data: data, derivedModelsDirectory: derivedDirectory)
        } catch let error as RunPlanError {
            throw UserFacingError(error.description)
        }
        plan.models = try Self.prepareDerivedModels(plan.models)

        // Counters first: they only count threads created after they are opened (inference pools).
        let counters = PerfWindowCounters()
        let (workloads, accuracy) = try makeWorkloads(plan: plan, data: data)
        let (progress, probe, selection, sampler) = Self.prepareSampling(plan: plan)
        let record = RunRecord(
            name: outputURL.lastPathComponent, startedAt: ISO8601DateFormatter().string(from: Date()), plan: plan,
            configurations: workloads.map(\.configuration), energy: EnergySetup(selection: selection),
            gaugeNames: sampler.gaugeNames, logicalCPUs: probe.machine.logicalCPUs ?? ProcessInfo.processInfo.activeProcessorCount,
            probe: probe, software: .current())
        let stop = StopRequest()
        let signals = SignalStop(stop: stop)
        sampler.start()
        let runner = try TradeoffRunner(
            record: record, workloads: workloads, accuracy: accuracy,
            environment: .live(sampler: sampler, counters: counters, stop: stop, progress: progress), output: outputURL)
        try Self.finish(runner, output: outputURL, signals: signals)
    }

    /// `--resume DIR`: the stored plan, order and finished repetitions; only the rest runs.
    func resumeRun(_ runDirectory: URL, data: DataDirectory?) throws {
        let planFlags: [(String, Bool)] = [
            ("--model", !models.isEmpty), ("--precision", precision != nil), ("--threads", threads != nil),
            ("--repetitions", repetitions != nil), ("--window-seconds", windowSeconds != nil),
            ("--min-inferences", minInferences != nil), ("--idle-seconds", idleSeconds != nil),
            ("--warmup-inferences", warmupInferences != nil), ("--images", images != nil), ("--seed", seed != nil),
            ("--interval-ms", intervalMs != nil), ("--output", output != nil), ("--config", config != nil),
            ("--power-model", powerModel != nil), ("--derived-models", derivedModels != nil),
        ]
        let given = planFlags.filter(\.1).map(\.0)
        if !given.isEmpty {
            throw UserFacingError("--resume continues the plan stored in \(runDirectory.path); "
                                  + "do not also pass \(given.joined(separator: ", "))")
        }
        let stored: RecordedRun
        do {
            stored = try RawRunFiles.read(runDirectory: runDirectory)
        } catch {
            throw UserFacingError("--resume \(runDirectory.path): \(error)")
        }
        if stored.record.complete {
            throw UserFacingError("--resume \(runDirectory.path): the run is already complete; nothing to resume")
        }
        let plan = stored.record.plan
        // The derived files may have been removed or damaged since; they are checked and remade.
        _ = try Self.prepareDerivedModels(plan.models)
        let counters = PerfWindowCounters()
        let (workloads, accuracy) = try makeWorkloads(plan: plan, data: data)
        let (progress, _, _, sampler) = Self.prepareSampling(plan: plan)
        progress.note("resuming \(runDirectory.path): \(stored.record.units.count) of \(stored.record.schedule.count) "
                      + "repetitions already finished")
        let stop = StopRequest()
        let signals = SignalStop(stop: stop)
        sampler.start()
        let runner: TradeoffRunner
        do {
            runner = try TradeoffRunner(
                resuming: stored, workloads: workloads, accuracy: accuracy,
                environment: .live(sampler: sampler, counters: counters, stop: stop, progress: progress),
                output: runDirectory)
        } catch let error as TradeoffRunError {
            throw UserFacingError("--resume \(runDirectory.path): \(error)")
        }
        try Self.finish(runner, output: runDirectory, signals: signals)
    }

    /// Makes (or checks and reuses) the files of derived entries, in-process, before anything is
    /// measured; returns the entries with their conversions and provenance filled in.
    static func prepareDerivedModels(_ models: [ModelEntry]) throws -> [ModelEntry] {
        let progress = TerminalProgress()
        return try models.map { entry in
            guard entry.derivation?.madeByRun == true else { return entry }
            do {
                let outcome = try DerivedModelCache.prepare(entry, progress: { progress.note($0) })
                if outcome.steps.allSatisfy({ $0.rebuiltBecause == nil }) {
                    progress.note("derived model \(entry.id): reusing \(entry.path)")
                }
                return outcome.entry
            } catch {
                throw UserFacingError("cannot derive \(entry.id): \(error)")
            }
        }
    }

    /// Probes the machine, says what it cannot measure and how to allow it, and builds the sampler.
    static func prepareSampling(plan: RunPlan) -> (TerminalProgress, ProbeReport, EnergySourceSelection, Sampler) {
        let progress = TerminalProgress()
        progress.note("probing the machine")
        let probe = MachineProbe().run()
        let selection = EnergySourceSelection.discover()
        let gauges = SysfsGaugeSource.standard(SysfsReader())
        if let unavailable = selection.unavailable {
            progress.note("no energy source: \(unavailable.reason)"
                          + (plan.powerModel == nil ? "; energy will be reported as unavailable" : "; energy will be ESTIMATED"))
            progress.note("to measure energy: \(unavailable.fix)")
        }
        let interval = UInt64(plan.settings.samplingIntervalMilliseconds * 1e6)
        let sampler = Sampler(energySources: selection.sources, gaugeSources: gauges.names.isEmpty ? [] : [gauges],
                              configuration: Sampler.Configuration(intervalNanoseconds: interval))
        return (progress, probe, selection, sampler)
    }

    static func finish(_ runner: TradeoffRunner, output: URL, signals: SignalStop) throws {
        let run: RecordedRun
        do {
            run = try runner.run()
        } catch let error as AtomicFileError {
            throw UserFacingError("results folder \(output.path): \(error); the files there are the last whole write "
                                  + "(continue with --resume \(output.path) once it is writable)")
        }
        withExtendedLifetime(signals) {}
        print(run.record.complete ? "complete: \(output.path)"
              : "partial (\(run.record.stopReason ?? "stopped")): \(output.path)"
                + " (continue with: ssd-energy run --resume \(output.path))")
        print("report: \(output.appendingPathComponent("report.md").path)")
    }

    /// THE wiring point: the workloads (model → detections, timed per inference) and the accuracy
    /// provider (COCO evaluation on the same images) for a plan.
    func makeWorkloads(plan: RunPlan, data: DataDirectory?) throws
        -> (workloads: [any InferenceWorkload], accuracy: (any AccuracyProvider)?) {
        let subset = "data/coco-val2017-subset"
        guard let annotationPath = annotations ?? data.map({ $0.path("\(subset)/instances_val2017_subset.json") }),
              let imagesPath = imagesDirectory ?? data.map({ $0.path("\(subset)/images") }) else {
            throw UserFacingError("no images to run on: pass --annotations and --images-dir, or --data DIR")
        }
        let evaluationSet: EvaluationImageSet
        do {
            evaluationSet = try EvaluationImageSet(annotationPath: annotationPath, imagesDirectory: imagesPath,
                                                   limit: plan.settings.images)
        } catch {
            throw UserFacingError("\(error)")
        }
        let imagePaths = evaluationSet.images.map(\.path)
        var workloads: [any InferenceWorkload] = []
        for model in plan.models {
            let size = (try? FileManager.default.attributesOfItem(atPath: model.path)[.size] as? Int) ?? nil
            for threads in plan.threads {
                let configuration = RunConfiguration(
                    key: ConfigurationKey(modelID: model.id, threads: threads), precision: model.precision,
                    modelPath: model.path, modelSizeBytes: size, derivation: model.derivation)
                workloads.append(DetectorWorkload(configuration: configuration, imagePaths: imagePaths))
            }
        }
        let progress = TerminalProgress()
        return (workloads, DetectorAccuracy(evaluationSet: evaluationSet, progress: { progress.note($0) }))
    }

    func makePlan(data: DataDirectory?, derivedModelsDirectory: URL) throws -> RunPlan {
        var plan: RunPlan
        if let config {
            plan = try RunPlan.load(configFile: config)
        } else {
            plan = RunPlan(models: [])
        }
        if !models.isEmpty {
            plan.models = try models.map(ModelSuite.entry(forModelFile:))
        } else if plan.models.isEmpty {
            guard let data else {
                throw RunPlanError.invalid("no --model given and no data directory for the default suite (use --data)")
            }
            plan.models = try ModelSuite.defaultSuite(dataDirectory: data.url, derivedModelsDirectory: derivedModelsDirectory)
        }
        if let precision {
            let wanted = Set(precision.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
            plan.models = plan.models.filter { wanted.contains($0.precision) }
            if plan.models.isEmpty { throw RunPlanError.invalid("--precision \(precision): no model has that precision") }
        }
        if let threads {
            let counts = threads.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !counts.isEmpty, counts.allSatisfy({ $0 != nil }) else {
                throw RunPlanError.invalid("--threads \(threads): expected comma-separated integers like 1,2")
            }
            plan.threads = counts.map { $0! }
        }
        if let repetitions { plan.repetitions = repetitions }
        if let seed { plan.seed = seed }
        if let windowSeconds { plan.settings.windowSeconds = windowSeconds }
        if let minInferences { plan.settings.minimumInferences = minInferences }
        if let idleSeconds { plan.settings.idleSeconds = idleSeconds }
        if let warmupInferences { plan.settings.warmupInferences = warmupInferences }
        if let images { plan.settings.images = images }
        if let intervalMs { plan.settings.samplingIntervalMilliseconds = intervalMs }
        if let powerModel { plan.powerModel = try PowerModel.parse(argument: powerModel) }
        try plan.validate()
        return plan
    }

    static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: Date())
    }
}
