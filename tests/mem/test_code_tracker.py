"""The code tracker reports stores into code pages; many stores into one page count as all of it."""

from __future__ import annotations

from polyvm.mem.code_tracker import WHOLE_PAGE_AFTER, CodeTracker


def tracker_with_reports() -> tuple[CodeTracker, list[tuple[int, int]]]:
    tracker = CodeTracker()
    reports: list[tuple[int, int]] = []
    tracker.add_listener(lambda paddr, size: reports.append((paddr, size)))
    return tracker, reports


def test_stores_into_code_pages_are_reported_as_they_are():
    tracker, reports = tracker_with_reports()
    tracker.ref(0x80)
    tracker.written(0x7F000, 8)
    tracker.written(0x80010, 4)
    tracker.written(0x80FFC, 8)
    assert reports == [(0x80010, 4), (0x80FFC, 8)], "a store into data pages alone is not reported"


def test_a_page_stored_into_many_times_is_reported_whole():
    """A page being cleared: once WHOLE_PAGE_AFTER different words were stored to, its translations
    all go, so the rest of the clear takes the fast path (the page is no longer code once the
    engines drop them)."""
    tracker, reports = tracker_with_reports()
    tracker.ref(0x80)
    for n in range(WHOLE_PAGE_AFTER):
        tracker.written(0x80000 + 8 * n, 8)
    assert reports[:-1] == [(0x80000 + 8 * n, 8) for n in range(WHOLE_PAGE_AFTER - 1)]
    assert reports[-1] == (0x80000, 4096)
    tracker.unref(0x80)
    tracker.ref(0x80)
    reports.clear()
    tracker.written(0x80040, 8)
    assert reports == [(0x80040, 8)], "code translated anew counts its stores afresh"


def test_stores_to_the_same_words_are_reported_as_they_are():
    """A variable in a code page that a loop keeps updating does not make the page count as
    written whole (its code would be translated again every few iterations)."""
    tracker, reports = tracker_with_reports()
    tracker.ref(0x80)
    for n in range(10 * WHOLE_PAGE_AFTER):
        tracker.written(0x80800 + 8 * (n % 4), 8)
    assert set(reports) == {(0x80800 + 8 * n, 8) for n in range(4)}
