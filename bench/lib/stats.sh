# Sourced by the bench/run-* scripts: medians, ratios, and the record bench/run charts.

# med LABEL COL: median of column COL of the samples in $work/LABEL (one run per line).
med() { awk -v col="$2" '{print $col}' "$work/$1" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# ratio A B: A/B to two places ("n/a" when B is not positive).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a/b; else print "n/a" }'; }

# ratio_cell AREA CASE NAME A B: prints "NAME = A/B" for a table's ratio column and, when
# bench/run asked for them (XFER_BENCH_RATIOS names a file), appends the ratio there as
# AREA<TAB>CASE<TAB>NAME<TAB>VALUE for its summary table and chart.
ratio_cell() {
  local r; r=$(ratio "$4" "$5")
  printf '%s = %s' "$3" "$r"
  if [ -n "${XFER_BENCH_RATIOS:-}" ] && [ "$r" != n/a ]; then
    printf '%s\t%s\t%s\t%s\n' "$1" "$(echo "$2" | sed -E 's/ +/ /g')" "$3" "$r" >> "$XFER_BENCH_RATIOS"
  fi
}
