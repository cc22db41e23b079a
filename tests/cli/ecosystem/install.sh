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

# fish reads no completions under /usr/local: a /usr/local install puts
# them in /etc/fish/completions (completions/meson.build).
FISHDIR=$(option fish_completions_dir)
[ -n "$FISHDIR" ] || FISHDIR=$(fish_default_dir "$prefix" "$datadir")

test_expect_success 'nothing is installed outside the prefix but the fish completions' '
	(cd "$DEST" && find . -type f) >found &&
	sed "s|^\.||" found >files &&
	test -s files &&
	while read -r f; do
		case $f in "$prefix"/* | "$FISHDIR"/wr-*.fish) ;; *) echo "outside $prefix: $f" >&2; return 1 ;; esac
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

# simdjson's reader is a module the tools open for long reads
# (core/jsonfast_load.c), by the path of the prefix they were built for.
libdir=$(option libdir)
case $libdir in /*) ;; *) libdir=$prefix/$libdir ;; esac
test_expect_success 'the fast reader module: installed where the tools look, its libraries found' '
	test -f "$DEST$libdir/wr/wr-jsonfast.so" &&
	grep -qaF "$libdir/wr/wr-jsonfast.so" "$DEST$prefix/bin/wr-ledger" &&
	ldd "$DEST$libdir/wr/wr-jsonfast.so" >ldd &&
	test_grep libsimdjson ldd &&
	! grep -q "not found" ldd
'

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
	test_expect_success 'fish completions, one per tool, where fish reads them without XDG_DATA_DIRS' '
		for t in $WR_TOOLS; do
			test -f "$DEST$FISHDIR/$t.fish" || return 1
		done &&
		case $prefix in
		/usr | /usr/local)
			env -u XDG_DATA_DIRS fish -c "string join \n -- \$fish_complete_path" >path &&
			grep -qxF "$FISHDIR" path ;;
		esac
	'

	test_expect_success 'fish, pointed at the installed tree, loads them by name and completes run ids' '
		created 0190aaaa-0000-7000-8000-00000000f001 alpha 2026-11-01T10:00:00.000Z &&
		env -u XDG_DATA_DIRS PATH="$DEST$prefix/bin:$PATH" fish -c \
			"set -p fish_complete_path $DEST$FISHDIR; complete -C \"wr-recover cancel \"" >raw &&
		cut -f1 raw >got &&
		test_grep "^0000f001$" got
	'
fi

if [ "$(option zsh_completions)" = true ]; then
	test_expect_success 'zsh completion in site-functions, on zsh'"'"'s own fpath for /usr/local' '
		test -f "$SHARE/zsh/site-functions/_wr" &&
		case $prefix in
		/usr/local)
			zsh -fc "print -l \$fpath" >fpath &&
			grep -qxF "$datadir/zsh/site-functions" fpath ;;
		esac
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
