/*
 * Manual AddressSanitizer annotations for memory the core manages itself
 * (the heap's blocks carved from pages, pool storage). Under ASan, memory not
 * handed out is poisoned so that a stray access is reported where it
 * happens; in other builds the macros are empty.
 */
#ifndef MIST_CORE_ASAN_H
#define MIST_CORE_ASAN_H

#if defined(__SANITIZE_ADDRESS__)
#define MIST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MIST_ASAN 1
#endif
#endif

#ifdef MIST_ASAN
#include <sanitizer/asan_interface.h>
#define mist_asan_poison(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define mist_asan_unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define mist_asan_poison(p, n)   ((void)(p), (void)(n))
#define mist_asan_unpoison(p, n) ((void)(p), (void)(n))
#endif

#endif
