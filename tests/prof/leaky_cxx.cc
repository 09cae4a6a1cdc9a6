// SPDX-License-Identifier: MIT
// C++ leaks for tests/prof/leaks.sh: leak_new and leak_new_array leak through
// operator new and new[]; keep_objects deletes everything it makes. Built with
// -rdynamic.
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#define NOINLINE __attribute__((noinline, used))

struct Node {
    long value[5];
};

NOINLINE void leak_new()
{
    Node *volatile n = new Node();
    (void)n;
}

NOINLINE void leak_new_array()
{
    int *volatile a = new int[300];
    (void)a;
}

NOINLINE void keep_objects()
{
    for (int i = 0; i < 1000; i++) {
        auto v = std::make_unique<std::vector<std::string>>();
        for (int j = 0; j < 20; j++)
            v->push_back(std::string(static_cast<size_t>(j * 10 + 20), 'x'));
        delete new Node();
        delete[] new int[i + 1];
    }
}

int main()
{
    keep_objects();
    leak_new();
    leak_new_array();
    return write(1, "done\n", 5) == 5 ? 0 : 1;
}
