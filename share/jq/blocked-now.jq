# blocked-now.jq - runs blocked now (escalated to a human), with what a
# human needs to act: why, since when, the command and where it ran.
#
#   wr-watch --json --all | jq -c -f blocked-now.jq
#   wr-watch --json --all | jq -r -f blocked-now.jq --arg format text
#
# Input: the runs of 'wr-watch --json --all'. Then 'wr-recover unblock RUN'
# or 'wr-recover cancel RUN'.
select(.status == "blocked")
| {run, workflow, attempts: .attempt, max_attempts, since: .updated, reason, note,
   last_outcome: (.attempts | last | .outcome? // null),
   command: (.argv | map(tostring) | join(" ")), cwd}
| if ($ARGS.named.format // "json") == "text"
  then "\(.run[-8:])  \(.workflow)  since \(.since)  \(.reason // "-")  \(.command)"
  else . end
