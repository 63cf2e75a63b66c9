/*
 * Device interrupts on the pvh platform. Interrupts are enabled only while
 * the loop halts in mist_plat_yield(), so a handler never interrupts Mist
 * code: it runs between two loop turns, on the stack of whatever called
 * yield, with interrupts disabled. A handler should only note that the
 * device has work (and acknowledge it at the device, for a level-triggered
 * line); the loop polls the device after yield returns.
 */
#ifndef MIST_PLATFORM_PVH_IRQ_H
#define MIST_PLATFORM_PVH_IRQ_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Routes IOAPIC input `gsi` (edge or level as given, active high) to a
 * vector whose handler calls fn(arg) with interrupts disabled, then sends
 * the EOI. Returns 0, MIST_ENOMEM when no vector is left, or MIST_EINVAL
 * for a `gsi` the IOAPIC does not have, one already attached, or a NULL fn.
 */
int pvh_irq_attach_gsi(unsigned gsi, bool level, void (*fn)(void *arg), void *arg);

/*
 * Allocates a vector for an MSI/MSI-X message: fills *addr and *data to program
 * into the device (edge-triggered, fixed delivery to this CPU). Returns 0,
 * MIST_ENOMEM when no vector is left, or MIST_EINVAL for a NULL fn.
 */
int pvh_irq_attach_msi(void (*fn)(void *arg), void *arg, uint64_t *addr, uint32_t *data);

#endif
