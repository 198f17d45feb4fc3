// `omni doctor`: what Omni runs on here, and a check that oneDNN actually computes.
import ArgumentParser
import CDNNL
import COmniKernels
import Foundation
import OmniTensor

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Reports the native libraries, CPU features and threads Omni uses, and checks that oneDNN computes correctly.",
        discussion: """
            Runs a tiny float32 matmul through oneDNN (and a tiny int8 one where int8 is accelerated) \
            and compares it with exact results; exits non-zero with a message when that fails. The \
            last line of stdout is a JSON object with every field shown.
            """)

    @OptionGroup var global: GlobalOptions

    struct Report: Encodable {
        let onednn_version: String
        let onednn_library: String
        let onednn_cpu_runtime: String
        let libgomp: String
        let libgomp_found: Bool
        let isa: String
        let cpu_model: String
        let cpu_has_vnni: Bool
        let int8_exact: Bool
        let int8_path: String
        let threads: Int
        let threads_source: String
        let cores: Int
        let swift_compiler: String
        let os: String
        let kernel: String
        let matmul_check: String
        let int8_check: String
    }

    func run() throws {
        let log = try global.makeLogger("omni.doctor")

        let version = dnnl_version()!.pointee
        let onednnVersion = "\(version.major).\(version.minor).\(version.patch)"
        let runtime: String = switch version.cpu_runtime {
        case UInt32(DNNL_RUNTIME_OMP): "OpenMP"
        case UInt32(DNNL_RUNTIME_SEQ): "sequential"
        case UInt32(DNNL_RUNTIME_TBB): "TBB"
        case UInt32(DNNL_RUNTIME_THREADPOOL): "threadpool"
        default: "unknown (\(version.cpu_runtime))"
        }
        let libraries = loadedLibraries()
        let dnnlPath = libraries.first { $0.contains("libdnnl") } ?? "not found"
        let gompPath = libraries.first { $0.contains("libgomp") }

        let isa = String(cString: omni_dnnl_isa_name())
        let flags = cpuInfoField("flags")?.split(separator: " ").map(String.init) ?? []
        let hasVNNI = flags.contains("avx512_vnni") || flags.contains("avx_vnni") || flags.contains("amx_int8")
        let int8Exact = Tensor.int8IsAccelerated

        let env = ProcessInfo.processInfo.environment["OMNI_NUM_THREADS"]
        let threadsSource: String
        if let env, let v = Int(env) {
            threadsSource = v >= 1 ? "OMNI_NUM_THREADS" : "OMNI_NUM_THREADS (\(v) raised to 1)"
        } else if let env {
            log.warning("OMNI_NUM_THREADS='\(env)' is not an integer; using the number of cores")
            threadsSource = "cores (OMNI_NUM_THREADS='\(env)' ignored: not an integer)"
        } else {
            threadsSource = "cores"
        }
        let threads = Threads.count

        // oneDNN must create and run a primitive, and get the right answer. A failure is reported
        // after the rest of the report, which helps diagnose it.
        var failures: [String] = []
        func attempt(_ check: () throws -> String) -> String {
            do { return try check() } catch { failures.append("\(error)"); return "FAILED: \(error)" }
        }
        let matmulCheck = attempt(checkFloatMatmul)
        let int8Check = int8Exact ? attempt(checkInt8Matmul) : "skipped: no VNNI/AMX, Omni uses its exact reference kernel"

        var uts = utsname()
        uname(&uts)
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let report = Report(
            onednn_version: onednnVersion, onednn_library: dnnlPath, onednn_cpu_runtime: runtime,
            libgomp: gompPath ?? "not found", libgomp_found: gompPath != nil,
            isa: isa, cpu_model: cpuInfoField("model name") ?? "unknown", cpu_has_vnni: hasVNNI,
            int8_exact: int8Exact,
            int8_path: int8Exact ? "oneDNN u8×s8 (VNNI)" : "Omni reference kernel (exact, slow)",
            threads: threads, threads_source: threadsSource, cores: ProcessInfo.processInfo.activeProcessorCount,
            swift_compiler: swiftCompilerVersion, os: osName(), kernel: "\(text(uts.sysname)) \(text(uts.release)) \(text(uts.machine))",
            matmul_check: matmulCheck, int8_check: int8Check)

        let rows: [(String, String)] = [
            ("oneDNN", "\(report.onednn_version) (\(report.onednn_library), CPU runtime \(runtime))"),
            ("libgomp", report.libgomp),
            ("CPU", "\(report.cpu_model), \(report.cores) cores"),
            ("oneDNN ISA", isa),
            ("int8", int8Exact ? "exact and accelerated (VNNI)" : (hasVNNI ? "CPU has VNNI but oneDNN does not use it: reference kernel" : "no VNNI: exact reference kernel (slow)")),
            ("threads", "\(threads) (\(threadsSource))"),
            ("Swift", report.swift_compiler),
            ("OS", "\(report.os), \(report.kernel)"),
            ("matmul check", matmulCheck),
            ("int8 check", int8Check),
        ]
        let width = rows.map(\.0.count).max() ?? 0
        for (name, value) in rows { print(name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value) }
        if gompPath == nil || runtime != "OpenMP" {
            log.warning("oneDNN does not share libgomp's pool here; threads may oversubscribe")
        }
        try printJSONLine(report)
        if let first = failures.first { throw CLIError(first) }
    }

    /// A 2×3 · 3×2 float32 matmul through Omni's oneDNN glue, compared with the exact product.
    private func checkFloatMatmul() throws -> String {
        let a: [Float] = [1, 2, 3, 4, 5, 6], b: [Float] = [7, 8, 9, 10, 11, 12]
        let want: [Float] = [58, 64, 139, 154]
        var got = [Float](repeating: .nan, count: 4)
        let sa: [Int64] = [6, 3, 1], sb: [Int64] = [6, 2, 1]
        let rc = omni_matmul(Int32(OMNI_F32), 1, 1, 2, 2, 3, a, sa, b, sb, nil, &got)
        guard rc == 0 else {
            throw CLIError("doctor: oneDNN could not create or run a 2x3 x 3x2 float32 matmul primitive: \(String(cString: omni_dnnl_last_error()))")
        }
        guard got == want else {
            throw CLIError("doctor: oneDNN's 2x3 x 3x2 float32 matmul gave \(got), expected \(want)")
        }
        return "ok (2x3 x 3x2 float32 matmul exact)"
    }

    /// A u8 × s8 matmul with sums large enough to overflow 16-bit intermediates, against the
    /// exact integer reference.
    private func checkInt8Matmul() throws -> String {
        let (M, N, K) = (4, 8, 64)
        let a = (0..<(M * K)).map { UInt8(truncatingIfNeeded: 200 + ($0 * 7) % 56) }
        let b = (0..<(K * N)).map { Int8(truncatingIfNeeded: 100 + ($0 * 5) % 28) }
        var exact = [Int32](repeating: 0, count: M * N)
        omni_gemm_u8s8s32_ref(Int64(M), Int64(N), Int64(K), a, 3, b, &exact)
        var got = [Float](repeating: .nan, count: M * N)
        let sa: [Int64] = [Int64(M * K), Int64(K), 1], sb: [Int64] = [Int64(K * N), Int64(N), 1]
        let scales: [Float] = [1]
        let rc = omni_matmul_u8s8(1, 1, Int64(M), Int64(N), Int64(K), a, sa, 3, 1, b, sb, scales, 1, nil, &got)
        guard rc == 0 else {
            throw CLIError("doctor: oneDNN could not create or run a u8 x s8 matmul primitive: \(String(cString: omni_dnnl_last_error()))")
        }
        for i in 0..<(M * N) where got[i] != Float(exact[i]) {
            throw CLIError("doctor: oneDNN's int8 matmul is not exact here (element \(i): \(got[i]), exact \(exact[i])); int8 would give wrong answers")
        }
        return "ok (4x64 x 64x8 u8 x s8 matmul exact)"
    }
}

/// Paths of the shared objects mapped into this process.
private func loadedLibraries() -> [String] {
    // /proc files report size 0, so read them with stdio rather than Foundation.
    guard let maps = readProcFile("/proc/self/maps") else { return [] }
    var seen: [String] = []
    for line in maps.split(separator: "\n") {
        guard let slash = line.firstIndex(of: "/") else { continue }
        let path = String(line[slash...])
        guard path.contains(".so"), !seen.contains(path) else { continue }
        seen.append(path)
    }
    // Resolve symlinks so the file name carries the version (libgomp.so.1.0.0).
    return seen.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
}

/// The first value of `field` in /proc/cpuinfo.
private func cpuInfoField(_ field: String) -> String? {
    guard let info = readProcFile("/proc/cpuinfo") else { return nil }
    for line in info.split(separator: "\n") {
        let parts = line.split(separator: ":", maxSplits: 1)
        if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == field {
            return parts[1].trimmingCharacters(in: .whitespaces)
        }
    }
    return nil
}

private func readProcFile(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&chunk, 1, chunk.count, file)
        if n <= 0 { break }
        bytes += chunk[..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

private func osName() -> String {
    guard let release = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8) else { return "unknown" }
    for line in release.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
        return line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }
    return "unknown"
}

/// The Swift compiler this binary was built with (there is no run-time query).
private let swiftCompilerVersion: String = {
    #if compiler(>=7.0)
    return "Swift ≥ 7.0"
    #elseif compiler(>=6.4)
    return "Swift 6.4"
    #elseif compiler(>=6.3)
    return "Swift 6.3"
    #elseif compiler(>=6.2)
    return "Swift 6.2"
    #else
    return "Swift 6.1"
    #endif
}()
