#!/bin/bash
# share/: the crontab lines run as written (cron's PATH given the build's
# binaries first), the systemd units are well-formed and run the tools
# with options they accept, the notifiers the examples name exist.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/lib-eco.sh"

S=$WR_SRC/share

# cron_commands FILE: the command of each crontab line (after 5 fields).
cron_commands() {
	grep -v -E '^[[:space:]]*(#|$|[A-Z_]+=)' "$1" | sed -E 's/^([^ ]+ +){5}//'
}

test_expect_success 'every crontab line has 5 time fields and a wr command' '
	for f in "$S"/cron/*; do
		grep -v -E "^[[:space:]]*(#|\$|[A-Z_]+=)" "$f" >lines &&
		test -s lines &&
		while read -r m h dom mon dow cmd; do
			for x in "$m" "$h" "$dom" "$mon" "$dow"; do
				echo "$x" | grep -q -E "^[0-9*/,-]+\$" || { echo "$f: bad field $x" >&2; return 1; }
			done &&
			case $cmd in wr-*) ;; *) echo "$f: $cmd" >&2; return 1 ;; esac
		done <lines || return 1
	done
'

# A stand-in for mail(1): records its argv and stdin.
test_expect_success 'stubs: mail(1) and a notification sink' '
	mkdir -p bin &&
	printf "%s\n" "#!/bin/sh" "printf \"%s\\n\" \"\$@\" >>\"$TRASH/mail.args\"" "cat >>\"$TRASH/mail.body\"" >bin/mail &&
	chmod +x bin/mail
'

CRONPATH="$WR_BUILD/cmd:$TRASH/bin:$S/notifiers:/usr/bin:/bin"

test_expect_success 'wr-recover.crontab as written: a failed run gets a retry decision' '
	test -f "$S/cron/wr-recover.crontab" &&
	F=0190cccc-0000-7000-8000-00000000f001 &&
	created $F alpha 2026-11-01T10:00:00.000Z &&
	started $F 1 2026-11-01T10:00:01.000Z &&
	finished $F 1 2026-11-01T10:00:02.000Z error 1000 1 &&
	cron_commands "$S/cron/wr-recover.crontab" >cmd &&
	test $(wc -l <cmd) -eq 1 &&
	env -i HOME="$HOME" WR_LEDGER="$WR_LEDGER" PATH="$CRONPATH" sh -c "$(cat cmd)" &&
	jq -s -e "map(select(.type == \"recovery.decided\" and .run == \"$F\")) | length == 1" "$(test_ledger)"
'

test_expect_success 'wr-outbox.crontab as written: an entry is mailed and delivered' '
	wr-outbox add --kind custom --message "hello from cron" >id &&
	cron_commands "$S/cron/wr-outbox.crontab" >cmd &&
	env -i HOME="$HOME" WR_LEDGER="$WR_LEDGER" PATH="$CRONPATH" sh -c "$(cat cmd)" &&
	test_grep "hello from cron" mail.body &&
	test_grep "ops@example.com" mail.args &&
	wr-outbox list --all --json | jq -e -s "map(select(.id == \"$(cat id)\"))[0].state == \"delivered\""
'

test_expect_success 'wr-compact.crontab as written: an old ended run is archived, its logs removed' '
	L="$TRASH/compact.jsonl" &&
	R=0190cccc-0000-7000-8000-00000000c002 &&
	ev_to "$L" 2026-01-01T10:00:00.000Z run.created "{run: \"$R\", workflow: \"old\", argv: [\"x\"], cwd: \"/\",
		labels: {}, policy: {max_attempts: 3}}" &&
	ev_to "$L" 2026-01-01T10:00:01.000Z attempt.started "{run: \"$R\", attempt: 1, host: \"h\", pid: 1, pid_start: 0,
		lease_until: \"2026-01-01T10:05:00.000Z\"}" &&
	ev_to "$L" 2026-01-01T10:00:02.000Z attempt.finished "{run: \"$R\", attempt: 1, outcome: \"success\",
		duration_ms: 1000, exit_code: 0}" &&
	mkdir -p "$L.logs/$R" && echo x >"$L.logs/$R/1.log" &&
	cron_commands "$S/cron/wr-compact.crontab" >cmd &&
	test $(wc -l <cmd) -eq 1 &&
	env -i HOME="$HOME" WR_LEDGER="$L" PATH="$CRONPATH" sh -c "$(cat cmd)" >out 2>err &&
	test_must_be_empty out && test_must_be_empty err &&
	test -s "$L.archive.1" &&
	test ! -e "$L.logs/$R" &&
	head -n 1 "$L" | jq -e ".type == \"ledger.compacted\""
'

# The textfile collector's directory of the metrics examples, here a
# scratch one: the examples run as written but for it.
TEXTFILE=/var/lib/prometheus/node-exporter
mkdir -p "$TRASH/textfile"

test_expect_success 'wr-metrics.crontab as written: promtool accepts what it writes' '
	cron_commands "$S/cron/wr-metrics.crontab" >cmd &&
	test $(wc -l <cmd) -eq 1 &&
	test_grep "$TEXTFILE/wr.prom" cmd &&
	sed "s|$TEXTFILE|$TRASH/textfile|" cmd >cmd.here &&
	env -i HOME="$HOME" WR_LEDGER="$WR_LEDGER" PATH="$CRONPATH" sh -c "$(cat cmd.here)" &&
	promtool check metrics <textfile/wr.prom &&
	test_grep "^wr_runs_total{workflow=\"alpha\"} 1$" textfile/wr.prom
'

test_expect_success 'systemd units: sections, and the timers name their services' '
	for f in "$S"/systemd/*.service; do
		test_grep "^\[Service\]" "$f" && test_grep "^Type=oneshot" "$f" &&
		test_grep "^ExecStart=wr-" "$f" || return 1
		timer=${f%.service}.timer &&
		test -f "$timer" && test_grep "^\[Timer\]" "$timer" && test_grep "^\[Install\]" "$timer" || return 1
	done
'

# (A stream is never compacted: there wr-compact.service runs on the file
# of the crontab's test.)
test_expect_success 'systemd units: ExecStart runs as written' '
	for f in "$S"/systemd/*.service; do
		l=$WR_LEDGER &&
		case $f:$l in */wr-compact.service:nats://*) l=$TRASH/compact.jsonl ;; esac &&
		sed -n "s/^ExecStart=//p" "$f" | sed "s|$TEXTFILE|$TRASH/textfile|" >cmd &&
		env -i HOME="$HOME" WR_LEDGER="$l" PATH="$CRONPATH" sh -c "$(cat cmd)" >out 2>err
		rc=$?
		# 0 done, 1 needs attention (an entry failed: the webhook is an example)
		{ [ $rc -eq 0 ] || [ $rc -eq 1 ]; } || { echo "$f: exit $rc" >&2; cat err >&2; return 1; }
	done
'

test_expect_success 'systemd-analyze verify accepts the units (where it can run)' '
	if command -v systemd-analyze >/dev/null && [ -d /run/systemd/system ]; then
		mkdir -p units && cp "$S"/systemd/* units/ &&
		sed -i "s|^ExecStart=wr-|ExecStart=$WR_BUILD/cmd/wr-|" units/*.service &&
		systemd-analyze verify units/*.timer units/*.service 2>err;
		! grep -v -i "wr-notify\|Unknown\|unit file" err | grep -q .
	fi
'

test_expect_success 'the notifiers the examples name exist' '
	cat "$S"/cron/* "$S"/systemd/* | grep -o "wr-notify-[a-z]*" | sort -u >named &&
	while read -r n; do test -x "$S/notifiers/$n" || { echo "missing $n" >&2; return 1; }; done <named
'

test_done
