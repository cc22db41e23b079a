#!/bin/bash
# wr-watch show: one run's timeline with offsets, stale events marked,
# heartbeats folded; --json; run lookup by id, prefix and short id.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/helpers.sh"

R1=0190aaaa-0000-7000-8000-0000cccc0001
R2=0190bbbb-0000-7000-8000-0000cccc0002
OB=0190cccc-0000-7000-8000-00000000ob01
T=2026-11-20T10

test_expect_success 'a run with stale events, and another run between' '
	created $R1 nightly $T:00:00.000Z &&
	started $R1 1 $T:00:01.500Z elsewhere 42 0 $T:02:01.500Z &&
	created $R2 other $T:00:02.000Z &&
	ev $T:00:03.000Z attempt.progress "{run: \"$R1\", attempt: 1, stage: \"fetch\", status: \"started\"}" &&
	ev $T:00:31.500Z attempt.heartbeat "{run: \"$R1\", attempt: 1, lease_until: \"$T:02:31.500Z\"}" &&
	ev $T:01:01.500Z attempt.heartbeat "{run: \"$R1\", attempt: 1, lease_until: \"$T:03:01.500Z\"}" &&
	ev $T:01:31.500Z attempt.heartbeat "{run: \"$R1\", attempt: 1, lease_until: \"$T:03:31.500Z\"}" &&
	finished $R1 1 $T:05:00.000Z lost 298500 &&
	ev $T:05:00.000Z outbox.enqueued "{id: \"$OB\", kind: \"lost\", message: \"run cccc0001 was lost\",
		run: \"$R1\", workflow: \"nightly\"}" &&
	ev $T:05:10.000Z attempt.heartbeat "{run: \"$R1\", attempt: 1, lease_until: \"$T:07:10.000Z\"}" &&
	finished $R1 1 $T:05:20.000Z success 318500 0 &&
	decided $R1 1 $T:06:00.000Z retry 1 &&
	started $R1 2 $T:06:30.000Z elsewhere 43 0 $T:08:30.000Z &&
	ev $T:06:40.000Z outbox.claimed "{id: \"$OB\", delivery: \"d1\", lease_until: \"$T:07:40.000Z\"}" &&
	finished $R1 2 $T:07:30.000Z success 60000 0 &&
	wr-ledger verify >out &&
	test_grep ", 2 stale, 0 problems" out
'

test_expect_success 'the timeline: offsets from creation, stale events marked' '
	wr-watch show $R1 >out &&
	cat >expect <<-EOF &&
	run       $R1
	workflow  nightly
	status    succeeded, attempt 2 of 3, 1 recovery, 2 stale events
	command   job --flag
	cwd       /srv
	created   2026-11-20T10:00:00.000Z

	OFFSET  SEQ  EVENT                 DETAIL
	 +0.0s    1  run.created           job --flag  (in /srv)
	 +1.5s    2  attempt.started       attempt 1 on elsewhere pid 42, lease until 2026-11-20T10:02:01.500Z
	 +3.0s    4  attempt.progress      attempt 1 stage fetch started
	+1m31s  5-7  attempt.heartbeat x3  attempt 1, lease until 2026-11-20T10:03:31.500Z
	   +5m    8  attempt.finished      attempt 1 lost after 4m58s
	   +5m    9  outbox.enqueued       lost: run cccc0001 was lost
	+5m10s   10  attempt.heartbeat     STALE (event after the attempt finished): attempt 1, lease until 2026-11-20T10:07:10.000Z
	+5m20s   11  attempt.finished      STALE (second finish of the attempt): attempt 1 success, exit 0 after 5m18s
	   +6m   12  recovery.decided      retry after attempt 1 (recoveries 1)
	+6m30s   13  attempt.started       attempt 2 on elsewhere pid 43, lease until 2026-11-20T10:08:30.000Z
	+6m40s   14  outbox.claimed        entry 0000ob01
	+7m30s   15  attempt.finished      attempt 2 success, exit 0 after 1m
	EOF
	test_cmp expect out
'

test_expect_success '--json: the events as recorded with a stale flag' '
	wr-watch show --json $R1 >out &&
	test $(wc -l <out) -eq 14 &&
	jq -e -s "map(.seq) == [1,2,4,5,6,7,8,9,10,11,12,13,14,15]" out &&
	jq -e -s "map(select(.stale) | .seq) == [10, 11]" out &&
	jq -e -s "map(select(.stale | not) | has(\"stale_reason\")) | any | not" out &&
	jq -e -s ".[9].stale_reason == \"second finish of the attempt\"" out &&
	jq -e -s ".[6] | .type == \"attempt.finished\" and .outcome == \"lost\" and .by == \"test/1\" and .stale == false" out
'

test_expect_success 'a prefix or the short id of the table is enough' '
	wr-watch show --json 0190a >a &&
	test_cmp out a &&
	wr-watch show --json cccc0001 >b &&
	test_cmp out b &&
	wr-watch show cccc0002 >c &&
	test_grep "^workflow  other" c &&
	test $(grep -c "run.created" c) -eq 1
'

test_expect_success 'an ambiguous or unknown RUN is a usage error listing the candidates' '
	test_expect_code 2 wr-watch show 0190 2>err &&
	test_grep "^wr-watch: run .0190. is ambiguous" err &&
	test_grep "^  $R1  nightly" err &&
	test_grep "^  $R2  other" err &&
	test_expect_code 2 wr-watch show nope 2>err &&
	test_grep "no run .nope. in the ledger" err &&
	test_expect_code 2 wr-watch show 2>err &&
	test_grep "show needs a RUN" err &&
	test_expect_code 2 wr-watch show a b 2>err
'

OLD=0190eeee-0000-7000-8000-0000eeee0001

test_expect_success FILE_LEDGER 'a compacted run is found in its archive, which show names' '
	created $OLD archived-wf 2026-01-01T00:00:00.000Z &&
	: "a run that stays live between: the archive has a seq gap" &&
	created 0190eeee-0000-7000-8000-0000eeee0002 live-wf 2026-01-01T00:00:00.500Z &&
	started $OLD 1 2026-01-01T00:00:01.000Z &&
	finished $OLD 1 2026-01-01T00:00:03.000Z success 2000 0 &&
	wr-ledger compact --keep 1d >out &&
	test -f "$WR_LEDGER.archive.1" &&
	wr-watch --all --json >all &&
	test_must_fail grep -q $OLD all &&
	wr-watch show eeee0001 >out 2>err &&
	test_must_be_empty err &&
	test_grep "^archived  in $WR_LEDGER.archive.1 " out &&
	test_grep "^workflow  archived-wf$" out &&
	test_grep "attempt.finished" out &&
	wr-watch show --json $OLD >out &&
	test $(wc -l <out) -eq 3 &&
	jq -r .archive out >archives.all &&
	sort -u archives.all >archives &&
	echo "$WR_LEDGER.archive.1" >want &&
	test_cmp want archives
'

test_expect_success FILE_LEDGER 'an archive segment read as a ledger: no seq-gap warning, never written' '
	jq -s "[.[].seq] | . as \$s | [range(1; length) | select(\$s[.] != \$s[. - 1] + 1)] | length > 0" \
		"$WR_LEDGER.archive.1" >gaps &&
	echo true >want && test_cmp want gaps &&
	wr-watch --ledger "$WR_LEDGER.archive.1" --all >out 2>err &&
	test_must_be_empty err &&
	test_grep "^eeee0001 " out &&
	wr-watch --ledger "$WR_LEDGER.archive.1" show $OLD >out 2>err &&
	test_must_be_empty err &&
	wr-watch --ledger "$WR_LEDGER.archive.1" stats --json >out 2>err &&
	test_must_be_empty err &&
	cp "$WR_LEDGER.archive.1" seg.before &&
	test_expect_code 74 wr-watch --ledger "$WR_LEDGER.archive.1" check 2>err &&
	test_grep "is an archive segment" err &&
	test_cmp seg.before "$WR_LEDGER.archive.1"
'

test_done
