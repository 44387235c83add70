/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdapi.h - the kdcom.dll export surface this transport implements.
 *
 * The declarations live in include/kdcom_kdapi.h, public because the
 * callers of the surface (a simulated kernel, a test) need them as much
 * as the transport does; this name stays for code built with
 * GUEST_CPPFLAGS that includes it.
 */
#ifndef KDAPI_H
#define KDAPI_H

#include "kdcom_kdapi.h"

#endif /* KDAPI_H */
