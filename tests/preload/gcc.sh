# g++ and gcc under lxmalloc (the driver, cc1plus, cc1 and as inherit LD_PRELOAD)
# compile a large generated C++ file (templates, the standard containers,
# thousands of functions) at -O2, and a generated C file: the assembly must match
# the compilers' output without LD_PRELOAD byte for byte. LXT_SCALE=soak makes
# the files ten times bigger.
. "$(dirname "$0")/common.sh"
lxt_need g++
lxt_need gcc
lxt_need awk
lxt_check_preload

N=40
[ "${LXT_SCALE:-}" = soak ] && N=400

awk -v N="$N" 'BEGIN {
    print "#include <map>\n#include <string>\n#include <vector>\n#include <algorithm>"
    print "#include <memory>\n#include <unordered_map>\n"
    print "template <typename T, int K> struct Box { T v[K]; T sum() const { T s{}; for (auto &x : v) s += x; return s; } };"
    for (i = 0; i < N; i++) {
        print "struct S" i " { std::vector<int> a; std::map<std::string, long> m; virtual ~S" i "() = default;"
        print "  virtual long f(int x) { a.push_back(x * " i "); m[std::to_string(x)] += x; return (long)a.size() + (long)m.size(); } };"
        print "long g" i "(int n) { S" i " s; Box<long, " (i % 13 + 1) "> b{}; for (int k = 0; k < n; k++) b.v[k % " (i % 13 + 1) "] += s.f(k);"
        print "  std::unordered_map<int, std::string> u; for (int k = 0; k < n; k++) u[k % " (i + 3) "] += std::to_string(k);"
        print "  std::vector<std::unique_ptr<S" i ">> w; w.emplace_back(new S" i "); std::sort(s.a.begin(), s.a.end());"
        print "  return b.sum() + (long)u.size() + w[0]->f(n); }"
    }
    print "long all(int n) { long t = 0;"
    for (i = 0; i < N; i++) print "  t += g" i "(n);"
    print "  return t; }"
}' >"$LXT_TMP/big.cc"

awk -v N="$N" 'BEGIN {
    print "#include <stdlib.h>\n#include <string.h>"
    for (i = 0; i < 4 * N; i++) {
        print "struct r" i " { int a[" (i % 17 + 1) "]; char s[" (i % 31 + 2) "]; };"
        print "int h" i "(const char *p, int n) { struct r" i " r; memset(&r, 0, sizeof r);"
        print "  for (int k = 0; k < n && p[k]; k++) { r.a[k % " (i % 17 + 1) "] += p[k] * " i "; r.s[k % " (i % 31 + 2) "] ^= p[k]; }"
        print "  return r.a[0] + r.s[0] + (n > 3 ? h" (i > 0 ? i - 1 : 0) "(p + 1, n - 1) : 0); }"
    }
}' >"$LXT_TMP/big.c"

lxt_compare cxx g++ -std=c++17 -O2 -S -o - "$LXT_TMP/big.cc"
lxt_compare c gcc -std=c11 -O2 -S -o - "$LXT_TMP/big.c"
exit 0
