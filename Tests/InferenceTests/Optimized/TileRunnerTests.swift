import Dispatch
import Synchronization
import Testing
@testable import Inference

// TileRunner on the persistent worker pool: every unit runs exactly once, in the documented contiguous
// ranges part * count / parts ..< (part + 1) * count / parts (so results cannot depend on timing), from
// several threads at once, nested, and without creating threads per runner.

/// Runs `runner` over `count` units and returns how often each unit ran and the ranges seen, by begin.
private func record(_ runner: TileRunner, count: Int) -> (visits: [Int], ranges: [Int: Int]) {
    let visits = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(count, 1))
    let ends = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(count, 1))
    defer { visits.deallocate(); ends.deallocate() }
    visits.initialize(repeating: 0)
    ends.initialize(repeating: -1)
    // Ranges are disjoint, so each part writes only its own slots.
    runner.run(count) { begin, end in
        ends[begin] = end
        for unit in begin..<end { visits[unit] += 1 }
    }
    var ranges: [Int: Int] = [:]
    for begin in 0..<count where ends[begin] >= 0 { ranges[begin] = ends[begin] }
    return (Array(visits.prefix(count)), ranges)
}

/// The split TileRunner promises, written from its contract.
private func expectedRanges(count: Int, threads: Int) -> [Int: Int] {
    let parts = min(threads, count)
    if parts == 0 { return [:] }
    var ranges: [Int: Int] = [:]
    for part in 0..<parts { ranges[part * count / parts] = (part + 1) * count / parts }
    return ranges
}

@Test("every unit runs exactly once, in the documented ranges", arguments: [1, 2, 3, 4, 7, 64])
func tileRunnerCoversEveryUnitOnce(threads: Int) {
    let runner = TileRunner(threads: threads)
    for count in Array(0...70) + [127, 1000, 65_537] {
        // Repeat so workers are caught both spinning and asleep between jobs.
        for _ in 0..<3 {
            let (visits, ranges) = record(runner, count: count)
            #expect(visits.allSatisfy { $0 == 1 }, "threads \(threads) count \(count)")
            #expect(ranges == expectedRanges(count: count, threads: threads), "threads \(threads) count \(count)")
        }
    }
}

@Test("runners with the same thread count share one pool; no threads per runner")
func tileRunnersSharePools() {
    for threads in 2...6 {
        let first = TileRunner(threads: threads)
        _ = record(first, count: 10)
        for _ in 0..<500 {
            let runner = TileRunner(threads: threads)
            _ = record(runner, count: threads)
            #expect(runner.pool === first.pool)
        }
    }
    #expect(TileRunner(threads: 1).pool == nil)
    #expect(TileRunner(threads: 0).threads == 1)
    #expect(TileRunner(threads: 1000).threads == WorkerPool.maximumThreads)
}

@Test("several threads using the same pools at once each get every unit exactly once")
func tileRunnerConcurrentCallers() {
    let failures = Atomic<Int>(0)
    DispatchQueue.concurrentPerform(iterations: 4) { caller in
        let runners = [TileRunner(threads: 2), TileRunner(threads: 3)]
        for round in 0..<400 {
            let runner = runners[(round + caller) % 2]
            let count = (round * 7 + caller) % 300
            let (visits, ranges) = record(runner, count: count)
            if !visits.allSatisfy({ $0 == 1 }) || ranges != expectedRanges(count: count, threads: runner.threads) {
                failures.add(1, ordering: .relaxed)
            }
        }
    }
    #expect(failures.load(ordering: .relaxed) == 0)
}

@Test("a body that splits work again does not deadlock")
func tileRunnerNestedRun() {
    let runner = TileRunner(threads: 2)
    let total = Atomic<Int>(0)
    for _ in 0..<100 {
        runner.run(4) { begin, end in
            for _ in begin..<end {
                runner.run(10) { innerBegin, innerEnd in total.add(innerEnd - innerBegin, ordering: .relaxed) }
            }
        }
    }
    #expect(total.load(ordering: .relaxed) == 100 * 4 * 10)
}
