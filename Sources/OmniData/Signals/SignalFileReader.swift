import Foundation

/// Reads a whole text-based signal file (CSV, `.ts`) after checking that it exists, is a regular
/// file, is not empty and is within `maxBytes`, so a huge file is refused before it is read.
enum SignalFileReader {
    static func read(_ path: String, maxBytes: Int) throws(SignalError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SignalError(file: path, "no such file")
        }
        guard !isDirectory.boolValue else { throw SignalError(file: path, "is a directory") }
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        guard size <= maxBytes else {
            throw SignalError(file: path, "\(size) bytes exceeds the \(maxBytes)-byte limit")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw SignalError(file: path, "cannot be opened for reading") }
        defer { try? handle.close() }
        // Read at most one byte past the limit: a file that grew after the size check is still refused.
        let data: Data
        do { data = try handle.read(upToCount: maxBytes + 1) ?? Data() } catch {
            throw SignalError(file: path, "read failed (\(error.localizedDescription))")
        }
        guard data.count <= maxBytes else { throw SignalError(file: path, "exceeds the \(maxBytes)-byte limit") }
        guard !data.isEmpty else { throw SignalError(file: path, "empty file") }
        return [UInt8](data)
    }
}
