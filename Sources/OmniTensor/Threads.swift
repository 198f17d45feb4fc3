import COmniKernels
import Foundation

/// The one thread pool shared by Omni's kernels and oneDNN.
///
/// Its size defaults to the number of cores, or `OMNI_NUM_THREADS` when set. Omni's kernels
/// split work into a number of chunks fixed by this count (never by timing), so for a fixed seed
/// and thread count every result is bit-for-bit reproducible.
public enum Threads {
    private static let initialized: Int = {
        let env = ProcessInfo.processInfo.environment["OMNI_NUM_THREADS"].flatMap { Int($0) }
        let n = env.map { Swift.max($0, 1) } ?? ProcessInfo.processInfo.activeProcessorCount
        omni_set_num_threads(Int32(n))
        return n
    }()

    /// Makes sure the pool is configured (called by every entry point that computes).
    @inline(__always) static func ensure() { _ = initialized }

    /// The number of threads Omni and oneDNN use.
    public static var count: Int {
        get { ensure(); return Int(omni_get_num_threads()) }
        set { ensure(); omni_set_num_threads(Int32(Swift.max(newValue, 1))) }
    }
}
