# posix-tap: a Linux process; Mist's own stack on a TAP device (the stack
# arrives with the network issue; until then the target runs apps without one).
posix-tap_SRCS := $(wildcard platform/posix/*.c)
posix-tap_CFLAGS :=
posix-tap_LDFLAGS :=
