#!/usr/bin/env bash
# demo.sh - install what is missing, build wr, and show its main job on a
# ledger in a temporary directory: a nightly job gets stuck, wr-run
# detects and aborts it, wr-recover retries it after backoff, the retry is
# stuck too, wr-recover escalates (blocked), and wr-outbox delivers every
# notification to a file; beside it a backup succeeds and an import fails
# once and is retried. Last, a picture: report.html and timeline.svg.
# Nothing outside the temporary directory is touched (WR_DEMO_DIR names
# another directory to use instead, as scripts/readme-picture.sh does).
set -eu
cd "$(dirname "$0")/.."
. scripts/deps.sh
wr_install_deps

[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null

src=$PWD
demo=${WR_DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/wr-demo.XXXXXX")}
mkdir -p "$demo"
export PATH="$src/build/cmd:$PATH"
export WR_LEDGER="$demo/ledger.jsonl" XDG_STATE_HOME="$demo/state"
unset NO_COLOR
cd "$demo"

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$(printf '\033[1m') off=$(printf '\033[0m'); else bold= off=; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }
show() { printf '$ %s\n' "$*"; "$@" || true; }

# The job: it fetches, then waits forever on a lock, printing the same line.
cat >nightly-report <<'JOB'
#!/bin/sh
echo "fetching data"
while :; do echo "waiting for lock on reports.db"; sleep 0.05; done
JOB
chmod +x nightly-report

say "0. Two jobs beside it: a backup that works, an import that fails once"
echo '$ wr-run --workflow db-backup -- sh -c "sleep 0.5"'
wr-run --workflow db-backup -- sh -c "sleep 0.5"
echo '$ wr-run --workflow import --backoff 1s,1,1s -- sh -c "sleep 0.3; test -e imported || { touch imported; exit 3; }"'
wr-run --workflow import --backoff 1s,1,1s -- sh -c "sleep 0.3; test -e imported || { touch imported; exit 3; }" ||
	echo "exit status $? (the first try fails; wr-recover retries it below)"

say "1. A nightly job runs under wr-run; it hangs printing the same line"
echo '$ wr-run --workflow nightly-report --stuck-repeat 20 --max-attempts 2 --backoff 1s,1,1s -- ./nightly-report'
rc=0
wr-run --workflow nightly-report --stuck-repeat 20 --max-attempts 2 --backoff 1s,1,1s -- ./nightly-report >job.out 2>&1 || rc=$?
tail -n 2 job.out
echo "exit status $rc (123: stuck, aborted)"
run=$(wr-watch --json --all | jq -r 'select(.workflow == "nightly-report") | .run' | head -n 1)

say "2. wr-watch shows what needs eyes"
show wr-watch

say "3. wr-recover, as cron runs it, decides a retry after backoff"
show wr-recover
sleep 1.2
show wr-recover
# The retry runs detached; wait for it to end.
for _ in $(seq 1 100); do
	st=$(wr-watch --json --all | jq -r --arg r "$run" 'select(.run == $r) | .status')
	[ "$st" = running ] || [ "$st" = retry_wait ] || break
	sleep 0.1
done
show wr-watch --all

say "4. The retry was stuck too: its attempts are used up, so wr-recover escalates"
show wr-recover

say "5. wr-outbox delivers every notification (here: to a file)"
show wr-outbox deliver -- "$src/share/notifiers/wr-notify-file" "$demo/notifications.jsonl"
jq -r '"  \(.kind): \(.message)"' notifications.jsonl

say "6. The run's whole story, from the ledger"
show wr-watch show "$run"

say "7. The ledger is plain JSONL, checked end to end"
show wr-ledger verify

say "8. A picture of it all: an HTML report and an SVG timeline"
echo '$ wr-watch report > report.html; wr-watch plot > timeline.svg'
wr-watch report >"$demo/report.html"
wr-watch plot >"$demo/timeline.svg"
echo
echo "Report:   $demo/report.html (open it in a browser: no network, no script)"
echo "Timeline: $demo/timeline.svg"
echo "Ledger:   $WR_LEDGER (try: jq -c . $WR_LEDGER | less)"
