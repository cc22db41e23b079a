/* suggest.h - "did you mean": the nearest option or word to a mistyped one.
 *
 * Every tool's unknown option goes through wr_die_unknown_option, so the
 * same typo gets the same help everywhere:
 *   wr-run: unknown option '--timout'; did you mean '--timeout'?
 * Nearness is the optimal string alignment distance (a swap of two
 * neighbours is one edit); a candidate is close when it is at most 2 edits
 * away and fewer edits than half the word's length, or when the word is
 * an unambiguous prefix of it. Ties go to the first candidate. */
#ifndef WR_SUGGEST_H
#define WR_SUGGEST_H

#include <getopt.h>
#include <stdnoreturn.h>
#include <stddef.h>

/* Edit distance between a and b (insert, delete, replace, swap). */
size_t wr_edit_distance(const char *a, const char *b);
/* The candidate nearest to word, or NULL when none is close. cands ends
 * with NULL. */
const char *wr_suggest(const char *word, const char *const *cands);
/* The long option (without "--") nearest to arg as typed ("--timout=5",
 * "-timeout"), or NULL. */
const char *wr_option_suggest(const char *arg, const struct option *opts);
/* The usage error for an unknown option: argv[optind - 1] as typed (or
 * "-c" from optopt for an unknown short one), with the suggestion. */
noreturn void wr_die_unknown_option(int code, char **argv, const struct option *opts);

/* The usage error for an unknown command word: "did you mean 'stats'?"
 * when one of cmds (NULL-terminated) is close, else the list of them. */
noreturn void wr_die_unknown_command(int code, const char *word, const char *const *cmds);

#endif
