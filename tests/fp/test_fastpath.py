"""The host-float fast path agrees bit for bit (result and fflags) with the soft-float it bypasses,
on random normal operands and on operands near its limits (tiny and huge results, exact results)."""

import random
from functools import partial

import pytest

from polyvm.fp import arith
from polyvm.fp.fastpath import fast32, fast64
from polyvm.fp.formats import F32, F64

OPS = ["add", "sub", "mul", "div", "sqrt"]


def operands(rng: random.Random, exp_bits: int, frac_bits: int) -> int:
    bias = (1 << (exp_bits - 1)) - 1
    kind = rng.random()
    if kind < 0.2:
        exponent = rng.choice([1, 2, 3, (1 << exp_bits) - 2, (1 << exp_bits) - 3, bias, bias + 1])
    else:
        exponent = rng.randrange(1, (1 << exp_bits) - 1)
    if kind > 0.8:
        fraction = rng.choice([0, 1, (1 << frac_bits) - 1, 1 << (frac_bits - 1), rng.randrange(16)])
    else:
        fraction = rng.getrandbits(frac_bits)
    return (rng.getrandbits(1) << (exp_bits + frac_bits)) | (exponent << frac_bits) | fraction


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("fmt, fast, exp_bits, frac_bits", [(F64, fast64, 11, 52), (F32, fast32, 8, 23)],
                         ids=["f64", "f32"])
def test_fast_path_matches_soft_float(op, fmt, fast, exp_bits, frac_bits):
    rng = random.Random(f"{op}-{exp_bits}")
    run = fast(op)
    slow = getattr(arith, op)
    taken = 0
    for _ in range(20000):
        a, b = operands(rng, exp_bits, frac_bits), operands(rng, exp_bits, frac_bits)
        if rng.random() < 0.1:
            b = a ^ (1 << (exp_bits + frac_bits))
        got = run(a, b)
        if got is None:
            continue
        taken += 1
        expected = partial(slow, fmt)(a, 0) if op == "sqrt" else partial(slow, fmt)(a, b, 0)
        assert got == expected, (op, hex(a), hex(b))
    assert taken > 5000
