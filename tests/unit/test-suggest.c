/* test-suggest - edit distance and "did you mean" (core/suggest.c). */
#include "suggest.h"
#include "tap.h"

int main(void)
{
	is_int(wr_edit_distance("", ""), 0, "empty strings");
	is_int(wr_edit_distance("timeout", "timeout"), 0, "equal");
	is_int(wr_edit_distance("timout", "timeout"), 1, "one deletion");
	is_int(wr_edit_distance("jsno", "json"), 1, "a swap of neighbours is one edit");
	is_int(wr_edit_distance("kitten", "sitting"), 3, "kitten/sitting");
	is_int(wr_edit_distance("", "abc"), 3, "from empty");

	const char *words[] = {"status", "show", "follow", "check", "stats", NULL};
	is_str(wr_suggest("stat", words), "stats", "the nearest wins over a prefix");
	is_str(wr_suggest("shwo", words), "show", "a swap");
	is_str(wr_suggest("folow", words), "follow", "a missing letter");
	is_str(wr_suggest("chekc", words), "check", "swapped letters");
	is_str(wr_suggest("foll", words), "follow", "an unambiguous prefix");
	ok(wr_suggest("zzzzz", words) == NULL, "nothing close: no suggestion");
	ok(wr_suggest("xy", words) == NULL, "a short word is not pushed to a far one");
	is_str(wr_suggest("sh", words), "show", "an unambiguous prefix, however short");
	ok(wr_suggest("s", words) == NULL, "an ambiguous prefix: no suggestion");
	ok(wr_suggest("", words) == NULL, "an empty word: no suggestion");

	static const struct option opts[] = {
		{"timeout", required_argument, NULL, 't'},
		{"kill-after", required_argument, NULL, 'k'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	is_str(wr_option_suggest("--timout", opts), "timeout", "--timout");
	is_str(wr_option_suggest("--timout=5", opts), "timeout", "the value after = is not part of the name");
	is_str(wr_option_suggest("-timeout", opts), "timeout", "one dash");
	is_str(wr_option_suggest("--kill_after", opts), "kill-after", "underscore for dash");
	ok(wr_option_suggest("--frobnicate", opts) == NULL, "an unrelated option: no suggestion");
	return done_testing();
}
