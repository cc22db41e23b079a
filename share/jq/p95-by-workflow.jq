# p95-by-workflow.jq - the 95th percentile (nearest rank, as 'wr-watch
# stats') of the duration of successful attempts, per workflow.
#
#   wr-watch --json --all | jq -s -c -f p95-by-workflow.jq
#
# Input (slurped with -s): the runs of 'wr-watch --json --all'. Output: one
# object per workflow, by name: workflow, count, p50_ms, p95_ms, max_ms.
def rank($p): (length * $p | ceil) as $k | .[(if $k < 1 then 0 else $k - 1 end)];
[ .[] | .workflow as $w | .attempts[]
  | select(.outcome == "success" and .duration_ms != null)
  | {workflow: $w, ms: .duration_ms} ]
| group_by(.workflow)[]
| (map(.ms) | sort) as $d
| {workflow: .[0].workflow, count: ($d | length), p50_ms: ($d | rank(0.5)),
   p95_ms: ($d | rank(0.95)), max_ms: $d[-1]}
