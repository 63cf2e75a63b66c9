/*
 * The interrupt descriptor table and the task state segment. Exceptions
 * (vectors 0-31) run on the exception stack (IST1 of the TSS), so that a
 * stack overflow, which leaves no stack to push a frame on, is still
 * reported; they end in a crash report (crash.c). Device interrupts and the
 * LAPIC timer run on the interrupted stack, which is safe because
 * interrupts are only ever enabled inside the halt of mist_plat_yield().
 */
#include "pvh_internal.h"

#define GDT_CODE64   0x10
#define GDT_TSS      0x20
#define GDT_TSS_SLOT 4

#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate: clears IF */
#define TSS_AVAILABLE  0x89 /* present, 64-bit available TSS */
#define IST_EXCEPTIONS 1

#define VECTOR_EXCEPTIONS 32
#define IDT_VECTORS       256

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

/* The 64-bit TSS (Intel SDM vol. 3A, figure 8-11): only the IST is used. */
struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct descriptor_pointer {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* isr.S */
extern const uint64_t pvh_isr_stubs[VECTOR_EXCEPTIONS + PVH_VECTOR_DEVICE_COUNT];
extern char pvh_isr_timer[], pvh_isr_spurious[];
void pvh_trap(struct pvh_trap_frame *frame);

static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(16)));
static struct tss tss __attribute__((aligned(16)));

static void idt_set(unsigned vector, uintptr_t handler, uint8_t ist)
{
	idt[vector] = (struct idt_gate){
	        .offset_low = (uint16_t)handler,
	        .selector = GDT_CODE64,
	        .ist = ist,
	        .type = GATE_INTERRUPT,
	        .offset_mid = (uint16_t)(handler >> 16),
	        .offset_high = (uint32_t)(handler >> 32),
	};
}

static void tss_load(void)
{
	uint64_t base = (uintptr_t)&tss;
	uint64_t limit = sizeof(tss) - 1;

	tss.ist[IST_EXCEPTIONS - 1] = (uintptr_t)pvh_exception_stack_top;
	tss.iomap_base = sizeof(tss); /* no I/O permission bitmap */
	pvh_gdt[GDT_TSS_SLOT] = (limit & 0xffff) | (base & 0xffffff) << 16 |
	                        (uint64_t)TSS_AVAILABLE << 40 | ((limit >> 16) & 0xf) << 48 |
	                        ((base >> 24) & 0xff) << 56;
	pvh_gdt[GDT_TSS_SLOT + 1] = base >> 32;
	__asm__ volatile("ltr %w0" : : "r"(GDT_TSS) : "memory");
}

void pvh_idt_init(void)
{
	tss_load();
	for (unsigned v = 0; v < VECTOR_EXCEPTIONS; v++)
		idt_set(v, pvh_isr_stubs[v], IST_EXCEPTIONS);
	for (unsigned i = 0; i < PVH_VECTOR_DEVICE_COUNT; i++)
		idt_set(PVH_VECTOR_DEVICE_FIRST + i, pvh_isr_stubs[VECTOR_EXCEPTIONS + i], 0);
	idt_set(PVH_VECTOR_TIMER, (uintptr_t)pvh_isr_timer, 0);
	idt_set(PVH_VECTOR_SPURIOUS, (uintptr_t)pvh_isr_spurious, 0);

	struct descriptor_pointer p = {.limit = sizeof(idt) - 1, .base = (uintptr_t)idt};
	__asm__ volatile("lidt %0" : : "m"(p) : "memory");
}

/* Called by isr.S for every vector that has a stub. */
void pvh_trap(struct pvh_trap_frame *frame)
{
	if (frame->vector < VECTOR_EXCEPTIONS)
		pvh_crash_exception(frame);
	if (frame->vector == PVH_VECTOR_TIMER)
		pvh_lapic_eoi(); /* the wake-up was the point: yield rereads the clock */
	else
		pvh_irq_dispatch((unsigned)frame->vector);
}
