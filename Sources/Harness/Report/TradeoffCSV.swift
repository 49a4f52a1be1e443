import Telemetry

/// `tradeoff.csv`: one row per configuration, the data behind the plots. Empty cells are
/// unavailable values (the `energy_source` column says why), never zeros.
enum TradeoffCSV {
    static func render(_ results: [ConfigurationResult]) -> String {
        var text = CSVTable.line([
            "configuration", "model", "precision", "threads", "repetitions", "inferences", "energy_source",
            "joules_per_inference", "joules_per_inference_ci95", "joules_above_idle_per_inference",
            "average_power_w", "baseline_power_w", "latency_median_ms", "latency_p90_ms", "latency_p99_ms",
            "inferences_per_second", "energy_delay_product_js",
        ] + AccuracyResult.statNames.map { "coco_\($0)" } + [
            "model_bytes", "peak_memory_bytes", "process_peak_resident_bytes", "instructions_per_inference",
            "cycles_per_inference", "ipc", "cache_misses_per_inference", "llc_read_misses_per_inference",
            "flops_per_inference", "max_temperature_c", "throttled", "model_origin", "derived_from", "derivation",
        ])
        for result in results {
            let stats = result.accuracy?.result?.stats.map { NumberFormat.exact($0) }
                ?? Array(repeating: "", count: AccuracyResult.statNames.count)
            let maxTemperature = result.gauges.filter { $0.kind == .temperatureCelsius }.compactMap(\.maximum).max()
            text += CSVTable.line([
                result.configuration.id, result.configuration.modelID, result.configuration.precision,
                String(result.configuration.threads), String(result.repetitions.count), String(result.inferences),
                sourceLabel(result.energySource),
                NumberFormat.exact(result.joulesPerInference?.mean),
                NumberFormat.exact(result.joulesPerInference?.ci95HalfWidth),
                NumberFormat.exact(result.aboveIdleJoulesPerInference?.mean),
                NumberFormat.exact(result.averageWatts?.mean), NumberFormat.exact(result.baselineWatts?.mean),
                NumberFormat.exact(result.latency.medianMs), NumberFormat.exact(result.latency.p90Ms),
                NumberFormat.exact(result.latency.p99Ms), NumberFormat.exact(result.inferencesPerSecond.mean),
                NumberFormat.exact(result.energyDelayProduct?.mean),
            ] + stats + [
                result.modelSizeBytes.map(String.init) ?? "", result.peakMemoryBytes.map(String.init) ?? "",
                result.processPeakResidentBytes.map(String.init) ?? "",
                NumberFormat.exact(result.counters?.instructionsPerInference.value),
                NumberFormat.exact(result.counters?.cyclesPerInference.value),
                NumberFormat.exact(result.counters?.instructionsPerCycle.value),
                NumberFormat.exact(result.counters?.cacheMissesPerInference.value),
                NumberFormat.exact(result.counters?.lastLevelCacheReadMissesPerInference.value),
                NumberFormat.exact(result.counters?.floatingPointOperationsPerInference.value),
                NumberFormat.exact(maxTemperature), result.throttled.map { $0 ? "yes" : "no" } ?? "",
                result.configuration.derivation == nil ? "shipped" : "derived",
                result.configuration.derivation?.sourcePath ?? "", result.configuration.derivation.map(derivationText) ?? "",
            ])
        }
        return text
    }

    /// The chain and what each step did: "fp32: <conversion> | fp16: <conversion>".
    static func derivationText(_ derivation: ModelDerivation) -> String {
        derivation.steps.map { "\($0.precision): \($0.conversion ?? "conversion not recorded")" }.joined(separator: " | ")
    }

    /// "measured: powercap powercap/intel-rapl:0", "ESTIMATED: ...", "unavailable: why".
    static func sourceLabel(_ source: EnergyProvenance) -> String {
        switch source {
        case let .measured(interface, domains): return "measured: \(interface.rawValue) \(domains.joined(separator: "+"))"
        case let .estimated(model): return "ESTIMATED (not measured): \(model)"
        case let .unavailable(reason, _): return "unavailable: \(reason)"
        }
    }
}
