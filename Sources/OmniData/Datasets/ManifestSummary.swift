import Foundation

/// What a manifest holds, for `omni inspect`: sample, modality and task counts, missing files
/// and problems.
///
/// ```swift
/// let summary = try Manifest.load(contentsOf: url).summary(checkFiles: true)
/// print(summary.samples, summary.modalityCounts[.image] ?? 0, summary.missingFiles)
/// ```
public struct ManifestSummary: Sendable, Equatable {
    /// Usable samples.
    public var samples: Int
    /// Samples that carry each modality (a captioned image counts for text and image).
    public var modalityCounts: [Modality: Int]
    /// Samples per primary modality (``ManifestSample/primaryModality``), the sampler's groups.
    public var primaryCounts: [Modality: Int]
    /// Samples per task; samples without a task are in ``untasked``.
    public var taskCounts: [String: Int]
    public var untasked: Int
    /// Paths that name no file (0 unless files were checked).
    public var missingFiles: Int
    /// Lines left out for errors, and warnings, from parsing.
    public var badLines: Int
    public var warnings: Int
}

extension Manifest {
    /// Counts over ``samples``; with `checkFiles`, also the paths that name no existing file.
    public func summary(checkFiles: Bool) -> ManifestSummary {
        var modalities: [Modality: Int] = [:], tasks: [String: Int] = [:], untasked = 0
        for sample in samples {
            for m in sample.modalities { modalities[m, default: 0] += 1 }
            if let task = sample.task { tasks[task, default: 0] += 1 } else { untasked += 1 }
        }
        let missing = checkFiles ? validate(checkFiles: true).filter { $0.kind == .missingFile }.count : 0
        return ManifestSummary(samples: samples.count, modalityCounts: modalities, primaryCounts: primaryModalityCounts,
                               taskCounts: tasks, untasked: untasked, missingFiles: missing,
                               badLines: Set(issues.filter { $0.severity == .error }.map(\.line)).count,
                               warnings: issues.filter { $0.severity == .warning }.count)
    }
}
