// umpctl decode and umpctl convert: the codec verbs that need no running service.
#include <array>
#include <iostream>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "cli.hpp"
#include "umpd/core/bytestream.hpp"
#include "umpd/core/describe.hpp"
#include "umpd/core/reader.hpp"
#include "umpd/core/translate.hpp"
#include "verbs.hpp"

namespace umpctl {

using namespace umpd::core;

const char* const decode_help =
    "usage: umpctl decode [--json] [WORD...]\n"
    "\n"
    "Decodes UMP words (hex, 8 digits at most, 0x optional) given as arguments or, when\n"
    "there are none, read from stdin (whitespace or commas between words, # starts a\n"
    "comment). Prints one line per message: message type, group 1-16, channel 1-16 where\n"
    "the message has them, its name and every field. --json prints one JSON object per\n"
    "message instead.\n"
    "\n"
    "Malformed input (a word that is not hex, a packet the UMP 1.1 specification does not\n"
    "allow, a packet cut short) ends the run with a one-line error naming the word and its\n"
    "position (1-based), after everything valid before it has been printed; exit code 1.\n"
    "\n"
    "example: umpctl decode 40903c00 c8000000\n";

const char* const convert_help =
    "usage: umpctl convert --from midi1|ump --to ump|midi1|midi2|midi1-in-ump\n"
    "                      [--group N] [--running-status] [HEX...]\n"
    "\n"
    "Converts between MIDI 1.0 byte streams and UMP, and between the two protocols in UMP.\n"
    "Input is hex (bytes for --from midi1, 32-bit words for --from ump) from the arguments\n"
    "or stdin. Output: one packet per line (words) or one MIDI 1.0 message per line (bytes).\n"
    "\n"
    "  --from midi1 --to ump|midi1-in-ump  MIDI 1.0 bytes to MIDI 1.0 channel voice, system\n"
    "                                      and 7-bit SysEx packets (running status, real time\n"
    "                                      inside SysEx and inside messages handled)\n"
    "  --from midi1 --to midi2             the same, then translated to MIDI 2.0 channel voice\n"
    "  --from midi1 --to midi1             MIDI 1.0 bytes normalised through UMP\n"
    "  --from ump   --to midi1             UMP (either protocol) to MIDI 1.0 bytes\n"
    "  --from ump   --to midi2             MIDI 1.0 channel voice translated to MIDI 2.0\n"
    "  --from ump   --to midi1-in-ump      MIDI 2.0 channel voice translated to MIDI 1.0\n"
    "  --from ump   --to ump               validated and printed as they are\n"
    "\n"
    "  --group N          the group (1-16) of UMP made from bytes (default 1); with --to\n"
    "                     midi1 from UMP, take only group N (default: all groups)\n"
    "  --running-status   MIDI 1.0 output omits repeated channel status bytes\n"
    "\n"
    "Malformed input ends the run with a one-line error naming the byte or word and its\n"
    "position, after everything valid before it has been printed; exit code 1. Messages\n"
    "with no form in the target protocol are reported on stderr and dropped.\n"
    "\n"
    "example: umpctl convert --from midi1 --to midi2 90 3c 64\n";

namespace {

// Splits hex tokens into the valid prefix and, if a token is bad, its error.
template <typename T>
std::vector<T> parse_prefix(const std::vector<hex_token>& tokens, std::optional<std::string>& error) {
    std::vector<T> out;
    for (const auto& t : tokens) {
        try {
            const std::vector<hex_token> one{t};
            if constexpr (sizeof(T) == 1) out.push_back(parse_bytes(one).front());
            else out.push_back(parse_words(one).front());
        } catch (const input_error& e) {
            error = e.what();
            break;
        }
    }
    return out;
}

std::string packet_hex(const packet& p) {
    std::string s;
    for (auto w : p.span()) {
        if (!s.empty()) s += ' ';
        s += hex_word(w);
    }
    return s;
}

const char* explain(read_error e) {
    switch (e) {
    case read_error::none: return "valid";
    case read_error::truncated: return "the packet is cut short";
    case read_error::malformed_status: return "no message of its type has this status";
    case read_error::malformed_byte_count: return "its SysEx byte count is out of range";
    case read_error::malformed_data_byte: return "a 7-bit data field has bit 7 set";
    }
    return "malformed";
}

std::string read_error_text(const read_result& r) {
    const unsigned need = r.packet.size();
    std::string s = "word " + std::to_string(r.offset + 1) + " '" + hex_word(r.packet.words[0]) + "': ";
    if (r.error == read_error::truncated) {
        s += "truncated packet: message type 0x";
        s += "0123456789abcdef"[static_cast<unsigned>(r.packet.type())];
        s += " needs " + std::to_string(need) + " words, the input ends first";
    } else {
        s += std::string(explain(r.error)) + " (" + to_string(r.error) + ")";
    }
    return s;
}

// Reads words into packets; on the first bad word or packet, sets error and stops.
std::vector<packet> read_packets(const std::vector<std::string>& positional, std::optional<std::string>& error) {
    const auto words = parse_prefix<std::uint32_t>(read_hex_tokens(positional), error);
    std::vector<packet> packets;
    reader r(words);
    while (auto res = r.next()) {
        if (res->error != read_error::none) {
            error = read_error_text(*res);  // a malformed packet comes before a later bad token
            break;
        }
        packets.push_back(res->packet);
    }
    return packets;
}

int finish(const std::optional<std::string>& error) {
    std::cout.flush();
    if (!error) return 0;
    throw input_error(*error);
}

// ---- MIDI 1.0 bytes in --------------------------------------------------------

// Converts bytes to UMP one byte at a time, so a problem is pinned to its byte.
// input_complete: the bytes are all there was (no bad token cut them short), so a
// message still open at the end is an error of its own.
std::vector<packet> bytes_to_ump(const std::vector<std::uint8_t>& bytes, group g, bool input_complete,
                                 std::optional<std::string>& error) {
    std::vector<packet> packets;
    midi1_to_ump_state state{};
    state.target_group = g;
    std::array<std::uint32_t, 16> out{};
    auto take = [&](std::size_t written) {
        std::size_t i = 0;
        while (i < written) {
            const auto p = packet::from_words(std::span<const std::uint32_t>(out).subspan(i));
            packets.push_back(p);
            i += p.size();
        }
    };
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const auto before = state.counters;
        const auto r = midi1_to_ump(state, std::span<const std::uint8_t>(&bytes[i], 1), out);
        take(r.written);
        const auto& after = state.counters;
        const char* problem = nullptr;
        if (after.stray_data_bytes != before.stray_data_bytes) problem = "data byte with no status byte in effect";
        else if (after.stray_end_of_exclusive != before.stray_end_of_exclusive) problem = "F7 with no SysEx open";
        else if (after.undefined_status_bytes != before.undefined_status_bytes) problem = "undefined status byte";
        else if (after.unterminated_sysex != before.unterminated_sysex) problem = "status byte inside a SysEx (F7 missing)";
        else if (after.truncated_messages != before.truncated_messages) problem = "status byte before the message in progress is complete";
        if (problem) {
            error = "byte " + std::to_string(i + 1) + " '" + hex_byte(bytes[i]) + "': " + problem;
            return packets;
        }
    }
    if (!input_complete) return packets;
    if (state.in_sysex) error = "the input ends inside a SysEx (F7 missing)";
    else if (state.message_open) error = "the input ends inside a message (data bytes missing)";
    return packets;
}

// ---- translation ----------------------------------------------------------------

void report_dropped(const translate_counters& before, const translate_counters& after, const packet& p) {
    if (after.untranslatable != before.untranslatable)
        std::cerr << "umpctl convert: " << describe(p) << ": no form in the target protocol; dropped\n";
    if (after.attributes_lost != before.attributes_lost)
        std::cerr << "umpctl convert: " << describe(p) << ": note attribute dropped (MIDI 1.0 has none)\n";
}

template <typename State>
std::vector<packet> translate_all(State& state, const std::vector<packet>& in) {
    std::vector<packet> out;
    std::array<packet, max_translated_packets> buf{};
    for (const auto& p : in) {
        const auto before = state.counters;
        const auto r = translate(state, p, buf);
        report_dropped(before, state.counters, p);
        out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r.written));
    }
    if constexpr (std::is_same_v<State, midi1_to_midi2>) {
        while (has_pending(state)) {
            const auto r = flush(state, buf);
            out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r.written));
        }
    }
    return out;
}

void print_packets(const std::vector<packet>& packets) {
    for (const auto& p : packets) std::cout << packet_hex(p) << "\n";
}

// One MIDI 1.0 message per line; a SysEx that spans packets stays on one line.
void print_as_midi1(const std::vector<packet>& packets, std::optional<group> only, bool running_status) {
    ump_to_midi1_state state{};
    state.only_group = only;
    state.running_status = running_status;
    std::string line;
    std::array<std::uint8_t, 64> out{};
    for (const auto& p : packets) {
        const auto before = state.counters;
        const auto r = ump_to_midi1(state, p.span(), out);
        for (std::size_t i = 0; i < r.written; ++i) {
            if (!line.empty()) line += ' ';
            line += hex_byte(out[i]);
        }
        if (state.counters.skipped_packets != before.skipped_packets)
            std::cerr << "umpctl convert: " << describe(p) << ": no MIDI 1.0 byte form; dropped\n";
        if (state.counters.orphaned_sysex != before.orphaned_sysex)
            std::cerr << "umpctl convert: " << describe(p) << ": SysEx continuation with no start; dropped\n";
        if (!state.sysex_open && !line.empty()) {
            std::cout << line << "\n";
            line.clear();
        }
    }
    if (!line.empty()) std::cout << line << "\n";
}

}  // namespace

int decode_verb(const verb_args& args) {
    const arguments a(args, {"json"});
    a.reject_unknown({});
    std::optional<std::string> error;
    const bool json = a.flag("json");
    for (const auto& p : read_packets(a.positional(), error)) std::cout << (json ? describe_json(p) : describe(p)) << "\n";
    return finish(error);
}

int convert_verb(const verb_args& args) {
    const arguments a(args, {"running-status"});
    a.reject_unknown({"from", "to", "group"});
    const auto from = a.option("from");
    const auto to = a.option("to");
    if (!from) throw usage_error("--from is required (midi1 or ump)");
    if (!to) throw usage_error("--to is required (ump, midi1, midi2 or midi1-in-ump)");
    if (*from != "midi1" && *from != "ump") throw usage_error("--from must be midi1 or ump, not '" + *from + "'");
    if (*to != "ump" && *to != "midi1" && *to != "midi2" && *to != "midi1-in-ump")
        throw usage_error("--to must be ump, midi1, midi2 or midi1-in-ump, not '" + *to + "'");
    const auto group_number = a.integer("group", 1, 16);
    const bool running_status = a.flag("running-status");

    std::optional<std::string> error;
    std::vector<packet> packets;
    if (*from == "midi1") {
        const auto bytes = parse_prefix<std::uint8_t>(read_hex_tokens(a.positional()), error);
        std::optional<std::string> convert_error;
        packets = bytes_to_ump(bytes, group{static_cast<std::uint8_t>(group_number.value_or(1) - 1)}, !error,
                               convert_error);
        if (convert_error) error = convert_error;  // it comes before any later bad token
    } else {
        packets = read_packets(a.positional(), error);
    }

    if (*to == "midi2") {
        midi1_to_midi2 state{};
        print_packets(translate_all(state, packets));
    } else if (*to == "midi1-in-ump" && *from == "ump") {
        midi2_to_midi1 state{};
        print_packets(translate_all(state, packets));
    } else if (*to == "midi1") {
        midi2_to_midi1 state{};
        std::optional<group> only;
        if (*from == "ump" && group_number) only = group{static_cast<std::uint8_t>(*group_number - 1)};
        print_as_midi1(translate_all(state, packets), only, running_status);
    } else {
        print_packets(packets);
    }
    return finish(error);
}

}  // namespace umpctl
