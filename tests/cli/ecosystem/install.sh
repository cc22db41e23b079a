#!/bin/bash
# meson install --destdir puts the binaries, the man pages, the completions
# and the examples where a distribution expects them; the installed bash
# completion is found by bash-completion's own loader.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/lib-eco.sh"

DEST=$TRASH/dest

test_expect_success 'meson install --destdir' '
	{ meson install -C "$WR_BUILD" --destdir "$DEST" --no-rebuild --quiet >log 2>&1 ||
	  { cat log; false; }; }
'

prefix=$(meson introspect "$WR_BUILD" --buildoptions | jq -r ".[] | select(.name == \"prefix\") | .value")
datadir=$(meson introspect "$WR_BUILD" --buildoptions | jq -r ".[] | select(.name == \"datadir\") | .value")
option() {
	meson introspect "$WR_BUILD" --buildoptions | jq -r ".[] | select(.name == \"$1\") | .value"
}
case $datadir in /*) ;; *) datadir=$prefix/$datadir ;; esac
SHARE=$DEST$datadir

test_expect_success 'nothing is installed outside the prefix' '
	(cd "$DEST" && find . -type f) | sed "s|^\.||" >files &&
	test -s files &&
	while read -r f; do
		case $f in "$prefix"/*) ;; *) echo "outside $prefix: $f" >&2; return 1 ;; esac
	done <files
'

for t in $WR_TOOLS; do
	[ -x "$WR_BUILD/cmd/$t" ] || continue
	test_expect_success "$t: binary and man page" '
		test -x "$DEST$prefix/bin/'$t'" &&
		"$DEST$prefix/bin/'$t'" --version >v && test_grep "^'$t' " v &&
		test -f "$SHARE/man/man1/'$t'.1"
	'
done

test_expect_success 'wr.7 and man -l of an installed page' '
	test -f "$SHARE/man/man7/wr.7" &&
	MANWIDTH=80 man -l "$SHARE/man/man1/wr-run.1" >page 2>/dev/null &&
	test_grep "wr-run" page
'

test_expect_success 'man finds the pages through MANPATH' '
	MANPATH=$SHARE/man MANWIDTH=80 man -w wr-recover >where 2>/dev/null &&
	test_grep "^$SHARE/man/man1/wr-recover\.1" where
'

if [ "$(option bash_completions)" = true ]; then
	test_expect_success 'bash completions, one per tool, and bash-completion loads them' '
		for t in $WR_TOOLS; do
			test -f "$SHARE/bash-completion/completions/$t" || return 1
		done &&
		if [ -f /usr/share/bash-completion/bash_completion ]; then
			XDG_DATA_DIRS=$SHARE bash -c "
				. /usr/share/bash-completion/bash_completion &&
				__load_completion wr-recover && complete -p wr-recover" >spec 2>&1 &&
			test_grep "_wr_recover wr-recover" spec
		fi
	'
fi

if [ "$(option fish_completions)" = true ]; then
	test_expect_success 'fish completions, one per tool' '
		for t in $WR_TOOLS; do
			test -f "$SHARE/fish/vendor_completions.d/$t.fish" || return 1
		done
	'
fi

if [ "$(option zsh_completions)" = true ]; then
	test_expect_success 'zsh completion in site-functions' '
		test -f "$SHARE/zsh/site-functions/_wr"
	'
fi

test_expect_success 'examples: jq filters, cron, systemd, executable notifiers' '
	for f in jq/failures-last-day.jq jq/blocked-now.jq jq/p95-by-workflow.jq jq/workrail-outbox.jq \
		cron/wr-recover.crontab cron/wr-outbox.crontab cron/wr-metrics.crontab cron/wr-compact.crontab \
		systemd/wr-recover.service systemd/wr-recover.timer \
		systemd/wr-compact.service systemd/wr-compact.timer \
		systemd/wr-metrics.service systemd/wr-metrics.timer \
		systemd/wr-outbox-deliver.service systemd/wr-outbox-deliver.timer; do
		test -f "$SHARE/wr/$f" || { echo "missing $f" >&2; return 1; }
	done &&
	for n in "$SHARE"/wr/notifiers/*; do test -x "$n" || return 1; done
'

test_expect_success 'the man pages and --help name the installed data directory, and its files exist' '
	! grep -n "@WR_DATADIR@" "$SHARE"/man/man1/*.1 "$SHARE"/man/man7/wr.7 &&
	for page in "$SHARE"/man/man1/*.1 "$SHARE"/man/man7/wr.7; do
		MANWIDTH=200 man -l "$page" 2>/dev/null || return 1
	done >pages &&
	grep -o "$datadir/wr/[A-Za-z0-9/._-]*" pages | sed "s/[.:]*\$//" | sort -u >named &&
	test $(wc -l <named) -ge 10 &&
	while read -r f; do
		test -e "$DEST$f" || compgen -G "$DEST$f*" >/dev/null ||
			{ echo "named but not installed: $f" >&2; return 1; }
	done <named &&
	"$DEST$prefix/bin/wr-outbox" --help >help &&
	test_grep "$datadir/wr/notifiers" help &&
	"$DEST$prefix/bin/wr-watch" --help >help &&
	test_grep "$datadir/wr/jq" help
'

test_expect_success 'the installed tools work from the prefix' '
	PATH=$DEST$prefix/bin:/usr/bin:/bin &&
	"$DEST$prefix/bin/wr-outbox" add --kind custom --message installed >id &&
	"$DEST$prefix/bin/wr-outbox" list --json | jq -c -f "$SHARE/wr/jq/workrail-outbox.jq" >wk &&
	test_grep "\"message\":\"installed\"" wk
'

test_done
