// SPDX-License-Identifier: BSD-2-Clause
//
// header_cxx.cc - include/kdcom.h compiles as C++ (-std=c++11 -Wall
// -Wextra -pedantic -Werror), its declarations have C linkage (this
// program links against the C library), and its structures can live in a
// C++ object.

#include "kdcom.h"

#include <cstring>

static_assert(KDCOM_MAX_FRAME == 4017, "frame size");
static_assert(KDCOM_INITIAL_ID == 0x80800000u, "initial id");
static_assert(KDCOM_ERR_CLOSED < KDCOM_ERR_FATAL + 1, "fatal band");

namespace {

// A C++ owner of a link, as a hypervisor written in C++ would have it.
struct Port {
    kdcom_link link;
    kdcom_stats last;
};

} // namespace

int main()
{
    static Port port;
    kdcom_config cfg;
    kdcom_event ev;
    uint8_t out[64];

    if (kdcom_config_init(&cfg, KDCOM_ROLE_DEBUGGER) != KDCOM_OK)
        return 1;
    if (kdcom_link_init(&port.link, &cfg) != KDCOM_OK)
        return 1;
    if (kdcom_drain(&port.link, 0, out, sizeof out) != KDCOM_HEADER_SIZE)
        return 1;
    if (out[4] != KDCOM_TYPE_RESET || kdcom_next_event(&port.link, &ev) != 0)
        return 1;
    std::memcpy(&port.last, kdcom_get_stats(&port.link), sizeof port.last);
    return std::strcmp(kdcom_strerror(KDCOM_ERR_BUSY),
                       kdcom_strerror(KDCOM_OK)) != 0 &&
                   port.last.resets_sent == 1
               ? 0
               : 1;
}
