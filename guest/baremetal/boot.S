/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * boot.S - the Multiboot (version 1) entry of the bare-metal test kernel.
 *
 * QEMU's -kernel loads a 32-bit ELF with a Multiboot header in its first
 * 8 KiB, enters it in 32-bit protected mode with paging off, EAX holding
 * the boot loader magic and EBX the physical address of the Multiboot
 * information (the command line among it).  Interrupts are off and stay
 * off: the kernel polls, as a kernel inside KdSendPacket does.  We load
 * our own flat GDT (the loader's may live anywhere), set up a stack and
 * call bm_main(magic, info), which does not return.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* page-aligned modules, memory information */

    .section .multiboot, "a"
    .balign 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .section .text
    .globl _start
    .type _start, @function
_start:
    cli
    cld
    lgdt gdt_desc
    ljmp $0x08, $1f
1:  movw $0x10, %cx
    movw %cx, %ds
    movw %cx, %es
    movw %cx, %fs
    movw %cx, %gs
    movw %cx, %ss
    movl $stack_top, %esp
    xorl %ebp, %ebp
    pushl %ebx          /* Multiboot information */
    pushl %eax          /* boot loader magic */
    call bm_main
2:  cli
    hlt
    jmp 2b
    .size _start, . - _start

    .section .rodata
    .balign 8
gdt:
    .quad 0                     /* null */
    .quad 0x00CF9A000000FFFF    /* 0x08: code, base 0, 4 GiB, 32-bit */
    .quad 0x00CF92000000FFFF    /* 0x10: data, base 0, 4 GiB */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

    .section .bss
    .balign 16
stack_bottom:
    .skip 65536
stack_top:

    .section .note.GNU-stack, "", @progbits
