# perl under lxmalloc: hashes of arrays, sorting, regular expressions, string
# building, sprintf, nested structures dumped with sorted keys, and a big split
# and join; the output must match the run without LD_PRELOAD byte for byte.
# LXT_SCALE=soak runs ten times the work.
. "$(dirname "$0")/common.sh"
lxt_need perl
lxt_check_preload
N=200000
[ "${LXT_SCALE:-}" = soak ] && N=2000000

cat >"$LXT_TMP/work.pl" <<'PERL'
use strict;
use warnings;
use Data::Dumper;
$Data::Dumper::Sortkeys = 1;
$Data::Dumper::Indent = 1;
my $n = shift;
my (%h, @a, %words);
for my $i (1 .. $n) {
    my $k = sprintf("key%06d", ($i * 7919) % ($n / 2));
    push @{ $h{$k} }, $i;
    push @a, [ $i, $k, "x" x ($i % 37) ];
    $words{ substr($k, 3 + $i % 3, 3) }++;
}
print scalar(keys %h), " keys, ", scalar(@a), " rows\n";
my @sorted = sort { @{ $h{$b} } <=> @{ $h{$a} } or $a cmp $b } keys %h;
print "top: @sorted[0 .. 4]\n";
my $text = join(",", map { $_->[1] . ":" . length($_->[2]) } @a[0 .. 50000]);
my @m = ($text =~ /key(\d\d)1(\d+):(3\d)/g);
print scalar(@m), " matches, first @m[0 .. 5]\n";
(my $t2 = $text) =~ s/key0*(\d+)/K$1/g;
print length($t2), " ", substr($t2, 0, 60), "\n";
my %rev = reverse %words;
print scalar(keys %rev), " distinct counts\n";
my $deep = { map { ($_ => { list => [ 1 .. $_ % 9 ], name => "n$_", sub => { v => $_ * 2 } }) } 1 .. 300 };
my $dump = Dumper($deep);
print length($dump), "\n", substr($dump, 0, 200), "\n";
my @parts = split /,/, $text;
print scalar(@parts), " parts, ", length(join("|", reverse @parts)), " joined\n";
undef %h;
undef @a;
my $s = "";
$s .= chr(65 + $_ % 26) for 1 .. $n;
print length($s), " ", ($s =~ tr/A//), "\n";
PERL

lxt_compare work perl "$LXT_TMP/work.pl" "$N"
exit 0
