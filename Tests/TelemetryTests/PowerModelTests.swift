import Testing
@testable import Telemetry

@Suite struct PowerModelTests {
    @Test func idleBusyEstimateIsLabelledEstimated() throws {
        // 10 W idle, 30 W busy, half busy for 4 s: (10 + 20 × 0.5) W × 4 s = 80 J.
        let reading = try PowerModel.idleBusy(idleWatts: 10, busyWatts: 30).estimate(seconds: 4, utilisation: 0.5)
        #expect(reading.joules == 80)
        #expect(!reading.isMeasured)
        #expect(reading.provenance == .estimated(model: "power model idle 10.0 W / busy 30.0 W"))
        #expect(reading.description.contains("ESTIMATED"))
    }

    @Test func tdpTimesUtilisation() throws {
        // 65 W × 0.25 × 2 s = 32.5 J.
        #expect(try PowerModel.tdpTimesUtilisation(tdpWatts: 65).estimate(seconds: 2, utilisation: 0.25).joules == 32.5)
    }

    @Test func invalidModelsAreRejected() {
        #expect(throws: PowerModel.ModelError.self) {
            try PowerModel.idleBusy(idleWatts: 30, busyWatts: 10).estimate(seconds: 1, utilisation: 0.5)
        }
        #expect(throws: PowerModel.ModelError.self) {
            try PowerModel.tdpTimesUtilisation(tdpWatts: 65).estimate(seconds: 1, utilisation: 1.5)
        }
    }

    @Test func unavailableEnergyHasNoNumber() {
        let reading = EnergyReading.unavailable(reason: "no RAPL in this VM", fix: Remedy.noPowercap)
        #expect(reading.joules == nil && !reading.isMeasured)
        #expect(reading.description.hasPrefix("unavailable"))
        let measured = EnergyReading.measured(microjoules: 1_500_000, interface: .powercap, domainIDs: ["powercap/intel-rapl:0"])
        #expect(measured.joules == 1.5 && measured.isMeasured)
    }
}
