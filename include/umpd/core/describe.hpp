// Names and descriptions of UMP packets for people (one line of text) and for
// programs (one JSON object). Groups and channels appear 1-based, as people count.
// Not real-time: these functions allocate. They are meant for the CLI, the monitor
// and logs; any thread may call them. They accept any packet, including reserved
// message types and unknown statuses, and never throw anything but std::bad_alloc.
#pragma once

#include <string>
#include <string_view>

#include "umpd/core/packet.hpp"

namespace umpd::core {

// "Utility", "System", "MIDI 1.0 Channel Voice", "Data 64", "MIDI 2.0 Channel Voice",
// "Data 128", "Flex Data", "UMP Stream", or "Reserved".
[[nodiscard]] std::string_view message_type_name(message_type t) noexcept;

// The JSON "type" value: "utility", "system", "midi1_channel_voice", "data64",
// "midi2_channel_voice", "data128", "flex_data", "ump_stream", "reserved_6" .. "reserved_e".
[[nodiscard]] std::string_view message_type_key(message_type t) noexcept;

// The message's name as people know it: "Note On", "Registered Controller",
// "SysEx7 Start", "Endpoint Name", "Set Tempo", "Reserved (type 0x6)",
// "Unknown System status 0xf4", ...
[[nodiscard]] std::string message_name(const packet& p);

// One line: type name, group and channel where the message has them, message name
// and every decoded field as key=value, sections separated by two spaces:
//   MIDI 2.0 Channel Voice  group 1 channel 1  Note On  note=60 velocity=0xc800 attribute_type=0 attribute=0x0000
// Text payloads are quoted with C-style escapes, byte payloads are [hex bytes].
// Reserved types and unknown statuses end with words=[...] so nothing is hidden.
[[nodiscard]] std::string describe(const packet& p);

// One JSON object on one line:
//   {"type":"midi2_channel_voice","group":1,"channel":1,"message":"Note On","note":60,...,
//    "words":["40903c00","c8000000"]}
// Field keys match describe(); numbers are JSON numbers, names are strings, byte
// payloads are arrays of numbers, text is a string (invalid UTF-8 becomes U+FFFD).
[[nodiscard]] std::string describe_json(const packet& p);

// s as a JSON string literal, quotes included: the escapes JSON requires, and invalid
// UTF-8 replaced by U+FFFD so the result is always valid JSON.
[[nodiscard]] std::string json_string(std::string_view s);

}  // namespace umpd::core
