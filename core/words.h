/* words.h - events in words for people: the one place that says what an
 * event means beyond its type, run and seq (wr-watch show and follow, and
 * any tool that prints events for a person). Data in the words goes through
 * the one sanitizer (sanitize.h), so that it can never drive the
 * terminal. */
#ifndef WR_WORDS_H
#define WR_WORDS_H

#include <jansson.h>
#include <stdint.h>

#include "event.h"
#include "state.h"
#include "util.h"

/* What ev says beyond its type, run and seq; newly allocated. */
char *wr_words_event(const struct wr_event *ev);
/* ", 12 turns, 30 tool calls, tokens 5100": an agent's counts, when any. */
void wr_words_agent(struct wr_buf *b, int64_t turns, int64_t tools, json_t *metrics);
/* A workflow's breaker as of now: "closed", "open until T (in 4m): ...",
 * "half open: the next start is a trial" (NULL w: closed). */
void wr_words_breaker(struct wr_buf *b, const struct wr_workflow *w, int64_t now);

#endif
