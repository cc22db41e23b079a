#!/bin/bash
# Tables on a terminal fit its width, measured in display cells (CJK and
# emoji are two cells, the ellipsis one), cut at grapheme boundaries; show
# wraps long details under their column; piped tables keep every value whole.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/helpers.sh"

# on_tty COLS CMD: run the shell command CMD on a pseudo-terminal COLS wide,
# without colour; its output without the carriage returns.
on_tty() {
	NO_COLOR=1 script -qec "stty cols $1 rows 50 && $2" /dev/null </dev/null | tr -d '\r'
}

# widest FILE: the display width of FILE's widest line, measured by wc -L in
# a UTF-8 locale (glibc's wcwidth), independently of wr's utf8proc.
widest() {
	LC_ALL=C.UTF-8 wc -L <"$1"
}

LONGWF="非常に長いワークフローの名前でテーブルの幅を超える🚀🚀🚀-nightly-backup-of-everything"
LONGMSG="ディスクがいっぱいです 🚨 the nightly backup of /srv/data could not write its archive because the disk is full; free some space"

test_expect_success TTY 'runs, outbox entries and a long detail with wide characters' '
	created 01900000-0000-7000-8000-00000000aa01 "$LONGWF" 2026-11-20T10:00:01.000Z &&
	started 01900000-0000-7000-8000-00000000aa01 1 2026-11-20T10:00:02.000Z &&
	ev 2026-11-20T10:00:03.000Z attempt.finished "{run: \"01900000-0000-7000-8000-00000000aa01\",
		attempt: 1, outcome: \"error\", duration_ms: 1000, exit_code: 1, reason: \$ARGS.named.msg}" \
		--arg msg "$LONGMSG" &&
	created 01900000-0000-7000-8000-00000000aa02 "日本語" 2026-11-20T10:00:04.000Z &&
	started 01900000-0000-7000-8000-00000000aa02 1 2026-11-20T10:00:05.000Z &&
	created 01900000-0000-7000-8000-00000000aa03 "🇯🇵flag-🚀deploy-café" 2026-11-20T10:00:06.000Z &&
	ev 2026-11-20T10:00:07.000Z run.cancelled "{run: \"01900000-0000-7000-8000-00000000aa03\",
		reason: \$ARGS.named.msg}" --arg msg "$LONGMSG" &&
	wr-outbox add --kind custom --workflow "$LONGWF" --message "$LONGMSG" >id &&
	wr-outbox add --kind custom --workflow "日本語" --message "短い" >id2 &&
	wr-ledger verify
'

for cols in 80 100 200; do
	test_expect_success TTY "wr-watch --all fits $cols columns" '
		on_tty '$cols' "wr-watch --all" >tty.out &&
		test_grep "^RUN " tty.out &&
		test_grep "^0000aa01  " tty.out &&
		test $(widest tty.out) -le '$cols' &&
		test $(widest tty.out) -ge $(('$cols' - 1)) &&
		iconv -f UTF-8 -t UTF-8 tty.out >/dev/null
	'
	test_expect_success TTY "wr-outbox list fits $cols columns" '
		on_tty '$cols' "wr-outbox list" >tty.out &&
		test_grep "^ID " tty.out &&
		test $(wc -l <tty.out) -eq 3 &&
		test $(widest tty.out) -le '$cols' &&
		iconv -f UTF-8 -t UTF-8 tty.out >/dev/null
	'
	test_expect_success TTY "wr-watch show wraps the detail under its column at $cols columns" '
		on_tty '$cols' "wr-watch show 01900000-0000-7000-8000-00000000aa01" >tty.out &&
		test $(widest tty.out) -le '$cols' &&
		iconv -f UTF-8 -t UTF-8 tty.out >/dev/null &&
		tr -d "\n " <tty.out >flat &&
		printf "%s" "$LONGMSG" | tr -d " " >want &&
		grep -qF "$(cat want)" flat
	'
done

for cols in 80 100 200; do
	test_expect_success TTY "wr-watch stats and wr-ledger stats fit $cols columns" '
		on_tty '$cols' "wr-watch stats" >tty.out &&
		test_grep "^  runs  " tty.out &&
		test $(widest tty.out) -le '$cols' &&
		iconv -f UTF-8 -t UTF-8 tty.out >/dev/null &&
		on_tty '$cols' "wr-ledger stats" >tty.out &&
		test_grep "^events  " tty.out &&
		test $(widest tty.out) -le '$cols' &&
		iconv -f UTF-8 -t UTF-8 tty.out >/dev/null
	'
done

# body FILE: FILE without its "(breaker ...)" header lines, spaces and
# line breaks: the words a wrapped text must keep.
body() { grep -v "(breaker " "$1" | tr -d " \n"; }

test_expect_success TTY 'stats on a terminal: the long name cut, long lines wrapped under their value, no word lost' '
	on_tty 80 "wr-watch stats" >tty.out &&
	test_grep "…  \(breaker closed\)$" tty.out &&
	! grep -qF "$LONGWF" tty.out &&
	wr-watch stats >out &&
	on_tty 50 "wr-watch stats" >narrow.out &&
	test $(widest narrow.out) -le 50 &&
	test_grep "^ {14}[^ ]" narrow.out &&
	body out >want && body narrow.out >got && test_cmp want got &&
	wr-ledger stats >out &&
	on_tty 36 "wr-ledger stats" >narrow.out &&
	test $(widest narrow.out) -le 36 &&
	test_grep "^ {12}[^ ]" narrow.out &&
	tr -d " \n" <out >want && tr -d " \n" <narrow.out >got && test_cmp want got
'

test_expect_success 'stats piped: every value whole' '
	wr-watch stats >out &&
	grep -qF "$LONGWF  (breaker closed)" out &&
	! grep -q "…" out &&
	wr-ledger stats >out &&
	grep -qF "file        $WR_LEDGER" out
'

test_expect_success TTY 'at 80 columns the long cells are cut with an ellipsis, the short kept whole' '
	on_tty 80 "wr-watch --all" >tty.out &&
	test_grep "…" tty.out &&
	test_grep "日本語" tty.out &&
	! grep -qF "$LONGWF" tty.out &&
	on_tty 80 "wr-outbox list" >ob.out &&
	test_grep "短い" ob.out &&
	test_grep "…" ob.out
'

test_expect_success TTY 'at 200 columns the short cells of 80 are whole' '
	on_tty 200 "wr-watch --all" >tty.out &&
	grep -qF "🇯🇵flag-🚀deploy-café" tty.out
'

test_expect_success TTY 'continuation lines of a detail start under the DETAIL column' '
	on_tty 80 "wr-watch show 01900000-0000-7000-8000-00000000aa01" >tty.out &&
	head=$(grep -m1 "OFFSET" tty.out) &&
	pre=${head%%DETAIL*} &&
	col=$(printf "%s" "$pre" | LC_ALL=C.UTF-8 wc -L) &&
	grep -n "attempt.finished" tty.out >row &&
	n=$(cut -d: -f1 row) &&
	sed -n "$((n + 1))p" tty.out >cont &&
	test_grep "^ {$col}[^ ]" cont
'

test_expect_success 'piped, every value is whole' '
	wr-watch --all >out &&
	grep -qF "$LONGWF" out &&
	! grep -q "…" out &&
	wr-outbox list >out &&
	grep -qF "$LONGWF" out &&
	grep -qF "$LONGMSG" out &&
	wr-watch show 01900000-0000-7000-8000-00000000aa01 >out &&
	grep -qF "$LONGMSG" out &&
	! grep -q "…" out
'

test_done
