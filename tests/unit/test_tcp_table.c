/*
 * Unit tests for net/tcp_table: insert, find and remove; duplicate tuples
 * refused; tuples differing in one field kept apart; growth to 100,000
 * nodes with every node still found and the rest of the heap untouched;
 * removal during iteration, including a teardown that frees every node;
 * the misuse check on removing a node that is not in the table. Prints
 * the time per lookup at 1,000, 10,000 and 100,000 nodes (not asserted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "misuse.h"

#include "base/compiler.h"
#include "core/mem.h"
#include "mist/mist.h"
#include "net/tcp_table.h"

/* A connection as the TCP layer will have it: the node embedded in something larger. */
struct conn {
	int id;
	bool visited;
	struct tcp_table_node node;
};

static struct conn *conn_of(struct tcp_table_node *n)
{
	return mist_container_of(n, struct conn, node);
}

/* Tuple number i: a server at 10.0.0.1:80 and many clients, as a busy listener sees them. */
static struct tcp_tuple tuple_n(uint32_t i)
{
	return (struct tcp_tuple){
	        .local = MIST_IPV4(10, 0, 0, 1),
	        .lport = 80,
	        .remote = MIST_IPV4(172, 16, (uint8_t)(i >> 14), (uint8_t)(i >> 6)),
	        .rport = (uint16_t)(32768 + (i & 63)),
	};
}

static uint64_t heap_in_use(void)
{
	struct mist_mem_stats s;

	mist_mem_stats(&s);
	return s.bytes_in_use;
}

static void table_inserts_finds_and_removes(void **state)
{
	struct tcp_table t;
	struct conn a = {.id = 1, .node.tuple = tuple_n(1)};
	struct conn b = {.id = 2, .node.tuple = tuple_n(2)};
	struct tcp_tuple absent = tuple_n(3);

	assert_int_equal(tcp_table_init(&t), 0);
	assert_int_equal(t.nbuckets, 64);
	assert_null(tcp_table_find(&t, &a.node.tuple));

	assert_int_equal(tcp_table_insert(&t, &a.node), 0);
	assert_int_equal(tcp_table_insert(&t, &b.node), 0);
	assert_int_equal(t.count, 2);
	assert_ptr_equal(tcp_table_find(&t, &a.node.tuple), &a.node);
	assert_int_equal(conn_of(tcp_table_find(&t, &b.node.tuple))->id, 2);
	assert_null(tcp_table_find(&t, &absent));

	tcp_table_remove(&t, &a.node);
	assert_int_equal(t.count, 1);
	assert_null(tcp_table_find(&t, &a.node.tuple));
	assert_ptr_equal(tcp_table_find(&t, &b.node.tuple), &b.node);

	/* A removed node can go back in. */
	assert_int_equal(tcp_table_insert(&t, &a.node), 0);
	assert_ptr_equal(tcp_table_find(&t, &a.node.tuple), &a.node);
	tcp_table_destroy(&t);
}

static void table_refuses_a_second_node_with_the_same_tuple(void **state)
{
	struct tcp_table t;
	struct conn a = {.node.tuple = tuple_n(9)};
	struct conn twin = {.node.tuple = tuple_n(9)};

	assert_int_equal(tcp_table_init(&t), 0);
	assert_int_equal(tcp_table_insert(&t, &a.node), 0);
	assert_int_equal(tcp_table_insert(&t, &twin.node), MIST_EADDRINUSE);
	assert_int_equal(t.count, 1);
	assert_ptr_equal(tcp_table_find(&t, &twin.node.tuple), &a.node);

	/* Once the first is gone, the tuple is free again. */
	tcp_table_remove(&t, &a.node);
	assert_int_equal(tcp_table_insert(&t, &twin.node), 0);
	assert_ptr_equal(tcp_table_find(&t, &a.node.tuple), &twin.node);
	tcp_table_destroy(&t);
}

/* Tuples that differ in one field only, or have their two ends swapped, are distinct keys. */
static void table_tells_apart_tuples_differing_in_one_field(void **state)
{
	struct tcp_tuple base = {MIST_IPV4(10, 0, 0, 1), MIST_IPV4(10, 0, 0, 2), 5000, 6000};
	struct conn c[6];
	struct tcp_table t;

	for (size_t i = 0; i < MIST_ARRAY_SIZE(c); i++)
		c[i].node.tuple = base;
	c[1].node.tuple.local.b[3] = 3;
	c[2].node.tuple.remote.b[0] = 11;
	c[3].node.tuple.lport = 5001;
	c[4].node.tuple.rport = 6001;
	c[5].node.tuple = (struct tcp_tuple){base.remote, base.local, base.rport, base.lport};

	assert_int_equal(tcp_table_init(&t), 0);
	for (size_t i = 0; i < MIST_ARRAY_SIZE(c); i++)
		assert_int_equal(tcp_table_insert(&t, &c[i].node), 0);
	for (size_t i = 0; i < MIST_ARRAY_SIZE(c); i++)
		assert_ptr_equal(tcp_table_find(&t, &c[i].node.tuple), &c[i].node);
	tcp_table_destroy(&t);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Looks up every one of the first n tuples `rounds` times; returns ns per lookup. */
static double time_lookups(const struct tcp_table *t, uint32_t n, int rounds)
{
	double start = now_ns();

	for (int r = 0; r < rounds; r++) {
		for (uint32_t i = 0; i < n; i++) {
			struct tcp_tuple tu = tuple_n(i);

			if (tcp_table_find(t, &tu) == NULL)
				fail_msg("tuple %u lost", i);
		}
	}
	return (now_ns() - start) / ((double)n * rounds);
}

#define MANY 100000u

static void table_grows_to_100000_nodes_and_finds_them_all(void **state)
{
	struct conn *conns = calloc(MANY, sizeof(*conns));
	uint64_t heap_before = heap_in_use();
	struct tcp_table t;
	double grow_start, grow_ns = 0;

	assert_non_null(conns);
	assert_int_equal(tcp_table_init(&t), 0);
	for (uint32_t i = 0; i < MANY; i++) {
		uint32_t nbuckets = t.nbuckets;

		conns[i].id = (int)i;
		conns[i].node.tuple = tuple_n(i);
		grow_start = now_ns();
		assert_int_equal(tcp_table_insert(&t, &conns[i].node), 0);
		if (t.nbuckets != nbuckets) {
			/* It doubles once the nodes outnumber the buckets. */
			assert_int_equal(t.count, nbuckets + 1);
			assert_int_equal(t.nbuckets, 2 * nbuckets);
			grow_ns = now_ns() - grow_start;
		}
		if (i + 1 == 1000 || i + 1 == 10000 || i + 1 == MANY)
			print_message("%6u nodes, %6u buckets: %.0f ns per lookup\n", i + 1,
			              t.nbuckets, time_lookups(&t, i + 1, i + 1 < MANY ? 100 : 3));
	}
	print_message("last doubling, to %u buckets: %.2f ms\n", t.nbuckets, grow_ns / 1e6);

	assert_int_equal(t.count, MANY);
	assert_int_equal(t.nbuckets, 131072); /* 64 doubled until >= 100,000 */
	for (uint32_t i = 0; i < MANY; i++) {
		struct tcp_tuple tu = tuple_n(i);
		struct tcp_table_node *n = tcp_table_find(&t, &tu);

		assert_non_null(n);
		assert_int_equal(conn_of(n)->id, (int)i);
	}
	for (uint32_t i = 0; i < MANY; i += 2)
		tcp_table_remove(&t, &conns[i].node);
	assert_int_equal(t.count, MANY / 2);
	for (uint32_t i = 0; i < MANY; i++) {
		struct tcp_tuple tu = tuple_n(i);

		if (i % 2 == 0)
			assert_null(tcp_table_find(&t, &tu));
		else
			assert_ptr_equal(tcp_table_find(&t, &tu), &conns[i].node);
	}
	tcp_table_destroy(&t);
	assert_int_equal(heap_in_use(), heap_before);
	free(conns);
}

struct walk {
	struct tcp_table *table;
	unsigned visits;
};

/* Marks each node visited and removes the even-numbered ones as it goes. */
static void visit_and_remove_even(struct tcp_table_node *n, void *arg)
{
	struct walk *w = arg;
	struct conn *c = conn_of(n);

	assert_false(c->visited);
	c->visited = true;
	w->visits++;
	if (c->id % 2 == 0)
		tcp_table_remove(w->table, n);
}

#define WALKED 1000

static void table_iteration_survives_removing_the_current_node(void **state)
{
	static struct conn conns[WALKED];
	struct tcp_table t;
	struct walk w = {.table = &t};

	assert_int_equal(tcp_table_init(&t), 0);
	for (int i = 0; i < WALKED; i++) {
		conns[i] = (struct conn){.id = i, .node.tuple = tuple_n((uint32_t)i)};
		assert_int_equal(tcp_table_insert(&t, &conns[i].node), 0);
	}
	tcp_table_foreach(&t, visit_and_remove_even, &w);
	assert_int_equal(w.visits, WALKED);
	assert_int_equal(t.count, WALKED / 2);
	for (int i = 0; i < WALKED; i++) {
		assert_true(conns[i].visited);
		if (i % 2 == 0)
			assert_null(tcp_table_find(&t, &conns[i].node.tuple));
		else
			assert_ptr_equal(tcp_table_find(&t, &conns[i].node.tuple), &conns[i].node);
	}
	tcp_table_destroy(&t);
}

static void free_conn(struct tcp_table_node *n, void *arg)
{
	tcp_table_remove(arg, n);
	mist_free(conn_of(n));
}

/* A stack's teardown: remove and free every connection from inside the walk. */
static void table_teardown_frees_every_connection(void **state)
{
	uint64_t heap_before = heap_in_use();
	struct tcp_table t;

	assert_int_equal(tcp_table_init(&t), 0);
	for (uint32_t i = 0; i < 300; i++) {
		struct conn *c = mist_calloc(1, sizeof(*c));

		assert_non_null(c);
		c->node.tuple = tuple_n(i);
		assert_int_equal(tcp_table_insert(&t, &c->node), 0);
	}
	tcp_table_foreach(&t, free_conn, &t);
	assert_int_equal(t.count, 0);
	tcp_table_destroy(&t);
	assert_int_equal(heap_in_use(), heap_before);
}

static void remove_node_never_inserted(void)
{
	struct tcp_table t;
	struct conn c = {.node.tuple = tuple_n(5)};

	if (tcp_table_init(&t) == 0)
		tcp_table_remove(&t, &c.node);
}

static void table_remove_of_absent_node_is_misuse(void **state)
{
	assert_misuse_aborts(remove_node_never_inserted, "tcp_table_remove");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(table_inserts_finds_and_removes),
	        cmocka_unit_test(table_refuses_a_second_node_with_the_same_tuple),
	        cmocka_unit_test(table_tells_apart_tuples_differing_in_one_field),
	        cmocka_unit_test(table_grows_to_100000_nodes_and_finds_them_all),
	        cmocka_unit_test(table_iteration_survives_removing_the_current_node),
	        cmocka_unit_test(table_teardown_frees_every_connection),
	        cmocka_unit_test(table_remove_of_absent_node_is_misuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
