/*
 * The entry point of a Mist program running as a Linux process: the process
 * arguments are the boot arguments.
 */
#include "core/boot.h"
#include "core/platform.h"

int main(int argc, char **argv)
{
	mist_plat_exit(mist_boot(argc, argv, NULL));
}
