import ArgumentParser
import Foundation
import Inference
import TFLiteModel

/// Prints what a .tflite model contains: operators, tensors, quantization, MACs, weights, arena.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a .tflite model: operators, tensors, quantization, MACs, weight and arena bytes."
    )

    @Argument(help: "The .tflite model.")
    var model: String

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @Flag(name: .long, help: "Only the summary, without the operator and tensor lists (text mode).")
    var summary = false

    func run() throws {
        let file = try TFLiteModel(contentsOf: URL(fileURLWithPath: model))
        let report = ModelInspection(model: file)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print(InspectionText.render(report, model: file, listEverything: !summary))
    }
}

/// The human-readable form of a `ModelInspection`.
enum InspectionText {
    static func megabytes(_ bytes: Int) -> String { String(format: "%.2f MB", Double(bytes) / 1_000_000) }

    static func render(_ r: ModelInspection, model: TFLiteModel, listEverything: Bool) -> String {
        var lines: [String] = []
        let graph = model.mainSubgraph
        func describe(_ i: Int) -> String {
            let t = r.tensors[i]
            var text = "#\(i) '\(t.name)' \(t.type) \(t.shape)"
            if let q = t.quantization {
                text += q.channels == 1 ? " scale \(q.minScale) zero point \(q.minZeroPoint)"
                    : " \(q.channels)-channel scales \(q.minScale)...\(q.maxScale)"
            }
            return text
        }
        lines.append("model: \(r.file)")
        if !r.description.isEmpty { lines.append("description: \(r.description)") }
        if !model.metadata.isEmpty {
            lines.append("metadata: " + model.metadata.map {
                "\($0.name) (\(model.buffers[$0.bufferIndex].range.count) bytes)"
            }.joined(separator: ", "))
        }
        lines.append("inputs:  " + r.inputs.map(describe).joined(separator: ", "))
        lines.append("outputs: " + r.outputs.map(describe).joined(separator: ", "))
        lines.append("operators: \(r.operators.count)")
        for (name, count) in r.operatorCounts.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            lines.append("  \(name.padding(toLength: 30, withPad: " ", startingAt: 0)) \(count)")
        }
        lines.append(String(format: "MACs per invocation: %.1f M", Double(r.totalMACs) / 1e6)
            + " (" + r.macsByOperator.sorted { $0.key < $1.key }
                .map { String(format: "%@ %.1f M", $0.key, Double($0.value) / 1e6) }.joined(separator: ", ") + ")")
        lines.append("weights: \(megabytes(r.weightBytes)) ("
            + r.weightBytesByType.sorted { $0.key < $1.key }.map { "\($0.key) \(megabytes($0.value))" }
                .joined(separator: ", ") + ")")
        let activations = r.tensors.filter { !$0.isConstant }
        var typeCounts: [String: Int] = [:]
        for t in r.tensors { typeCounts[t.type, default: 0] += 1 }
        lines.append("tensors: \(r.tensors.count) (\(activations.count) non-constant); types: "
            + typeCounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        let quantized = r.tensors.compactMap(\.quantization)
        if !quantized.isEmpty {
            let perChannel = quantized.filter { $0.granularity == "per-channel" }
            lines.append("quantization: \(quantized.count) tensors (\(quantized.count - perChannel.count) per-tensor, "
                + "\(perChannel.count) per-channel); scales \(quantized.map(\.minScale).min()!)..."
                + "\(quantized.map(\.maxScale).max()!); zero points \(quantized.map(\.minZeroPoint).min()!)..."
                + "\(quantized.map(\.maxZeroPoint).max()!)")
        } else {
            lines.append("quantization: none")
        }
        if let arena = r.plannedArenaBytes {
            lines.append("planned activation arena: \(arena) bytes (\(megabytes(arena)))")
        } else {
            lines.append("planned activation arena: unavailable (\(r.planError ?? "?"))")
        }
        lines.append("runnable by the Swift engine: " + (r.notRunnableBecause.map { "no — \($0)" } ?? "yes"))
        if listEverything {
            lines.append("operator list:")
            func brief(_ i: Int) -> String {
                guard i >= 0 else { return "-" }
                let t = r.tensors[i]
                return "#\(i) \(t.type)\(t.shape)" + (t.isConstant ? " const" : "")
            }
            for op in r.operators {
                let ins = op.inputs.map(brief).joined(separator: ", ")
                let outs = op.outputs.map(brief).joined(separator: ", ")
                lines.append("  [\(op.index)] \(op.name) (\(ins)) -> (\(outs))"
                    + (op.macs > 0 ? " MACs \(op.macs)" : "") + (op.folded ? " [folded at load]" : ""))
            }
            lines.append("tensor list:")
            for t in graph.tensors { lines.append("  " + describe(t.index) + (r.tensors[t.index].isConstant ? " const" : "")) }
        }
        return lines.joined(separator: "\n")
    }
}
