import Dispatch
import Foundation
import Synchronization
import Testing
import TFLiteModel
@testable import Inference

// Whole models split across threads give exactly the bytes of one thread, also when two interpreters
// share the worker pool at the same moment: the work is cut into the same ranges whichever thread
// runs them, and every kernel's result for a range does not depend on the other ranges.

/// The 300x300 RGB fixture image, in the input type the model takes.
private func setImage(_ interpreter: Interpreter) throws {
    let pixels = [UInt8](try Data(contentsOf: Fixtures.url("e2e_000000000139.u8")))
    if interpreter.inputs[0].type == .float32 {
        try interpreter.setInput(0, floats: pixels.map { Float($0) / 127.5 - 1 })
    } else {
        try interpreter.setInput(0, bytes: pixels)
    }
}

private func outputs(_ interpreter: Interpreter) -> [[UInt8]] {
    interpreter.outputs.indices.map { interpreter.output($0).bytes }
}

private let threadedModels = [
    SharedModels.person("fp32"), SharedModels.person("int8"),
    "models/ssd_mobilenet_v1_coco_quant/detect.tflite",
]

@Test("2 and 3 threads give the bytes of 1 thread, alone and with two interpreters at once", arguments: threadedModels)
func threadedOutputsEqualOneThread(path: String) throws {
    let model = try SharedModels.load(path)
    let single = try Interpreter(model: model, options: .init(threads: 1))
    try setImage(single)
    try single.invoke()
    let expected = outputs(single)
    #expect(expected.allSatisfy { !$0.isEmpty })

    for threads in [2, 3] {
        let interpreter = try Interpreter(model: model, options: .init(threads: threads))
        try setImage(interpreter)
        for _ in 0..<3 {
            try interpreter.invoke()
            #expect(outputs(interpreter) == expected, "\(path) at \(threads) threads")
        }
    }

    // Two interpreters on two threads at once: one owns the pool, the other finds it busy and runs
    // the same ranges inline, switching roles from operator to operator.
    let pair = try (0..<2).map { _ in try Interpreter(model: model, options: .init(threads: 2)) }
    for interpreter in pair { try setImage(interpreter) }
    let mismatches = Atomic<Int>(0), failures = Atomic<Int>(0)
    DispatchQueue.concurrentPerform(iterations: 2) { index in
        for _ in 0..<4 {
            do {
                try pair[index].invoke()
                if outputs(pair[index]) != expected { mismatches.add(1, ordering: .relaxed) }
            } catch {
                failures.add(1, ordering: .relaxed)
            }
        }
    }
    #expect(failures.load(ordering: .relaxed) == 0)
    #expect(mismatches.load(ordering: .relaxed) == 0, "\(path): two interpreters at once")
}
