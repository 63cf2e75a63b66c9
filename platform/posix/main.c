/*
 * The entry point of a Mist program running as a Linux process: the process
 * arguments are the boot arguments, with the device's own flags when the
 * target has the TAP device; SIGTERM and SIGINT end it cleanly.
 */
#include "core/boot.h"
#include "core/platform.h"
#include "posix.h"

int main(int argc, char **argv)
{
	posix_poll_catch_signals();
	mist_plat_exit(mist_boot(argc, argv, posix_netdev_options));
}
