/* SPDX-License-Identifier: MIT */
/*
 * Test-only driver of the core's min-cut, for tests/py/test_mincut_networkx.py.
 *
 * stdin: any number of graphs, each "n m" then m lines "u v w" (0 <= u, v < n, weights summed
 * when an edge repeats, u == v adds internal weight). For each graph, stdout gets one line:
 * "<cut value> <side of node 0..n-1 as A/B letters>" ("-" for the side when n < 2).
 * Exit 2 on malformed input or when the core refuses a graph.
 */
#include "rvm/graph.h"
#include "rvm/mincut.h"

#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    unsigned long n, m;
    while (scanf("%lu %lu", &n, &m) == 2) {
        if (n > RVM_GRAPH_MAX_CAPACITY) {
            fprintf(stderr, "mincut_cli: n=%lu above %u\n", n, RVM_GRAPH_MAX_CAPACITY);
            return 2;
        }
        uint32_t cap = n < 2 ? 2 : (uint32_t)n;
        struct rvm_graph_node *nodes = calloc(cap, sizeof(*nodes));
        uint64_t *weights = calloc((size_t)cap * cap, sizeof(uint64_t));
        uint64_t *sw = calloc((size_t)cap * cap, sizeof(uint64_t));
        uint64_t *key = calloc(cap, sizeof(uint64_t));
        uint32_t *idx = calloc(RVM_MINCUT_IDX_PER_NODE * (size_t)cap, sizeof(uint32_t));
        uint8_t *side = calloc(cap, 1);
        if (!nodes || !weights || !sw || !key || !idx || !side) {
            fprintf(stderr, "mincut_cli: out of memory\n");
            return 2;
        }
        struct rvm_graph g;
        struct rvm_graph_config cfg = {.capacity = cap, .nodes = nodes, .weights = weights};
        if (rvm_graph_init(&g, &cfg) != RVM_OK) {
            return 2;
        }
        for (uint32_t i = 0; i < n; i++) {
            if (rvm_graph_add_node(&g, i + 1, NULL) != RVM_OK) {
                return 2;
            }
        }
        for (unsigned long e = 0; e < m; e++) {
            unsigned long u, v;
            unsigned long long w;
            if (scanf("%lu %lu %llu", &u, &v, &w) != 3 || u >= n || v >= n) {
                fprintf(stderr, "mincut_cli: bad edge line\n");
                return 2;
            }
            if (w != 0 && rvm_graph_add_weight(&g, (uint32_t)u + 1, (uint32_t)v + 1, w) != RVM_OK) {
                fprintf(stderr, "mincut_cli: edge refused\n");
                return 2;
            }
        }
        struct rvm_mincut_scratch s = {.capacity = cap, .w = sw, .key = key, .idx = idx};
        struct rvm_mincut_result res;
        if (rvm_mincut_compute(&g, &s, RVM_MINCUT_BUDGET_UNLIMITED, &res, side) != RVM_OK) {
            return 2;
        }
        printf("%llu ", (unsigned long long)res.value);
        if (!res.valid) {
            printf("-");
        }
        for (uint32_t i = 0; res.valid && i < n; i++) {
            putchar(side[i] == RVM_MINCUT_SIDE_A ? 'A' : 'B');
        }
        putchar('\n');
        free(nodes), free(weights), free(sw), free(key), free(idx), free(side);
    }
    return 0;
}
