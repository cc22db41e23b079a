#!/bin/bash
# wr-watch plot: the SVG is well formed, holds what the ledger says, and a
# real browser (headless Chromium) draws each outcome's colour where the
# SVG puts the attempt; hostile names cannot break it; 1,000 runs fold.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/helpers.sh"
. "$HERE/timeline.sh"
. "$HERE/browser.sh"

svg_count() {
	xmllint --xpath "count($2)" "$1"
}

# bar_center SVG RUN ATTEMPT: "X Y", the middle of the attempt's bar.
bar_center() {
	local q="//*[local-name()='g'][*[local-name()='title'][contains(., '$2') and contains(., 'attempt $3 of')]]/*[local-name()='rect']"
	xmllint --xpath "concat(round($q/@x + $q/@width div 2), ' ', round($q/@y + $q/@height div 2))" "$1"
}

title_of() {
	xmllint --xpath "string(//*[local-name()='title'][contains(., '$2') and contains(., 'attempt $3 of')])" "$1"
}

uses() {
	svg_count "$1" "//*[local-name()='use'][@*[local-name()='href']='#wr-m-$2']"
}

test_expect_success 'the ledger of every outcome' '
	timeline_ledger &&
	wr-ledger verify >out &&
	test_grep " 0 problems" out
'

test_expect_success 'plot: one well-formed SVG with a bar per attempt' '
	wr-watch plot >runs.svg &&
	xmllint --noout runs.svg &&
	test_grep "^<svg xmlns=\"http://www.w3.org/2000/svg\"" runs.svg &&
	test $(svg_count runs.svg "//*[@class=\"wr-bar\"]") -eq 9 &&
	test $(svg_count runs.svg "//*[@class=\"wr-link\"]") -eq 3 &&
	test $(svg_count runs.svg "//*[@class=\"wr-still\"]") -eq 1 &&
	xmllint --xpath "string(//*[@class=\"wr-sub\"])" runs.svg >sub &&
	test_grep "^7 runs in 2 workflows" sub
'

test_expect_success 'markers: stuck, timeout, lost, blocked, escalated (one each, and the legend)' '
	for m in stuck timeout lost blocked escalated; do
		test $(uses runs.svg $m) -eq 2 || return 1
	done
'

test_expect_success 'tooltips: outcome, exit status, duration, reason' '
	title_of runs.svg $(tl_id b 2) 1 >t &&
	test_grep "attempt 1 of 3: error after 15m, exit status 3" t &&
	test_grep "^reason: disk full$" t &&
	test_grep "^on host-a, pid 4242$" t &&
	title_of runs.svg $(tl_id b 3) 2 >t &&
	test_grep "attempt 2 of 3: lost after 20m" t &&
	title_of runs.svg $(tl_id b 5) 1 >t &&
	test_grep "attempt 1 of 3: running for" t &&
	xmllint --xpath "string(//*[local-name()=\"title\"][contains(., \"reported stuck at\")])" runs.svg >t &&
	test_grep "^reason: same line 50 times$" t
'

test_expect_success '--workflow, --since and the options that do not apply' '
	wr-watch plot --workflow report >r.svg &&
	test $(svg_count r.svg "//*[@class=\"wr-bar\"]") -eq 1 &&
	xmllint --xpath "string(//*[@class=\"wr-sub\"])" r.svg >sub &&
	test_grep "^2 runs in 1 workflow \(only report\)" sub &&
	: "the last 20 minutes: the running run and the one still blocked" &&
	wr-watch plot --since 20m >s.svg &&
	xmllint --xpath "string(//*[@class=\"wr-sub\"])" s.svg >sub &&
	test_grep "^2 runs in 1 workflow" sub &&
	test_expect_code 2 wr-watch plot --all 2>err &&
	test_grep "option .--all. does not apply to .plot." err &&
	test_expect_code 2 wr-watch plot --label nolabel 2>err &&
	test_grep "expected KEY=VALUE, not .nolabel." err
'

test_expect_success 'the time axis: ticks at round times of the local time zone (TZ)' '
	: "5 hours: a tick an hour, on the hour of UTC+05:45, not of UTC" &&
	TZ=Asia/Kathmandu wr-watch plot --since 5h >tz.svg &&
	xmllint --xpath "string(//*[@class=\"wr-sub\"])" tz.svg >sub &&
	test_grep " [+]0545$" sub &&
	xmllint --xpath "//*[@class=\"wr-tick\"]/text()" tz.svg >ticks &&
	test $(wc -l <ticks) -ge 4 &&
	! grep -v -E "^[0-2][0-9]:00$" ticks &&
	TZ=UTC wr-watch plot --since 5h >utc.svg &&
	xmllint --xpath "//*[@class=\"wr-tick\"]/text()" utc.svg >ticks.utc &&
	! test_cmp ticks.utc ticks
'

test_expect_success '--label keeps the runs with every label given' '
	L=labels.jsonl &&
	for i in 1 2 3; do
		env=$(if [ $i = 3 ]; then echo test; else echo prod; fi) &&
		ev_to $L "$(tl_ts 0)" run.created "{run: \"$(tl_id d $i)\", workflow: \"w\", argv: [\"x\"], cwd: \"/\",
			policy: {}, labels: {env: \"$env\", team: \"t$i\"}}" || return 1
	done &&
	wr-watch --ledger $L plot --label env=prod >l.svg &&
	xmllint --xpath "string(//*[@class=\"wr-sub\"])" l.svg >sub &&
	test_grep "^2 runs in 1 workflow" sub &&
	wr-watch --ledger $L plot --label env=prod --label team=t2 >l.svg &&
	xmllint --xpath "string(//*[@class=\"wr-sub\"])" l.svg >sub &&
	test_grep "^1 run in 1 workflow" sub &&
	wr-watch --ledger $L plot --label env=staging >l.svg &&
	test_grep "no runs in this window" l.svg
'

test_expect_success 'Chromium draws each outcome where the SVG puts it' '
	read -r W H < <(wr_svg_size runs.svg) &&
	wr_screenshot runs.svg light.png $W $H &&
	test $(wr_colors light.png) -gt 50 &&
	wr_pixel_is light.png 4 4 "#ffffff" &&
	check() { wr_pixel_is light.png $(bar_center runs.svg $(tl_id $1 $2) $3) $4; } &&
	check b 1 1 "#2da44e" &&
	check b 2 1 "#cf222e" &&
	check b 3 1 "#e3b341" &&
	check b 4 1 "#f66a0a" &&
	check b 3 2 "#8250df" &&
	check c 1 1 "#8c959f" &&
	check b 5 1 "#0969da" &&
	: "the rejection: a thin bar at the time of the event" &&
	q="//*[local-name()=\"g\"][*[local-name()=\"title\"][contains(., \"rejected at\")]]/*[local-name()=\"rect\"]" &&
	xy=$(xmllint --xpath "concat(round($q/@x + 1.5), \" \", round($q/@y + $q/@height div 2))" runs.svg) &&
	wr_pixel_is light.png $xy "#bf3989"
'

test_expect_success 'dark mode: a dark background, the same outcome colours' '
	read -r W H < <(wr_svg_size runs.svg) &&
	wr_screenshot runs.svg dark.png $W $H dark &&
	wr_pixel_is dark.png 4 4 "#0d1117" &&
	wr_pixel_is dark.png $(bar_center runs.svg $(tl_id b 2) 1) "#cf222e"
'

run=$(tl_id e 1)
hostile_wf='</text><script>alert("x")</script>&amp;'"'"'"<!--'
test_expect_success 'hostile names and reasons: escaped, the SVG intact' '
	L=hostile.jsonl &&
	wf=$(jq -n --arg w "$hostile_wf" "\$w") &&
	ev_to $L "$(tl_ts 0)" run.created "{run: \"$run\", workflow: $wf, argv: [\"x\"], cwd: \"/\", policy: {}}" &&
	ev_to $L "$(tl_ts 10)" attempt.started "{run: \"$run\", attempt: 1, host: \"h<b>\u0007\", pid: 1,
		pid_start: 1, lease_until: \"$(tl_ts 99999)\"}" &&
	ev_to $L "$(tl_ts 3000)" attempt.finished "{run: \"$run\", attempt: 1, outcome: \"success\",
		reason: \"ctl \u0001\u001b[31m c1 \u0085 nonchar \ufffe bidi \u202eevil ]]> end\"}" &&
	wr-watch --ledger $L plot >h.svg &&
	xmllint --noout h.svg &&
	test $(svg_count h.svg "//*[local-name()=\"script\"]") -eq 0 &&
	xmllint --xpath "string(//*[@class=\"wr-wf\"]/*[local-name()=\"title\"])" h.svg >got &&
	printf "%s\n" "$hostile_wf" >want &&
	test_cmp want got &&
	xmllint --xpath "string(//*[local-name()=\"title\"][contains(., \"attempt 1 of\")])" h.svg >t &&
	test_grep "^reason: ctl ��\[31m c1 � nonchar � bidi �evil \]\]> end$" t &&
	test_grep "^on h<b>�, pid 1$" t
'

test_expect_success 'hostile names: Chromium shows them as text, runs no script' '
	wr_chromium --dump-dom "file://$TRASH/h.svg" >dom &&
	test_grep "alert" dom &&
	! grep -i "<script" dom &&
	read -r W H < <(wr_svg_size h.svg) &&
	wr_screenshot h.svg h.png $W $H &&
	wr_pixel_is h.png $(bar_center h.svg $run 1) "#2da44e"
'

# 1,000 runs, one a minute for the last 17 hours, in one jq program (the
# helpers call jq once per event: too slow for this many).
thousand() {
	jq -cn --argjson base $(($(date +%s) - 61000)) '
		def ev($seq; $t; $type): {v: 1, seq: $seq, ts: ($t | todate), type: $type, by: "t/1"};
		range(1000) as $i
		| ($base + $i * 60) as $t
		| "0190ffff-0000-7000-8000-\(1000000000000 + $i | tostring | .[1:])" as $run
		| ev($i * 3 + 1; $t; "run.created") + {run: $run, argv: ["x"], cwd: "/", policy: {},
			workflow: (if $i < 960 then "big" elif $i < 980 then "small-a" else "small-b" end)},
		  ev($i * 3 + 2; $t; "attempt.started") + {run: $run, attempt: 1, host: "h", pid: 1, pid_start: 1,
			lease_until: "2099-01-01T00:00:00Z"},
		  ev($i * 3 + 3; $t + 20 + $i % 90; "attempt.finished") + {run: $run, attempt: 1,
			outcome: (if $i % 7 == 0 then "error" else "success" end)}'
}

test_expect_success '1,000 runs: a big workflow folds into one lane, small ones keep their rows' '
	thousand >k.jsonl &&
	wr-ledger --ledger k.jsonl verify >out &&
	wr-watch --ledger k.jsonl plot >k.svg &&
	xmllint --noout k.svg &&
	test $(svg_count k.svg "//*[@class=\"wr-bar\"]") -eq 1000 &&
	test_grep ">960 runs in one lane<" k.svg &&
	test $(svg_count k.svg "//*[@class=\"wr-id\"]") -eq 40 &&
	read -r W H < <(wr_svg_size k.svg) &&
	test $H -lt 1200
'

test_done
