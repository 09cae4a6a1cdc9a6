// C++ program run with and without LD_PRELOAD; its stdout must be identical.
// Exercises vectors, maps, strings, shared_ptr, std::thread, new/delete,
// aligned new (alignas(64) types) and allocation failure (bad_alloc, nothrow new). With --require-lx it also checks that operator
// new really ends up in lxmalloc: malloc must resolve to the object that defines
// lx_malloc, lx_malloc_usable_size must accept new'd memory, and lx_stats_get's
// malloc_count must grow when only operator new is called.
#include <dlfcn.h>
#include <malloc.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <new>
#include <memory>
#include <mutex>
#include <numeric>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "lxmalloc.h"

[[noreturn]] static void fail(const char *msg, unsigned long long a = 0, unsigned long long b = 0)
{
    std::fprintf(stderr, "cxx: %s (%llu, %llu)\n", msg, a, b);
    std::exit(1);
}

struct alignas(64) Cell {
    std::uint64_t v[8];
};

struct alignas(256) Big {
    char c[1000];
};

// Keep the compiler from eliding a new/delete pair.
static void escape(void *p) { asm volatile("" : : "g"(p) : "memory"); }

static std::uint64_t mix(std::uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static void check_lx()
{
    void *lx = dlsym(RTLD_DEFAULT, "lx_malloc");
    void *mal = dlsym(RTLD_DEFAULT, "malloc");
    if (!lx)
        fail("lx_malloc not found: not running on lxmalloc");
    Dl_info a, b;
    if (!dladdr(lx, &a) || !dladdr(mal, &b) || a.dli_fbase != b.dli_fbase)
        fail("malloc does not resolve to the object defining lx_malloc");
    using usable_fn = size_t (*)(void *);
    using stats_fn = int (*)(lx_stats_t *);
    auto lx_usable = reinterpret_cast<usable_fn>(dlsym(RTLD_DEFAULT, "lx_malloc_usable_size"));
    auto lx_stats = reinterpret_cast<stats_fn>(dlsym(RTLD_DEFAULT, "lx_stats_get"));
    if (!lx_usable || !lx_stats)
        fail("lx_malloc_usable_size or lx_stats_get missing");

    for (std::size_t n : {1u, 24u, 100u, 1000u, 5000u, 100000u, 3000000u}) {
        char *p = new char[n];
        std::memset(p, 1, n);
        std::size_t u = lx_usable(p);
        if (u < n || u != malloc_usable_size(p))
            fail("lx_malloc_usable_size(new char[n]) wrong: n, usable", n, u);
        delete[] p;
    }
    Cell *c = new Cell[10];
    if (reinterpret_cast<std::uintptr_t>(c) % 64 != 0)
        fail("new Cell[10] not 64-byte aligned", reinterpret_cast<std::uintptr_t>(c));
    if (lx_usable(c) < sizeof(Cell) * 10)
        fail("lx_malloc_usable_size(new Cell[10]) too small", lx_usable(c));
    delete[] c;

    lx_stats_t before, after;
    lx_stats(&before);
    std::vector<int *> v;
    v.reserve(2000);
    for (int i = 0; i < 1000; i++)
        v.push_back(new int(i));
    lx_stats(&after);
    if (after.malloc_count < before.malloc_count + 1000)
        fail("1000 operator new calls did not reach lxmalloc: malloc_count before, after",
             before.malloc_count, after.malloc_count);
    for (int *p : v)
        delete p;
    std::fprintf(stderr, "cxx: operator new is served by lxmalloc\n");
}

int main(int argc, char **argv)
{
    if (argc > 1 && std::strcmp(argv[1], "--require-lx") == 0)
        check_lx();

    // Vectors and sorting.
    std::vector<std::uint64_t> v;
    for (std::uint64_t i = 0; i < 200000; i++)
        v.push_back(mix(i));
    std::sort(v.begin(), v.end());
    std::printf("vector: n=%zu min=%llx max=%llx med=%llx\n", v.size(),
                (unsigned long long)v.front(), (unsigned long long)v.back(),
                (unsigned long long)v[v.size() / 2]);

    // Maps and strings.
    std::map<std::string, int> m;
    std::unordered_map<int, std::string> um;
    for (int i = 0; i < 50000; i++) {
        std::string k = "key-" + std::to_string(mix(i) % 100000);
        m[k] += i;
        um[i] = std::string(static_cast<std::size_t>(i % 300), static_cast<char>('a' + i % 26));
    }
    long long sum = 0;
    for (auto &kv : m)
        sum += kv.second * static_cast<long long>(kv.first.size());
    std::size_t total = 0;
    for (auto &kv : um)
        total += kv.second.size();
    std::printf("map: %zu keys, sum %lld; unordered: %zu strings, %zu chars\n", m.size(), sum,
                um.size(), total);
    std::ostringstream os;
    for (int i = 0; i < 20000; i++)
        os << i << ',';
    std::string s = os.str();
    std::printf("string: len %zu, tail %s\n", s.size(), s.substr(s.size() - 12).c_str());

    // Aligned new.
    std::vector<std::unique_ptr<Cell>> cells;
    std::vector<Big *> bigs;
    for (int i = 0; i < 5000; i++) {
        cells.emplace_back(new Cell());
        if (reinterpret_cast<std::uintptr_t>(cells.back().get()) % 64)
            fail("new Cell not 64-byte aligned");
        cells.back()->v[0] = mix(i);
        if (i % 10 == 0) {
            bigs.push_back(new Big());
            if (reinterpret_cast<std::uintptr_t>(bigs.back()) % 256)
                fail("new Big not 256-byte aligned");
            std::memset(bigs.back()->c, i & 0xff, sizeof(Big::c));
        }
    }
    std::uint64_t x = 0;
    for (auto &c : cells)
        x ^= c->v[0];
    for (Big *b : bigs) {
        x += static_cast<unsigned char>(b->c[999]);
        delete b;
    }
    std::printf("aligned: %zu cells, %zu bigs, x=%llx\n", cells.size(), bigs.size(),
                (unsigned long long)x);

    // Allocation failure: operator new throws, nothrow new returns null, and the
    // heap works afterwards.
    std::size_t absurd = std::numeric_limits<std::size_t>::max() / 4;
    volatile std::size_t n_absurd = absurd;
    int failures = 0;
    try {
        char *p = new char[n_absurd];
        escape(p);
        delete[] p;
    } catch (const std::bad_alloc &) {
        failures++;
    }
    char *np = new (std::nothrow) char[n_absurd];
    escape(np);
    if (np == nullptr)
        failures++;
    delete[] np;
    try {
        Cell *c = new Cell[n_absurd / sizeof(Cell) / 2];
        escape(c);
        delete[] c;
    } catch (const std::bad_alloc &) {
        failures++;
    }
    if (failures != 3)
        fail("absurd allocations did not all fail: failures of 3", static_cast<unsigned>(failures));
    std::vector<int> after(100000, 7);
    std::printf("bad_alloc: %d of 3 failed as expected, then %lld\n", failures,
                std::accumulate(after.begin(), after.end(), 0LL));

    // Threads allocating, sharing and freeing.
    std::mutex mu;
    std::vector<std::shared_ptr<std::vector<int>>> shared;
    std::vector<std::thread> th;
    std::vector<long long> sums(8);
    for (int t = 0; t < 8; t++) {
        th.emplace_back([t, &mu, &shared, &sums] {
            long long acc = 0;
            for (int i = 0; i < 3000; i++) {
                auto vec = std::make_shared<std::vector<int>>(static_cast<std::size_t>(i % 500 + 1), t + i);
                acc += std::accumulate(vec->begin(), vec->end(), 0LL);
                std::lock_guard<std::mutex> g(mu);
                shared.push_back(vec);
                if (shared.size() > 64)
                    shared.erase(shared.begin(), shared.begin() + 32);
            }
            sums[static_cast<std::size_t>(t)] = acc;
        });
    }
    for (auto &t : th)
        t.join();
    std::printf("threads: total %lld\n", std::accumulate(sums.begin(), sums.end(), 0LL));
    return 0;
}
