#if canImport(Glibc)
import Glibc
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { Glibc.write(fd, p, n) }
#elseif canImport(Darwin)
import Darwin
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { Darwin.write(fd, p, n) }
#endif

/// Writes a file atomically: bytes go to a temporary file beside the target, which is flushed
/// to disk (`fsync`) and then renamed over the target, so a crash at any moment leaves either
/// the old file or the complete new one. An uncommitted writer removes its temporary file.
final class AtomicFileWriter {
    let path: String
    private let tempPath: String
    private var fd: Int32
    private var committed = false
    /// Bytes written so far.
    private(set) var offset = 0

    init(path: String) throws {
        self.path = path
        var template = Array((path + ".tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw WeightsError(file: path, "cannot create a temporary file beside it: \(MappedFile.errnoText())")
        }
        self.fd = fd
        tempPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        // mkstemp creates 0600; a weights file should be readable like any other file. (Reading
        // the umask would mean changing it, which races with other threads, so use 0644.)
        fchmod(fd, 0o644)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = systemWrite(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw WeightsError(file: path, "write failed after \(offset + done) bytes: \(MappedFile.errnoText())")
            }
            done += n
        }
        offset += bytes.count
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    func write(_ text: String) throws { try write(Array(text.utf8)) }

    /// Flushes, closes and renames the temporary file over the target.
    func commit() throws {
        guard fsync(fd) == 0 else { throw WeightsError(file: path, "fsync failed: \(MappedFile.errnoText())") }
        let rc = close(fd)
        fd = -1
        guard rc == 0 else { throw WeightsError(file: path, "close failed: \(MappedFile.errnoText())") }
        guard rename(tempPath, path) == 0 else {
            throw WeightsError(file: path, "cannot rename the temporary file into place: \(MappedFile.errnoText())")
        }
        committed = true
        // Make the rename itself durable.
        let dir = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let dfd = open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
        if !committed { unlink(tempPath) }
    }
}
