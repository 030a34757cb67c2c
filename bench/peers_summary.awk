# Medians and ratios of bench/peers.sh's runs: awk -v rounds=N -f bench/peers_summary.awk peers.txt
# Input lines: "PROTO NAME_official|NAME_native events=... events_per_second=... cpu_us=...".
# Per pair: the medians of each side, the ratio of the medians, and the range of the per-round
# ratios (the i-th run of ours against the i-th of theirs, run next to each other).
function sorted(list, a,   k, i, j, t) {
  k = split(list, a, " ")
  for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
  return k
}
function median(list,   a, k) {
  k = sorted(list, a)
  return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
function range(ours, theirs, inverse,   o, t, k, i, r, lo, hi) {
  k = split(ours, o, " "); split(theirs, t, " ")
  for (i = 1; i <= k; i++) {
    r = inverse ? t[i] / o[i] : o[i] / t[i]
    if (i == 1 || r < lo) lo = r
    if (i == 1 || r > hi) hi = r
  }
  return sprintf("%.1f-%.1f", lo, hi)
}
{
  name = $2; side = name; sub(/.*_/, "", side); pair = name; sub(/_(official|native)$/, "", pair)
  for (i = 3; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
  key = $1 SUBSEP pair
  if (!(key in seen)) { seen[key] = 1; order[++n] = key }
  eps[key, side] = eps[key, side] " " f["events_per_second"] + 0
  cpu[key, side] = cpu[key, side] " " f["cpu_us"] + 0
  ev[key] = f["events"]
}
END {
  printf "\nOurs against the official clients (%d rounds, sides alternating; medians; x: ours/theirs events/s and theirs/ours CPU per event, of the medians and [per round])\n", rounds
  printf "%-6s %-9s %6s %10s %10s %10s %9s %17s %17s\n", "proto", "pair", "events", "theirs/s",
         "ours/s", "theirs us", "ours us", "x events/s", "x CPU"
  for (i = 1; i <= n; i++) {
    key = order[i]; split(key, kp, SUBSEP)
    eo = median(eps[key, "official"]); en = median(eps[key, "native"])
    co = median(cpu[key, "official"]); cn = median(cpu[key, "native"])
    printf "%-6s %-9s %6s %10.0f %10.0f %10.1f %9.1f %5.1f [%9s] %5.1f [%9s]\n", kp[1], kp[2],
           ev[key], eo, en, co, cn, (eo > 0) ? en / eo : 0,
           range(eps[key, "native"], eps[key, "official"], 0), (cn > 0) ? co / cn : 0,
           range(cpu[key, "native"], cpu[key, "official"], 1)
  }
  print "(us: process CPU time per event, all threads; the emulator runs in its own process)"
  for (i = 1; i <= n; i++) {
    key = order[i]; split(key, kp, SUBSEP)
    if (kp[2] != "c_sync") continue
    eo = median(eps[key, "official"]); en = median(eps[key, "native"])
    printf "c_sync over %s: C sync (cio_track) at %.0f%% of raw libcurl's events/s (one easy handle, the same event POSTed on its kept-alive connection) [per round %s]\n",
           kp[1], (eo > 0) ? 100 * en / eo : 0, range(eps[key, "native"], eps[key, "official"], 0)
  }
}
