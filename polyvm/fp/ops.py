"""The public semantic functions, one per operation and format, on raw bit patterns.

Names follow f32_/f64_ + operation; binary32 operands are already unboxed 32-bit patterns.
Rounding operations take rm in 0..4 (resolve DYN before calling). Every function returns
(result, fflags).
"""

from __future__ import annotations

from functools import partial

from polyvm.fp.arith import add, div, fma, mul, sqrt, sub
from polyvm.fp.compare import fclass, feq, fle, flt, fmax, fmin, fsgnj, fsgnjn, fsgnjx
from polyvm.fp.convert import convert, from_int, to_int
from polyvm.fp.fastpath import accelerate, fast32, fast64
from polyvm.fp.formats import F32, F64

f32_add = accelerate(partial(add, F32), fast32("add"))
f32_sub = accelerate(partial(sub, F32), fast32("sub"))
f32_mul = accelerate(partial(mul, F32), fast32("mul"))
f32_div = accelerate(partial(div, F32), fast32("div"))
f32_sqrt = accelerate(partial(sqrt, F32), fast32("sqrt"), unary=True)
f32_madd = partial(fma, F32, 0, 0)
f32_msub = partial(fma, F32, 0, 1)
f32_nmsub = partial(fma, F32, 1, 0)
f32_nmadd = partial(fma, F32, 1, 1)
f32_min = partial(fmin, F32)
f32_max = partial(fmax, F32)
f32_eq = partial(feq, F32)
f32_lt = partial(flt, F32)
f32_le = partial(fle, F32)
f32_class = partial(fclass, F32)
f32_sgnj = partial(fsgnj, F32)
f32_sgnjn = partial(fsgnjn, F32)
f32_sgnjx = partial(fsgnjx, F32)
f32_to_i32 = partial(to_int, F32, 32, 1)
f32_to_u32 = partial(to_int, F32, 32, 0)
f32_to_i64 = partial(to_int, F32, 64, 1)
f32_to_u64 = partial(to_int, F32, 64, 0)
i32_to_f32 = partial(from_int, F32, 32, 1)
u32_to_f32 = partial(from_int, F32, 32, 0)
i64_to_f32 = partial(from_int, F32, 64, 1)
u64_to_f32 = partial(from_int, F32, 64, 0)
f32_to_f64 = partial(convert, F32, F64)

f64_add = accelerate(partial(add, F64), fast64("add"))
f64_sub = accelerate(partial(sub, F64), fast64("sub"))
f64_mul = accelerate(partial(mul, F64), fast64("mul"))
f64_div = accelerate(partial(div, F64), fast64("div"))
f64_sqrt = accelerate(partial(sqrt, F64), fast64("sqrt"), unary=True)
f64_madd = partial(fma, F64, 0, 0)
f64_msub = partial(fma, F64, 0, 1)
f64_nmsub = partial(fma, F64, 1, 0)
f64_nmadd = partial(fma, F64, 1, 1)
f64_min = partial(fmin, F64)
f64_max = partial(fmax, F64)
f64_eq = partial(feq, F64)
f64_lt = partial(flt, F64)
f64_le = partial(fle, F64)
f64_class = partial(fclass, F64)
f64_sgnj = partial(fsgnj, F64)
f64_sgnjn = partial(fsgnjn, F64)
f64_sgnjx = partial(fsgnjx, F64)
f64_to_i32 = partial(to_int, F64, 32, 1)
f64_to_u32 = partial(to_int, F64, 32, 0)
f64_to_i64 = partial(to_int, F64, 64, 1)
f64_to_u64 = partial(to_int, F64, 64, 0)
i32_to_f64 = partial(from_int, F64, 32, 1)
u32_to_f64 = partial(from_int, F64, 32, 0)
i64_to_f64 = partial(from_int, F64, 64, 1)
u64_to_f64 = partial(from_int, F64, 64, 0)
f64_to_f32 = partial(convert, F64, F32)
