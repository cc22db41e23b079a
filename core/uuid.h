/* uuid.h - UUIDv7 ids (RFC 9562): 48-bit Unix milliseconds, then random,
 * so ids sort by creation time. */
#ifndef WR_UUID_H
#define WR_UUID_H

#include <stdint.h>

#define WR_UUID_LEN 37
char *wr_uuid7(char *out);                 /* out: WR_UUID_LEN bytes */
char *wr_uuid7_at(int64_t ms, char *out);
/* Short id for humans: the last 8 characters of a UUIDv7 (its random part). */
const char *wr_short_id(const char *id);

#endif
