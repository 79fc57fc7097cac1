/* RV64I register-register ALU instructions: add sub and or xor sll srl sra slt sltu and the
 * W forms addw subw sllw srlw sraw.  Edge cases: signed overflow wrap, INT_MIN, shift amounts
 * masked to 6 bits (5 for W), shifts by 63/31, W results sign-extended from bit 31, rd == rs1,
 * writes to x0 discarded.  Full 32-bit encodings only (no compression). */
#include "test.h"
    .option norvc
    .text
    .globl test_main
test_main:
    /* add */
    TEST_RR(1, add, 0x0, 0x0, 0x0)
    TEST_RR(2, add, 0x0, 0x1, 0xffffffffffffffff)
    TEST_RR(3, add, 0x8000000000000000, 0x7fffffffffffffff, 0x1)
    TEST_RR(4, add, 0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff)
    TEST_RR(5, add, 0x2222222222222211, 0x123456789abcdef0, 0xfedcba987654321)
    TEST_RR(6, add, 0x100000000, 0xffffffff, 0x1)
    TEST_RR(7, add, 0x80000000, 0x7fffffff, 0x1)
    TEST_RR(8, add, 0xfffffffffffffffe, 0xffffffffffffffff, 0xffffffffffffffff)
    TEST_RR_SRC1_DEST(9, add, 0xfffffffffffffffe, 0xffffffffffffffff, 0xffffffffffffffff)
    /* sub */
    TEST_RR(10, sub, 0x0, 0x0, 0x0)
    TEST_RR(11, sub, 0x2, 0x1, 0xffffffffffffffff)
    TEST_RR(12, sub, 0x7ffffffffffffffe, 0x7fffffffffffffff, 0x1)
    TEST_RR(13, sub, 0x8000000000000001, 0x8000000000000000, 0xffffffffffffffff)
    TEST_RR(14, sub, 0x2468acf13579bcf, 0x123456789abcdef0, 0xfedcba987654321)
    TEST_RR(15, sub, 0xfffffffe, 0xffffffff, 0x1)
    TEST_RR(16, sub, 0x7ffffffe, 0x7fffffff, 0x1)
    TEST_RR(17, sub, 0x0, 0xffffffffffffffff, 0xffffffffffffffff)
    TEST_RR_SRC1_DEST(18, sub, 0x0, 0xffffffffffffffff, 0xffffffffffffffff)
    /* and */
    TEST_RR(19, and, 0x0, 0x0, 0x0)
    TEST_RR(20, and, 0x123456789abcdef0, 0xffffffffffffffff, 0x123456789abcdef0)
    TEST_RR(21, and, 0x224422882244220, 0x123456789abcdef0, 0xfedcba987654321)
    TEST_RR(22, and, 0xf000f000f000f00, 0xff00ff00ff00ff00, 0xff00ff00ff00ff0)
    TEST_RR(23, and, 0x8000000000000000, 0x8000000000000000, 0xffffffffffffffff)
    TEST_RR_SRC1_DEST(24, and, 0x8000000000000000, 0x8000000000000000, 0xffffffffffffffff)
    /* or */
    TEST_RR(25, or, 0x0, 0x0, 0x0)
    TEST_RR(26, or, 0xffffffffffffffff, 0xffffffffffffffff, 0x123456789abcdef0)
    TEST_RR(27, or, 0x1ffddff99ffddff1, 0x123456789abcdef0, 0xfedcba987654321)
    TEST_RR(28, or, 0xfff0fff0fff0fff0, 0xff00ff00ff00ff00, 0xff00ff00ff00ff0)
    TEST_RR(29, or, 0xffffffffffffffff, 0x8000000000000000, 0xffffffffffffffff)
    TEST_RR_SRC1_DEST(30, or, 0xffffffffffffffff, 0x8000000000000000, 0xffffffffffffffff)
    /* xor */
    TEST_RR(31, xor, 0x0, 0x0, 0x0)
    TEST_RR(32, xor, 0xedcba9876543210f, 0xffffffffffffffff, 0x123456789abcdef0)
    TEST_RR(33, xor, 0x1dd99dd11dd99dd1, 0x123456789abcdef0, 0xfedcba987654321)
    TEST_RR(34, xor, 0xf0f0f0f0f0f0f0f0, 0xff00ff00ff00ff00, 0xff00ff00ff00ff0)
    TEST_RR(35, xor, 0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff)
    TEST_RR_SRC1_DEST(36, xor, 0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff)
    /* sll */
    TEST_RR(37, sll, 0x123456789abcdef0, 0x123456789abcdef0, 0x0)
    TEST_RR(38, sll, 0x2468acf13579bde0, 0x123456789abcdef0, 0x1)
    TEST_RR(39, sll, 0x0, 0x123456789abcdef0, 0x3f)
    TEST_RR(40, sll, 0x0, 0x8000000000000000, 0x3f)
    TEST_RR(41, sll, 0xc000000000000000, 0xffffffffffffffff, 0x3e)
    TEST_RR(42, sll, 0x123456789abcdef0, 0x123456789abcdef0, 0x40)
    TEST_RR(43, sll, 0x23456789abcdef00, 0x123456789abcdef0, 0xffffffffffffffc4)
    TEST_RR(44, sll, 0x0, 0x8000000000000000, 0x1f)
    TEST_RR_SRC1_DEST(45, sll, 0x0, 0x8000000000000000, 0x1f)
    /* srl */
    TEST_RR(46, srl, 0x123456789abcdef0, 0x123456789abcdef0, 0x0)
    TEST_RR(47, srl, 0x91a2b3c4d5e6f78, 0x123456789abcdef0, 0x1)
    TEST_RR(48, srl, 0x0, 0x123456789abcdef0, 0x3f)
    TEST_RR(49, srl, 0x1, 0x8000000000000000, 0x3f)
    TEST_RR(50, srl, 0x3, 0xffffffffffffffff, 0x3e)
    TEST_RR(51, srl, 0x123456789abcdef0, 0x123456789abcdef0, 0x40)
    TEST_RR(52, srl, 0x123456789abcdef, 0x123456789abcdef0, 0xffffffffffffffc4)
    TEST_RR(53, srl, 0x100000000, 0x8000000000000000, 0x1f)
    TEST_RR_SRC1_DEST(54, srl, 0x100000000, 0x8000000000000000, 0x1f)
    /* sra */
    TEST_RR(55, sra, 0x123456789abcdef0, 0x123456789abcdef0, 0x0)
    TEST_RR(56, sra, 0x91a2b3c4d5e6f78, 0x123456789abcdef0, 0x1)
    TEST_RR(57, sra, 0x0, 0x123456789abcdef0, 0x3f)
    TEST_RR(58, sra, 0xffffffffffffffff, 0x8000000000000000, 0x3f)
    TEST_RR(59, sra, 0xffffffffffffffff, 0xffffffffffffffff, 0x3e)
    TEST_RR(60, sra, 0x123456789abcdef0, 0x123456789abcdef0, 0x40)
    TEST_RR(61, sra, 0x123456789abcdef, 0x123456789abcdef0, 0xffffffffffffffc4)
    TEST_RR(62, sra, 0xffffffff00000000, 0x8000000000000000, 0x1f)
    TEST_RR_SRC1_DEST(63, sra, 0xffffffff00000000, 0x8000000000000000, 0x1f)
    /* slt */
    TEST_RR(64, slt, 0x0, 0x0, 0x0)
    TEST_RR(65, slt, 0x1, 0xffffffffffffffff, 0x1)
    TEST_RR(66, slt, 0x0, 0x1, 0xffffffffffffffff)
    TEST_RR(67, slt, 0x1, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_RR(68, slt, 0x0, 0x7fffffffffffffff, 0x8000000000000000)
    TEST_RR(69, slt, 0x0, 0x5, 0x5)
    TEST_RR(70, slt, 0x0, 0x0, 0xffffffffffffffff)
    TEST_RR(71, slt, 0x1, 0xffffffffffffffff, 0x0)
    TEST_RR_SRC1_DEST(72, slt, 0x1, 0xffffffffffffffff, 0x0)
    /* sltu */
    TEST_RR(73, sltu, 0x0, 0x0, 0x0)
    TEST_RR(74, sltu, 0x0, 0xffffffffffffffff, 0x1)
    TEST_RR(75, sltu, 0x1, 0x1, 0xffffffffffffffff)
    TEST_RR(76, sltu, 0x0, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_RR(77, sltu, 0x1, 0x7fffffffffffffff, 0x8000000000000000)
    TEST_RR(78, sltu, 0x0, 0x5, 0x5)
    TEST_RR(79, sltu, 0x1, 0x0, 0xffffffffffffffff)
    TEST_RR(80, sltu, 0x0, 0xffffffffffffffff, 0x0)
    TEST_RR_SRC1_DEST(81, sltu, 0x0, 0xffffffffffffffff, 0x0)
    /* addw */
    TEST_RR(82, addw, 0xffffffff80000000, 0x7fffffff, 0x1)
    TEST_RR(83, addw, 0x0, 0xffffffff, 0x1)
    TEST_RR(84, addw, 0x7fffffff, 0x80000000, 0xffffffffffffffff)
    TEST_RR(85, addw, 0x22222211, 0x123456789abcdef0, 0xfedcba987654321)
    TEST_RR(86, addw, 0x5, 0x100000000, 0x5)
    TEST_RR(87, addw, 0xfffffffffffffffe, 0xffffffffffffffff, 0xffffffffffffffff)
    TEST_RR(88, addw, 0x23456789, 0x123456789, 0x0)
    TEST_RR_SRC1_DEST(89, addw, 0x23456789, 0x123456789, 0x0)
    /* subw */
    TEST_RR(90, subw, 0x7ffffffe, 0x7fffffff, 0x1)
    TEST_RR(91, subw, 0xfffffffffffffffe, 0xffffffff, 0x1)
    TEST_RR(92, subw, 0xffffffff80000001, 0x80000000, 0xffffffffffffffff)
    TEST_RR(93, subw, 0x13579bcf, 0x123456789abcdef0, 0xfedcba987654321)
    TEST_RR(94, subw, 0xfffffffffffffffb, 0x100000000, 0x5)
    TEST_RR(95, subw, 0x0, 0xffffffffffffffff, 0xffffffffffffffff)
    TEST_RR(96, subw, 0x23456789, 0x123456789, 0x0)
    TEST_RR_SRC1_DEST(97, subw, 0x23456789, 0x123456789, 0x0)
    /* sllw */
    TEST_RR(98, sllw, 0xffffffff9abcdef0, 0x123456789abcdef0, 0x0)
    TEST_RR(99, sllw, 0x0, 0x80000000, 0x1f)
    TEST_RR(100, sllw, 0xfffffffffffffffe, 0x7fffffff, 0x1)
    TEST_RR(101, sllw, 0xffffffff80000000, 0xffffffffffffffff, 0x1f)
    TEST_RR(102, sllw, 0xffffffff80000000, 0xffffffff00000001, 0x1f)
    TEST_RR(103, sllw, 0xffffffff9abcdef0, 0x123456789abcdef0, 0x20)
    TEST_RR(104, sllw, 0x0, 0x123456789abcdef0, 0x3f)
    TEST_RR(105, sllw, 0x23456780, 0x12345678, 0x4)
    TEST_RR_SRC1_DEST(106, sllw, 0x23456780, 0x12345678, 0x4)
    /* srlw */
    TEST_RR(107, srlw, 0xffffffff9abcdef0, 0x123456789abcdef0, 0x0)
    TEST_RR(108, srlw, 0x1, 0x80000000, 0x1f)
    TEST_RR(109, srlw, 0x3fffffff, 0x7fffffff, 0x1)
    TEST_RR(110, srlw, 0x1, 0xffffffffffffffff, 0x1f)
    TEST_RR(111, srlw, 0x0, 0xffffffff00000001, 0x1f)
    TEST_RR(112, srlw, 0xffffffff9abcdef0, 0x123456789abcdef0, 0x20)
    TEST_RR(113, srlw, 0x1, 0x123456789abcdef0, 0x3f)
    TEST_RR(114, srlw, 0x1234567, 0x12345678, 0x4)
    TEST_RR_SRC1_DEST(115, srlw, 0x1234567, 0x12345678, 0x4)
    /* sraw */
    TEST_RR(116, sraw, 0xffffffff9abcdef0, 0x123456789abcdef0, 0x0)
    TEST_RR(117, sraw, 0xffffffffffffffff, 0x80000000, 0x1f)
    TEST_RR(118, sraw, 0x3fffffff, 0x7fffffff, 0x1)
    TEST_RR(119, sraw, 0xffffffffffffffff, 0xffffffffffffffff, 0x1f)
    TEST_RR(120, sraw, 0x0, 0xffffffff00000001, 0x1f)
    TEST_RR(121, sraw, 0xffffffff9abcdef0, 0x123456789abcdef0, 0x20)
    TEST_RR(122, sraw, 0xffffffffffffffff, 0x123456789abcdef0, 0x3f)
    TEST_RR(123, sraw, 0x1234567, 0x12345678, 0x4)
    TEST_RR_SRC1_DEST(124, sraw, 0x1234567, 0x12345678, 0x4)
    /* x0 as destination stays zero */
    li a1, 5
    li a2, 7
    add x0, a1, a2
    sub x0, a1, a2
    sllw x0, a1, a2
    CHECK_REG(125, x0, 0)
    TEST_PASS
