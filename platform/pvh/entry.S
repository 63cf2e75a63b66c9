/*
 * The PVH entry point. A PVH loader (QEMU -kernel, Firecracker,
 * cloud-hypervisor, Xen) reads the XEN_ELFNOTE_PHYS32_ENTRY note below and
 * jumps to pvh_start32 in 32-bit protected mode with paging off, flat
 * segments, interrupts off, and %ebx holding the physical address of the
 * hvm_start_info structure (Xen's docs/misc/pvh.pandoc).
 *
 * This file does only what C cannot: load our GDT, clear the BSS, build
 * provisional page tables that identity-map the first 4 GiB with 2 MiB
 * pages, enable PAE, NX and SSE, enter long mode, and call pvh_main() on the
 * boot stack. pvh_main() replaces the provisional tables with the final W^X
 * ones (paging.c). The GDT is here too, with a slot for the TSS that idt.c
 * fills in, and the boot and exception stacks, each above a guard page.
 */

#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define GDT_CODE32 0x08
#define GDT_CODE64 0x10
#define GDT_DATA   0x18

#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_NE (1 << 5)
#define CR0_WP (1 << 16) /* write protection applies to the kernel too: W^X */
#define CR0_PG (1 << 31)

#define CR4_PAE        (1 << 5)
#define CR4_OSFXSR     (1 << 9)  /* FXSAVE/FXRSTOR and SSE instructions */
#define CR4_OSXMMEXCPT (1 << 10) /* unmasked SSE exceptions raise #XM */

#define MSR_EFER  0xc0000080
#define EFER_LME  (1 << 8)
#define EFER_NXE  (1 << 11)

#define CPUID_EXT_FEATURES 0x80000001
#define CPUID_EXT_NX       (1 << 20)
#define CPUID_EXT_LM       (1 << 29)

#define PTE_PRESENT 0x1
#define PTE_WRITE   0x2
#define PTE_LARGE   0x80

#define PAGE_SIZE     4096
#define EARLY_PD_COUNT 4 /* page directories: 4 x 1 GiB */

#define BOOT_STACK_SIZE      (64 * 1024)
#define EXCEPTION_STACK_SIZE (16 * 1024)

#define MXCSR_DEFAULT 0x1f80 /* every SSE exception masked, round to nearest */

	.section .note.Xen, "a", @note
	/*
	 * QEMU pads the name to the PT_NOTE segment's alignment and reads the
	 * descriptor as a 64-bit value, as Linux's vmlinux has it: keep both.
	 */
	.balign 4
	.long	4				/* namesz: "Xen\0" */
	.long	8				/* descsz */
	.long	XEN_ELFNOTE_PHYS32_ENTRY
	.asciz	"Xen"
	.balign 4
	.quad	pvh_start32
	.balign 4

	.section .text.boot32, "ax", @progbits
	.code32
	.globl	pvh_start32
	.type	pvh_start32, @function
pvh_start32:
	cli
	cld
	/* The first instant we control: boot.c reports the time from here. */
	rdtsc
	movl	%eax, pvh_entry_tsc
	movl	%edx, pvh_entry_tsc + 4
	movl	%ebx, %esi			/* hvm_start_info, kept until pvh_main() */

	/* The loader's GDT may be anywhere: switch to ours before anything else. */
	lgdt	pvh_gdt_pointer
	ljmp	$GDT_CODE32, $1f
1:	movl	$GDT_DATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs
	movl	$pvh_boot_stack_top, %esp

	movl	$__bss_start, %edi
	movl	$__bss_end, %ecx
	subl	%edi, %ecx
	xorl	%eax, %eax
	rep stosb

	/* Long mode is required; NX is used when the CPU has it. */
	movl	$CPUID_EXT_FEATURES, %eax
	cpuid
	testl	$CPUID_EXT_LM, %edx
	jz	.Lno_long_mode
	movl	%edx, %ebp			/* the NX bit, for EFER below */

	/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages. */
	movl	$early_pdpt + (PTE_PRESENT | PTE_WRITE), early_pml4
	movl	$early_pd + (PTE_PRESENT | PTE_WRITE), %eax
	xorl	%ecx, %ecx
2:	movl	%eax, early_pdpt(, %ecx, 8)
	addl	$PAGE_SIZE, %eax
	incl	%ecx
	cmpl	$EARLY_PD_COUNT, %ecx
	jne	2b
	movl	$(PTE_PRESENT | PTE_WRITE | PTE_LARGE), %eax
	xorl	%ecx, %ecx
3:	movl	%eax, early_pd(, %ecx, 8)
	addl	$0x200000, %eax
	incl	%ecx
	cmpl	$(EARLY_PD_COUNT * 512), %ecx
	jne	3b

	movl	%cr4, %eax
	orl	$(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	movl	%eax, %cr4
	movl	$early_pml4, %eax
	movl	%eax, %cr3

	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	testl	$CPUID_EXT_NX, %ebp
	jz	4f
	orl	$EFER_NXE, %eax
4:	wrmsr

	movl	%cr0, %eax
	andl	$~CR0_EM, %eax
	orl	$(CR0_PE | CR0_MP | CR0_NE | CR0_WP | CR0_PG), %eax
	movl	%eax, %cr0
	ljmp	$GDT_CODE64, $pvh_start64

	/* Nothing can be reported yet: stop here, visible in a debugger. */
.Lno_long_mode:
	hlt
	jmp	.Lno_long_mode
	.size	pvh_start32, . - pvh_start32

	.code64
	.type	pvh_start64, @function
pvh_start64:
	movl	$GDT_DATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	xorl	%eax, %eax
	movl	%eax, %fs
	movl	%eax, %gs
	movq	$pvh_boot_stack_top, %rsp
	fninit
	pushq	$MXCSR_DEFAULT
	ldmxcsr	(%rsp)
	popq	%rax
	movl	%esi, %edi			/* pvh_main(start_info) */
	xorl	%ebp, %ebp			/* ends the frame-pointer chain */
	call	pvh_main
	ud2
	.size	pvh_start64, . - pvh_start64

	.data
	.globl	pvh_entry_tsc
	.balign	8
pvh_entry_tsc:
	.quad	0

	/* The GDT; idt.c writes the TSS descriptor into the last two slots. */
	.globl	pvh_gdt
	.balign	16
pvh_gdt:
	.quad	0
	.quad	0x00cf9a000000ffff		/* GDT_CODE32: flat 32-bit code */
	.quad	0x00af9a000000ffff		/* GDT_CODE64: 64-bit code */
	.quad	0x00cf92000000ffff		/* GDT_DATA: flat data */
	.quad	0, 0				/* GDT_TSS: 16-byte TSS descriptor */
pvh_gdt_end:

	/* Read as limit:base32 by the 32-bit lgdt, and as limit:base64 later. */
	.globl	pvh_gdt_pointer
	.balign	8
pvh_gdt_pointer:
	.word	pvh_gdt_end - pvh_gdt - 1
	.quad	pvh_gdt

	.section .bss.boot, "aw", @nobits
	.balign	PAGE_SIZE
early_pml4:
	.skip	PAGE_SIZE
early_pdpt:
	.skip	PAGE_SIZE
early_pd:
	.skip	EARLY_PD_COUNT * PAGE_SIZE

	/* The boot stack, with the guard page that paging.c leaves unmapped under it. */
	.globl	pvh_boot_stack_guard
pvh_boot_stack_guard:
	.skip	PAGE_SIZE
	.skip	BOOT_STACK_SIZE
pvh_boot_stack_top:

	/*
	 * The stack exceptions run on (the TSS's IST1, see idt.c), so that a
	 * fault caused by an exhausted stack can still be reported. Guarded too.
	 */
	.globl	pvh_exception_stack_guard, pvh_exception_stack_top
pvh_exception_stack_guard:
	.skip	PAGE_SIZE
	.skip	EXCEPTION_STACK_SIZE
pvh_exception_stack_top:

	.section .note.GNU-stack, "", @progbits
