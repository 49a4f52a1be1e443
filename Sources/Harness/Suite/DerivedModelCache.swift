import Detector
import Foundation
import Precision
import TFLiteModel

/// Makes the derived models of a run (e.g. v1 fp32 and fp16 from the shipped uint8 file) with the
/// Precision module, in-process, and keeps them between runs.
///
/// Each file of a derivation chain is written with its description (`<file>.ssd.json`) and a
/// manifest (`<file>.cache.json`): the source's size and modification time, the size and hash of
/// the model and description written, and the provenance. A cached file is reused only when all of
/// that still holds; anything else (missing or unreadable manifest, changed source, truncated or
/// altered model or description, an older cache format) rebuilds it, and a rebuilt step rebuilds the
/// steps after it.
public enum DerivedModelCache {
    /// Raise when the conversions change what they write, so old caches are rebuilt.
    public static let format = 1

    /// What `prepare` did for one step.
    public struct StepOutcome: Equatable, Sendable {
        public var path: String
        /// nil: reused; otherwise why the file was (re)made.
        public var rebuiltBecause: String?
    }

    public struct Outcome: Sendable {
        /// The entry with each step's conversion and the provenance filled in.
        public var entry: ModelEntry
        public var steps: [StepOutcome]
    }

    struct Manifest: Codable, Equatable {
        var format: Int
        var precision: String
        var source: String
        var sourceStamp: FileStamp
        var model: FileFingerprint
        var description: FileFingerprint
        var provenance: String?
    }

    /// Where the manifest of a cached model lives.
    public static func manifestPath(forModel path: String) -> String { path + ".cache.json" }

    /// Checks every step of `entry`'s derivation, remaking those that are missing or not to be trusted.
    /// Entries the run does not make (no derivation, or a file `quantize` made earlier) are returned
    /// unchanged.
    public static func prepare(_ entry: ModelEntry, progress: ((String) -> Void)? = nil) throws -> Outcome {
        guard var derivation = entry.derivation, derivation.madeByRun else { return Outcome(entry: entry, steps: []) }
        guard FileManager.default.fileExists(atPath: derivation.sourcePath) else {
            throw DerivedModelError(file: derivation.sourcePath, reason: "source of the derived model \(entry.id) is missing")
        }
        var outcomes: [StepOutcome] = []
        var provenance: String?
        var sourceRemade = false
        for (index, step) in derivation.steps.enumerated() {
            let source = index == 0 ? derivation.sourcePath : derivation.steps[index - 1].path
            let manifest: Manifest
            let reason = sourceRemade ? "its source \(source) was remade" : staleness(of: step, source: source)
            sourceRemade = reason != nil
            if let reason {
                progress?("making \(step.path) (\(step.precision) from \(source)): \(reason)")
                manifest = try make(step, from: source)
            } else {
                manifest = try readManifest(step.path)
            }
            outcomes.append(StepOutcome(path: step.path, rebuiltBecause: reason))
            provenance = manifest.provenance
            derivation.steps[index].conversion = manifest.provenance.flatMap { Provenance.decode(json: $0)?.conversion }
        }
        derivation.provenance = provenance
        var prepared = entry
        prepared.derivation = derivation
        return Outcome(entry: prepared, steps: outcomes)
    }

    /// nil when the cached step can be trusted, else why not.
    static func staleness(of step: ModelDerivation.Step, source: String) -> String? {
        let manifestPath = manifestPath(forModel: step.path)
        guard FileManager.default.fileExists(atPath: manifestPath) else { return "not in the cache yet" }
        guard let manifest = try? readManifest(step.path) else { return "its cache manifest \(manifestPath) is unreadable" }
        guard manifest.format == format else { return "made by cache format \(manifest.format), now \(format)" }
        guard manifest.precision == step.precision, manifest.source == source else {
            return "the cache entry was made as \(manifest.precision) from \(manifest.source)"
        }
        guard let stamp = FileStamp(path: source), stamp == manifest.sourceStamp else {
            return "the source \(source) changed (size or modification time)"
        }
        guard let model = FileFingerprint(path: step.path) else { return "the cached model is missing" }
        guard model == manifest.model else {
            return "the cached model is \(model.bytes) bytes with hash \(model.fnv1a64), expected \(manifest.model.bytes) "
                + "bytes with hash \(manifest.model.fnv1a64) (truncated or altered)"
        }
        let descriptionPath = DerivedModelFiles.descriptionPath(forModel: step.path)
        guard let description = FileFingerprint(path: descriptionPath), description == manifest.description else {
            return "its description \(descriptionPath) is missing or altered"
        }
        return nil
    }

    static func readManifest(_ modelPath: String) throws -> Manifest {
        let path = manifestPath(forModel: modelPath)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DerivedModelError(file: path, reason: "cannot be read")
        }
        do {
            return try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw DerivedModelError(file: path, reason: "not a cache manifest (\(error))")
        }
    }

    /// Converts `source` into `step.path` with its description, then writes the manifest last: a
    /// manifest exists only for a finished model and description.
    static func make(_ step: ModelDerivation.Step, from source: String) throws -> Manifest {
        let manifestPath = manifestPath(forModel: step.path)
        try? FileManager.default.removeItem(atPath: manifestPath)
        let directory = URL(fileURLWithPath: step.path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw DerivedModelError(file: directory.path, reason: "cannot create the derived-model cache folder: \(error.localizedDescription)")
        }
        guard let sourceStamp = FileStamp(path: source) else {
            throw DerivedModelError(file: source, reason: "cannot be read to derive \(step.path)")
        }
        let model = try TFLiteModel(contentsOf: URL(fileURLWithPath: source))
        let sourceDescription = try DerivedModelFiles.sourceDescription(of: model, path: source)
        let draft: ModelDraft
        switch step.precision {
        case "fp32": draft = try Dequantization.convert(model)
        case "fp16": draft = try Float16Conversion.convert(model)
        default:
            throw DerivedModelError(file: step.path, reason: "the run derives only fp32 (dequantized) and fp16 models, "
                                    + "not \(step.precision)")
        }
        let written = try DerivedModelFiles.write(draft, to: step.path, sourceDescription: sourceDescription)
        guard let modelPrint = FileFingerprint(path: written.modelPath),
              let descriptionPath = written.descriptionPath,
              let descriptionPrint = FileFingerprint(path: descriptionPath) else {
            throw DerivedModelError(file: step.path, reason: "was written but cannot be read back")
        }
        let manifest = Manifest(format: format, precision: step.precision, source: source, sourceStamp: sourceStamp,
                                model: modelPrint, description: descriptionPrint, provenance: written.provenanceText)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(manifest), to: URL(fileURLWithPath: manifestPath))
        return manifest
    }
}

public struct DerivedModelError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let reason: String
    public var description: String { "\(file): \(reason)" }
}
