/// A tensor as a checkpoint's pickle describes it (`_rebuild_tensor_v2(storage, offset, size,
/// stride, …)`), before its bytes are located; offset and strides are in elements.
struct TorchTensorSpec {
    let storage: TorchStorageRef
    /// The tensor's element type (the storage's, unless `_rebuild_tensor_v3` says otherwise).
    let stored: TensorDecoding.Stored
    let offset: Int
    let sizes: [Int]
    let strides: [Int]
}
