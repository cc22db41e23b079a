# failures-last-day.jq - failed attempts (error, timeout, stuck, lost) that
# finished in the last 24 hours, one object per attempt, oldest first per run.
#
#   wr-watch --json --all | jq -c -f failures-last-day.jq
#   wr-watch --json --all | jq -c --arg hours 168 -f failures-last-day.jq   # a week
#
# Input: the runs of 'wr-watch --json --all' (fenced-off events are already
# left out by the reducer). Optional --arg now RFC3339 sets the clock
# (for tests); cancelled attempts are not failures.
def epoch: sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601;
($ARGS.named.now // null | if . then epoch else now end) as $now
| (($ARGS.named.hours // "24") | tonumber) as $hours
| . as $run
| .attempts[]
| select(.finished != null
         and (.outcome | IN("error", "timeout", "stuck", "lost"))
         and (.finished | epoch) >= $now - $hours * 3600)
| {run: $run.run, workflow: $run.workflow, attempt, outcome, exit_code, signal,
   finished, duration_ms, reason, status: $run.status}
