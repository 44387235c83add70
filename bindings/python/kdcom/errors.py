# SPDX-License-Identifier: BSD-2-Clause
"""The exception libkdcom's negative return codes become.

This module imports nothing from the C extension: the extension looks the
class up here when a call fails, so it must be importable first.
"""


class KdcomError(Exception):
    """A libkdcom call returned a negative ``enum kdcom_err`` code.

    Attributes:
        code: the code, as :class:`kdcom.Error` when it is a known value
            (a plain int otherwise).
        strerror: the library's text for it (``kdcom_strerror()``).
        fatal: True when the object that returned it must be initialised
            again (``kdcom_is_fatal()``: codes at or below
            ``Error.FATAL``, such as ``Error.CLOSED``).
    """

    def __init__(self, code, strerror=None):
        code = int(code)
        try:
            from .enums import Error  # late: enums needs the extension
            code = Error(code)
        except (ImportError, ValueError):
            pass
        if strerror is None:
            try:
                from .capi import kdcom_strerror
                strerror = kdcom_strerror(int(code))
            except ImportError:
                strerror = "libkdcom error"
        self.code = code
        self.strerror = strerror
        self.fatal = int(code) <= -20  # KDCOM_ERR_FATAL
        super().__init__(int(code), strerror)

    def __str__(self):
        name = getattr(self.code, "name", None)
        if name:
            return "%s (%s, %d)" % (self.strerror, name, int(self.code))
        return "%s (%d)" % (self.strerror, int(self.code))

    def __reduce__(self):
        return (type(self), (int(self.code), self.strerror))
