#!/bin/bash
# wr-watch report: one HTML page, well formed (as XML too: the page is
# written so that both parsers take it), parsed by xmllint --html, drawn by
# headless Chromium in light and dark, printable; hostile names intact.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/helpers.sh"
. "$HERE/timeline.sh"
. "$HERE/browser.sh"

# html_parses FILE: libxml2's HTML parser reads it; it knows HTML 4 only,
# so the HTML 5 and SVG element names are the only complaints allowed.
html_parses() {
	xmllint --html --noout "$1" 2>err.html
	grep "parser error :" err.html | grep -v "HTML parser error : Tag [a-zA-Z]* invalid" >err.other
	test_must_be_empty err.other
}

xp() {
	xmllint --xpath "$2" "$1"
}

test_expect_success 'the ledger: every outcome, a dead notification, an open breaker' '
	timeline_ledger &&
	report_extras &&
	wr-ledger verify >out &&
	test_grep " 0 problems" out
'

test_expect_success 'report: one self-contained page, well formed' '
	wr-watch report >report.html &&
	xmllint --noout report.html &&
	html_parses report.html &&
	test_grep "^<!DOCTYPE html>$" report.html &&
	: "nothing to fetch: no script, no link, no src, no url()" &&
	! grep -Ei "<script|<link|src=|url\((http|//)|@import" report.html
'

test_expect_success 'what needs a human comes first: blocked, dead entry, open breaker' '
	xp report.html "string(//section[1]/@id)" >got &&
	echo attention >want &&
	test_cmp want got &&
	xp report.html "string(//section[@id=\"attention\"]/p)" >got &&
	test_grep "^3 things to look at" got &&
	xp report.html "string(//section[@id=\"attention\"]/table[1]/tbody/tr[1]/td[1]/code/@title)" >got &&
	echo $(tl_id b 3) >want &&
	test_cmp want got &&
	xp report.html "string(//section[@id=\"attention\"]/table[1]/tbody/tr[1]/td[5])" >got &&
	echo "max attempts reached" >want &&
	test_cmp want got &&
	xp report.html "string(//section[@id=\"attention\"]/table[2]/tbody/tr[1])" >got &&
	test_grep "notifier exited 1: smtp refused" got &&
	xp report.html "string(//section[@id=\"attention\"]/table[3]/tbody/tr[1]/td[2])" >got &&
	echo open >want &&
	test_cmp want got
'

test_expect_success 'the workflow table: the figures of wr-watch stats' '
	xp report.html "count(//section[@id=\"workflows\"]//tbody/tr)" >got &&
	echo 2 >want &&
	test_cmp want got &&
	row="//section[@id=\"workflows\"]//tbody/tr[1]" &&
	xp report.html "concat($row/td[1], \"|\", $row/td[2], \"|\", $row/td[3], \"|\", $row/td[5], \"|\",
		$row/td[6], \"|\", $row/td[7], \"|\", $row/td[8], \"|\", $row/td[9], \"|\", $row/td[10])" >got &&
	wr-watch stats --json --workflow backup >stats &&
	jq -e ".runs == 5 and .success_rate == 0.75 and .duration_ms.p50 == 1440000 and .mttr_ms == 2220000" stats &&
	echo "backup|5|75.0%|24m|25m|37m|retry 3 (2 ok), escalate 1 (0 ok)|1 / 1 / 1|closed" >want &&
	test_cmp want got
'

test_expect_success 'the timeline is inline, one SVG' '
	xp report.html "count(//*[local-name()=\"svg\"])" >got &&
	echo 1 >want &&
	test_cmp want got &&
	xp report.html "count(//*[@class=\"wr-bar\"])" >got &&
	echo 9 >want &&
	test_cmp want got
'

test_expect_success 'nothing to look at: the page says so' '
	ev_to calm.jsonl "$(tl_ts 0)" run.created "{run: \"$(tl_id f 1)\", workflow: \"w\", argv: [\"x\"], cwd: \"/\", policy: {}}" &&
	wr-watch --ledger calm.jsonl report >calm.html &&
	xmllint --noout calm.html &&
	xp calm.html "string(//section[@id=\"attention\"]/p/@class)" >got &&
	echo "banner ok" >want &&
	test_cmp want got &&
	test_expect_code 2 wr-watch report --workflow w 2>err &&
	test_grep "option .--workflow. does not apply to .report." err
'

test_expect_success 'Chromium: light page, the outcome colours in the timeline, below the tables' '
	wr_screenshot report.html light.png 1280 1200 &&
	test $(wr_colors light.png) -gt 50 &&
	wr_pixel_is light.png 2 2 "#ffffff" &&
	: "the first 420 pixels hold the header, the banner and the tables above the timeline" &&
	convert light.png -crop 1280x420+0+0 +repage top.png &&
	convert light.png -crop 1280x780+0+420 +repage bottom.png &&
	convert top.png -format %c histogram:info: >top.hist &&
	convert bottom.png -format %c histogram:info: >bottom.hist &&
	grep -qi "#FFEBE9" top.hist &&
	for c in 2DA44E CF222E E3B341 F66A0A 8250DF 8C959F 0969DA; do
		n=$(grep -i "#$c" bottom.hist | sed "s/^ *\([0-9]*\):.*/\1/") &&
		test "${n:-0}" -ge 100 || { echo "colour #$c: ${n:-0} pixels in the timeline" >&2; return 1; }
	done
'

test_expect_success 'Chromium: dark page' '
	wr_screenshot report.html dark.png 1280 800 dark &&
	wr_pixel_is dark.png 2 2 "#0d1117"
'

test_expect_success 'Chromium: printed, a PDF of a page or two' '
	wr_chromium --no-pdf-header-footer --print-to-pdf="$TRASH/report.pdf" "file://$TRASH/report.html" >/dev/null &&
	head -c 5 report.pdf >magic &&
	printf "%%PDF-" >want &&
	test_cmp want magic &&
	pages=$(grep -ac "/Type /Page$\|/Type /Page[^s]" report.pdf) &&
	test "$pages" -ge 1 && test "$pages" -le 2
'

hostile='<img src=x onerror=alert(1)>&"'"'"' ]]>'
test_expect_success 'hostile names and reasons: text, never markup' '
	L=hostile.jsonl &&
	run=$(tl_id e 1) &&
	wf=$(jq -n --arg w "$hostile" "\$w") &&
	ev_to $L "$(tl_ts 0)" run.created "{run: \"$run\", workflow: $wf, argv: [\"x\"], cwd: \"/\", policy: {}}" &&
	ev_to $L "$(tl_ts 1)" run.blocked "{run: \"$run\", reason: $(jq -n --arg w "$(printf "why: %s \001" "$hostile")" "\$w")}" &&
	wr-watch --ledger $L report >h.html &&
	xmllint --noout h.html &&
	html_parses h.html &&
	test $(xp h.html "count(//img)") -eq 0 &&
	xp h.html "string(//section[@id=\"attention\"]/table[1]/tbody/tr[1]/td[2])" >got &&
	printf "%s\n" "$hostile" >want &&
	test_cmp want got &&
	xp h.html "string(//section[@id=\"attention\"]/table[1]/tbody/tr[1]/td[5])" >got &&
	printf "why: %s \357\277\275\n" "$hostile" >want &&
	test_cmp want got &&
	wr_chromium --dump-dom "file://$TRASH/h.html" >dom &&
	test_grep "onerror=alert" dom &&
	! grep -i "<img" dom
'

test_done
