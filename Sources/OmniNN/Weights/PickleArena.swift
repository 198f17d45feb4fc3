/// Owns every container an ``Unpickler`` creates and empties them all, iteratively, when it
/// goes away, so tearing down arbitrarily deep or cyclic structures never recurses.
final class PickleArena {
    private var lists: [PickleList] = []
    private var dicts: [PickleDict] = []

    func list(_ items: [PickleValue] = []) -> PickleList {
        let l = PickleList(items)
        lists.append(l)
        return l
    }

    func dict() -> PickleDict {
        let d = PickleDict()
        dicts.append(d)
        return d
    }

    deinit {
        for l in lists { l.items.removeAll() }
        for d in dicts { d.removeAll() }
    }
}
