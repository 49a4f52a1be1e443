// Micro-benchmark of TileRunner / WorkerPool: what splitting costs and how evenly it balances, on a
// synthetic replay of a real model's split operators (no kernels, so it isolates the pool).
//   1. empty:  run(count) with an empty body, back to back (hand-off and completion latency).
//   2. replay: for each CONV_2D / DEPTHWISE_CONV_2D of `ssd-energy inspect MODEL`, the same number of
//      work units the 8-bit kernels hand to TileRunner (im2col rows, then GEMM tiles of 48 rows x 64
//      channels; depthwise output rows), each unit a busy loop as long as its multiply-adds would take
//      (edge tiles are cheaper, as in the real GEMM), and a short serial gap per operator.
// Prints the time per inference at 1 and N threads and the speed-up. To compare against an older pool
// in the same process, copy its WorkerPool.swift and TileRunner.swift with the types renamed
// OldWorkerPool / OldTileRunner into one file and add it with -D BASELINE. Build and run:
//   mkdir -p /tmp/ckm && printf 'module CKernels { header "%s/Sources/CKernels/include/CKernels.h" }\n' \
//     "$PWD" > /tmp/ckm/module.modulemap
//   swiftc -O -I /tmp/ckm Sources/Inference/Kernels/Optimized/{WorkerPool,TileRunner}.swift \
//     -parse-as-library benchmarks/speed/pool_bench.swift [-D BASELINE old_pool.swift] -o /tmp/pool_bench
//   .build/release/ssd-energy inspect MODEL > /tmp/model.txt && /tmp/pool_bench /tmp/model.txt [threads] [rounds]
import Foundation

/// A kernel call: `units` work units of the given costs (ns), split by the runner.
struct SplitCall { var unitNanoseconds: [Double] }
/// One operator: its split calls, then `serialNanoseconds` of unsplit work (e.g. an ADD).
struct Operator { var calls: [SplitCall]; var serialNanoseconds: Double }

/// Nanoseconds per multiply-add of the 8-bit kernels on one AVX-512 VNNI core (person int8 profile).
let gemmNanosecondsPerMAC = 0.0107, depthwiseNanosecondsPerMAC = 0.088, im2colNanosecondsPerByte = 0.02

func parseOperators(_ text: String) -> [Operator] {
    var operators: [Operator] = []
    for line in text.split(separator: "\n") {
        let isConv = line.contains("] CONV_2D "), isDepthwise = line.contains("] DEPTHWISE_CONV_2D ")
        guard isConv || isDepthwise, let arrow = line.range(of: "-> ("), let macsAt = line.range(of: "MACs ") else {
            continue
        }
        // Output shape [1, OH, OW, OC] follows the arrow.
        let output = line[arrow.upperBound...]
        guard let open = output.firstIndex(of: "["), let close = output.firstIndex(of: "]") else { continue }
        let dims = output[output.index(after: open)..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        guard dims.count == 4, let macs = Double(line[macsAt.upperBound...].trimmingCharacters(in: .whitespaces))
        else { continue }
        let (oh, ow, oc) = (dims[1], dims[2], dims[3])
        if isDepthwise {
            let row = macs / Double(oh) * depthwiseNanosecondsPerMAC
            operators.append(Operator(calls: [SplitCall(unitNanoseconds: Array(repeating: row, count: oh))],
                                      serialNanoseconds: 0))
            continue
        }
        let m = oh * ow, k = macs / Double(m * oc)
        let rows = SplitCall(unitNanoseconds: Array(repeating: Double(ow) * k * im2colNanosecondsPerByte, count: oh))
        let panels = (oc + 15) / 16, columnTiles = (panels + 3) / 4
        var tiles: [Double] = []
        for rowBlock in stride(from: 0, to: m, by: 48) {
            for columnTile in 0..<columnTiles {
                let tileRows = min(48, m - rowBlock), tilePanels = min(4, panels - columnTile * 4)
                tiles.append(Double(tileRows * tilePanels * 16) * k * gemmNanosecondsPerMAC)
            }
        }
        operators.append(Operator(calls: [rows, SplitCall(unitNanoseconds: tiles)], serialNanoseconds: 1000))
    }
    return operators
}

/// Busy work of about `nanoseconds`, calibrated once; the result is kept so it is not optimized away.
var spinSink = 0.0
var iterationsPerNanosecond = 1.0
@inline(never) func spin(_ nanoseconds: Double) {
    var x = spinSink
    for _ in 0..<Int(nanoseconds * iterationsPerNanosecond) { x = x * 0.999_999 + 1e-9 }
    spinSink = x
}

/// The fastest of many short trials, so a calibration during a busy moment does not shrink the work.
func calibrate() {
    iterationsPerNanosecond = 1
    var fastest = Double.infinity
    for _ in 0..<200 {
        let start = DispatchTime.now().uptimeNanoseconds
        spin(200_000)
        fastest = min(fastest, Double(DispatchTime.now().uptimeNanoseconds - start))
    }
    iterationsPerNanosecond = 200_000 / fastest
}

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

typealias Runner = (Int, (Int, Int) -> Void) -> Void

/// Time per replay of all operators, in ms.
func replay(_ operators: [Operator], _ run: Runner) -> Double {
    let start = now()
    for op in operators {
        for call in op.calls {
            call.unitNanoseconds.withUnsafeBufferPointer { costs in
                run(costs.count) { begin, end in
                    var total = 0.0
                    for unit in begin..<end { total += costs[unit] }
                    spin(total)
                }
            }
        }
        spin(op.serialNanoseconds)
    }
    return Double(now() - start) / 1e6
}

/// Nanoseconds per empty run of `count` units.
func emptyRuns(_ count: Int, _ run: Runner) -> Double {
    let repeats = 20_000
    let start = now()
    for _ in 0..<repeats { run(count) { _, _ in } }
    return Double(now() - start) / Double(repeats)
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

@main
enum PoolBench {
    static func main() {
        let arguments = CommandLine.arguments
        guard arguments.count >= 2, let text = try? String(contentsOfFile: arguments[1], encoding: .utf8) else {
            print("usage: pool_bench INSPECT_OUTPUT [threads] [rounds]")
            exit(2)
        }
        let threads = arguments.count > 2 ? Int(arguments[2]) ?? 2 : 2
        let rounds = arguments.count > 3 ? Int(arguments[3]) ?? 15 : 15
        let operators = parseOperators(text)
        calibrate()
        // No split can beat, per call, an equal share of the work or its largest unit.
        let bound = operators.reduce(0.0) { sum, op in
            sum + op.serialNanoseconds + op.calls.reduce(0.0) {
                $0 + max($1.unitNanoseconds.reduce(0, +) / Double(threads), $1.unitNanoseconds.max() ?? 0)
            }
        } / 1e6
        print(String(format: "lower bound at %d threads without any overhead: %.3f ms", threads, bound))
        print("\(operators.count) split operators, \(operators.reduce(0) { $0 + $1.calls.count }) runs per replay")

        var variants: [(String, Runner, Runner)] = []
        let single = TileRunner(threads: 1), multi = TileRunner(threads: threads)
        variants.append(("current", { single.run($0, $1) }, { multi.run($0, $1) }))
        #if BASELINE
        let oldSingle = OldTileRunner(threads: 1), oldMulti = OldTileRunner(threads: threads)
        variants.append(("baseline", { oldSingle.run($0, $1) }, { oldMulti.run($0, $1) }))
        #endif

        var emptyTimes = Array(repeating: [Double](), count: variants.count)
        var oneThread = emptyTimes, manyThreads = emptyTimes
        for _ in 0..<rounds {
            // Interleaved, so load from other processes hits all variants alike.
            for (index, variant) in variants.enumerated() {
                emptyTimes[index].append(emptyRuns(threads, variant.2))
                oneThread[index].append(replay(operators, variant.1))
                manyThreads[index].append(replay(operators, variant.2))
            }
        }
        for (index, variant) in variants.enumerated() {
            let one = median(oneThread[index]), many = median(manyThreads[index])
            print(String(format: "%@: empty run(%d) %.0f ns; replay 1 thread %.3f ms, %d threads %.3f ms (min %.3f), speed-up %.2fx",
                         variant.0, threads, median(emptyTimes[index]), one, threads, many, manyThreads[index].min()!, one / many))
        }
    }
}
