# sim: a test process with virtual, seeded time and simulated links.
sim_SRCS := $(wildcard platform/sim/*.c) platform/posix/pages.c platform/posix/console.c \
	platform/posix/pcap_file.c
sim_CFLAGS :=
sim_LDFLAGS :=
