import Testing
@testable import Telemetry

@Suite struct SysfsReaderTests {
    @Test func readsIntegersAndNamesFailuresWithTheKernelPath() throws {
        let tree = try ScratchTree()
        defer { tree.cleanUp() }
        try tree.write("/sys/a/value", "123")
        try tree.write("/sys/a/bad", "12x")
        try tree.makeDirectory("/sys/a/dir")
        let reader = tree.reader
        #expect(try reader.readUnsignedInteger("/sys/a/value") == 123)
        #expect(throws: SysfsReadError.missing(path: "/sys/a/none")) { try reader.readText("/sys/a/none") }
        #expect(throws: SysfsReadError.notAFile(path: "/sys/a/dir")) { try reader.readText("/sys/a/dir") }
        #expect(throws: SysfsReadError.malformed(path: "/sys/a/bad", content: "12x", expected: "an unsigned integer")) {
            try reader.readUnsignedInteger("/sys/a/bad")
        }
        #expect(reader.listDirectory("/sys/a") == ["bad", "dir", "value"])
        #expect(reader.listDirectory("/sys/none") == nil)
    }

    @Test func ordersNamesNaturally() {
        #expect(["cpu10", "cpu2", "cpu1"].sorted(by: naturalOrder) == ["cpu1", "cpu2", "cpu10"])
        #expect(["intel-rapl:1", "intel-rapl:0:1", "intel-rapl:0"].sorted(by: naturalOrder)
                == ["intel-rapl:0", "intel-rapl:0:1", "intel-rapl:1"])
    }

    @Test func parsesCPULists() {
        #expect(parseCPUList("0,20") == [0, 20])
        #expect(parseCPUList("0-3,8") == [0, 1, 2, 3, 8])
        #expect(parseCPUList("0-x") == nil)
    }
}
