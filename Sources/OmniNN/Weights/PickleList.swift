/// A pickle tuple or list (shared between the stack and the memo).
final class PickleList {
    var items: [PickleValue]
    init(_ items: [PickleValue] = []) { self.items = items }
}
