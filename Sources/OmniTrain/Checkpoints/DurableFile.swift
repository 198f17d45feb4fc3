// Writes that survive a crash or power loss: data is fsync'ed before it is renamed into place,
// and directories are fsync'ed after entries are created or renamed in them (POSIX makes the
// rename durable only then).
import Foundation
#if canImport(Glibc)
import Glibc
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { Glibc.write(fd, p, n) }
#elseif canImport(Darwin)
import Darwin
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { Darwin.write(fd, p, n) }
#endif

/// File-system helpers for atomic, durable writes.
enum DurableFile {
    /// Writes `bytes` to a new file at `path` (which must not exist) and fsyncs it.
    static func create(_ path: String, bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CheckpointError(file: path, "cannot create: \(errnoDescription())") }
        var closed = false
        defer { if !closed { close(fd) } }
        try writeAll(fd, bytes, path)
        guard fsync(fd) == 0 else { throw CheckpointError(file: path, "fsync failed: \(errnoDescription())") }
        closed = true
        guard close(fd) == 0 else { throw CheckpointError(file: path, "close failed: \(errnoDescription())") }
    }

    /// Replaces `path` atomically: writes a temporary file beside it, fsyncs, renames, fsyncs the directory.
    static func replace(_ path: String, bytes: [UInt8]) throws {
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try create(temporary, bytes: bytes)
            try rename(temporary, to: path)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], _ path: String) throws {
        try bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = systemWrite(fd, buffer.baseAddress! + done, buffer.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw CheckpointError(file: path, "write failed after \(done) bytes: \(errnoDescription())")
                }
                done += n
            }
        }
    }

    /// Renames `source` to `destination` and fsyncs the destination's directory.
    static func rename(_ source: String, to destination: String) throws {
        #if canImport(Glibc)
        let rc = Glibc.rename(source, destination)
        #else
        let rc = Darwin.rename(source, destination)
        #endif
        guard rc == 0 else { throw CheckpointError(file: destination, "cannot rename \(source) into place: \(errnoDescription())") }
        try syncDirectory(parent(of: destination))
    }

    /// Makes the entries of directory `path` durable.
    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw CheckpointError(file: path, "cannot open directory: \(errnoDescription())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw CheckpointError(file: path, "fsync of directory failed: \(errnoDescription())") }
    }

    /// Creates directory `path` (and its parents) if missing.
    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError(file: path, "cannot create directory: \(error.localizedDescription)")
        }
    }

    static func parent(of path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().path
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
