import Foundation
import Telemetry

/// One model file to measure. Each precision of a detector is its own .tflite file, so a model entry
/// carries its precision label.
public struct ModelEntry: Codable, Hashable, Sendable {
    /// Short stable name used in reports, e.g. "ssdlite_person_int8".
    public var id: String
    public var path: String
    /// "fp32", "fp16", "int8", "uint8"...
    public var precision: String
    /// Set when the run makes this file itself from a shipped model (see DerivedModelCache); nil for
    /// files used as given.
    public var derivation: ModelDerivation?

    public init(id: String, path: String, precision: String, derivation: ModelDerivation? = nil) {
        self.id = id
        self.path = path
        self.precision = precision
        self.derivation = derivation
    }
}

/// How each configuration is measured.
public struct ProtocolSettings: Codable, Hashable, Sendable {
    /// Idle baseline before each measured window: the same sources sampled with nothing running.
    public var idleSeconds: Double = 3
    public var warmupInferences: Int = 5
    /// The measured window lasts at least this long AND has at least `minimumInferences`. MLPerf
    /// Power asks for 600 s; the default here is much shorter and the report says so.
    public var windowSeconds: Double = 10
    public var minimumInferences: Int = 20
    /// Images used (the set repeats as needed to fill the window); nil = all the workload has.
    public var images: Int?
    public var samplingIntervalMilliseconds: Double = 10
    /// Cool-down ends when the hottest temperature is within `coolDownToleranceCelsius` of its idle
    /// mean, or after `coolDownMaximumSeconds` (also when there is no temperature source).
    public var coolDownMaximumSeconds: Double = 60
    public var coolDownToleranceCelsius: Double = 2

    public init() {}

    public static let mlperfPowerMinimumSeconds = 600.0

    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws { if !ok { throw RunPlanError.invalid(message) } }
        try check(idleSeconds >= 0 && idleSeconds.isFinite, "idle seconds \(idleSeconds) must be >= 0")
        try check(warmupInferences >= 0, "warm-up inferences \(warmupInferences) must be >= 0")
        try check(windowSeconds >= 0 && windowSeconds.isFinite, "window seconds \(windowSeconds) must be >= 0")
        try check(minimumInferences >= 1, "minimum inferences \(minimumInferences) must be >= 1")
        try check(images.map { $0 >= 1 } ?? true, "images \(images ?? 0) must be >= 1")
        try check(samplingIntervalMilliseconds >= 1 && samplingIntervalMilliseconds <= 10_000,
                  "sampling interval \(samplingIntervalMilliseconds) ms must be between 1 and 10000")
        try check(coolDownMaximumSeconds >= 0 && coolDownMaximumSeconds.isFinite,
                  "cool-down maximum \(coolDownMaximumSeconds) s must be >= 0")
        try check(coolDownToleranceCelsius >= 0, "cool-down tolerance \(coolDownToleranceCelsius) °C must be >= 0")
    }
}

public enum RunPlanError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    case unreadableConfig(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalid(message): return "invalid run plan: \(message)"
        case let .unreadableConfig(path, reason): return "\(path): \(reason)"
        }
    }
}

/// What to run: models × thread counts × repetitions, under one protocol, in an order drawn from
/// `seed`.
public struct RunPlan: Codable, Hashable, Sendable {
    public var models: [ModelEntry]
    public var threads: [Int]
    public var repetitions: Int
    public var seed: UInt64
    public var settings: ProtocolSettings
    /// A stated power model for machines without an energy source; its results are estimates.
    public var powerModel: PowerModel?

    public init(models: [ModelEntry], threads: [Int] = [1], repetitions: Int = 3, seed: UInt64 = 1,
                settings: ProtocolSettings = ProtocolSettings(), powerModel: PowerModel? = nil) {
        self.models = models
        self.threads = threads
        self.repetitions = repetitions
        self.seed = seed
        self.settings = settings
        self.powerModel = powerModel
    }

    public func validate() throws {
        guard !models.isEmpty else { throw RunPlanError.invalid("no models") }
        guard !threads.isEmpty, threads.allSatisfy({ $0 >= 1 }) else {
            throw RunPlanError.invalid("thread counts \(threads) must be non-empty and >= 1")
        }
        guard repetitions >= 1 else { throw RunPlanError.invalid("repetitions \(repetitions) must be >= 1") }
        let ids = models.map(\.id)
        if let duplicate = ids.first(where: { id in ids.filter { $0 == id }.count > 1 }) {
            throw RunPlanError.invalid("model id \(duplicate) appears twice")
        }
        try settings.validate()
    }

    /// Every model × thread count, in plan order.
    public var configurationKeys: [ConfigurationKey] {
        models.flatMap { model in threads.map { ConfigurationKey(modelID: model.id, threads: $0) } }
    }

    /// The order units run in: each repetition round is its own seeded shuffle of all
    /// configurations, so slow drift (temperature, background load) favours no precision.
    public func schedule() -> [ScheduledUnit] {
        var generator = SplitMix64(seed: seed)
        return (0..<repetitions).flatMap { repetition in
            generator.shuffled(configurationKeys).map { ScheduledUnit(configurationID: $0.id, repetition: repetition) }
        }
    }

    /// Reads a plan from a JSON file (the same keys as this type; `settings` may be partial).
    public static func load(configFile path: String) throws -> RunPlan {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw RunPlanError.unreadableConfig(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        do {
            let plan = try JSONDecoder().decode(RunPlan.self, from: data)
            try plan.validate()
            return plan
        } catch let error as RunPlanError {
            throw RunPlanError.unreadableConfig(path: path, reason: error.description)
        } catch let error as DecodingError {
            throw RunPlanError.unreadableConfig(path: path, reason: "not a run plan: \(Self.explain(error))")
        } catch {
            throw RunPlanError.unreadableConfig(path: path, reason: "not a run plan: \(error)")
        }
    }

    static func explain(_ error: DecodingError) -> String {
        func at(_ path: [CodingKey]) -> String {
            path.isEmpty ? "top level" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case let .keyNotFound(key, context): return "missing key \(key.stringValue) at \(at(context.codingPath))"
        case let .typeMismatch(_, context), let .valueNotFound(_, context):
            return "wrong type at \(at(context.codingPath)): \(context.debugDescription)"
        case let .dataCorrupted(context): return "\(context.debugDescription) at \(at(context.codingPath))"
        @unknown default: return "\(error)"
        }
    }
}

extension ProtocolSettings {
    // Decoded field by field so a config file may give only the settings it changes.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        idleSeconds = try c.decodeIfPresent(Double.self, forKey: .idleSeconds) ?? idleSeconds
        warmupInferences = try c.decodeIfPresent(Int.self, forKey: .warmupInferences) ?? warmupInferences
        windowSeconds = try c.decodeIfPresent(Double.self, forKey: .windowSeconds) ?? windowSeconds
        minimumInferences = try c.decodeIfPresent(Int.self, forKey: .minimumInferences) ?? minimumInferences
        images = try c.decodeIfPresent(Int.self, forKey: .images)
        samplingIntervalMilliseconds = try c.decodeIfPresent(Double.self, forKey: .samplingIntervalMilliseconds)
            ?? samplingIntervalMilliseconds
        coolDownMaximumSeconds = try c.decodeIfPresent(Double.self, forKey: .coolDownMaximumSeconds) ?? coolDownMaximumSeconds
        coolDownToleranceCelsius = try c.decodeIfPresent(Double.self, forKey: .coolDownToleranceCelsius)
            ?? coolDownToleranceCelsius
    }
}

extension RunPlan {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        models = try c.decode([ModelEntry].self, forKey: .models)
        threads = try c.decodeIfPresent([Int].self, forKey: .threads) ?? [1]
        repetitions = try c.decodeIfPresent(Int.self, forKey: .repetitions) ?? 3
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 1
        settings = try c.decodeIfPresent(ProtocolSettings.self, forKey: .settings) ?? ProtocolSettings()
        powerModel = try c.decodeIfPresent(PowerModel.self, forKey: .powerModel)
    }
}

/// A model × thread-count pair: what one workload measures.
public struct ConfigurationKey: Codable, Hashable, Sendable {
    public var modelID: String
    public var threads: Int
    public init(modelID: String, threads: Int) {
        self.modelID = modelID
        self.threads = threads
    }
    public var id: String { "\(modelID)@\(threads)t" }
}

/// One repetition of one configuration, in run order.
public struct ScheduledUnit: Codable, Hashable, Sendable {
    public var configurationID: String
    public var repetition: Int
    public init(configurationID: String, repetition: Int) {
        self.configurationID = configurationID
        self.repetition = repetition
    }
}
