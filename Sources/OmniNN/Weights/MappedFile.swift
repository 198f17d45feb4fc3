#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory; tensors read from it borrow the mapping.
///
/// The mapping lives as long as the last tensor that borrows it. Only reading is supported; a
/// file truncated by another process while mapped makes later reads fault (SIGBUS), which is the
/// usual contract of memory-mapped weights.
final class MappedFile: @unchecked Sendable {
    /// The mapped bytes (empty for an empty file).
    let bytes: UnsafeRawBufferPointer
    let path: String
    private let mapping: UnsafeMutableRawPointer?
    private let length: Int

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw WeightsError(file: path, "cannot open: \(MappedFile.errnoText())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw WeightsError(file: path, "cannot stat: \(MappedFile.errnoText())") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw WeightsError(file: path, "not a regular file") }
        length = Int(info.st_size)
        if length == 0 {
            mapping = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let p = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw WeightsError(file: path, "cannot map \(length) bytes: \(MappedFile.errnoText())")
        }
        mapping = p
        bytes = UnsafeRawBufferPointer(start: p, count: length)
    }

    deinit {
        if let mapping { munmap(mapping, length) }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
