#!/bin/bash
# The shipped notifiers print nothing on success (cron mails what a job
# prints); a notifier's output goes into the entry's recorded error,
# bounded; the entry on the notifier's stdin carries no local ledger path.
. "$(dirname "$0")/../lib.sh"

N=$WR_SRC/share/notifiers

# A curl that answers as a server would: the body to -o FILE (stdout
# without -o), the request body to $TRASH/posted; FAKE_STATUS=500 fails as
# curl -f does.
mkdir -p bin
cat >bin/curl <<'CURL'
#!/bin/sh
out=-
while [ $# -gt 0 ]; do
	case $1 in
	-o) out=$2; shift ;;
	--data-binary) shift ;;
	esac
	shift
done
cat >"$TRASH/posted"
if [ "${FAKE_STATUS:-200}" != 200 ]; then
	echo "curl: (22) The requested URL returned error: $FAKE_STATUS" >&2
	exit 22
fi
if [ "$out" = - ]; then echo '{"ok":true,"response":"body"}'; else echo '{"ok":true}' >"$out"; fi
CURL
chmod +x bin/curl
export PATH="$TRASH/bin:$PATH" TRASH

test_expect_success 'webhook: a delivery prints nothing but its summary' '
	wr-outbox add --kind custom --message "disk full" >id &&
	wr-outbox deliver -- "$N/wr-notify-webhook" https://hooks.example/wr >out 2>err &&
	test_must_be_empty err &&
	test_grep "^delivered " out &&
	test_must_fail test_grep "response" out
'

test_expect_success 'the entry posted carries no ledger path (the notifier gets WR_LEDGER)' '
	jq -e ".id == \"$(cat id)\" and .message == \"disk full\" and (has(\"ledger\") | not)" posted &&
	test_must_fail grep -F "$WR_LEDGER" posted &&
	printf "%s\n" "#!/bin/sh" "cat >/dev/null" "printf %s \"\$WR_LEDGER\" >\"$TRASH/ledger-env\"" >bin/env-notifier &&
	chmod +x bin/env-notifier &&
	wr-outbox add --kind custom --message env >/dev/null &&
	wr-outbox deliver -- env-notifier >out &&
	echo "$WR_LEDGER" >expect && echo >>ledger-env &&
	test_cmp expect ledger-env
'

test_expect_success 'webhook: a failure records curl'"'"'s message with the status' '
	wr-outbox add --kind custom --message "to fail" >id &&
	FAKE_STATUS=500 test_expect_code 1 wr-outbox deliver -- "$N/wr-notify-webhook" https://hooks.example/wr >out 2>err &&
	test_grep "returned error: 500" err &&
	wr-outbox list --json >list &&
	jq -r "select(.id == \"$(cat id)\") | .error" list >error &&
	test_grep "/wr-notify-webhook exited with status 22: curl: \(22\) The requested URL returned error: 500$" error &&
	test_grep "exited with status 22: curl: \(22\) The requested URL returned error: 500" out
'

test_expect_success 'the recorded output is bounded, one line, its cut start marked' '
	printf "%s\n" "#!/bin/sh" "cat >/dev/null" "head -c 100000 /dev/zero | tr \"\\\\0\" x >&2" \
		"printf \"\\\\nlast line\\\\tof \\\\033[31moutput\\\\n\" >&2" "exit 3" >bin/noisy &&
	chmod +x bin/noisy &&
	wr-outbox add --kind custom --message noisy >id &&
	test_expect_code 1 wr-outbox deliver -- noisy >out 2>err &&
	wr-outbox list --json >list &&
	jq -r "select(.id == \"$(cat id)\") | .error" list >error &&
	test $(wc -l <error) = 1 &&
	test $(wc -c <error) -lt 400 &&
	test_grep "^noisy exited with status 3: \.\.\.x+ last line of \[31moutput$" error
'

test_expect_success 'file and mail notifiers print nothing on success' '
	mkdir -p mailbin &&
	printf "%s\n" "#!/bin/sh" "cat >/dev/null" >mailbin/mail && chmod +x mailbin/mail &&
	wr-outbox add --kind custom --message quiet >/dev/null &&
	PATH="$TRASH/mailbin:$PATH" wr-outbox deliver -- "$N/wr-notify-mail" ops@example.com >out 2>err &&
	test_must_be_empty err &&
	wr-outbox add --kind custom --message quiet >/dev/null &&
	wr-outbox deliver -- "$N/wr-notify-file" "$TRASH/notes.jsonl" >out 2>err &&
	test_must_be_empty err &&
	test_grep quiet notes.jsonl
'

test_expect_success 'a shipped notifier named without its directory: the error names the installed one' '
	wr-outbox --help >help &&
	dir=$(sed -n "s/^Notifiers (file, mail, webhook): //p" help) &&
	test -n "$dir" &&
	test_expect_code 2 env PATH="$WR_BUILD/cmd:/usr/bin:/bin" wr-outbox deliver -- wr-notify-mail 2>err &&
	test_grep "cannot run .wr-notify-mail.: not an executable file on PATH; .* are in $dir: give the full path, $dir/wr-notify-mail$" err &&
	test_expect_code 2 env PATH="$WR_BUILD/cmd:/usr/bin:/bin" wr-outbox deliver -- no-such-notifier 2>err &&
	test_grep "cannot run .no-such-notifier.: not an executable file on PATH$" err
'

test_expect_success 'the mail notifier puts the last lines of a failed attempt in the body, as text' '
	printf "%s\n" "#!/bin/sh" "printf \"%s\\\\n\" \"\$@\" >\"$TRASH/mail.args\"" "cat >\"$TRASH/mail.body\"" >mailbin/mail &&
	chmod +x mailbin/mail &&
	export WR_LEDGER="$TRASH/mail.jsonl" &&
	test_expect_code 4 wr-run --workflow job --max-attempts 1 -- sh -c "echo step one; echo disk full >&2; exit 4" \
		>/dev/null 2>job.err &&
	PATH="$TRASH/mailbin:$PATH" wr-outbox deliver -- "$N/wr-notify-mail" ops@example.com >out 2>err &&
	test_must_be_empty err &&
	test_grep "^\[wr\] failed: job: run " mail.args &&
	sed -n "/^--- the last lines of its stderr ---$/,\$p" mail.body >tail &&
	printf "%s\n" "--- the last lines of its stderr ---" "disk full" "" "--- the last lines of its stdout ---" "step one" >want &&
	test_cmp want tail
'

test_done
