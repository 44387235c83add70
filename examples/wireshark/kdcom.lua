-- SPDX-License-Identifier: BSD-2-Clause
--[[
kdcom.lua - a Wireshark dissector for KDCOM, the framing of Windows kernel
debugging on serial lines, named pipes and TCP (com:ipport), and for the KD
messages inside it.

Where it dissects:
  * pcapng/pcap files on a user link type (LINKTYPE_USER0 = 147 by
    default; preference "User link type"), as kdcom-shim, kdcom-client
    and the simulated kernels write with --pcap.  Interface "debugger"
    carries what the debugger sent (D>T), interface "target" what the
    target sent (T>D); a frame may hold part of a packet, or several:
    packets are put together across frames of the same direction.
  * TCP on the ports of the preference "TCP ports" (default 5800, as in
    docs/integrating.md), with TCP reassembly: a packet split over
    segments is shown in the segment that completes it.  The listening
    side is taken for the target unless the preference says otherwise.
    "Decode As..." works on other ports too.

What it shows: every item libkdcom's parser knows (data packets, ACK,
RESEND, RESET, the break-in byte, noise, packets cut off), the header
fields, the checksum verified (expert info on a mismatch, a bad trailer or
an oversized ByteCount), retransmissions and duplicates (as kdcom-dump
counts them), and the KD message: packet type, API number and
name, state change (exception, LoadSymbols), addresses, lengths, statuses,
DbgPrint strings and FILE_IO requests.  Filter with kdcom.type == 2,
kdcom.kd.api == 0x3130, kdcom.kd.string contains "boot", kdcom.dir ==
"T>D", kdcom.checksum.status == 0 ...

Install: copy (or link) this file into the personal Lua plugins folder
(Help > About Wireshark > Folders; ~/.local/lib/wireshark/plugins/ on
Linux), or run tshark -X lua_script:kdcom.lua.  docs/wireshark.md has the
details.  The parsing rules are docs/protocol.md section 5.1, byte for
byte the same as libkdcom's kdcom_parse() (kdcom-dump prints the same
items).
--]]

local kdcom = Proto("kdcom", "KDCOM (Windows kernel debugging)")

-------------------------------------------------------------------------------
-- Constants (include/kdcom.h, include/kdcom_kd.h)

local LEADER_DATA_BYTE = 0x30
local LEADER_CONTROL_BYTE = 0x69
local BREAKIN_BYTE = 0x62
local TRAILER_BYTE = 0xAA
local HEADER_SIZE = 16
local MAX_PAYLOAD = 4000
local SYNC_BIT = 0x800

local TYPE_NAMES = {
    [0] = "UNUSED", [1] = "STATE_CHANGE32", [2] = "STATE_MANIPULATE",
    [3] = "DEBUG_IO", [4] = "ACKNOWLEDGE", [5] = "RESEND", [6] = "RESET",
    [7] = "STATE_CHANGE64", [8] = "POLL_BREAKIN", [9] = "TRACE_IO",
    [10] = "CONTROL_REQUEST", [11] = "FILE_IO",
}

local API_NAMES = {
    [0x3030] = "DbgKdExceptionStateChange",
    [0x3031] = "DbgKdLoadSymbolsStateChange",
    [0x3032] = "DbgKdCommandStringStateChange",
    [0x3130] = "DbgKdReadVirtualMemoryApi",
    [0x3131] = "DbgKdWriteVirtualMemoryApi",
    [0x3132] = "DbgKdGetContextApi",
    [0x3133] = "DbgKdSetContextApi",
    [0x3134] = "DbgKdWriteBreakPointApi",
    [0x3135] = "DbgKdRestoreBreakPointApi",
    [0x3136] = "DbgKdContinueApi",
    [0x3137] = "DbgKdReadControlSpaceApi",
    [0x3138] = "DbgKdWriteControlSpaceApi",
    [0x3139] = "DbgKdReadIoSpaceApi",
    [0x313A] = "DbgKdWriteIoSpaceApi",
    [0x313B] = "DbgKdRebootApi",
    [0x313C] = "DbgKdContinueApi2",
    [0x313D] = "DbgKdReadPhysicalMemoryApi",
    [0x313E] = "DbgKdWritePhysicalMemoryApi",
    [0x313F] = "DbgKdQuerySpecialCallsApi",
    [0x3140] = "DbgKdSetSpecialCallApi",
    [0x3141] = "DbgKdClearSpecialCallsApi",
    [0x3142] = "DbgKdSetInternalBreakPointApi",
    [0x3143] = "DbgKdGetInternalBreakPointApi",
    [0x3144] = "DbgKdReadIoSpaceExtendedApi",
    [0x3145] = "DbgKdWriteIoSpaceExtendedApi",
    [0x3146] = "DbgKdGetVersionApi",
    [0x3147] = "DbgKdWriteBreakPointExApi",
    [0x3148] = "DbgKdRestoreBreakPointExApi",
    [0x3149] = "DbgKdCauseBugCheckApi",
    [0x3150] = "DbgKdSwitchProcessor",
    [0x3151] = "DbgKdPageInApi",
    [0x3152] = "DbgKdReadMachineSpecificRegister",
    [0x3153] = "DbgKdWriteMachineSpecificRegister",
    [0x3154] = "OldVlm1",
    [0x3155] = "OldVlm2",
    [0x3156] = "DbgKdSearchMemoryApi",
    [0x3157] = "DbgKdGetBusDataApi",
    [0x3158] = "DbgKdSetBusDataApi",
    [0x3159] = "DbgKdCheckLowMemoryApi",
    [0x315A] = "DbgKdClearAllInternalBreakpointsApi",
    [0x315B] = "DbgKdFillMemoryApi",
    [0x315C] = "DbgKdQueryMemoryApi",
    [0x315D] = "DbgKdSwitchPartition",
    [0x315E] = "DbgKdWriteCustomBreakpointApi",
    [0x315F] = "DbgKdGetContextExApi",
    [0x3160] = "DbgKdSetContextExApi",
    [0x3230] = "DbgKdPrintStringApi",
    [0x3231] = "DbgKdGetStringApi",
    [0x3330] = "DbgKdPrintTraceApi",
    [0x3430] = "DbgKdCreateFileApi",
    [0x3431] = "DbgKdReadFileApi",
    [0x3432] = "DbgKdWriteFileApi",
    [0x3433] = "DbgKdCloseFileApi",
}

-- Message header sizes by packet type (kdcom_kd_header_size()).
local HEADER_SIZES = { [2] = 56, [3] = 16, [7] = 0xF0, [9] = 64, [10] = 64,
                       [11] = 64 }

local ITEM_NAMES = {
    data = "Data packet", bad_checksum = "Data packet (bad checksum)",
    bad_trailer = "Data packet (bad trailer)",
    bad_size = "Data packet header (ByteCount over 4000)",
    control = "Control packet", breakin = "Break-in", noise = "Noise",
    incomplete = "Incomplete packet",
}

-------------------------------------------------------------------------------
-- Fields

local f = kdcom.fields
f.dir = ProtoField.string("kdcom.dir", "Direction")
f.item = ProtoField.string("kdcom.item", "Item")
f.retransmission = ProtoField.bool("kdcom.retransmission",
    "Retransmission")
f.duplicate = ProtoField.bool("kdcom.duplicate",
    "Duplicate (already acknowledged)")
f.leader = ProtoField.uint32("kdcom.leader", "Leader", base.HEX)
f.type = ProtoField.uint16("kdcom.type", "Packet type", base.DEC, TYPE_NAMES)
f.count = ProtoField.uint16("kdcom.count", "ByteCount", base.DEC)
f.id = ProtoField.uint32("kdcom.id", "Packet id", base.HEX)
f.id_sync = ProtoField.bool("kdcom.id.sync", "SYNC bit", 32, nil, SYNC_BIT)
f.id_bit0 = ProtoField.uint32("kdcom.id.bit0", "Alternating bit", base.DEC,
                              nil, 0x1)
f.checksum = ProtoField.uint32("kdcom.checksum", "Checksum", base.HEX)
f.checksum_computed = ProtoField.uint32("kdcom.checksum.computed",
                                        "Computed checksum", base.HEX)
f.checksum_status = ProtoField.uint8("kdcom.checksum.status",
                                     "Checksum status", base.DEC,
                                     { [0] = "Bad", [1] = "Good" })
f.trailer = ProtoField.uint8("kdcom.trailer", "Trailer", base.HEX)
f.payload = ProtoField.bytes("kdcom.payload", "Payload")
f.breakin = ProtoField.uint8("kdcom.breakin", "Break-in byte", base.HEX)
f.noise = ProtoField.bytes("kdcom.noise", "Noise")
f.noise_len = ProtoField.uint32("kdcom.noise.len", "Noise bytes", base.DEC)
f.incomplete = ProtoField.uint32("kdcom.incomplete", "Bytes of a cut-off packet",
                                 base.DEC)

f.kd_api = ProtoField.uint32("kdcom.kd.api", "ApiNumber", base.HEX, API_NAMES)
f.kd_new_state = ProtoField.uint32("kdcom.kd.new_state", "NewState",
                                   base.HEX, API_NAMES)
f.kd_cpu_level = ProtoField.uint16("kdcom.kd.processor_level",
                                   "ProcessorLevel", base.DEC)
f.kd_cpu = ProtoField.uint16("kdcom.kd.processor", "Processor", base.DEC)
f.kd_ncpu = ProtoField.uint32("kdcom.kd.processors", "NumberProcessors",
                              base.DEC)
f.kd_status = ProtoField.uint32("kdcom.kd.status", "ReturnStatus", base.HEX)
f.kd_addr = ProtoField.uint64("kdcom.kd.addr", "Address", base.HEX)
f.kd_count = ProtoField.uint32("kdcom.kd.count", "TransferCount", base.DEC)
f.kd_actual = ProtoField.uint32("kdcom.kd.actual", "ActualBytes", base.DEC)
f.kd_data = ProtoField.bytes("kdcom.kd.data", "Message data")
f.kd_data_len = ProtoField.uint32("kdcom.kd.data_len", "Message data length",
                                  base.DEC)
f.kd_continue_status = ProtoField.uint32("kdcom.kd.continue_status",
                                         "ContinueStatus", base.HEX)
f.kd_trace = ProtoField.uint32("kdcom.kd.trace", "TraceFlag", base.DEC)
f.kd_dr7 = ProtoField.uint32("kdcom.kd.dr7", "Dr7", base.HEX)
f.kd_bp_handle = ProtoField.uint32("kdcom.kd.bp_handle", "BreakPointHandle",
                                   base.DEC)
f.kd_io_size = ProtoField.uint32("kdcom.kd.io_size", "DataSize", base.DEC)
f.kd_io_value = ProtoField.uint32("kdcom.kd.io_value", "DataValue", base.HEX)
f.kd_msr = ProtoField.uint32("kdcom.kd.msr", "MSR", base.HEX)
f.kd_msr_value = ProtoField.uint64("kdcom.kd.msr_value", "MSR value",
                                   base.HEX)
f.kd_ver_major = ProtoField.uint16("kdcom.kd.version.major", "MajorVersion",
                                   base.HEX)
f.kd_ver_build = ProtoField.uint16("kdcom.kd.version.build",
                                   "MinorVersion (build)", base.DEC)
f.kd_ver_protocol = ProtoField.uint8("kdcom.kd.version.protocol",
                                     "ProtocolVersion", base.DEC)
f.kd_ver_machine = ProtoField.uint16("kdcom.kd.version.machine",
                                     "MachineType", base.HEX,
                                     { [0x014C] = "i386", [0x8664] = "AMD64",
                                       [0x01C4] = "ARMNT",
                                       [0xAA64] = "ARM64" })
f.kd_ver_kernbase = ProtoField.uint64("kdcom.kd.version.kernbase",
                                      "KernBase", base.HEX)
f.kd_ver_modules = ProtoField.uint64("kdcom.kd.version.modules",
                                     "PsLoadedModuleList", base.HEX)
f.kd_ver_ddl = ProtoField.uint64("kdcom.kd.version.debugger_data",
                                 "DebuggerDataList", base.HEX)
f.kd_thread = ProtoField.uint64("kdcom.kd.thread", "Thread", base.HEX)
f.kd_pc = ProtoField.uint64("kdcom.kd.pc", "ProgramCounter", base.HEX)
f.kd_exc_code = ProtoField.uint32("kdcom.kd.exception.code", "ExceptionCode",
                                  base.HEX)
f.kd_exc_flags = ProtoField.uint32("kdcom.kd.exception.flags",
                                   "ExceptionFlags", base.HEX)
f.kd_exc_addr = ProtoField.uint64("kdcom.kd.exception.addr",
                                  "ExceptionAddress", base.HEX)
f.kd_exc_first = ProtoField.uint32("kdcom.kd.exception.first_chance",
                                   "FirstChance", base.DEC)
f.kd_ls_base = ProtoField.uint64("kdcom.kd.load.base", "BaseOfDll", base.HEX)
f.kd_ls_size = ProtoField.uint32("kdcom.kd.load.size", "SizeOfImage",
                                 base.HEX)
f.kd_ls_unload = ProtoField.uint8("kdcom.kd.load.unload", "UnloadSymbols",
                                  base.DEC)
f.kd_ls_path = ProtoField.string("kdcom.kd.load.path", "Path")
f.kd_string_len = ProtoField.uint32("kdcom.kd.string_len", "LengthOfString",
                                    base.DEC)
f.kd_string = ProtoField.string("kdcom.kd.string", "String")
f.kd_fio_status = ProtoField.uint32("kdcom.kd.file.status", "Status",
                                    base.HEX)
f.kd_fio_access = ProtoField.uint32("kdcom.kd.file.access", "DesiredAccess",
                                    base.HEX)
f.kd_fio_share = ProtoField.uint32("kdcom.kd.file.share", "ShareAccess",
                                   base.HEX)
f.kd_fio_disposition = ProtoField.uint32("kdcom.kd.file.disposition",
                                         "CreateDisposition", base.DEC)
f.kd_fio_handle = ProtoField.uint64("kdcom.kd.file.handle", "Handle",
                                    base.HEX)
f.kd_fio_size = ProtoField.uint64("kdcom.kd.file.size", "Length", base.DEC)
f.kd_fio_offset = ProtoField.uint64("kdcom.kd.file.offset", "Offset",
                                    base.HEX)
f.kd_fio_length = ProtoField.uint32("kdcom.kd.file.length", "Length",
                                    base.DEC)
f.kd_fio_name = ProtoField.string("kdcom.kd.file.name", "File name")

-------------------------------------------------------------------------------
-- Expert info

-- name (kdcom.expert.NAME), summary, group, severity
local EXPERTS = {
    { "bad_checksum", "Bad checksum", "CHECKSUM", "ERROR" },
    { "bad_trailer", "Trailer byte is not 0xAA", "MALFORMED", "ERROR" },
    { "bad_size", "ByteCount over 4000: payload not read", "MALFORMED",
      "ERROR" },
    { "resend", "RESEND: the peer asks for the last packet again",
      "SEQUENCE", "NOTE" },
    { "reset", "RESET: packet ids start again", "SEQUENCE", "CHAT" },
    { "breakin", "Break-in: the debugger asks the target to stop",
      "SEQUENCE", "NOTE" },
    { "noise", "Bytes outside any packet", "PROTOCOL", "WARN" },
    { "incomplete", "Packet cut off (end of capture)", "MALFORMED", "WARN" },
    { "kd_short", "Payload shorter than the KD message header", "MALFORMED",
      "WARN" },
    { "unknown_control", "Unknown control packet type", "PROTOCOL", "WARN" },
    { "retransmission", "Retransmission of the previous data packet",
      "SEQUENCE", "NOTE" },
    { "duplicate",
      "Duplicate: the receiver had acknowledged this packet already",
      "SEQUENCE", "WARN" },
}
local ex = {}
kdcom.experts = {}
for _, e in ipairs(EXPERTS) do
    ex[e[1]] = ProtoExpert.new("kdcom.expert." .. e[1], e[2],
        expert.group[e[3]], expert.severity[e[4]])
    kdcom.experts[#kdcom.experts + 1] = ex[e[1]]
end

-------------------------------------------------------------------------------
-- Preferences

kdcom.prefs.tcp_ports = Pref.range("TCP ports", "5800",
    "TCP ports carrying KDCOM (com:ipport)", 65535)
kdcom.prefs.target_side = Pref.enum("Target side of a TCP connection", 1,
    "Which end of a TCP connection is the target",
    { { 1, "The listening side (the port above)", 1 },
      { 2, "The connecting side", 2 } }, false)
kdcom.prefs.user_dlt = Pref.uint("User link type (USER0..USER15)", 0,
    "Captures on this user link type (0 = LINKTYPE_USER0, 147) are KDCOM")

-------------------------------------------------------------------------------
-- Helpers

local function le16(s, i)
    local a, b = s:byte(i, i + 1)
    return a + b * 256
end

local function le32(s, i)
    local a, b, c, d = s:byte(i, i + 3)
    return a + b * 256 + c * 65536 + d * 16777216
end

local function hex64(range)
    local h = range:le_uint64():tohex():gsub("^0+", "")
    if h == "" then h = "0" end
    return "0x" .. h:lower()
end

local function hex32(v, width)
    return string.format("0x%0" .. (width or 8) .. "x", v)
end

local function esc(s)
    return (s:gsub("[%z\1-\31\\\"\127-\255]", function(c)
        if c == "\n" then return "\\n" end
        if c == "\r" then return "\\r" end
        if c == "\t" then return "\\t" end
        if c == "\\" or c == "\"" then return "\\" .. c end
        return string.format("\\x%02x", c:byte())
    end))
end

local function api_name(api)
    return API_NAMES[api] or string.format("unknown(0x%04x)", api)
end

-- The items of a byte string, as kdcom_parse() finds them (docs/protocol.md
-- 5.1).  Returns the items, the 1-based position of the first byte that
-- belongs to no complete item yet (#data + 1 when none is left over), and
-- the length of the packet in progress there when its header is known.
local function scan(data)
    local items, n, i = {}, #data, 1
    local run_byte, run_len, run_start = nil, 0, nil
    local function noise(s, e, partial)
        local last = items[#items]
        if last and last.kind == "noise" and last.e == s - 1 then
            last.e = e
        else
            items[#items + 1] = { kind = "noise", s = s, e = e }
        end
    end
    local function drop_run()
        if run_len > 0 then
            noise(run_start, run_start + run_len - 1)
            run_len = 0
        end
    end
    while i <= n do
        local b = data:byte(i)
        local advance = 1
        if b == LEADER_DATA_BYTE or b == LEADER_CONTROL_BYTE then
            if run_len == 0 or b ~= run_byte then
                drop_run()
                run_byte, run_start = b, i
            end
            run_len = run_len + 1
            if run_len == 4 then
                local fs = run_start
                run_len = 0
                if fs + HEADER_SIZE - 1 > n then
                    return items, fs, nil
                end
                local it = {
                    s = fs, type = le16(data, fs + 4),
                    count = le16(data, fs + 6), id = le32(data, fs + 8),
                    checksum = le32(data, fs + 12),
                }
                if run_byte == LEADER_CONTROL_BYTE then
                    it.kind, it.e = "control", fs + HEADER_SIZE - 1
                elseif it.count > MAX_PAYLOAD then
                    it.kind, it.e = "bad_size", fs + HEADER_SIZE - 1
                else
                    local total = HEADER_SIZE + it.count + 1
                    if fs + total - 1 > n then
                        return items, fs, total
                    end
                    local sum = 0
                    local ps = fs + HEADER_SIZE
                    local pe = ps + it.count - 1
                    local chunk = 256
                    local p = ps
                    while p <= pe do
                        local q = math.min(p + chunk - 1, pe)
                        local bytes = { data:byte(p, q) }
                        for k = 1, #bytes do sum = sum + bytes[k] end
                        p = q + 1
                    end
                    it.computed = sum
                    it.trailer = data:byte(fs + total - 1)
                    it.e = fs + total - 1
                    if it.trailer ~= TRAILER_BYTE then
                        it.kind = "bad_trailer"
                    elseif sum ~= it.checksum then
                        it.kind = "bad_checksum"
                    else
                        it.kind = "data"
                    end
                end
                items[#items + 1] = it
                advance = it.e + 1 - i
            end
        elseif b == BREAKIN_BYTE then
            drop_run()
            items[#items + 1] = { kind = "breakin", s = i, e = i }
        else
            drop_run()
            noise(i, i)
        end
        i = i + advance
    end
    if run_len > 0 then
        return items, run_start, nil
    end
    return items, n + 1, nil
end

-------------------------------------------------------------------------------
-- DBGKD_MANIPULATE_STATE64's union per API: the fields shown in the tree
-- ({field, offset, length} in the message header) and the text for the
-- Info column, which reads like the example programs' --trace decode.

local function u(r, o, l) return r(o, l):le_uint() end

-- Info text items: {name, how, offset, length}; how is "d" (decimal),
-- "x" (0x hex), "h16"/"h32" (0x hex, 4/8 digits), "h64" (a 64-bit
-- address) or "status" (ReturnStatus, 0x and 8 digits).
local function info_text(r, st, items)
    local out = {}
    for _, i in ipairs(items) do
        local how, v = i[2]
        if how == "status" then v = hex32(st)
        elseif how == "h64" then v = hex64(r(i[3], i[4]))
        elseif how == "h32" then v = hex32(u(r, i[3], i[4]))
        elseif how == "h16" then v = hex32(u(r, i[3], i[4]), 4)
        elseif how == "x" then v = string.format("0x%x", u(r, i[3], i[4]))
        else v = tostring(u(r, i[3], i[4])) end
        out[#out + 1] = i[1] .. "=" .. v
    end
    return table.concat(out, " ")
end

local STATUS = { "status", "status" }
local MEMORY = {
    fields = { { f.kd_addr, 16, 8 }, { f.kd_count, 24, 4 },
               { f.kd_actual, 28, 4 } },
    info = { { "addr", "h64", 16, 8 }, { "count", "d", 24, 4 },
             { "actual", "d", 28, 4 }, STATUS },
}
local BREAKPOINT = {
    fields = { { f.kd_addr, 16, 8 }, { f.kd_bp_handle, 24, 4 } },
    info = { { "addr", "h64", 16, 8 }, { "handle", "d", 24, 4 }, STATUS },
}
local RESTORE_BREAKPOINT = {
    fields = { { f.kd_bp_handle, 16, 4 } },
    info = { { "handle", "d", 16, 4 }, STATUS },
}
local IO_SPACE = {
    fields = { { f.kd_addr, 16, 8 }, { f.kd_io_size, 24, 4 },
               { f.kd_io_value, 28, 4 } },
    info = { { "addr", "h64", 16, 8 }, { "size", "d", 24, 4 }, STATUS },
}
local IO_SPACE_EXTENDED = {
    fields = { { f.kd_io_size, 16, 4 }, { f.kd_addr, 32, 8 },
               { f.kd_io_value, 40, 4 } },
    info = { { "addr", "h64", 32, 8 }, { "size", "d", 16, 4 }, STATUS },
}
local MSR = {
    fields = { { f.kd_msr, 16, 4 }, { f.kd_msr_value, 20, 8 } },
    info = { { "msr", "x", 16, 4 }, STATUS },
}
local CONTEXT_EX = {
    fields = { { f.kd_count, 20, 4 } },
    info = { { "offset", "d", 16, 4 }, { "count", "d", 20, 4 }, STATUS },
}

local MANIPULATE = {
    [0x3130] = MEMORY, [0x3131] = MEMORY,       -- Read/WriteVirtualMemory
    [0x313D] = MEMORY, [0x313E] = MEMORY,       -- Read/WritePhysicalMemory
    [0x3137] = MEMORY, [0x3138] = MEMORY,       -- Read/WriteControlSpace
    [0x3134] = BREAKPOINT, [0x3147] = BREAKPOINT,
    [0x3135] = RESTORE_BREAKPOINT, [0x3148] = RESTORE_BREAKPOINT,
    [0x3139] = IO_SPACE, [0x313A] = IO_SPACE,
    [0x3144] = IO_SPACE_EXTENDED, [0x3145] = IO_SPACE_EXTENDED,
    [0x3152] = MSR, [0x3153] = MSR,
    [0x315F] = CONTEXT_EX, [0x3160] = CONTEXT_EX,
    [0x3136] = {                                -- Continue
        fields = { { f.kd_continue_status, 16, 4 } },
        info = { { "continue_status", "h32", 16, 4 } },
    },
    [0x313C] = {                                -- Continue2
        fields = { { f.kd_continue_status, 16, 4 }, { f.kd_trace, 20, 4 },
                   { f.kd_dr7, 24, 4 } },
        info = { { "continue_status", "h32", 16, 4 },
                 { "trace", "d", 20, 4 } },
    },
    [0x3146] = {                                -- GetVersion
        fields = { { f.kd_ver_major, 16, 2 }, { f.kd_ver_build, 18, 2 },
                   { f.kd_ver_protocol, 20, 1 }, { f.kd_ver_machine, 24, 2 },
                   { f.kd_ver_kernbase, 32, 8 }, { f.kd_ver_modules, 40, 8 },
                   { f.kd_ver_ddl, 48, 8 } },
        info = { STATUS, { "major", "x", 16, 2 }, { "build", "d", 18, 2 },
                 { "machine", "h16", 24, 2 }, { "kernbase", "h64", 32, 8 } },
    },
    [0x315C] = {                                -- QueryMemory
        fields = { { f.kd_addr, 16, 8 } },
        info = { { "addr", "h64", 16, 8 }, STATUS },
    },
}

-------------------------------------------------------------------------------
-- The KD message inside a data packet.  Returns a short description for
-- the Info column.

local function kd_message(tvb, t, ptype, off, len)
    local hs = HEADER_SIZES[ptype]
    if hs == nil or len < 4 then
        return string.format("bytes=%d", len)
    end
    local r = function(o, l) return tvb(off + o, l) end
    local api = r(0, 4):le_uint()
    local kt = t:add(kdcom, tvb(off, len), "KD message: " .. api_name(api))
    if ptype == 7 then
        kt:add_le(f.kd_new_state, r(0, 4))
    else
        kt:add_le(f.kd_api, r(0, 4))
    end
    local desc = api_name(api)
    if len < hs then
        kt:add_proto_expert_info(ex.kd_short, string.format(
            "Payload of %d bytes, message header of %d", len, hs))
        return desc .. string.format(" short=%d/%d", len, hs)
    end
    local data_len = len - hs
    local parts = { desc }
    local function add(fmt, ...) parts[#parts + 1] = string.format(fmt, ...) end

    if ptype == 2 then -- DBGKD_MANIPULATE_STATE64
        kt:add_le(f.kd_cpu_level, r(4, 2))
        kt:add_le(f.kd_cpu, r(6, 2))
        kt:add_le(f.kd_status, r(8, 4))
        local st = r(8, 4):le_uint()
        local m = MANIPULATE[api]
        if m then
            for _, fl in ipairs(m.fields) do
                kt:add_le(fl[1], r(fl[2], fl[3]))
            end
            add("%s", info_text(r, st, m.info))
        else
            add("status=%s", hex32(st))
        end
        add("data=%d", data_len)
    elseif ptype == 7 then -- DBGKD_WAIT_STATE_CHANGE64
        kt:add_le(f.kd_cpu_level, r(4, 2))
        kt:add_le(f.kd_cpu, r(6, 2))
        kt:add_le(f.kd_ncpu, r(8, 4))
        kt:add_le(f.kd_thread, r(16, 8))
        kt:add_le(f.kd_pc, r(24, 8))
        if api == 0x3030 then
            kt:add_le(f.kd_exc_code, r(32, 4))
            kt:add_le(f.kd_exc_flags, r(36, 4))
            kt:add_le(f.kd_exc_addr, r(48, 8))
            kt:add_le(f.kd_exc_first, r(0xB8, 4))
            add("code=%s pc=%s cpu=%d/%d first_chance=%d",
                hex32(r(32, 4):le_uint()), hex64(r(24, 8)),
                r(6, 2):le_uint(), r(8, 4):le_uint(), r(0xB8, 4):le_uint())
        elseif api == 0x3031 then
            kt:add_le(f.kd_ls_base, r(40, 8))
            kt:add_le(f.kd_ls_size, r(60, 4))
            kt:add(f.kd_ls_unload, r(64, 1))
            local path = ""
            if data_len > 0 then
                local raw = tvb:raw(off + hs, data_len)
                local z = raw:find("\0", 1, true)
                path = z and raw:sub(1, z - 1) or raw
                if #path > 0 then
                    kt:add(f.kd_ls_path, r(hs, #path), path)
                end
            end
            add("base=%s size=0x%x path=\"%s\"", hex64(r(40, 8)),
                r(60, 4):le_uint(), esc(path))
        end
    elseif ptype == 3 then -- DBGKD_DEBUG_IO
        kt:add_le(f.kd_cpu_level, r(4, 2))
        kt:add_le(f.kd_cpu, r(6, 2))
        kt:add_le(f.kd_string_len, r(8, 4))
        local text = data_len > 0 and tvb:raw(off + hs, data_len) or ""
        if data_len > 0 then
            kt:add(f.kd_string, r(hs, data_len), text)
        end
        add("len=%d \"%s\"", r(8, 4):le_uint(), esc(text))
    elseif ptype == 11 then -- DBGKD_FILE_IO
        kt:add_le(f.kd_fio_status, r(4, 4))
        local st = r(4, 4):le_uint()
        if api == 0x3430 then
            kt:add_le(f.kd_fio_access, r(8, 4))
            kt:add_le(f.kd_fio_share, r(16, 4))
            kt:add_le(f.kd_fio_disposition, r(20, 4))
            kt:add_le(f.kd_fio_handle, r(32, 8))
            kt:add_le(f.kd_fio_size, r(40, 8))
            local name = ""
            if data_len >= 2 then
                local raw = tvb:raw(off + hs, data_len - data_len % 2)
                local chars = {}
                for k = 1, #raw - 1, 2 do
                    local u = raw:byte(k) + raw:byte(k + 1) * 256
                    if u == 0 then break end
                    chars[#chars + 1] = u < 0x80 and string.char(u) or "?"
                end
                name = table.concat(chars)
                if #name > 0 then
                    kt:add(f.kd_fio_name, r(hs, 2 * #name), name)
                end
            end
            add("status=%s file=\"%s\"", hex32(st), esc(name))
        elseif api == 0x3431 or api == 0x3432 then
            kt:add_le(f.kd_fio_handle, r(8, 8))
            kt:add_le(f.kd_fio_offset, r(16, 8))
            kt:add_le(f.kd_fio_length, r(24, 4))
            add("status=%s length=%d", hex32(st), r(24, 4):le_uint())
        elseif api == 0x3433 then
            kt:add_le(f.kd_fio_handle, r(8, 8))
            add("status=%s", hex32(st))
        else
            add("status=%s", hex32(st))
        end
        add("data=%d", data_len)
    else
        add("data=%d", data_len)
    end
    kt:add(f.kd_data_len, data_len):set_generated()
    if data_len > 0 then
        kt:add(f.kd_data, r(hs, data_len))
    end
    return table.concat(parts, " ")
end

-------------------------------------------------------------------------------
-- One item into the tree.  Returns its text for the Info column.

local function show_item(tvb, t0, it, dir, an)
    local s, len = it.s - 1, it.e - it.s + 1
    local range = tvb(s, len)
    local t = t0:add(kdcom, range)
    t:add(f.dir, dir):set_generated()
    t:add(f.item, it.kind):set_generated()
    local text
    if it.kind == "noise" then
        t:add(f.noise, range)
        t:add(f.noise_len, len):set_generated()
        t:add_proto_expert_info(ex.noise, string.format("%d bytes outside any packet", len))
        text = string.format("NOISE %d bytes", len)
    elseif it.kind == "incomplete" then
        t:add(f.incomplete, len):set_generated()
        t:add_proto_expert_info(ex.incomplete)
        text = string.format("INCOMPLETE %d bytes", len)
    elseif it.kind == "breakin" then
        t:add(f.breakin, range)
        t:add_proto_expert_info(ex.breakin)
        text = "BREAKIN 'b'"
    else
        t:add_le(f.leader, tvb(s, 4))
        t:add_le(f.type, tvb(s + 4, 2))
        t:add_le(f.count, tvb(s + 6, 2))
        local idt = t:add_le(f.id, tvb(s + 8, 4))
        idt:add_le(f.id_sync, tvb(s + 8, 4))
        idt:add_le(f.id_bit0, tvb(s + 8, 4))
        local tname = TYPE_NAMES[it.type] or string.format("UNKNOWN(%d)", it.type)
        if it.kind == "control" then
            t:add_le(f.checksum, tvb(s + 12, 4))
            if it.type == 5 then
                t:add_proto_expert_info(ex.resend)
            elseif it.type == 6 then
                t:add_proto_expert_info(ex.reset)
            elseif it.type ~= 4 then
                t:add_proto_expert_info(ex.unknown_control)
                tname = string.format("CONTROL(type=%d)", it.type)
            end
            text = string.format("%s id=%s", tname, hex32(it.id))
        elseif it.kind == "bad_size" then
            t:add_le(f.checksum, tvb(s + 12, 4))
            t:add_proto_expert_info(ex.bad_size)
            text = string.format("%s id=%s len=%d BAD_SIZE", tname,
                                 hex32(it.id), it.count)
        else
            local ck = t:add_le(f.checksum, tvb(s + 12, 4))
            ck:add(f.checksum_computed, it.computed):set_generated()
            ck:add(f.checksum_status,
                   it.computed == it.checksum and 1 or 0):set_generated()
            if it.computed ~= it.checksum then
                ck:add_proto_expert_info(ex.bad_checksum, string.format(
                    "Bad checksum: 0x%08x on the wire, 0x%08x computed",
                    it.checksum, it.computed))
            end
            if it.count > 0 then
                t:add(f.payload, tvb(s + HEADER_SIZE, it.count))
            end
            local tr = t:add(f.trailer, tvb(s + HEADER_SIZE + it.count, 1))
            if it.kind == "bad_trailer" then
                tr:add_proto_expert_info(ex.bad_trailer)
            end
            text = string.format("%s id=%s len=%d", tname, hex32(it.id),
                                 it.count)
            local rt = t:add(f.retransmission, an.retransmission)
            rt:set_generated()
            t:add(f.duplicate, an.duplicate):set_generated()
            if an.duplicate then
                rt:add_proto_expert_info(ex.duplicate)
            elseif an.retransmission then
                rt:add_proto_expert_info(ex.retransmission)
            end
            if it.computed ~= it.checksum then
                text = text .. " sum=BAD"
            end
            if it.kind == "bad_trailer" then
                text = text .. " trailer=BAD"
            end
            text = text .. " " .. kd_message(tvb, t, it.type, s + HEADER_SIZE,
                                             it.count)
            if an.duplicate then
                text = text .. " [retransmission, duplicate]"
            elseif an.retransmission then
                text = text .. " [retransmission]"
            end
        end
    end
    t:set_text(string.format("KDCOM %s %s: %s", dir, ITEM_NAMES[it.kind], text))
    return dir .. " " .. text
end

-------------------------------------------------------------------------------
-- Retransmissions, as kdcom-dump counts them (docs/wireshark.md): a data
-- packet with the type, ByteCount and Checksum of the previous one in its
-- direction and its id (any id once a RESET went by) is a retransmission;
-- one whose previous copy the other side had acknowledged is a duplicate.
-- Worked out on the first pass, in capture order, per direction of each
-- stream (streams[key]); remembered per frame and item (analysis) so a
-- frame shows the same whenever it is displayed.

local streams = {}
local analysis = {}

local function stream_state(key)
    local st = streams[key]
    if st == nil then
        st = {}
        streams[key] = st
    end
    return st
end

-- An id without its SYNC bit (0x800): an ACK may carry it or not.
local function without_sync(id)
    return id - (math.floor(id / 0x800) % 2) * 0x800
end

local function analyse(it, st, other)
    local an = { retransmission = false, duplicate = false }
    if it.kind == "data" or it.kind == "bad_checksum" or
       it.kind == "bad_trailer" then
        local same = st.have_last and it.type == st.type and
            it.count == st.count and it.checksum == st.checksum
        if same and (it.id == st.id or st.reset_since) then
            an.retransmission = true
            an.duplicate = st.acked and it.kind == "data" or false
        else
            st.acked = false
        end
        st.have_last, st.type, st.count = true, it.type, it.count
        st.id, st.checksum, st.reset_since = it.id, it.checksum, false
    elseif it.kind == "control" and other ~= nil then
        if it.type == 4 and other.have_last and
           without_sync(it.id) == without_sync(other.id) then
            other.acked = true
        elseif it.type == 6 then
            st.reset_since, other.reset_since = true, true
        end
    elseif it.kind == "control" and it.type == 6 then
        st.reset_since = true
    end
    return an
end

-- Dissects the items of buf (a Tvb); when final is false, the item left
-- incomplete at the end is not shown.  Returns the scan's stop position
-- and the length of the packet in progress.
local function dissect_items(buf, pinfo, tree, dir, final, key, okey)
    local items, stop, need = scan(buf:raw())
    if final and stop <= buf:len() then
        items[#items + 1] = { kind = "incomplete", s = stop, e = buf:len() }
    end
    local seen = analysis[pinfo.number]
    if seen == nil then
        seen = {}
        local st = stream_state(key)
        local other = okey and stream_state(okey) or nil
        for i, it in ipairs(items) do
            seen[i] = analyse(it, st, other)
        end
        analysis[pinfo.number] = seen
    end
    local texts = {}
    for i, it in ipairs(items) do
        texts[#texts + 1] = show_item(buf, tree, it, dir, seen[i] or {
            retransmission = false, duplicate = false })
    end
    pinfo.cols.protocol = "KDCOM"
    if #texts > 0 then
        pinfo.cols.info:set(table.concat(texts, "; "))
    end
    return stop, need, #texts
end

-------------------------------------------------------------------------------
-- User link type: frames are chunks of one direction's byte stream.  On
-- the first pass the bytes a frame leaves unfinished are carried to the
-- next frame of the same direction; prefix[n] remembers what frame n
-- started with, so that a frame is dissected alike whenever it is
-- displayed.

local f_ifname = nil
pcall(function() f_ifname = Field.new("frame.interface_name") end)
local f_ifid = nil
pcall(function() f_ifid = Field.new("frame.interface_id") end)
local f_flags = nil
pcall(function() f_flags = Field.new("frame.packet_flags_direction") end)

local pending = {}
local prefix = {}

function kdcom.init()
    pending = {}
    prefix = {}
    streams = {}
    analysis = {}
end

-- The direction of a frame, and the stream it continues: interfaces
-- "debugger" and "target" are the two ends (as --pcap writes them); any
-- other interface is a stream of its own whose sender is not known ("?"),
-- one per interface and inbound/outbound flag, as kdcom-dump reads it.
local function user_direction()
    local name = f_ifname and f_ifname()
    if name then
        local v = tostring(name.value)
        if v == "debugger" then return "D>T", "D>T" end
        if v == "target" then return "T>D", "T>D" end
    end
    local id = f_ifid and f_ifid()
    local fl = f_flags and f_flags()
    return "?", "?" .. tostring(id and id.value or 0) .. "/" ..
        tostring(fl and fl.value or 0)
end

local function dissect_user(tvb, pinfo, tree)
    local dir, key = user_direction()
    local n = pinfo.number
    if not pinfo.visited then
        local before = pending[key] or ""
        prefix[n] = before
        local data = before .. tvb:raw()
        local _, stop = scan(data)
        pending[key] = data:sub(stop)
    end
    local pre = prefix[n] or ""
    local buf = tvb
    if #pre > 0 then
        buf = ByteArray.new(pre .. tvb:raw(), true):tvb("KDCOM stream")
    end
    if dir == "D>T" then
        pinfo.cols.src = "debugger"
        pinfo.cols.dst = "target"
    elseif dir == "T>D" then
        pinfo.cols.src = "target"
        pinfo.cols.dst = "debugger"
    end
    local okey = (key == "D>T" and "T>D") or (key == "T>D" and "D>T") or nil
    local stop, need, count = dissect_items(buf, pinfo, tree, dir, false,
                                            key, okey)
    if count == 0 then
        -- only part of a packet: it is shown in the frame that ends it
        local t = tree:add(kdcom, tvb())
        t:add(f.dir, dir):set_generated()
        t:add(f.item, "fragment"):set_generated()
        local what = need and string.format("%d of %d bytes", buf:len() - stop + 1,
                                            need) or "a leader"
        t:set_text(string.format("KDCOM %s: part of a packet (%s so far)",
                                 dir, what))
        pinfo.cols.info:set(string.format("%s [part of a packet: %s]", dir,
                                          what))
    end
    return tvb:len()
end

-------------------------------------------------------------------------------
-- TCP: Wireshark's reassembly hands over the bytes a frame left unfinished
-- together with the next segment.

local port_ranges = {}

local function parse_ranges(s)
    local r = {}
    for part in tostring(s):gmatch("[^,%s]+") do
        local a, b = part:match("^(%d+)%-(%d+)$")
        if a then
            r[#r + 1] = { tonumber(a), tonumber(b) }
        elseif part:match("^%d+$") then
            r[#r + 1] = { tonumber(part), tonumber(part) }
        end
    end
    return r
end

local function in_ports(p)
    for _, r in ipairs(port_ranges) do
        if p >= r[1] and p <= r[2] then return true end
    end
    return false
end

local function tcp_direction(pinfo)
    local src, dst = pinfo.src_port, pinfo.dst_port
    local from_server
    if in_ports(src) ~= in_ports(dst) then
        from_server = in_ports(src)
    else
        from_server = src < dst
    end
    local target_is_server = kdcom.prefs.target_side ~= 2
    return (from_server == target_is_server) and "T>D" or "D>T"
end

local function dissect_tcp(tvb, pinfo, tree)
    local dir = tcp_direction(pinfo)
    local src = tostring(pinfo.src) .. ":" .. pinfo.src_port
    local dst = tostring(pinfo.dst) .. ":" .. pinfo.dst_port
    local stop, need = dissect_items(tvb, pinfo, tree, dir, false,
                                     src .. ">" .. dst, dst .. ">" .. src)
    if stop <= tvb:len() then
        pinfo.desegment_offset = stop - 1
        if need then
            pinfo.desegment_len = need - (tvb:len() - stop + 1)
        else
            pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
        end
    end
    return tvb:len()
end

local f_tcp_srcport = Field.new("tcp.srcport")

function kdcom.dissector(tvb, pinfo, tree)
    if f_tcp_srcport() then
        return dissect_tcp(tvb, pinfo, tree)
    end
    return dissect_user(tvb, pinfo, tree)
end

-------------------------------------------------------------------------------
-- Registration

local tcp_table = DissectorTable.get("tcp.port")
local encap_table = DissectorTable.get("wtap_encap")
local registered_ports = nil
local registered_dlt = nil

local function register()
    if registered_ports then
        tcp_table:remove(registered_ports, kdcom)
    end
    registered_ports = tostring(kdcom.prefs.tcp_ports)
    port_ranges = parse_ranges(registered_ports)
    if #port_ranges > 0 then
        tcp_table:add(registered_ports, kdcom)
    end
    local dlt = kdcom.prefs.user_dlt
    if dlt > 15 then dlt = 0 end
    if registered_dlt ~= dlt then
        if registered_dlt then
            encap_table:remove(wtap_encaps.USER0 + registered_dlt, kdcom)
        end
        encap_table:add(wtap_encaps.USER0 + dlt, kdcom)
        registered_dlt = dlt
    end
end

function kdcom.prefs_changed()
    register()
end

register()
