#!/bin/bash
# wr-watch status: workflow names in CJK, emoji and combining marks keep the
# table's columns aligned (display widths, not bytes), and long names are
# kept whole in a pipe and cut with an ellipsis at a grapheme boundary on a
# narrow terminal.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/helpers.sh"

# Display width of each line of a file, measured by wc -L in a UTF-8 locale
# (glibc's wcwidth), independently of wr's utf8proc.
widths() {
	while IFS= read -r line; do
		printf '%s\n' "$line" | LC_ALL=C.UTF-8 wc -L
	done <"$1"
}

test_expect_success 'runs of workflows with wide and zero-width characters' '
	n=0 &&
	for wf in ascii "日本語" "🚀deploy" "cafe\\u0301" "e\\u0301\\u0301x" "🇯🇵flag" \
		"非常に長いワークフローの名前でテーブルの幅を超える"; do
		n=$((n + 1)) &&
		ev 2026-11-20T10:00:0$n.000Z run.created "{run: \"01900000-0000-7000-8000-0000bbbb000$n\",
			workflow: \"$wf\", argv: [\"x\"], cwd: \"/\", policy: {}}" || return 1
	done &&
	wr-ledger verify &&
	test $(wc -l <"$(test_ledger)") -eq 7
'

test_expect_success 'every STATUS column starts at the same display column' '
	wr-watch >out &&
	test $(wc -l <out) -eq 8 &&
	sed -E "s/(STATUS|running) .*//" out >prefix &&
	widths prefix | sort -u >w &&
	test $(wc -l <w) -eq 1 &&
	test $(cat w) -eq 62
'

test_expect_success TTY 'on an 80-column terminal too' '
	NO_COLOR=1 script -qec "stty cols 80 && wr-watch" /dev/null </dev/null | tr -d "\r" >tty &&
	test $(wc -l <tty) -eq 8 &&
	sed -E "s/(STATUS|running) .*//" tty >prefix &&
	widths prefix | sort -u >w &&
	test $(wc -l <w) -eq 1
'

test_expect_success 'the same for every later column (ATTEMPT, CREATED)' '
	sed -E "s/(ATTEMPT|0\/3) .*//" out >prefix &&
	widths prefix | sort -u >w &&
	test $(wc -l <w) -eq 1 &&
	sed -E "s/(CREATED|2026-).*//" out >prefix &&
	widths prefix | sort -u >w &&
	test $(wc -l <w) -eq 1
'

test_expect_success TTY 'a long name is whole in a pipe, cut on a narrow terminal at a grapheme boundary' '
	test_grep "^bbbb0007  非常に長いワークフローの名前でテーブルの幅を超える  running" out &&
	grep "^bbbb0007" tty >long &&
	test_grep "^bbbb0007  非常に[^ ]*…  +running" long &&
	sed -E "s/^bbbb0007  //; s/  +running.*//" long >cell &&
	test $(($(LC_ALL=C.UTF-8 wc -L <cell) % 2)) -eq 1 &&
	iconv -f UTF-8 -t UTF-8 tty >/dev/null
'

test_expect_success 'combining marks stay with their letter' '
	test_grep "^bbbb0004  cafe$(printf "\314\201") " out &&
	test_grep "^bbbb0005  e$(printf "\314\201\314\201")x " out
'

test_expect_success '--json keeps the names exactly as recorded' '
	wr-watch --json >out &&
	jq -r .workflow out >names &&
	printf "%s\n" ascii "日本語" "🚀deploy" "cafe$(printf "\314\201")" "e$(printf "\314\201\314\201")x" \
		"🇯🇵flag" "非常に長いワークフローの名前でテーブルの幅を超える" >expect &&
	test_cmp expect names
'

test_done
