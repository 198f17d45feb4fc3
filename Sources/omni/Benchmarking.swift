// Timing for the benchmarks: monotonic clock, warm-up, interleaved runs and their summary.
import Foundation

/// Seconds on the monotonic clock.
@inline(__always)
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Median, min and max of one body's timed runs.
struct TimingSummary: Encodable {
    let median_ms: Double
    let min_ms: Double
    let max_ms: Double
    let runs: Int

    init(seconds: [Double]) {
        let s = seconds.sorted()
        let n = s.count
        let median = n == 0 ? 0 : (n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2)
        median_ms = rounded(median * 1e3, 4)
        min_ms = rounded((s.first ?? 0) * 1e3, 4)
        max_ms = rounded((s.last ?? 0) * 1e3, 4)
        runs = n
        medianSeconds = median
    }

    /// The unrounded median (for rates).
    let medianSeconds: Double
    private enum CodingKeys: String, CodingKey { case median_ms, min_ms, max_ms, runs }
}

/// Times `bodies` against each other on a shared, noisy machine: each is warmed up, then they run
/// interleaved (the order alternating every round, so drift and cache state hit all alike) for
/// `runs` rounds, or, when `runs` is nil, as many rounds as take about `targetSeconds` per body.
///
/// Returns one array of per-call seconds per body.
func measureInterleaved(_ bodies: [() -> Void], runs: Int?, targetSeconds: Double = 1.5,
                        warmupSeconds: Double = 0.2) -> [[Double]] {
    var perCall = [Double](repeating: 0, count: bodies.count)
    for (i, body) in bodies.enumerated() {
        var times: [Double] = []
        let start = monotonicSeconds()
        repeat {
            let t0 = monotonicSeconds()
            body()
            times.append(monotonicSeconds() - t0)
        } while times.count < 3 || (monotonicSeconds() - start < warmupSeconds && times.count < 1000)
        perCall[i] = times.sorted()[times.count / 2]
    }
    let rounds = runs ?? Swift.max(5, Swift.min(100_000, Int(targetSeconds / Swift.max(perCall.max() ?? 1, 1e-7))))
    var samples = [[Double]](repeating: [], count: bodies.count)
    for i in samples.indices { samples[i].reserveCapacity(rounds) }
    for r in 0..<rounds {
        let order = r % 2 == 0 ? Array(bodies.indices) : Array(bodies.indices.reversed())
        for i in order {
            let t0 = monotonicSeconds()
            bodies[i]()
            samples[i].append(monotonicSeconds() - t0)
        }
    }
    return samples
}

/// The 1-minute load average, to record how busy the shared machine was during a measurement.
func loadAverage() -> Double {
    var loads = [Double](repeating: 0, count: 3)
    return getloadavg(&loads, 3) > 0 ? rounded(loads[0], 2) : -1
}
