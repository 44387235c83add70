# SPDX-License-Identifier: BSD-2-Clause
"""The exceptions of kdcom: the one libkdcom's negative return codes
become, and the one for an argument the library cannot take.

This module imports nothing from the C extension: the extension looks the
class up here when a call fails, so it must be importable first.
"""
import operator


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


class InvalidArgument(KdcomError, ValueError):
    """An argument the call cannot take, named in the text: a number
    outside its C type (a negative id, a type above 2**32-1), a packet
    type the call does not send, a payload above 4000 bytes, a
    configuration value out of range, a bad ``header_sizes`` mapping.

    It is a ValueError (what Python code expects of an impossible value)
    and a KdcomError carrying the code the library gives for it
    (``Error.BAD_TYPE`` for a packet type, ``ROLE``, ``CONFIG``,
    ``TOO_BIG``, ``INVAL`` for the rest), so code written for either
    catches it.

    Attributes: ``code``, ``strerror``, ``fatal`` as KdcomError;
    ``argument``, the name of the argument.
    """

    def __init__(self, code, message, argument=None):
        super().__init__(code)
        self.message = message
        self.argument = argument
        self.args = (message,)

    def __str__(self):
        name = getattr(self.code, "name", None)
        return "%s (%s)" % (self.message, name or int(self.code))

    def __reduce__(self):
        return (type(self), (int(self.code), self.message, self.argument))


# -- argument checks shared by the Python layer ---------------------------

KDCOM_ERR_INVAL = -1


def check_int(value, name, low, high, code=KDCOM_ERR_INVAL, func=None):
    """Returns value as an int if it is one (bool is not) and lies in
    low..high; else raises TypeError or InvalidArgument naming it."""
    where = "%s() argument" % func if func else "argument"
    if isinstance(value, bool):
        raise TypeError("%s '%s' must be an int, not bool" % (where, name))
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError("%s '%s' must be an int, not %s" %
                        (where, name, type(value).__name__)) from None
    if not low <= value <= high:
        raise InvalidArgument(
            code, "%s '%s' must be in %s..%s, got %d" %
            (where, name, _bound(low), _bound(high), value), name)
    return value


def check_u32(value, name, code=KDCOM_ERR_INVAL, func=None):
    """check_int() for a C uint32_t."""
    return check_int(value, name, 0, 2 ** 32 - 1, code, func)


def check_u64(value, name, code=KDCOM_ERR_INVAL, func=None):
    """check_int() for a C uint64_t."""
    return check_int(value, name, 0, 2 ** 64 - 1, code, func)


def check_bytes(value, name, func=None, none=True):
    """Returns the byte length of a bytes-like object (0 for None when
    ``none`` allows it); else raises TypeError naming the argument."""
    if value is None and none:
        return 0
    where = "%s() argument" % func if func else "argument"
    if isinstance(value, str):
        raise TypeError("%s '%s' must be a bytes-like object (bytes, "
                        "bytearray, memoryview), not str: encode it first" %
                        (where, name))
    try:
        with memoryview(value) as view:
            return view.nbytes
    except TypeError:
        raise TypeError("%s '%s' must be a bytes-like object (bytes, "
                        "bytearray, memoryview)%s, not %s" %
                        (where, name, " or None" if none else "",
                         type(value).__name__)) from None


def _bound(n):
    """A range bound as the text shows it: all-ones values in hex."""
    return "0x%x" % n if n in (2 ** 16 - 1, 2 ** 32 - 1, 2 ** 64 - 1) \
        else str(n)
