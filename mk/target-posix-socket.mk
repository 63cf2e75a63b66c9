# posix-socket: a Linux process on the host kernel's TCP and UDP sockets.
# The posix platform without its network device (TAP, pcap), and in place of
# Mist's own stack the socket stack, which is hosted code (<sys/socket.h>).
posix-socket_SRCS := $(filter-out platform/posix/tap.c platform/posix/netdev.c \
	platform/posix/pcap_file.c,$(wildcard platform/posix/*.c))
posix-socket_STACK_SRCS := $(wildcard platform/posix-socket/*.c)
posix-socket_CFLAGS :=
posix-socket_LDFLAGS :=
