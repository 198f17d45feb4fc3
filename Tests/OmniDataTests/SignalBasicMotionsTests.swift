// aeon 1.6.0's BasicMotions (6-axis smart-watch IMU, 4 activities; fetched by scripts/fetch-assets)
// against an independent Python parse and torch.stft, both made by
// scripts/fixtures/basicmotions_reference.py into Fixtures/signals/.
import Foundation
import Testing
import OmniNN
import OmniTensor
@testable import OmniData

@Suite struct SignalBasicMotionsTests {
    @Test(arguments: ["TRAIN", "TEST"])
    func loadsLikeTheReferenceParse(split: String) throws {
        let ts = try TSFile(contentsOf: Assets.url("aeon/BasicMotions_\(split).ts").path)
        let all = try Fixtures.json("signals/basicmotions_reference.json")
        let ref = try #require(all[split] as? [String: Any])
        #expect(ts.problemName == ref["problem_name"] as? String)
        #expect(ts.count == ref["cases"] as? Int && ts.count == 40)
        #expect(ts.channelCount == ref["channels"] as? Int && ts.channelCount == 6)
        #expect(ts.classLabels == ref["classes"] as? [String])
        #expect(ts.classLabels == ["Standing", "Running", "Walking", "Badminton"])
        #expect(ts.cases.map(\.label) == (ref["labels"] as? [String] ?? []).map(Optional.some))
        let x = try ts.tensor()
        let length = try #require(ref["length"] as? Int)
        #expect(x.shape == [40, 6, length] && length == 100)
        // every class has 10 cases in each split
        let y = try ts.labelIndices()
        #expect((0..<4).map { c in y.filter { $0 == c }.count } == [10, 10, 10, 10])

        let sums = try #require(ref["channel_sums"] as? [[Double]]), probes = try #require(ref["probes"] as? [[Double]])
        let v = x.toArray()
        for i in 0..<40 {
            for c in 0..<6 {
                let series = v[((i * 6 + c) * length)..<((i * 6 + c + 1) * length)]
                // Float rounding of each value bounds the difference to the exact decimal sum.
                let sum = series.reduce(0.0) { $0 + Double($1) }, bound = series.reduce(0.0) { $0 + abs(Double($1)) } * 6e-8 + 1e-12
                #expect(abs(sum - sums[i][c]) <= bound, "case \(i) channel \(c): sum \(sum) vs \(sums[i][c])")
                let t = (7 * i + 13 * c) % length
                #expect(series[series.startIndex + t] == Float(probes[i][c]), "case \(i) channel \(c) sample \(t)")
            }
        }
    }

    @Test func stftOfACaseMatchesTorch() throws {
        let ts = try TSFile(contentsOf: Assets.url("aeon/BasicMotions_TRAIN.ts").path)
        let s = ts.signal(at: 0, sampleRate: 10)                        // the watch samples every 0.1 s
        let map = s.stftMagnitude(nFft: 32, hop: 8)
        let reference = try NPY.read(contentsOf: Fixtures.url("signals/basicmotions_stft.npy").path)
        #expect(map.shape == reference.shape && map.shape == [6, 17, 13])
        let expected = reference.toArray().map(Double.init)
        expectClose(map.toArray(), expected, tolerance: 1e-4 * expected.max()!, "BasicMotions STFT vs torch.stft")
        // the usual pipeline runs end to end: normalise with training statistics, window, lift
        let z = s.zScoreNormalized(using: s.channelStatistics())
        #expect(z.windows(size: 50, hop: 25, tail: .drop).shape == [3, 6, 50])
    }
}
