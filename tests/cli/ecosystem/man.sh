#!/bin/bash
# The man pages: each renders without a warning (groff -man -ww -z), has
# the sections a reader looks for, and names every long option and every
# exit status its tool's --help prints.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/lib-eco.sh"

MAN=$WR_BUILD/share  # the pages as installed: @WR_DATADIR@ filled in

if ! command -v groff >/dev/null; then
	test_skip "man pages" "groff is not installed (scripts/deps.sh installs groff-base)"
	test_done
	exit
fi

for page in $WR_TOOLS wr; do
	f=$MAN/$page.1
	[ $page = wr ] && f=$MAN/wr.7
	test_expect_success "$page: renders without warnings" '
		test -f '$f' &&
		groff -man -ww -z '$f' 2>warnings &&
		test_must_be_empty warnings
	'
	test_expect_success "$page: renders as text with its name" '
		groff -man -Tutf8 -P-cbou '$f' >text 2>/dev/null &&
		test_grep "^NAME" text && test_grep "^SYNOPSIS|^DESCRIPTION" text &&
		test_grep "^SEE ALSO" text
	'
done

for t in $WR_TOOLS; do
	f=$MAN/$t.1
	test_expect_success "$t.1: the sections of a tool page" '
		for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
			grep -q "^\.SH \"*$s\"*\$" '$f' || { echo "missing section $s" >&2; return 1; }
		done
	'
	test_expect_success "$t.1: every long option of --help is in the page" '
		'$t' --help >help &&
		grep -o -E -- "--[a-z][a-z-]+" help | sort -u >options &&
		test -s options &&
		sed "s/\\\\-/-/g" '$f' >page &&
		missing= &&
		while read -r o; do
			grep -q -E -- "$o([^A-Za-z0-9-]|\$)" page || missing="$missing $o"
		done <options &&
		{ test -z "$missing" || { echo "not in $t.1:$missing" >&2; false; }; }
	'
	test_expect_success "$t.1: every short option of --help is in the page" '
		'$t' --help >help &&
		{ grep -o -E "^ +-[a-zA-Z]," help | tr -d " ," | sort -u >short || :; } &&
		sed "s/\\\\-/-/g" '$f' >page &&
		while read -r o; do
			grep -q -E -- "$o([^a-zA-Z-]|\$)" page || { echo "$o is not in $t.1" >&2; return 1; }
		done <short
	'
	test_expect_success "$t.1: the exit statuses of --help are in EXIT STATUS" '
		'$t' --help >help &&
		sed -n "/^\.SH EXIT STATUS/,/^\.SH /p" '$f' >exits &&
		for code in $(if [ '$t' = wr-run ]; then echo 123 124 125 126 127 75; else echo 0 1 2 74 75; fi); do
			grep -q -E "(^|[ B])$code\$|^\.B $code\$" exits || { echo "exit $code is not in $t.1" >&2; return 1; }
		done
	'
	test_expect_success "$t.1: man(1) shows it" '
		if command -v man >/dev/null; then
			MANWIDTH=80 man -l '$f' >shown 2>err && test_grep "'$t'" shown
		fi
	'
done

test_expect_success "the environment of the pages" '
	grep -q "^\.B WR_LEDGER\$" $MAN/wr-run.1 &&
	for v in WR_RUN WR_WORKFLOW WR_ATTEMPT WR_STAGES_DONE WR_PROGRESS_FD WR_LOCK_TIMEOUT XDG_STATE_HOME; do
		grep -q "^\.B $v\$" $MAN/wr-run.1 || { echo "wr-run.1: $v" >&2; return 1; }
	done &&
	grep -q "^\.B NO_COLOR\$" $MAN/wr-watch.1 &&
	for v in WR_OUTBOX_ID WR_OUTBOX_DELIVERY WR_OUTBOX_ATTEMPT WR_OUTBOX_KIND; do
		grep -q "^\.B $v\$" $MAN/wr-outbox.1 || { echo "wr-outbox.1: $v" >&2; return 1; }
	done
'

test_expect_success "wr-outbox.1: the environment the notifier gets is what deliver sets" '
	for v in $(grep -o "WR_OUTBOX_[A-Z]*" "$WR_SRC/cmd/wr-outbox.c" | sort -u); do
		grep -q "^\.B $v\$" $MAN/wr-outbox.1 || { echo "wr-outbox.1: $v" >&2; return 1; }
	done
'

test_done
