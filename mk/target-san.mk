# san: the sim platform without its entry point, built with AddressSanitizer
# and UndefinedBehaviorSanitizer; what unit and sim tests link against. The
# socket stack's errno translation comes along for its unit test.
san_SRCS := $(filter-out platform/sim/main.c,$(wildcard platform/sim/*.c)) \
	platform/posix/pages.c platform/posix/console.c platform/posix/pcap_file.c \
	platform/posix-socket/errno_map.c
san_CFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
san_LDFLAGS := -fsanitize=address,undefined
