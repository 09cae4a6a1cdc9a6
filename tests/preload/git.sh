# git under lxmalloc: init a repository, make several commits (fixed names and
# dates, so hashes are reproducible), then log --stat, diff between commits, gc,
# repack, fsck and object listing; output must match the run without LD_PRELOAD.
. "$(dirname "$0")/common.sh"
lxt_need git
lxt_check_preload

export HOME="$LXT_TMP/home" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME="Test Author" GIT_AUTHOR_EMAIL="author@example.com"
export GIT_COMMITTER_NAME="Test Committer" GIT_COMMITTER_EMAIL="committer@example.com"
export GIT_AUTHOR_DATE="2020-01-01T00:00:00+0000" GIT_COMMITTER_DATE="2020-01-01T00:00:00+0000"
export LC_ALL=C TZ=UTC
mkdir -p "$HOME"

cat >"$LXT_TMP/scenario.sh" <<'SCRIPT'
set -e
repo=$1
rm -rf "$repo"
mkdir -p "$repo"
cd "$repo"
git init -q -b main .
git config core.autocrlf false
git config gc.auto 0
commit() {
    GIT_AUTHOR_DATE="2020-01-0${1}T12:00:00+0000" GIT_COMMITTER_DATE="2020-01-0${1}T12:00:00+0000" \
        git commit -q -m "$2"
}
mkdir -p src doc
for i in $(seq 1 40); do
    seq "$i" 3 3000 >"src/file$i.txt"
done
seq 1 20000 | sed 's/^/line /' >doc/big.txt
git add -A && commit 1 "initial import"
for i in $(seq 1 40 | sed -n '1~3p'); do
    seq 1 7 500 >>"src/file$i.txt"
done
sed -i 's/^line 1/LINE 1/' doc/big.txt
git add -A && commit 2 "modify a third of the files"
git mv src/file2.txt src/renamed2.txt
git rm -q src/file5.txt
printf 'new\nfile\n' >doc/new.txt
git add -A && commit 3 "rename, delete, add"
git checkout -q -b side
seq 100 200 >src/side.txt
git add -A && commit 4 "side branch"
git checkout -q main
seq 1 3 9000 >src/file1.txt
git add -A && commit 5 "rewrite file1"
GIT_AUTHOR_DATE="2020-01-06T12:00:00+0000" GIT_COMMITTER_DATE="2020-01-06T12:00:00+0000" \
    git merge -q --no-edit side
git tag -a v1 -m "tag v1"
echo "== log"
git log --stat --graph --decorate
echo "== diff"
git diff HEAD~3 HEAD --stat
git diff HEAD~4 HEAD~1 | md5sum
git diff --numstat main~2 side
echo "== gc"
git gc -q
git repack -q -a -d -f --depth=50 --window=50
git fsck --full --strict --no-progress 2>&1
echo "== objects"
git rev-list --all --objects | sort | md5sum
git cat-file --batch-all-objects --batch-check | sort | md5sum
git count-objects -v | grep -E '^(count|in-pack|packs|garbage):'
git show --stat v1 | head -n 20
git blame -s src/file1.txt | tail -n 3
SCRIPT

lxt_compare git sh "$LXT_TMP/scenario.sh" "$LXT_TMP/repo"
exit 0
