/*
 * Boot arguments: one parser for every target.
 *
 * The platform hands over its arguments (argv, the PVH command line, module
 * parameters) as `--name=value` words. The common flags are parsed into
 * struct mist_args; an application may add its own flags by defining
 * mist_app_options (see below). An unknown flag or a malformed value prints
 * what was wrong and the accepted form, and the program exits with status 2.
 * `--help` prints the accepted form and exits with status 0.
 */
#ifndef MIST_ARGS_H
#define MIST_ARGS_H

#include <stdbool.h>
#include <stdint.h>

/* The common flags. A field is meaningful only when its has_ flag is set. */
struct mist_args {
	bool has_ipv4;
	uint8_t ipv4[4]; /* --ipv4=ADDR/PREFIX, network byte order */
	uint8_t ipv4_prefix;
	bool has_gateway;
	uint8_t gateway[4]; /* --ipv4-gateway=ADDR */
	bool has_mac;
	uint8_t mac[6];   /* --mac=XX:XX:XX:XX:XX:XX */
	uint32_t mtu;     /* --mtu=N, 68..65535; 0 means the device's own */
	const char *tap;  /* --tap=NAME (posix-tap) */
	const char *pcap; /* --pcap=FILE */
	bool has_port;
	uint16_t port;     /* --port=N, 1..65535 */
	const char *log;   /* --log=LEVEL[,TAG=LEVEL...], already applied */
	const char *fault; /* --fault=ITEM[,ITEM...], fault injection; see src/dev/fault_option.h */
};

/* The kinds of value an application flag can take. */
enum mist_option_kind {
	MIST_OPT_FLAG,   /* --name, no value: sets a bool */
	MIST_OPT_U64,    /* --name=N: decimal or 0x hex, into a uint64_t */
	MIST_OPT_SIZE,   /* --name=N[k|M|G]: binary multiples, into a uint64_t */
	MIST_OPT_STRING, /* --name=TEXT: into a const char * */
	MIST_OPT_IPV4,   /* --name=A.B.C.D: into a uint8_t[4] */
};

/*
 * One application flag. `value` points at storage of the kind's type. For the
 * numeric kinds, a value outside [min, max] is rejected; max 0 means no limit.
 */
struct mist_option {
	const char *name; /* without the leading "--" */
	enum mist_option_kind kind;
	void *value;
	const char *help; /* "--name=FORM  what it does", shown by --help and on errors */
	uint64_t min, max;
};

/*
 * An application that takes flags of its own defines this array, ended by an
 * entry whose name is NULL. Values are stored before mist_main() runs; a flag
 * not given leaves its storage untouched, so initialise it to the default.
 * The declaration is weak: without a definition the address is NULL, which
 * the parser takes as no options.
 */
extern const struct mist_option mist_app_options[] __attribute__((weak));

#endif
