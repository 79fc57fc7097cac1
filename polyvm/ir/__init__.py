"""The arch-neutral intermediate representation shared by all frontends and backends."""

from polyvm.ir.block import IRBlock, IRBuilder, Op, Stmt, Temp

__all__ = ["IRBlock", "IRBuilder", "Op", "Stmt", "Temp"]
