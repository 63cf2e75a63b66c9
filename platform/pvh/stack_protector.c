/*
 * The stack protector's two symbols. -fstack-protector puts a canary, a
 * copy of __stack_chk_guard, between a function's locals and its return
 * address, and calls __stack_chk_fail() when the canary has changed at
 * return (the guard is global: -mstack-protector-guard=global, see
 * mk/target-pvh.mk). The guard is random, drawn at boot.
 *
 * The compiler only refers to these symbols when it generates code, after
 * link-time optimisation has decided what is used, so this file is compiled
 * without LTO (mk/target-pvh.mk): otherwise they would be dropped as unused.
 */
#include <stdint.h>

#include "pvh_internal.h"

uintptr_t __stack_chk_guard;

_Noreturn void __stack_chk_fail(void);

void __stack_chk_fail(void)
{
	pvh_crash_stack_smashed();
}

/*
 * The guard must not change under a guarded function's frame, so this one
 * is not guarded and runs first, from pvh_main(), which is not guarded
 * either.
 */
__attribute__((no_stack_protector)) void pvh_stack_guard_init(void)
{
	uintptr_t guard = (uintptr_t)pvh_random64();
	/* A zero low byte stops string overflows short of the rest of the canary. */
	__stack_chk_guard = guard & ~(uintptr_t)0xff;
}
