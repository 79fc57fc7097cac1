/* The real-mode part of a bzImage (Documentation/arch/x86/boot.rst): one setup sector after the boot
 * sector, holding only the setup header, followed by the protected-mode payload (payload.bin, built
 * from entry.S and a guest's C file, linked at 1 MiB). No real-mode code: 64-bit loaders only. */
        .section .text
        .globl  _start
_start:
        .org    0x1f1
        .byte   1                               # setup_sects: the payload starts at 0x400
        .word   0                               # root_flags
        .long   (payload_end - payload_start + 15) / 16     # syssize
        .word   0, 0xffff, 0                    # ram_size, vid_mode, root_dev
        .word   0xaa55                          # boot_flag
        .byte   0xeb, header_end - _start - 0x202           # jump over the header
        .ascii  "HdrS"
        .word   0x020f                          # boot protocol 2.15
        .long   0                               # realmode_swtch
        .word   0x1000, 0                       # start_sys_seg, kernel_version
        .byte   0, 0x01                         # type_of_loader, loadflags: LOADED_HIGH
        .word   0x8000                          # setup_move_size
        .long   0x100000                        # code32_start
        .long   0, 0, 0                         # ramdisk_image, ramdisk_size, bootsect_kludge
        .word   0                               # heap_end_ptr
        .byte   0, 0                            # ext_loader_ver, ext_loader_type
        .long   0                               # cmd_line_ptr
        .long   0x7fffffff                      # initrd_addr_max
        .long   0x200000                        # kernel_alignment
        .byte   0, 21                           # relocatable_kernel: no (load at 1 MiB), min_alignment
        .word   0x1                             # xloadflags: XLF_KERNEL_64
        .long   2047                            # cmdline_size
        .long   0                               # hardware_subarch
        .quad   0                               # hardware_subarch_data
        .long   0, 0                            # payload_offset, payload_length
        .quad   0                               # setup_data
        .quad   0x100000                        # pref_address
        .long   0x400000                        # init_size: payload, bss and stacks in 4 MiB
        .long   0, 0                            # handover_offset, kernel_info_offset
header_end:
        .org    0x400
payload_start:
        .incbin "payload.bin"
payload_end:
