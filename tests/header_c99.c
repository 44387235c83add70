/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * header_c99.c - include/kdcom.h compiles as strict C99 (-std=c99
 * -pedantic -Werror), twice (include guard), on its own (no prior
 * includes), its wire constants are what PROTOCOL-FACTS §1 says, and the
 * structures have the sizes the header promises (a link "about 9 KiB", a
 * parser "about 4.1 KiB", whatever the build).
 * Checked at compile time; the program then calls the library once to
 * prove the declarations link.
 */
#include "kdcom.h"
#include "kdcom.h"

#define CHECK(name, cond) typedef char kdcom_check_##name[(cond) ? 1 : -1]
#define STAT_INDEX_(n) STAT_INDEX_##n,

CHECK(header, KDCOM_HEADER_SIZE == 16);
CHECK(max_payload, KDCOM_MAX_PAYLOAD == 4000);
CHECK(max_frame, KDCOM_MAX_FRAME == 16 + 4000 + 1);
CHECK(leaders, KDCOM_LEADER_DATA == 0x30303030 &&
                   KDCOM_LEADER_CONTROL == 0x69696969);
CHECK(bytes, KDCOM_BREAKIN_BYTE == 0x62 && KDCOM_TRAILER_BYTE == 0xAA);
CHECK(ids, KDCOM_INITIAL_ID == 0x80800000u && KDCOM_SYNC_BIT == 0x800u);
CHECK(offsets, KDCOM_OFF_TYPE == 4 && KDCOM_OFF_BYTE_COUNT == 6 &&
                   KDCOM_OFF_ID == 8 && KDCOM_OFF_CHECKSUM == 12);
CHECK(types, KDCOM_TYPE_STATE_CHANGE32 == 1 && KDCOM_TYPE_ACKNOWLEDGE == 4 &&
                 KDCOM_TYPE_RESET == 6 && KDCOM_TYPE_STATE_CHANGE64 == 7 &&
                 KDCOM_TYPE_FILE_IO == 11 && KDCOM_TYPE_MAX == 12);
CHECK(fatal_band, KDCOM_ERR_NOT_INIT <= KDCOM_ERR_FATAL &&
                      KDCOM_ERR_CLOSED <= KDCOM_ERR_FATAL &&
                      KDCOM_ERR_BUSY > KDCOM_ERR_FATAL);
CHECK(version, KDCOM_VERSION_NUM == ((KDCOM_VERSION_MAJOR << 16) |
                                     (KDCOM_VERSION_MINOR << 8) |
                                     KDCOM_VERSION_PATCH));

CHECK(link_size, sizeof(struct kdcom_link) >= 8 * 1024 &&
                     sizeof(struct kdcom_link) <= 10 * 1024);
CHECK(parser_size, sizeof(struct kdcom_parser) > KDCOM_MAX_PAYLOAD &&
                       sizeof(struct kdcom_parser) <= 4200);
CHECK(parser_in_link, sizeof(struct kdcom_link) >
                          sizeof(struct kdcom_parser) + KDCOM_MAX_FRAME);
/* Counters are 64-bit, all of them, and nothing else. */
CHECK(stats_size, sizeof(struct kdcom_stats) % sizeof(uint64_t) == 0);
CHECK(queues, KDCOM_CTLQ_LEN == 8 && KDCOM_EVQ_LEN == 16);

/* KDCOM_STATS_FIELDS names every counter, in order. */
#define STAT_ONE(n) +1
CHECK(stats_list_count,
      sizeof(struct kdcom_stats) ==
          (0 KDCOM_STATS_FIELDS(STAT_ONE)) * sizeof(uint64_t));
enum { KDCOM_STATS_FIELDS(STAT_INDEX_) STAT_COUNT_ };
#define STAT_AT(n)                                                            \
    CHECK(stat_##n, offsetof(struct kdcom_stats, n) ==                        \
                        STAT_INDEX_##n * sizeof(uint64_t));
KDCOM_STATS_FIELDS(STAT_AT)

static struct kdcom_link link_static; /* caller-owned, static storage */

int main(void)
{
    if (kdcom_link_init(&link_static, NULL) != KDCOM_OK)
        return 1;
    return kdcom_version() == KDCOM_VERSION_NUM ? 0 : 1;
}
