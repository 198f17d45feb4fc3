/// A storage named by a checkpoint's persistent id: its key (the zip member `data/<key>`, or
/// its place in a legacy file's storage list), element type and element count.
struct TorchStorageRef {
    let key: String
    /// Element type of the storage (`UntypedStorage` counts bytes as uint8).
    let stored: TensorDecoding.Stored
    let count: Int
    /// Legacy storage views: a window of `count` elements starting `offset` elements into the
    /// root storage `key`.
    let viewOffset: Int
    /// For a legacy view, the element count of the root storage it lies in.
    var rootCount: Int? = nil
}
