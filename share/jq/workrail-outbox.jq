# workrail-outbox.jq - outbox entries as workrail outbox.jsonl lines: id,
# kind, message, timestamp, workflowId, reason (and issueSummaries when an
# imported entry had them). An entry imported from workrail gets back its
# original kind and timestamp; reason is the machine token (details.reason:
# repeated_output, no_progress, repeated_tool_call, timeout, max_turns, ...)
# when the entry has one (a string of lowercase letters and '_'). Same shape as 'wr-outbox list --format workrail'.
#
#   wr-outbox list --all --json | jq -c -f workrail-outbox.jq > outbox.jsonl
#   jq -c -f workrail-outbox.jq ~/.local/state/wr/ledger.jsonl   # from the ledger itself
#
# Input: entries of 'wr-outbox list --json', or ledger events (only
# outbox.enqueued ones are used; the rest are skipped).
select(.type == null or .type == "outbox.enqueued")
| (.details // {}) as $d
| {id,
   kind: (if ($d.workrail_kind | type) == "string" then $d.workrail_kind else .kind end),
   message,
   timestamp: ($d.timestamp // .created // .ts),
   workflowId: (.workflow // null),
   reason: (if ($d.reason | type) == "string" and ($d.reason | test("^[a-z][a-z_]*$")) then $d.reason
            else (.reason // null) end)}
+ (if $d.issueSummaries != null then {issueSummaries: $d.issueSummaries} else {} end)
