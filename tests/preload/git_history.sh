# git on a generated repository with history under lxmalloc: git fast-import
# builds 400 commits (4000 with LXT_SCALE=soak) over 200 files in 10 directories,
# with renames and deletions; then log with patches and stats, blame, diff across
# the history, rev-list, grep, shortlog, an aggressive gc and fsck. The output
# must match the run without LD_PRELOAD byte for byte. (git.sh covers the
# porcelain on a small hand-made history.)
. "$(dirname "$0")/common.sh"
lxt_need git
lxt_need awk
lxt_check_preload

COMMITS=400
[ "${LXT_SCALE:-}" = soak ] && COMMITS=4000
export HOME="$LXT_TMP/home" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null LC_ALL=C TZ=UTC
mkdir -p "$HOME"

# The fast-import stream: deterministic contents, names and dates.
awk -v N="$COMMITS" 'BEGIN {
    for (c = 1; c <= N; c++) {
        t = 1600000000 + c * 3600
        print "commit refs/heads/main"
        print "mark :" c
        print "author Test Author <author@example.com> " t " +0000"
        print "committer Test Committer <committer@example.com> " t " +0000"
        print "data <<EOM"
        print "commit " c ": " (c % 7 == 0 ? "refactor" : "update") " module " (c % 10)
        print "EOM"
        if (c > 1)
            print "from :" (c - 1)
        for (k = 0; k < 4; k++) {
            f = (c * 7 + k * 61) % 200
            print "M 100644 inline src/d" (f % 10) "/f" f ".c"
            print "data <<EOM"
            n = 30 + (c * 13 + k * 5) % 120
            for (i = 1; i <= n; i++)
                print "int f" f "_" i "(void) { return " int(c / (i % 7 + 1)) " + " i "; }"
            print "EOM"
        }
        f0 = (c * 7) % 200
        f1 = (c * 7 + 61) % 200
        if (c % 37 == 0)
            print "D src/d" (f1 % 10) "/f" f1 ".c"
        if (c % 53 == 0)
            print "R src/d" (f0 % 10) "/f" f0 ".c src/moved/m" c ".c"
    }
}' >"$LXT_TMP/history.fi"

cat >"$LXT_TMP/history.sh" <<'SCRIPT'
set -e
repo=$1
rm -rf "$repo"
git init -q -b main "$repo"
cd "$repo"
git config gc.auto 0
git fast-import --quiet <"$2"
git checkout -q main
echo "== log"
git log --stat --format='%H %an %ad %s' | md5sum
git log -p --format='%H %s' | md5sum
git log --format='%h %s' -n 5
git shortlog -s -n main
echo "== diff"
git diff --stat HEAD~300 HEAD | tail -n 1
git diff HEAD~150 HEAD~20 | md5sum
git diff -M --name-status HEAD~200 HEAD | md5sum
echo "== blame"
for f in src/d3/f3.c src/d7/f117.c; do
    [ -f "$f" ] && git blame -s "$f" | md5sum
done
echo "== objects"
git rev-list --all --objects | sort | md5sum
git grep -c 'return 1 ' HEAD | md5sum
git gc -q --aggressive
git fsck --full --strict --no-progress 2>&1
git count-objects -v | grep -E '^(count|in-pack|packs|garbage):'
git cat-file --batch-all-objects --batch-check | sort | md5sum
SCRIPT

lxt_compare history sh "$LXT_TMP/history.sh" "$LXT_TMP/repo" "$LXT_TMP/history.fi"
exit 0
