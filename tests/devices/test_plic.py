"""PLIC register semantics: priorities, enables, thresholds, level gateways, claim and complete."""

from __future__ import annotations

from device_helpers import Hart

from polyvm.device.plic import (
    CONTEXT_BASE,
    CONTEXT_STRIDE,
    ENABLE_BASE,
    ENABLE_STRIDE,
    MIP_MEIP,
    MIP_SEIP,
    PENDING_BASE,
    Plic,
)


def claim_reg(ctx: int) -> int:
    return CONTEXT_BASE + CONTEXT_STRIDE * ctx + 4


def setup(harts: int = 1) -> tuple[Plic, list[Hart]]:
    targets = [Hart() for _ in range(harts)]
    return Plic(targets), targets


def enable(plic: Plic, ctx: int, *sources: int) -> None:
    for source in sources:
        offset = ENABLE_BASE + ENABLE_STRIDE * ctx + 4 * (source // 32)
        plic.write(offset, plic.read(offset, 4) | 1 << (source % 32), 4)


def test_priority_register_is_masked_to_three_bits_and_source_zero_is_hardwired() -> None:
    plic, _ = setup()
    plic.write(4 * 10, 0xFF, 4)
    plic.write(0, 5, 4)
    assert plic.read(4 * 10, 4) == 7
    assert plic.read(0, 4) == 0


def test_pending_follows_the_line_until_claimed() -> None:
    plic, harts = setup()
    plic.set_irq(10, True)
    assert plic.read(PENDING_BASE, 4) == 1 << 10
    plic.set_irq(10, False)
    assert plic.read(PENDING_BASE, 4) == 0
    plic.set_irq(40, True)
    assert plic.read(PENDING_BASE + 4, 4) == 1 << 8
    assert harts[0].mip == 0


def test_claim_complete_cycle_drives_meip() -> None:
    plic, harts = setup()
    plic.write(4 * 10, 1, 4)
    enable(plic, 0, 10)
    plic.set_irq(10, True)
    assert harts[0].pending(MIP_MEIP) and not harts[0].pending(MIP_SEIP)
    assert plic.read(claim_reg(0), 4) == 10
    assert not harts[0].pending(MIP_MEIP)
    assert plic.read(PENDING_BASE, 4) == 0
    assert plic.read(claim_reg(0), 4) == 0
    plic.write(claim_reg(0), 10, 4)
    assert harts[0].pending(MIP_MEIP), "a line still high is pending again after complete"
    plic.set_irq(10, False)
    assert not harts[0].pending(MIP_MEIP)


def test_line_dropping_and_rising_while_claimed_waits_for_complete() -> None:
    plic, harts = setup()
    plic.write(4 * 3, 2, 4)
    enable(plic, 1, 3)
    plic.set_irq(3, True)
    assert harts[0].pending(MIP_SEIP)
    assert plic.read(claim_reg(1), 4) == 3
    plic.set_irq(3, False)
    plic.set_irq(3, True)
    assert not harts[0].pending(MIP_SEIP)
    plic.write(claim_reg(1), 3, 4)
    assert harts[0].pending(MIP_SEIP)


def test_highest_priority_wins_and_ties_go_to_the_lowest_id() -> None:
    plic, _ = setup()
    for source, priority in ((5, 2), (6, 3), (7, 3)):
        plic.write(4 * source, priority, 4)
        plic.set_irq(source, True)
    enable(plic, 0, 5, 6, 7)
    assert [plic.read(claim_reg(0), 4) for _ in range(4)] == [6, 7, 5, 0]


def test_threshold_and_zero_priority_mask_sources() -> None:
    plic, harts = setup()
    enable(plic, 0, 1, 2)
    plic.write(4 * 1, 3, 4)
    plic.set_irq(1, True)
    plic.set_irq(2, True)
    plic.write(CONTEXT_BASE, 3, 4)
    assert plic.read(CONTEXT_BASE, 4) == 3
    assert not harts[0].pending(MIP_MEIP)
    assert plic.read(claim_reg(0), 4) == 0
    plic.write(CONTEXT_BASE, 2, 4)
    assert harts[0].pending(MIP_MEIP)
    assert plic.read(claim_reg(0), 4) == 1


def test_contexts_map_to_harts_m_then_s() -> None:
    plic, harts = setup(harts=2)
    plic.write(4 * 9, 1, 4)
    plic.set_irq(9, True)
    enable(plic, 3, 9)
    assert harts[1].pending(MIP_SEIP)
    assert harts[0].mip == 0 and not harts[1].pending(MIP_MEIP)
    enable(plic, 2, 9)
    assert harts[1].pending(MIP_MEIP)
    assert plic.read(claim_reg(2), 4) == 9
    assert harts[1].mip == 0, "a claim by one context takes the source from all of them"


def test_enable_bit_zero_is_hardwired_and_pending_is_read_only() -> None:
    plic, _ = setup()
    plic.write(ENABLE_BASE, 0xFFFFFFFF, 4)
    assert plic.read(ENABLE_BASE, 4) == 0xFFFFFFFE
    plic.write(PENDING_BASE, 0xFFFFFFFF, 4)
    assert plic.read(PENDING_BASE, 4) == 0
