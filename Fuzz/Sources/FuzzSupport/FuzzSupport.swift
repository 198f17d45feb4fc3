// Shared by the fuzz targets: each input is written to one scratch file per process, so the
// targets exercise the same file-path entry points users call (open, stat, map, read).
import CFuzzer
import Foundation

public enum FuzzInput {
    nonisolated(unsafe) static var paths: [String: String] = [:]

    /// Writes the input to this process's scratch file with the given extension and returns its path.
    public static func file(_ data: UnsafePointer<UInt8>?, _ size: Int, extension ext: String) -> String {
        let path = paths[ext] ?? {
            let p = NSTemporaryDirectory() + "omni-fuzz-\(getpid()).\(ext)"
            paths[ext] = p
            return p
        }()
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "fuzz: cannot write \(path)")
        var written = 0
        while written < size, let data {
            let n = write(fd, data + written, size - written)
            precondition(n > 0, "fuzz: short write to \(path)")
            written += n
        }
        close(fd)
        return path
    }

    /// Runs libFuzzer with the process's arguments and `body` as the target; returns its status.
    public static func run(_ body: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Never {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        // libFuzzer ends the process with exit(): the scratch files go then (a crash leaves them)
        atexit { for path in FuzzInput.paths.values { unlink(path) } }
        let status = LLVMFuzzerRunDriver(&argc, &argv, body)
        exit(status)
    }
}
