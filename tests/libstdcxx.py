"""Scalar transcriptions of the C++ library's (libstdc++) sorting steps, shared by the tests
that check minigrad's vectorized reproductions of PyTorch's CPU sort and selection kernels
against them (tests/test_sort_ties.py, tests/test_select_ties.py)."""


def sift(a, less, first, hole, length, item):
    """``__adjust_heap``: sift the hole down along larger children, then push ``item`` up
    from there (``a`` holds the items, compared by ``less``)."""
    top = child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if less(a[first + child], a[first + child - 1]):
            child -= 1
        a[first + hole], hole = a[first + child], child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        a[first + hole], hole = a[first + child - 1], child - 1
    parent = (hole - 1) // 2
    while hole > top and less(a[first + parent], item):
        a[first + hole], hole = a[first + parent], parent
        parent = (hole - 1) // 2
    a[first + hole] = item


def adversary(n: int, sort) -> list:
    """McIlroy's adversary against ``sort(n, less)`` (a sort of the indices 0..n-1 comparing
    through ``less``): values, decided as the sort compares them, that drive a median-of-three
    quicksort to its depth limit; halved, so that they also hold ties."""
    values, state = [n] * n, {"solid": 0, "candidate": 0}

    def less(x, y):
        if values[x] == n and values[y] == n:
            frozen = x if x == state["candidate"] else y
            values[frozen], state["solid"] = state["solid"], state["solid"] + 1
        if values[x] == n:
            state["candidate"] = x
        elif values[y] == n:
            state["candidate"] = y
        return values[x] < values[y]

    sort(n, less)
    return [v // 2 for v in values]
