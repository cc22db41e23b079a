#!/bin/sh
# agent-harness.sh - a small agent-style harness that speaks wr-run's
# progress protocol (version 2) on WR_PROGRESS_FD: turns, tool calls,
# stages and metrics. It does no real work: it is the shape of an agent
# session, for trying wr-run's detectors and for wr's tests.
#
#   wr-run --max-turns 20 --stuck-repeat-tool 3 --no-progress-turns 8 -- \
#       agent-harness.sh --turns 30 --loop-from 5
#
# Each turn t (1, 2, ...) makes --calls tool calls, then reports a metric
# and the end of the turn:
#   {"tool":"read_file","args":"src/part-t-c.c"}   (c = 1..calls)
#   {"metric":"tokens","value":V}
#   {"turn":t}
# and, every --stage-every turns, a step: {"stage":"step-t",...}.
#
# Options:
#   --turns N        turns to run (default 5)
#   --calls N        tool calls per turn (default 1)
#   --loop-from T    from turn T on, every call is the same one
#                    ({"tool":"read_file","args":"notes.txt"}): a loop
#   --break-at T     at turn T, one different call breaks the loop
#   --stage-every K  a stage started and done every K turns (default 1;
#                    0: never, no step progress)
#   --tokens V       the tokens metric of each turn (default 100)
#   --linger         after the last turn, wait until killed (so that only
#                    wr-run's detector can end the session)
#   --exit N         exit status at the end (default 0)
#
# Without WR_PROGRESS_VERSION 2 (an older wr-run, or no wr-run at all) it
# says so on stderr and runs without reporting.
set -eu

turns=5 calls=1 loop_from=0 break_at=0 stage_every=1 tokens=100 linger=0 status=0
while [ $# -gt 0 ]; do
	case $1 in
	--turns) turns=$2; shift 2 ;;
	--calls) calls=$2; shift 2 ;;
	--loop-from) loop_from=$2; shift 2 ;;
	--break-at) break_at=$2; shift 2 ;;
	--stage-every) stage_every=$2; shift 2 ;;
	--tokens) tokens=$2; shift 2 ;;
	--linger) linger=1; shift ;;
	--exit) status=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "agent-harness.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done

report=1
if [ "${WR_PROGRESS_VERSION:-1}" -lt 2 ] 2>/dev/null || [ -z "${WR_PROGRESS_FD:-}" ]; then
	echo "agent-harness.sh: no progress protocol 2 (WR_PROGRESS_VERSION=${WR_PROGRESS_VERSION:-}); not reporting" >&2
	report=0
fi

# say LINE: one progress line on fd 3 (WR_PROGRESS_FD is always 3).
say() {
	[ $report -eq 1 ] && printf '%s\n' "$1" >&3
	return 0
}

t=1
while [ $t -le "$turns" ]; do
	c=1
	while [ $c -le "$calls" ]; do
		if [ "$t" -eq "$break_at" ] && [ $c -eq 1 ]; then
			say '{"tool":"list_dir","args":"."}'
		elif [ "$loop_from" -gt 0 ] && [ "$t" -ge "$loop_from" ]; then
			say '{"tool":"read_file","args":"notes.txt"}'
		else
			say "{\"tool\":\"read_file\",\"args\":\"src/part-$t-$c.c\"}"
		fi
		c=$((c + 1))
	done
	echo "turn $t: $calls tool call(s)"
	if [ "$stage_every" -gt 0 ] && [ $((t % stage_every)) -eq 0 ]; then
		say "{\"stage\":\"step-$t\",\"status\":\"started\"}"
		say "{\"stage\":\"step-$t\",\"status\":\"done\"}"
	fi
	say "{\"metric\":\"tokens\",\"value\":$tokens}"
	say "{\"turn\":$t}"
	t=$((t + 1))
done
if [ $linger -eq 1 ]; then
	echo "lingering until killed"
	while :; do sleep 1; done
fi
exit "$status"
