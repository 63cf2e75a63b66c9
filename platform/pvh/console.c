/*
 * The console: the first 16550 UART (COM1, I/O port 0x3f8), which every
 * machine this image boots on provides (QEMU puts it on stdio with
 * -serial stdio). Output only, polled, 115200 8N1. Lines end in CR LF, as a
 * terminal in raw mode needs.
 *
 * Each port access is a VM exit, so writes fill the 16-byte transmit FIFO
 * after each look at the line status instead of asking before every byte.
 */
#include <stddef.h>

#include "core/platform.h"
#include "io.h"
#include "pvh_internal.h"

#define COM1 0x3f8

/* Register offsets (National Semiconductor PC16550D data sheet). */
#define UART_THR 0 /* transmit holding register */
#define UART_DLL 0 /* divisor latch, low byte (when LCR.DLAB) */
#define UART_IER 1 /* interrupt enable */
#define UART_DLM 1 /* divisor latch, high byte (when LCR.DLAB) */
#define UART_FCR 2 /* FIFO control */
#define UART_LCR 3 /* line control */
#define UART_MCR 4 /* modem control */
#define UART_LSR 5 /* line status */

#define UART_LCR_8N1          0x03
#define UART_LCR_DLAB         0x80
#define UART_FCR_ENABLE_CLEAR 0x07 /* enable FIFOs, clear both */
#define UART_MCR_DTR_RTS      0x03
#define UART_LSR_THRE         0x20 /* transmit holding register (FIFO) empty */
#define UART_LSR_TEMT         0x40 /* transmitter completely idle */

#define UART_CLOCK_DIVISOR 1 /* 115200 baud from the 1.8432 MHz clock / 16 */
#define UART_FIFO_LEN      16

/*
 * A UART that never reports an empty FIFO (none at all reads 0xff, so that
 * case passes) must not hang the program: give up on it after this many polls.
 */
#define UART_POLL_MAX 100000

void pvh_console_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, UART_LCR_DLAB);
	outb(COM1 + UART_DLL, UART_CLOCK_DIVISOR);
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, UART_LCR_8N1);
	outb(COM1 + UART_FCR, UART_FCR_ENABLE_CLEAR);
	outb(COM1 + UART_MCR, UART_MCR_DTR_RTS);
}

static bool uart_wait(uint8_t status_bit)
{
	for (unsigned i = 0; i < UART_POLL_MAX; i++)
		if ((inb(COM1 + UART_LSR) & status_bit) != 0)
			return true;
	return false;
}

void mist_plat_console_write(const char *text, size_t len)
{
	unsigned room = 0;
	bool carriage_return_sent = false;

	for (size_t i = 0; i < len;) {
		if (room == 0) {
			if (!uart_wait(UART_LSR_THRE))
				return;
			room = UART_FIFO_LEN;
		}
		if (text[i] == '\n' && !carriage_return_sent) {
			outb(COM1 + UART_THR, '\r');
			carriage_return_sent = true;
		} else {
			outb(COM1 + UART_THR, (uint8_t)text[i]);
			carriage_return_sent = false;
			i++;
		}
		room--;
	}
}

void pvh_console_flush(void)
{
	uart_wait(UART_LSR_TEMT);
}
