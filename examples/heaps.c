/* SPDX-License-Identifier: MIT */
/*
 * heaps.c — a first-class heap as a region: build a parse tree, drop it whole.
 *
 * Build from the top of the repository after `make`:
 *   cc -Iinclude examples/heaps.c build/liblxmalloc_api.a -lpthread -o heaps
 *
 * Every node of one request lives in the request's heap; lx_heap_destroy frees
 * them all at once, with no walk over the tree. A single node can still be
 * freed early with lx_free (or lx_heap_free, faster from the thread using the
 * heap).
 */
#include <lxmalloc.h>

#include <stdio.h>
#include <string.h>

struct node {
    struct node *left, *right;
    char word[24];
};

static struct node *insert(lx_heap_t *heap, struct node *root, const char *word)
{
    if (root == NULL) {
        struct node *n = lx_heap_calloc(heap, 1, sizeof *n);
        if (n != NULL)
            snprintf(n->word, sizeof n->word, "%s", word);
        return n;
    }
    if (strcmp(word, root->word) < 0)
        root->left = insert(heap, root->left, word);
    else
        root->right = insert(heap, root->right, word);
    return root;
}

static size_t count(const struct node *n)
{
    return n == NULL ? 0 : 1 + count(n->left) + count(n->right);
}

int main(void)
{
    static const char *words[] = {"pear", "apple", "fig", "kiwi", "plum", "date", "lime"};
    for (int request = 0; request < 1000; request++) {
        lx_heap_t *heap = lx_heap_new();
        if (heap == NULL)
            return 1;
        struct node *root = NULL;
        for (int i = 0; i < 700; i++)
            root = insert(heap, root, words[(i * 5 + request) % 7]);
        char *scratch = lx_heap_malloc(heap, 100000); /* any size, same heap */
        if (root == NULL || scratch == NULL || count(root) != 700)
            return 1;
        lx_free(scratch); /* an early free works on any lxmalloc block */
        lx_heap_destroy(heap); /* every node at once */
    }
    printf("1000 requests of 700 nodes, each freed with one lx_heap_destroy\n");
    return lx_heap_check() == 0 ? 0 : 1;
}
