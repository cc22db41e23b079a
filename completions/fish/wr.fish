# fish completion for the wr tools (installed once per tool name: fish
# loads completions/NAME.fish for command NAME; each copy defines all).
# Run ids, workflow names and outbox ids are read from the ledger with the
# tools' --json output (honouring a --ledger on the line) and printed as
# candidates: data is never evaluated.

# __wr_tool NAME: the tool beside the one being completed, else NAME.
function __wr_tool
    set -l w0 (commandline -opc)[1]
    if string match -q -- '*/*' $w0; and test -x (dirname -- $w0)/$argv[1]
        echo (dirname -- $w0)/$argv[1]
    else
        echo $argv[1]
    end
end

# __wr_ledger_opt: the --ledger option on the line, one word per line.
function __wr_ledger_opt
    set -l toks (commandline -opc)
    set -l n (count $toks)
    for i in (seq 2 $n)
        test "$toks[$i]" = --; and break
        if test "$toks[$i]" = --ledger; and test $i -lt $n
            set -l j (math $i + 1)
            printf '%s\n' --ledger $toks[$j]
            return
        else if string match -q -- '--ledger=?*' $toks[$i]
            printf '%s\n' --ledger (string replace -- --ledger= '' $toks[$i])
            return
        end
    end
end

# __wr_json_field FIELD: the string value of FIELD of each JSON line.
function __wr_json_field
    if command -q jq
        jq -r --arg f $argv[1] '.[$f] | strings | select(test("[[:cntrl:]]") | not)' 2>/dev/null
    else
        env LC_ALL=C sed -n 's/^.*"'$argv[1]'":"\(\([^"\\\\]\|\\\\["\\\\/]\)*\)".*$/\1/p' |
            env LC_ALL=C sed 's/\\\\\([\\\\"\/]\)/\1/g'
    end
end

# __wr_runs [wr-watch status options]: short run ids with their workflow,
# then the full ids (fish matches either).
function __wr_runs
    set -l tool (__wr_tool wr-watch)
    set -l ids (command $tool status --json (__wr_ledger_opt) $argv 2>/dev/null | __wr_json_field run)
    for id in $ids
        printf '%s\t%s\n' (string sub -s -8 -- $id) run
    end
end

function __wr_workflows
    set -l tool (__wr_tool wr-watch)
    command $tool stats --json (__wr_ledger_opt) 2>/dev/null | __wr_json_field workflow
end

function __wr_outbox_ids
    set -l tool (__wr_tool wr-outbox)
    set -l ids (command $tool (__wr_ledger_opt) list --json $argv 2>/dev/null | __wr_json_field id)
    for id in $ids
        printf '%s\t%s\n' (string sub -s -8 -- $id) notification
    end
end

# __wr_verb: the first word after the command that is not an option or an
# option's value; __wr_verb_is VERB...; __wr_nargs: words after the verb.
function __wr_verb
    set -l toks (commandline -opc)
    set -l with_arg --ledger --workflow -w --status -s --run -r --label -l --since --format --output -o --color --colour --limit --note --reason \
        --format --kind --message --field --max-attempts --backoff --timeout --kill-after --lease --keep --archives-keep --attempt --stream
    set -l skip 0
    for t in $toks[2..-1]
        if test $skip = 1
            set skip 0
            continue
        end
        test "$t" = --; and return 1
        if contains -- $t $with_arg
            set skip 1
            continue
        end
        string match -q -- '-*' $t; and continue
        echo $t
        return 0
    end
    return 1
end

function __wr_no_verb
    not __wr_verb >/dev/null
end

function __wr_verb_is
    contains -- (__wr_verb) $argv
end

# __wr_verb_args_are VERB N: VERB has N plain words after it so far.
function __wr_verb_args_are
    set -l toks (commandline -opc)
    set -l seen 0
    set -l n 0
    for t in $toks[2..-1]
        if test $seen = 1
            string match -q -- '-*' $t; or set n (math $n + 1)
        else if test "$t" = $argv[1]
            set seen 1
        end
    end
    test $seen = 1; and test $n = $argv[2]
end

# ---- wr-run ----
complete -c wr-run -f
complete -c wr-run -l workflow -x -a '(__wr_workflows)' -d 'workflow of a new run'
complete -c wr-run -l run -x -a '(__wr_runs --status failed,retry_wait,blocked)' -d 'continue this run'
complete -c wr-run -l attempt -x -d 'with --run: start this attempt or nothing'
complete -c wr-run -l timeout -x -d 'kill the attempt after DUR'
complete -c wr-run -s k -l kill-after -x -d 'grace between the signal and SIGKILL'
complete -c wr-run -s s -l signal -x -a 'TERM HUP INT QUIT KILL USR1 USR2 ALRM 0' -d 'the signal sent at the timeout'
complete -c wr-run -l preserve-status -d 'exit with the command status even on a timeout'
complete -c wr-run -l foreground -d 'leave the command in the terminal process group'
complete -c wr-run -s v -l verbose -d 'say each signal sent'
complete -c wr-run -l quiet-on-success -d 'print the output only when the attempt fails'
complete -c wr-run -l print-id -d 'print the run id on stderr'
complete -c wr-run -l no-output -x -d 'stuck after no output for DUR'
complete -c wr-run -l heartbeat -x -d 'heartbeat every DUR'
complete -c wr-run -l lease -x -d 'lease extended by each heartbeat'
complete -c wr-run -l stuck-repeat -x -d 'stuck after the same line N times'
complete -c wr-run -l no-progress -x -d 'stuck after no progress for DUR'
complete -c wr-run -l stuck-repeat-tool -x -d 'stuck after the same tool call N times'
complete -c wr-run -l no-progress-turns -x -d 'stuck after N turns without a stage line'
complete -c wr-run -l max-turns -x -d 'end the attempt at turn N'
complete -c wr-run -l stuck-action -x -a 'abort notify' -d 'what to do when stuck'
complete -c wr-run -l max-attempts -x -d 'attempts in all'
complete -c wr-run -l backoff -x -d 'INITIAL,FACTOR,MAX'
complete -c wr-run -l deadline -x -d 'the whole run ends after DUR'
complete -c wr-run -l no-retry-on -x -d 'exit codes that are final'
complete -c wr-run -l concurrency -x -d 'at most N running attempts'
complete -c wr-run -l expect-every -x -d 'expect a success of the workflow every DUR'
complete -c wr-run -l grace -x -d 'slack after each due time'
complete -c wr-run -l wait -d 'queue at the concurrency limit'
complete -c wr-run -l no-wait -d 'reject at the concurrency limit'
complete -c wr-run -l log -r -F -d 'append the output to FILE'
complete -c wr-run -l label -x -d 'a label K=V'
complete -c wr-run -l ledger -r -F -d 'the ledger'
complete -c wr-run -s h -l help -d 'show the help'
complete -c wr-run -l version -d 'show the version'
complete -c wr-run -n 'contains -- -- (commandline -opc)' -a '(__fish_complete_subcommand -- --)'

# ---- wr-watch ----
set -l __wr_watch_verbs status show logs follow check expect stats plot report
complete -c wr-watch -f
complete -c wr-watch -n __wr_no_verb -a status -d 'runs that need eyes'
complete -c wr-watch -n __wr_no_verb -a show -d "one run's timeline"
complete -c wr-watch -n __wr_no_verb -a logs -d 'what an attempt printed'
complete -c wr-watch -n '__wr_verb_is logs; and __wr_verb_args_are logs 0' -a '(__wr_runs --all)'
complete -c wr-watch -l attempt -n '__wr_verb_is logs' -x -d 'attempt N (default the last)'
complete -c wr-watch -l stream -n '__wr_verb_is logs' -x -a 'stdout stderr' -d 'only this stream'
complete -c wr-watch -l follow -n '__wr_verb_is logs' -d 'until the attempt ends'
complete -c wr-watch -n __wr_no_verb -a follow -d 'events as they are appended'
complete -c wr-watch -n __wr_no_verb -a check -d 'record lost attempts and overdue workflows'
complete -c wr-watch -n __wr_no_verb -a expect -d 'expected schedules'
complete -c wr-watch -n '__wr_verb_is expect; and __wr_verb_args_are expect 0' -a '(__wr_workflows)'
complete -c wr-watch -l every -n '__wr_verb_is expect' -x -d 'a success is due every DUR'
complete -c wr-watch -l grace -n '__wr_verb_is expect' -x -d 'slack after each due time'
complete -c wr-watch -l clear -n '__wr_verb_is expect' -d 'remove the expectation'
complete -c wr-watch -n __wr_no_verb -a stats -d 'per-workflow figures'
complete -c wr-watch -n __wr_no_verb -a plot -d 'an SVG timeline'
complete -c wr-watch -n __wr_no_verb -a report -d 'an HTML report'
complete -c wr-watch -n '__wr_verb_is show; and __wr_verb_args_are show 0' -a '(__wr_runs --all)'
complete -c wr-watch -l ledger -r -F -d 'the ledger'
complete -c wr-watch -l json -d 'one JSON object per line'
complete -c wr-watch -l color -l colour -x -a 'auto always never' -d 'colour'
complete -c wr-watch -s a -l all -n '__wr_no_verb; or __wr_verb_is status' -d 'every run, ended ones too'
complete -c wr-watch -s w -l workflow -x -a '(__wr_workflows)' -d 'only this workflow'
complete -c wr-watch -s s -l status -n '__wr_no_verb; or __wr_verb_is status' -x \
    -a '(__fish_append , running succeeded failed retry_wait blocked cancelled rejected)' -d 'only these statuses'
complete -c wr-watch -s r -l run -n '__wr_verb_is follow check' -x -a '(__wr_runs --all)' -d 'only this run'
complete -c wr-watch -s l -l label -n '__wr_no_verb; or __wr_verb_is status follow stats' -x -d 'only runs labelled K=V'
complete -c wr-watch -l from-start -n '__wr_verb_is follow' -d 'the events already there first'
complete -c wr-watch -s n -l dry-run -n '__wr_verb_is check' -d 'record nothing'
complete -c wr-watch -l since -n '__wr_verb_is stats' -x -d 'runs created in the last DUR'
complete -c wr-watch -l format -n '__wr_verb_is stats' -x -a 'text prometheus' -d 'output format'
complete -c wr-watch -s o -l output -n '__wr_verb_is stats' -r -F -d 'prometheus: replace FILE atomically'
complete -c wr-watch -l since -n '__wr_verb_is plot report' -x -d 'the last DUR'
complete -c wr-watch -s l -l label -n '__wr_verb_is plot' -x -d 'only runs with KEY=VALUE'
complete -c wr-watch -s h -l help -d 'show the help'
complete -c wr-watch -l version -d 'show the version'

# ---- wr-recover ----
complete -c wr-recover -f
complete -c wr-recover -n __wr_no_verb -a retry -d 'launch now'
complete -c wr-recover -n __wr_no_verb -a unblock -d 'a human fixed it'
complete -c wr-recover -n __wr_no_verb -a cancel -d 'end the run'
complete -c wr-recover -n __wr_no_verb -a breaker -d 'reset a circuit breaker'
complete -c wr-recover -n '__wr_verb_is retry; and __wr_verb_args_are retry 0' -a '(__wr_runs --status failed,retry_wait,blocked)'
complete -c wr-recover -n '__wr_verb_is unblock; and __wr_verb_args_are unblock 0' -a '(__wr_runs --status blocked)'
complete -c wr-recover -n '__wr_verb_is cancel; and __wr_verb_args_are cancel 0' -a '(__wr_runs)'
complete -c wr-recover -n '__wr_verb_is breaker; and __wr_verb_args_are breaker 0' -a '(__wr_workflows)'
complete -c wr-recover -n '__wr_verb_is breaker; and __wr_verb_args_are breaker 1' -a reset
complete -c wr-recover -l ledger -r -F -d 'the ledger'
complete -c wr-recover -l json -d 'one JSON object per decision'
complete -c wr-recover -l dry-run -d 'print the decisions, append nothing'
complete -c wr-recover -l workflow -n __wr_no_verb -x -a '(__wr_workflows)' -d 'only this workflow'
complete -c wr-recover -l limit -n __wr_no_verb -x -d 'at most N runs'
complete -c wr-recover -l force -n '__wr_verb_is retry' -d 'also a blocked run or a final failure'
complete -c wr-recover -l note -n '__wr_verb_is retry unblock' -x -d 'what the human did'
complete -c wr-recover -l reason -n '__wr_verb_is cancel' -x -d 'why'
complete -c wr-recover -s h -l help -d 'show the help'
complete -c wr-recover -l version -d 'show the version'

# ---- wr-outbox ----
complete -c wr-outbox -f
complete -c wr-outbox -n __wr_no_verb -a list -d 'entries not done yet'
complete -c wr-outbox -n __wr_no_verb -a add -d 'enqueue an entry'
complete -c wr-outbox -n __wr_no_verb -a deliver -d 'run a notifier per due entry'
complete -c wr-outbox -n __wr_no_verb -a ack -d 'mark an entry handled'
complete -c wr-outbox -n __wr_no_verb -a retry -d 'revive a dead entry'
complete -c wr-outbox -n __wr_no_verb -a follow -d 'print changes as they happen'
complete -c wr-outbox -n __wr_no_verb -a import -d 'workrail outbox.jsonl lines'
complete -c wr-outbox -n '__wr_verb_is ack; and __wr_verb_args_are ack 0' -a '(__wr_outbox_ids)'
complete -c wr-outbox -n '__wr_verb_is retry; and __wr_verb_args_are retry 0' -a '(__wr_outbox_ids --dead)'
complete -c wr-outbox -n '__wr_verb_is import; and __wr_verb_args_are import 0' -F
complete -c wr-outbox -l ledger -r -F -d 'the ledger'
complete -c wr-outbox -l json -d 'one JSON object per line'
complete -c wr-outbox -l pending -n '__wr_verb_is list' -d 'pending and claimed'
complete -c wr-outbox -l dead -n '__wr_verb_is list' -d 'dead entries'
complete -c wr-outbox -l all -n '__wr_verb_is list' -d 'every entry'
complete -c wr-outbox -l format -n '__wr_verb_is list follow' -x -a 'human json workrail' -d 'output format'
complete -c wr-outbox -l kind -n '__wr_verb_is add' -x \
    -a 'stuck timeout lost failed escalated breaker_open recovered cancelled custom' -d 'the kind'
complete -c wr-outbox -l message -n '__wr_verb_is add' -x -d 'the message'
complete -c wr-outbox -l reason -n '__wr_verb_is add' -x -d 'a reason'
complete -c wr-outbox -l run -n '__wr_verb_is add' -x -a '(__wr_runs --all)' -d 'the run'
complete -c wr-outbox -l workflow -n '__wr_verb_is add' -x -a '(__wr_workflows)' -d 'the workflow'
complete -c wr-outbox -l field -n '__wr_verb_is add' -x -d 'a detail K=V'
complete -c wr-outbox -l max-attempts -n '__wr_verb_is deliver' -x -d 'attempts before dead'
complete -c wr-outbox -l backoff -n '__wr_verb_is deliver' -x -d 'INITIAL,FACTOR,MAX'
complete -c wr-outbox -l timeout -n '__wr_verb_is deliver' -x -d 'kill the notifier after DUR'
complete -c wr-outbox -l kill-after -n '__wr_verb_is deliver' -x -d 'grace before SIGKILL'
complete -c wr-outbox -l lease -n '__wr_verb_is deliver' -x -d 'claim lease'
complete -c wr-outbox -l limit -n '__wr_verb_is deliver' -x -d 'at most N entries'
complete -c wr-outbox -n 'contains -- -- (commandline -opc)' -a '(__fish_complete_subcommand -- --)'
complete -c wr-outbox -s h -l help -d 'show the help'
complete -c wr-outbox -l version -d 'show the version'

# ---- wr-ledger ----
complete -c wr-ledger -f
complete -c wr-ledger -n __wr_no_verb -a verify -d 'check every line'
complete -c wr-ledger -n __wr_no_verb -a repair -d 'quarantine a torn tail'
complete -c wr-ledger -n __wr_no_verb -a compact -d 'archive what ended'
complete -c wr-ledger -n __wr_no_verb -a stats -d 'counts'
complete -c wr-ledger -n __wr_no_verb -a init -d 'create the ledger (a stream)'
complete -c wr-ledger -n __wr_no_verb -a export -d 'write it as JSONL'
complete -c wr-ledger -n __wr_no_verb -a import -d 'load a ledger file'
complete -c wr-ledger -n '__fish_seen_subcommand_from import' -F
complete -c wr-ledger -l replicas -x -a '1 3 5' -d 'init: the copies of a stream'
complete -c wr-ledger -l ledger -r -F -d 'the ledger'
complete -c wr-ledger -l json -d 'one JSON object per line'
complete -c wr-ledger -l keep -x -d 'compact: keep what ended less than DUR ago'
complete -c wr-ledger -l archives-keep -x -d 'compact: delete archive segments older than DUR'
complete -c wr-ledger -l deep -d 'verify: compare the snapshot state with a full replay'
complete -c wr-ledger -s h -l help -d 'show the help'
complete -c wr-ledger -l version -d 'show the version'
