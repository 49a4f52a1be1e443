import Telemetry

/// `report.md`: the trade-off in tables, each energy figure with its source.
enum MarkdownReport {
    static func render(_ summary: SummaryDocument, plots: [String]) -> String {
        let results = summary.configurations
        var md = "# Trade-off run \(summary.run)\n\n"
        md += "Started \(summary.startedAt). "
        if summary.progress.complete {
            md += "Complete: \(summary.progress.finishedUnits.count) of \(summary.progress.plannedUnits) repetitions.\n\n"
        } else {
            md += "**Partial run** (\(summary.progress.stopReason ?? "stopped early")): "
                + "\(summary.progress.finishedUnits.count) of \(summary.progress.plannedUnits) repetitions finished; "
                + "complete configurations: \(list(summary.progress.finishedConfigurations)).\n\n"
        }

        md += "## Protocol\n\n"
        let s = summary.plan.settings
        md += "- Per repetition: idle baseline \(NumberFormat.short(s.idleSeconds)) s, \(s.warmupInferences) warm-up "
            + "inferences, measured window ≥ \(NumberFormat.short(s.windowSeconds)) s and ≥ \(s.minimumInferences) "
            + "inferences, cool-down ≤ \(NumberFormat.short(s.coolDownMaximumSeconds)) s (until within "
            + "\(NumberFormat.short(s.coolDownToleranceCelsius)) °C of idle where a temperature source exists).\n"
        md += "- \(summary.plan.repetitions) repetitions; configurations interleaved in a random order "
            + "(SplitMix64, seed \(summary.plan.seed)); sampling every \(NumberFormat.short(s.samplingIntervalMilliseconds)) ms.\n"
        md += "- \(summary.protocolNote)\n"
        md += "- Latency quantiles are nearest-rank over every measured inference; ± is a 95 % Student-t interval "
            + "across repetitions.\n\n"

        md += "## Energy source\n\n"
        let energy = summary.energy
        if energy.figures == "measured" || energy.figures == "mixed" {
            md += "Measured by summing \(list(energy.totalDomainIDs)) (outermost domains of one interface; "
                + "nested domains are shown per domain below, never added to the total). "
                + "\"Above idle\" subtracts the idle baseline power × window time.\n"
            if energy.figures == "mixed" {
                md += "\n**Some repetitions have no measured energy** (see the energy source column and summary.json): "
                    + "\(energy.measurementUnavailableReason ?? "unknown").\n"
            }
            md += "\n"
        } else {
            md += "**No energy measurement on this machine**: \(energy.measurementUnavailableReason ?? "no source was sampled").\n"
            if let fix = energy.unavailableFix { md += "Fix: \(fix)\n" }
            if energy.figures == "estimated", let model = energy.powerModel {
                md += "\nEnergy figures below are **ESTIMATES** from a stated \(model), not measurements.\n"
            } else {
                md += "\nEnergy is reported as unavailable; the plots show time (latency) instead of energy.\n"
            }
            md += "\n"
        }

        md += "## Trade-off\n\n"
        md += "| configuration | precision | threads | mAP | J / inference | above idle J / inf. | avg W | "
            + "latency median / p90 / p99 ms | inf./s | EDP J·s | energy source |\n"
        md += "|---|---|---|---|---|---|---|---|---|---|---|\n"
        for r in results {
            md += "| \(r.configuration.id) | \(precisionText(r.configuration)) | \(r.configuration.threads) | "
                + "\(accuracyText(r)) | \(NumberFormat.withInterval(r.joulesPerInference)) | "
                + "\(NumberFormat.withInterval(r.aboveIdleJoulesPerInference)) | "
                + "\(NumberFormat.withInterval(r.averageWatts)) | "
                + "\(NumberFormat.short(r.latency.medianMs)) / \(NumberFormat.short(r.latency.p90Ms)) / "
                + "\(NumberFormat.short(r.latency.p99Ms)) | \(NumberFormat.withInterval(r.inferencesPerSecond)) | "
                + "\(NumberFormat.withInterval(r.energyDelayProduct)) | \(cell(TradeoffCSV.sourceLabel(r.energySource))) |\n"
        }
        md += "\nPareto front (\(summary.paretoFront.costAxis) vs mAP): \(list(summary.paretoFront.configurationIDs)).\n\n"
        md += modelsSection(results)

        md += "## Accuracy (COCO, pycocotools order)\n\n"
        md += "| model | precision | " + AccuracyResult.statNames.joined(separator: " | ") + " | annotations | images |\n"
        md += "|---|---|" + String(repeating: "---|", count: AccuracyResult.statNames.count) + "---|---|\n"
        var seenModels: Set<String> = []
        for r in results where seenModels.insert(r.configuration.modelID).inserted {
            if let result = r.accuracy?.result {
                md += "| \(r.configuration.modelID) | \(precisionText(r.configuration)) | "
                    + result.stats.map { NumberFormat.short($0) }.joined(separator: " | ")
                    + " | \(cell(result.annotationFile)) | \(result.imageCount) |\n"
            } else {
                md += "| \(r.configuration.modelID) | \(precisionText(r.configuration)) | "
                    + "unavailable: \(cell(r.accuracy?.unavailableReason ?? "not computed"))"
                    + String(repeating: " |", count: AccuracyResult.statNames.count + 1) + " |\n"
            }
        }

        md += "\n## Counters per inference\n\n"
        md += "| configuration | instructions | cycles | IPC | cache misses | LLC read misses | FLOPs | task-clock ms |\n"
        md += "|---|---|---|---|---|---|---|---|\n"
        for r in results {
            guard let c = r.counters else { continue }
            md += "| \(r.configuration.id) | \(value(c.instructionsPerInference)) | \(value(c.cyclesPerInference)) | "
                + "\(value(c.instructionsPerCycle)) | \(value(c.cacheMissesPerInference)) | "
                + "\(value(c.lastLevelCacheReadMissesPerInference)) | \(value(c.floatingPointOperationsPerInference)) | "
                + "\(value(c.taskClockMillisecondsPerInference)) |\n"
        }
        let reasons = Set(results.compactMap(\.counters).flatMap { c in
            [c.instructionsPerInference, c.cyclesPerInference, c.floatingPointOperationsPerInference]
                .compactMap(\.unavailableReason)
        }).sorted()
        if !reasons.isEmpty { md += "\nUnavailable counters: " + reasons.map(cell).joined(separator: "; ") + ".\n" }

        md += "\n## Temperature, frequency, memory\n\n"
        md += "| configuration | temperature min / mean / max °C | frequency min / mean / max MHz | throttled | "
            + "model bytes | peak memory bytes | process peak RSS bytes |\n|---|---|---|---|---|---|---|\n"
        for r in results {
            md += "| \(r.configuration.id) | \(gaugeText(r.gauges, .temperatureCelsius, scale: 1)) | "
                + "\(gaugeText(r.gauges, .frequencyKHz, scale: 1e-3)) | "
                + "\(r.throttled.map { $0 ? "yes" : "no" } ?? "unknown (no throttle counters)") | "
                + "\(r.modelSizeBytes.map(String.init) ?? "unknown") | \(r.peakMemoryBytes.map(String.init) ?? "unknown") | "
                + "\(r.processPeakResidentBytes.map(String.init) ?? "unknown") |\n"
        }

        let measuredDomains = results.flatMap(\.repetitions).flatMap(\.domains)
        if !measuredDomains.isEmpty {
            md += "\n## Energy per domain (per repetition)\n\n"
            md += "| configuration | rep | domain | kind | in total | contained in | window µJ | idle µJ | J / inference | above idle J / inf. |\n"
            md += "|---|---|---|---|---|---|---|---|---|---|\n"
            for r in results {
                for rep in r.repetitions {
                    for d in rep.domains {
                        md += "| \(r.configuration.id) | \(rep.repetition) | \(d.domainID) | \(d.kind.rawValue) | "
                            + "\(d.inTotal ? "yes" : "no") | \(d.containedInID ?? "") | \(d.windowMicrojoules) | "
                            + "\(d.idleMicrojoules) | \(d.joulesPerInference.map { NumberFormat.short($0) } ?? "unavailable: \(cell(d.fault ?? ""))") | "
                            + "\(d.aboveIdleJoulesPerInference.map { NumberFormat.short($0) } ?? "unavailable") |\n"
                    }
                }
            }
        }

        if !summary.samplerFaults.isEmpty {
            md += "\n## Sampler faults\n\n"
            for fault in summary.samplerFaults {
                md += "- \(fault.domainID) \(fault.kind.rawValue) at \(fault.timeNanoseconds) ns: \(cell(fault.detail))\n"
            }
        }

        if let events = summary.runEvents, !events.isEmpty {
            md += "\n## Run events\n\n"
            for event in events {
                md += "- \(event.time) \(event.kind.rawValue) (\(event.source)): \(cell(event.detail))\n"
            }
        }

        md += "\n## Machine and software\n\n"
        md += "- CPU: \(summary.machine.machine.cpuModel ?? "unknown"), \(summary.logicalCPUs) logical CPUs\n"
        md += "- OS: \(summary.software.operatingSystem) \(summary.software.kernelRelease) \(summary.software.machine)\n"
        md += "- ssd-energy \(summary.software.tool), built with \(summary.software.swiftCompiler)\n"
        if let kernels = summary.software.kernels {
            md += "- Inference kernels: \(kernels) (the best this CPU has)\n"
        }
        if let overhead = summary.samplerOverhead {
            md += "- Sampler: \(overhead.samples) samples, \(NumberFormat.short(overhead.cpuSecondsPerSecond * 100)) % of one CPU, "
                + "\(overhead.lateSamples) late\n"
        }
        md += "\n## Plots\n\n"
        for plot in plots { md += "- [\(plot)](\(plot))\n" }
        return md
    }

    /// "fp32 (derived)" for models the run made from a shipped one.
    private static func precisionText(_ configuration: RunConfiguration) -> String {
        configuration.derivation == nil ? configuration.precision : "\(configuration.precision) (derived)"
    }

    /// Every model file, shipped or derived, and for derived ones what they were made from and how.
    private static func modelsSection(_ results: [ConfigurationResult]) -> String {
        var seen: Set<String> = []
        let models = results.map(\.configuration).filter { seen.insert($0.modelID).inserted }
        var md = "## Models\n\n"
        md += "| model | precision | origin | file | bytes |\n|---|---|---|---|---|\n"
        for c in models {
            md += "| \(c.modelID) | \(c.precision) | \(c.derivation.map { cell($0.summary) } ?? "shipped") | "
                + "\(cell(c.modelPath)) | \(c.modelSizeBytes.map(String.init) ?? "unknown") |\n"
        }
        let derived = models.filter { $0.derivation != nil }
        if !derived.isEmpty {
            md += "\nDerived models are made by this run from the shipped quantized file (ssd-energy's Precision "
                + "module: weights dequantized to float32, then stored as float16 for fp16); they are not trained "
                + "float models. Provenance, as stored in each file:\n\n"
            for c in derived {
                guard let d = c.derivation else { continue }
                md += "- \(c.modelID) from \(cell(d.sourcePath)): "
                    + d.steps.map { "\($0.precision): \(cell($0.conversion ?? "conversion not recorded"))" }.joined(separator: "; then ")
                    + (d.provenance.map { " — `\(cell($0))`" } ?? "") + "\n"
            }
        }
        return md + "\n"
    }

    private static func list(_ items: [String]) -> String { items.isEmpty ? "none" : items.joined(separator: ", ") }

    private static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }

    private static func value(_ v: MaybeValue) -> String { v.value.map { NumberFormat.short($0) } ?? "unavailable" }

    private static func accuracyText(_ r: ConfigurationResult) -> String {
        r.meanAveragePrecision.map { NumberFormat.short($0) } ?? "unavailable"
    }

    private static func gaugeText(_ gauges: [GaugeStatistics], _ kind: GaugeStatistics.Kind, scale: Double) -> String {
        let matching = gauges.filter { $0.kind == kind && $0.readings > 0 }
        guard !matching.isEmpty else { return "no source" }
        // The hottest (or fastest) gauge tells the story; each gauge is in summary.json.
        let minimum = matching.compactMap(\.minimum).min()! * scale
        let maximum = matching.compactMap(\.maximum).max()! * scale
        let mean = matching.compactMap(\.mean).max()! * scale
        return "\(NumberFormat.short(minimum)) / \(NumberFormat.short(mean)) / \(NumberFormat.short(maximum))"
    }
}
