"""LeafIndex (mem/leaf_index.py): what sfence.vma of one address must find, leaf by leaf."""

from __future__ import annotations

from polyvm.mem.leaf_index import LeafIndex


def test_the_leaves_containing_a_page_are_found_at_every_level_used():
    index: LeafIndex[str] = LeafIndex()
    assert index.containing(0x12345) == [] and index.pop_containing(0x12345) == set()
    index.add(0x12345, 0, "page")
    index.update(0x12345, 1, ["two-meg", "two-meg too"])  # the 2 MiB leaf 0x12345 >> 9
    index.add(0x12345 & ~0x3FFFF, 2, "gig")  # any page of the 1 GiB leaf names it
    index.add(0x99999, 0, "elsewhere")
    assert sorted(index.containing(0x12345)) == ["gig", "page", "two-meg", "two-meg too"]
    assert sorted(index.containing(0x12200)) == ["gig", "two-meg", "two-meg too"], "same 2 MiB leaf"
    index.discard(0x12345, 1, "two-meg too")
    assert index.pop_containing(0x12300) == {"gig", "two-meg"}
    assert index.containing(0x12345) == ["page"], "the superpages' leaves went"
    index.clear()
    assert index.containing(0x12345) == [] and index.containing(0x99999) == []
    index.add(0x12345, 3, "a level first used after a clear")
    assert index.containing(0x12345) == ["a level first used after a clear"]
