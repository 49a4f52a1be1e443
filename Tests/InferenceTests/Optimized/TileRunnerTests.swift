import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
@testable import Inference

// TileRunner on the persistent worker pool: every unit runs exactly once, in the documented contiguous
// ranges part * count / parts ..< (part + 1) * count / parts (so results cannot depend on timing), from
// several threads at once, nested, and without creating threads per runner; a thread stuck in one range
// does not hold up the others.

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

/// The split TileRunner promises, written from its contract: one range on one thread, else
/// `rangesPerThread` ranges per thread (fewer when there are fewer units).
private func expectedRanges(count: Int, threads: Int) -> [Int: Int] {
    let parts = threads == 1 ? min(count, 1) : min(count, threads * TileRunner.rangesPerThread)
    if parts == 0 { return [:] }
    var ranges: [Int: Int] = [:]
    for part in 0..<parts { ranges[part * count / parts] = (part + 1) * count / parts }
    return ranges
}

/// Thread counts the other tests here use (the pools of 2...6 threads are shared with the kernel tests too).
private let tileRunnerThreadCounts = [1, 2, 3, 4, 7, 64]

@Test("every unit runs exactly once, in the documented ranges", arguments: tileRunnerThreadCounts)
func tileRunnerCoversEveryUnitOnce(threads: Int) {
    let runner = TileRunner(threads: threads)
    for count in Array(0...70) + [127, 511, 512, 513, 1000, 65_537] {
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
    for threads in [2, 3, 4, 6] {
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

@Test("the pool runs every part exactly once for any part count up to its limit")
func workerPoolRunsEveryPartOnce() {
    for threads in [2, 3, 7] {
        let pool = WorkerPool.shared(threads: threads)
        for parts in [1, 2, threads - 1, threads, threads + 1, 255, 256, 4097, WorkerPool.maximumParts] where parts >= 1 {
            let visits = UnsafeMutableBufferPointer<Int>.allocate(capacity: parts)
            defer { visits.deallocate() }
            visits.initialize(repeating: 0)
            // Another test running at the same time may own the pool: try again until this one does.
            while !pool.run(parts: parts, { part, _ in visits[part] += 1 }) { sched_yield() }
            #expect(visits.allSatisfy { $0 == 1 }, "threads \(threads) parts \(parts)")
        }
    }
}

/// A pool size no other test uses, so no concurrently running test can own the pool (the runner would then
/// run every range inline on the calling thread, and a stalled range would wait for nothing).
private let stallThreads = 5

/// Runs `count` units on a `stallThreads` runner where the first range run on the calling thread (or,
/// with `stallWorker`, on a worker) waits until every unit outside it is done. Returns that range's
/// length (nil if no such range ran: the workers did not wake before the caller had done everything)
/// and whether the wait gave up (the others did not take over the rest).
private func stall(count: Int, stallWorker: Bool) -> (length: Int?, timedOut: Bool) {
    let runner = TileRunner(threads: stallThreads)
    let caller = pthread_self()
    let done = Atomic<Int>(0), stalled = Atomic<Int>(-1), timedOut = Atomic<Bool>(false)
    runner.run(count) { begin, end in
        let onCaller = pthread_equal(pthread_self(), caller) != 0
        if onCaller != stallWorker,
           stalled.compareExchange(expected: -1, desired: end - begin, ordering: .relaxed).exchanged {
            // Generous: only a pool that never hands this thread's other ranges to another thread fails.
            let deadline = DispatchTime.now().uptimeNanoseconds + 20_000_000_000
            while done.load(ordering: .acquiring) < count - (end - begin) {
                if DispatchTime.now().uptimeNanoseconds > deadline { timedOut.store(true, ordering: .relaxed); break }
                sched_yield()
            }
        } else {
            // Long enough that sleeping workers wake before the caller alone has run every range.
            usleep(100)
        }
        done.add(end - begin, ordering: .releasing)
    }
    #expect(done.load(ordering: .relaxed) == count)
    let length = stalled.load(ordering: .relaxed)
    return (length >= 0 ? length : nil, timedOut.load(ordering: .relaxed))
}

@Test("a thread stuck in one range does not hold up the rest: the others take over its ranges")
func tileRunnerRebalances() {
    #expect(stallThreads != 1 && !tileRunnerThreadCounts.contains(stallThreads))
    let count = 400
    // Either the caller or a worker stalls in the first range it runs; the other threads must run all
    // other ranges, including the ones dealt to the stalled thread. Ranges are much shorter than one
    // thread's share. With more threads than cores a thread may not get to run any range before the
    // others have done everything, so only most attempts stall.
    for stallWorker in [false, true] {
        var stalls = 0
        for _ in 0..<10 {
            let result = stall(count: count, stallWorker: stallWorker)
            #expect(!result.timedOut, "stalled \(stallWorker ? "worker" : "caller")")
            if let length = result.length {
                stalls += 1
                #expect(length < count / stallThreads)
            }
        }
        #expect(stalls > 0, "no \(stallWorker ? "worker" : "caller") ever ran a range")
    }
}
