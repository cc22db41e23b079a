#!/usr/bin/env bash
# security.sh - what wr refuses and what it never records (issue 7).
#   - no system(), popen() or shell strings in core/ and cmd/;
#   - a ledger or lock file owned by another user, or writable by group or
#     others, is refused; so is a symlinked ledger into another's file;
#   - only argv and cwd of a run are recorded, never the environment;
#   - outbox data reaches the delivery command only on stdin.
. "$(dirname "$0")/lib.sh"

test_expect_success 'no system(), popen() or shell strings in core/ and cmd/' '
	{ ! grep -rnE "\\bsystem *\\(|\\bpopen *\\(|sh -c|/bin/sh|\\bexecl *\\(|\\bexeclp *\\(" \
		"$WR_SRC/core" "$WR_SRC/cmd" >shell.hits ||
	{ cat shell.hits; false; }; }
'

# refused CMD...: fails (not a crash) with "refusing" on stderr, the ledger
# unchanged.
refused() {
	local rc
	if [ -f "$WR_LEDGER" ]; then cp -p "$WR_LEDGER" before.jsonl; else : >before.jsonl; fi
	timeout -s KILL 30 "$@" >ref.out 2>ref.err
	rc=$?
	not_crashed $rc ref.err || return 1
	[ $rc -eq 74 ] || [ $rc -eq 125 ] || { echo "exit $rc (want 74 or 125): $*" >&2; cat ref.err >&2; return 1; }
	grep -q "refusing" ref.err || { echo "no refusal in: $(cat ref.err)" >&2; return 1; }
	[ ! -f "$WR_LEDGER" ] || cmp before.jsonl "$WR_LEDGER"
}

# Every tool that opens the ledger, reader or writer.
all_refuse() {
	refused "$C" commit &&
	refused "$C" check &&
	refused wr-ledger verify &&
	refused wr-ledger stats &&
	refused wr-ledger repair &&
	refused wr-watch --all &&
	refused wr-outbox add --kind custom --message x &&
	{ refused wr-run -- touch started && test ! -e started; } &&
	refused wr-recover
}

test_expect_success 'a ledger writable by group or others is refused' '
	"$C" commit --count 2 >/dev/null &&
	chmod 0620 "$WR_LEDGER" && all_refuse &&
	chmod 0606 "$WR_LEDGER" && all_refuse &&
	chmod 0600 "$WR_LEDGER" && "$C" commit >/dev/null
'

test_expect_success 'a lock file writable by others is refused by writers' '
	chmod 0666 "$WR_LEDGER.lock" &&
	refused "$C" commit && refused wr-ledger repair &&
	refused wr-outbox add --kind custom --message x &&
	chmod 0600 "$WR_LEDGER.lock" && "$C" commit >/dev/null
'

if [ "$(id -u)" -eq 0 ]; then
	test_expect_success 'a ledger owned by another user: every writer refuses it, root reads it' '
		chown 65534 "$WR_LEDGER" &&
		refused "$C" commit &&
		refused wr-ledger repair &&
		refused wr-outbox add --kind custom --message x &&
		{ refused wr-run -- touch started && test ! -e started; } &&
		refused wr-recover &&
		cp -p "$WR_LEDGER" before.jsonl &&
		wr-ledger verify >/dev/null && wr-ledger stats >/dev/null && wr-watch --all >/dev/null &&
		cmp before.jsonl "$WR_LEDGER" &&
		chown 0 "$WR_LEDGER"
	'
	test_expect_success 'a lock file owned by another user is refused' '
		chown 65534 "$WR_LEDGER.lock" &&
		refused "$C" commit && wr-ledger verify >/dev/null &&
		{ refused wr-run -- touch started && test ! -e started; } &&
		chown 0 "$WR_LEDGER.lock"
	'
	test_expect_success 'a symlinked ledger into another user'"'"'s file is refused' '
		mkdir -p other && WR_LEDGER=$TRASH/other/ledger.jsonl "$C" commit >/dev/null &&
		chown -R 65534 other && cp -p other/ledger.jsonl other.before &&
		ln -s "$TRASH/other/ledger.jsonl" link.jsonl &&
		WR_LEDGER=$TRASH/link.jsonl all_refuse &&
		cmp other.before other/ledger.jsonl
	'
else
	test_skip 'files owned by another user are refused' 'needs root for chown'
fi

test_expect_success 'a ledger that is not a regular file (a FIFO) is refused, nobody hangs' '
	mkfifo fifo.jsonl &&
	WR_LEDGER=$TRASH/fifo.jsonl all_refuse
'

# A directory others can write to (issue 12, item 9): they could replace
# the ledger or its lock file. Readers and writers refuse it, saying why
# and which mode to use; nothing is created there.
test_expect_success 'a ledger in a group- or world-writable directory is refused' '
	mkdir -m 0700 shared && WR_LEDGER=$TRASH/shared/ledger.jsonl "$C" commit --count 2 >/dev/null &&
	for mode in 0770 0707 1777; do
		chmod $mode shared &&
		WR_LEDGER=$TRASH/shared/ledger.jsonl all_refuse &&
		grep -Eq "directory $TRASH/shared is writable by (group [^ ]+|others) \(mode $mode\).*chmod 0700 $TRASH/shared" ref.err ||
		return 1
	done &&
	mkdir -m 0777 loose && chmod 0777 loose &&
	WR_LEDGER=$TRASH/loose/new.jsonl refused "$C" commit &&
	test ! -e loose/new.jsonl && test ! -e loose/new.jsonl.lock &&
	chmod 0700 shared && WR_LEDGER=$TRASH/shared/ledger.jsonl "$C" commit >/dev/null &&
	WR_LEDGER=$TRASH/shared/ledger.jsonl wr-ledger verify >/dev/null
'

test_expect_success 'wr-run records argv and cwd, never the environment' '
	SECRET=s3cr3t-$$-$RANDOM &&
	WR_SECRET_TOKEN=$SECRET AWS_SECRET_ACCESS_KEY=$SECRET wr-run --workflow sec -- env >env.out 2>env.err &&
	grep -q "$SECRET" env.out &&
	! grep -q "$SECRET" "$WR_LEDGER" &&
	jq -c "select(.type == \"run.created\" and .workflow == \"sec\") | [.argv, .cwd]" "$WR_LEDGER" >rec.out &&
	echo "[[\"env\"],\"$TRASH\"]" >rec.want && test_cmp rec.want rec.out &&
	! jq -e "select(.workflow == \"sec\") | .. | objects | select(has(\"env\") or has(\"environ\") or has(\"environment\"))" "$WR_LEDGER" >/dev/null
'

# Header injection through a notifier (issue 12, item 7): an imported id
# with CR/LF and a second Host: is refused where it enters, naming file,
# line and field; the shipped notifiers refuse or neutralise what goes into
# headers and arguments.
test_expect_success 'an imported id with CR/LF and a second Host: is refused, naming file, line, field' '
	printf "%s\n" \
		"{\"id\":\"ok-1\",\"kind\":\"custom\",\"message\":\"m\",\"timestamp\":\"2025-05-01T08:00:00.000Z\",\"workflowId\":\"w\",\"reason\":null}" \
		"{\"id\":\"x\\r\\nHost: evil.example\",\"kind\":\"custom\",\"message\":\"m\",\"timestamp\":\"2025-05-01T08:00:00.000Z\",\"workflowId\":\"w\",\"reason\":null}" \
		"{\"id\":\"-rf\",\"kind\":\"custom\",\"message\":\"m\",\"timestamp\":\"2025-05-01T08:00:00.000Z\",\"workflowId\":\"w\",\"reason\":null}" \
		"{\"id\":\"$(printf %0129d 0)\",\"kind\":\"custom\",\"message\":\"m\",\"timestamp\":\"2025-05-01T08:00:00.000Z\",\"workflowId\":\"w\",\"reason\":null}" \
		>inject.jsonl &&
	test_expect_code 1 wr-outbox import inject.jsonl >imp.out 2>imp.err &&
	test_grep "^wr-outbox: inject.jsonl:2: field \"id\": expected 1 to 128 of" imp.err &&
	test_grep "^wr-outbox: inject.jsonl:3: field \"id\"" imp.err &&
	test_grep "^wr-outbox: inject.jsonl:4: field \"id\"" imp.err &&
	test_grep ": 1 imported, 0 already there, 3 bad lines" imp.out &&
	! grep -q "evil" "$WR_LEDGER"
'

# fake_bin NAME: a recorder in bin/ that writes its argv (one per line) and
# stdin to rec.NAME.*
fake_bin() {
	mkdir -p bin &&
	printf "#!/bin/sh\nprintf \"%%s\\\\n\" \"\$@\" >\"%s/rec.%s.argv\"\ncat >\"%s/rec.%s.stdin\"\n" \
		"$TRASH" "$1" "$TRASH" "$1" >"bin/$1" &&
	chmod +x "bin/$1"
}

test_expect_success 'wr-notify-webhook refuses an id that would inject a header' '
	fake_bin curl && rm -f rec.curl.* &&
	echo "{}" >entry.json &&
	{ PATH=$TRASH/bin:$PATH WR_OUTBOX_ID="$(printf "x\r\nHost: evil.example")" \
		"$WR_SRC/share/notifiers/wr-notify-webhook" https://hooks.example/wr <entry.json 2>hook.err; rc=$?; } &&
	test "$rc" = 65 && test_grep "refusing WR_OUTBOX_ID" hook.err && test ! -e rec.curl.argv &&
	{ PATH=$TRASH/bin:$PATH WR_OUTBOX_ID="$(printf %0129d 0)" \
		"$WR_SRC/share/notifiers/wr-notify-webhook" https://hooks.example/wr <entry.json 2>hook.err; rc=$?; } &&
	test "$rc" = 65 && test ! -e rec.curl.argv &&
	PATH=$TRASH/bin:$PATH WR_OUTBOX_ID=01a230fc-0daa-795f-885b-679bddbc0231 \
		"$WR_SRC/share/notifiers/wr-notify-webhook" https://hooks.example/wr <entry.json &&
	test_grep "^Idempotency-Key: 01a230fc-0daa-795f-885b-679bddbc0231$" rec.curl.argv
'

test_expect_success 'wr-notify-mail keeps the subject one line: no CR, LF, C1 or line separators' '
	fake_bin mail && rm -f rec.mail.* &&
	jq -n -c "{kind: \"custom\", workflow: \"w\r\nBcc: a@evil.example\", message: \"m\nX-Evil: 1\u0085N\u2028L\"}" >entry.json &&
	PATH=$TRASH/bin:$PATH "$WR_SRC/share/notifiers/wr-notify-mail" ops@example.com <entry.json &&
	sed -n 2p rec.mail.argv >subject &&
	test_grep "^\[wr\] custom: w  Bcc: a@evil.example: m X-Evil: 1 N L$" subject &&
	test $(wc -l <rec.mail.argv) -eq 4 &&
	! LC_ALL=C grep -q "$(printf "\302\205")" rec.mail.argv
'

test_expect_success 'outbox data reaches the delivery command only on stdin' '
	cat >recorder <<-\EOF &&
	#!/bin/sh
	cat >"$REC_DIR/stdin.$$"
	printf "%s\n" "$0" "$@" >"$REC_DIR/argv.$$"
	env >"$REC_DIR/env.$$"
	EOF
	chmod +x recorder && mkdir rec &&
	MSG="hostile \$(touch pwned1) \`touch pwned2\`; touch pwned3 | %s %n \" '"'"' MARK-$$" &&
	wr-outbox add --kind custom --message "$MSG" >add.out &&
	if ! REC_DIR=$TRASH/rec wr-outbox deliver -- ./recorder >deliver.out 2>deliver.err; then
		echo "wr-outbox deliver failed:" >&2 && cat deliver.out deliver.err >&2 && ls -l rec >&2 && false
	fi &&
	cat rec/stdin.* >stdin.all && test_grep "MARK-$$" stdin.all &&
	jq -e --arg m "$MSG" "select(.message == \$m)" stdin.all >/dev/null &&
	if grep "MARK-$$" rec/argv.* rec/env.* >&2; then
		echo "the message reached argv or the environment (above)" >&2 && false
	fi &&
	test ! -e pwned1 && test ! -e pwned2 && test ! -e pwned3
'

test_done
