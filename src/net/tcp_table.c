/*
 * The TCP connection table (tcp_table.h): separate chaining in a
 * power-of-two bucket array, indexed by the low bits of a keyed SipHash of
 * the tuple. New nodes go to the head of their chain; removal walks the
 * chain for the node's predecessor, one node long on average.
 * Freestanding.
 */
#include "net/tcp_table.h"

#include "base/endian.h"
#include "base/str.h"
#include "core/mem.h"
#include "core/panic.h"
#include "mist/mist.h"
#include "mist/rng.h"
#include "wire/ipv4.h"

#define TABLE_INITIAL_BUCKETS 64u
#define TABLE_MAX_BUCKETS     (UINT32_C(1) << 31) /* the largest power of two in nbuckets */

#define ADDR_LEN  4
#define TUPLE_LEN (2 * ADDR_LEN + 2 * 2)

/*
 * The tuple field by field in network byte order: hashing the struct's
 * bytes would take in its padding, which is not part of the key.
 */
static uint32_t tuple_hash(const struct mist_siphash_key *key, const struct tcp_tuple *t)
{
	uint8_t in[TUPLE_LEN];

	mist_memcpy(in, t->local.b, ADDR_LEN);
	mist_store_be16(in + ADDR_LEN, t->lport);
	mist_memcpy(in + ADDR_LEN + 2, t->remote.b, ADDR_LEN);
	mist_store_be16(in + 2 * ADDR_LEN + 2, t->rport);
	return (uint32_t)mist_siphash(key, in, sizeof(in));
}

static bool tuple_eq(const struct tcp_tuple *a, const struct tcp_tuple *b)
{
	return a->lport == b->lport && a->rport == b->rport &&
	       mist_ipv4_addr_eq(a->local, b->local) && mist_ipv4_addr_eq(a->remote, b->remote);
}

static struct tcp_table_node **bucket_of(const struct tcp_table *t, uint32_t hash)
{
	return &t->buckets[hash & (t->nbuckets - 1)];
}

int tcp_table_init(struct tcp_table *t)
{
	t->buckets = mist_calloc(TABLE_INITIAL_BUCKETS, sizeof(*t->buckets));
	if (t->buckets == NULL)
		return MIST_ENOMEM;
	t->nbuckets = TABLE_INITIAL_BUCKETS;
	t->count = 0;
	t->key.k0 = mist_random_u64();
	t->key.k1 = mist_random_u64();
	return 0;
}

void tcp_table_destroy(struct tcp_table *t)
{
	mist_free(t->buckets);
	t->buckets = NULL;
	t->nbuckets = 0;
	t->count = 0;
}

/*
 * Doubles the bucket array and moves every node at once, using the hashes
 * the nodes keep. The cost is O(count) in one event, a pause that grows
 * with the table (a few milliseconds for 100,000 connections, see
 * test_tcp_table), but the doublings come ever rarer, so an insertion
 * costs O(1) amortised. Moving a few buckets per operation instead (linear
 * hashing) would bound the pause at the price of two live arrays during
 * every lookup; not worth it at the sizes one instance serves.
 */
static void grow(struct tcp_table *t)
{
	uint32_t nbuckets = t->nbuckets * 2;
	struct tcp_table_node **buckets;

	if (t->nbuckets >= TABLE_MAX_BUCKETS)
		return;
	buckets = mist_calloc(nbuckets, sizeof(*buckets));
	if (buckets == NULL)
		return;
	for (uint32_t i = 0; i < t->nbuckets; i++) {
		struct tcp_table_node *n = t->buckets[i];

		while (n != NULL) {
			struct tcp_table_node *next = n->next;
			struct tcp_table_node **b = &buckets[n->hash & (nbuckets - 1)];

			n->next = *b;
			*b = n;
			n = next;
		}
	}
	mist_free(t->buckets);
	t->buckets = buckets;
	t->nbuckets = nbuckets;
}

static struct tcp_table_node *find_hashed(const struct tcp_table *t, const struct tcp_tuple *tuple,
                                          uint32_t hash)
{
	for (struct tcp_table_node *n = *bucket_of(t, hash); n != NULL; n = n->next)
		if (n->hash == hash && tuple_eq(&n->tuple, tuple))
			return n;
	return NULL;
}

int tcp_table_insert(struct tcp_table *t, struct tcp_table_node *n)
{
	uint32_t hash = tuple_hash(&t->key, &n->tuple);
	struct tcp_table_node **b;

	if (find_hashed(t, &n->tuple, hash) != NULL)
		return MIST_EADDRINUSE;
	b = bucket_of(t, hash);
	n->hash = hash;
	n->next = *b;
	*b = n;
	t->count++;
	if (t->count > t->nbuckets)
		grow(t);
	return 0;
}

void tcp_table_remove(struct tcp_table *t, struct tcp_table_node *n)
{
	for (struct tcp_table_node **p = bucket_of(t, n->hash); *p != NULL; p = &(*p)->next) {
		if (*p == n) {
			*p = n->next;
			n->next = NULL;
			t->count--;
			return;
		}
	}
	MIST_MISUSE("tcp_table_remove", "the node is not in the table");
}

struct tcp_table_node *tcp_table_find(const struct tcp_table *t, const struct tcp_tuple *tuple)
{
	return find_hashed(t, tuple, tuple_hash(&t->key, tuple));
}

void tcp_table_foreach(struct tcp_table *t, void (*fn)(struct tcp_table_node *n, void *arg),
                       void *arg)
{
	for (uint32_t i = 0; i < t->nbuckets; i++) {
		struct tcp_table_node *n = t->buckets[i];

		while (n != NULL) {
			/* Read before the call: fn may remove and free n. */
			struct tcp_table_node *next = n->next;

			fn(n, arg);
			n = next;
		}
	}
}
