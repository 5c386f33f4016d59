// umpctl encode: a readable message to UMP words.
//
// Channel voice values are given at MIDI 1.0 resolution (velocity 0-127, pitch bend
// 0-16383, ...). --protocol midi2 widens them exactly as the translation in
// umpd::core does (so `encode ... --protocol midi2` equals `encode ... | convert --to
// midi2`); --raw takes them at MIDI 2.0 width instead.
#include <array>
#include <cmath>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "umpd/core/messages.hpp"
#include "umpd/core/reassembly.hpp"
#include "umpd/core/scale.hpp"
#include "umpd/core/translate.hpp"
#include "encode.hpp"
#include "verbs.hpp"

namespace umpctl {

using namespace umpd::core;

namespace {

enum class protocol { midi1, midi2 };

// What one message needs from the command line.
struct request {
    const arguments& a;
    group g;
    channel c;
    protocol proto;
    bool raw;

    [[nodiscard]] long long get(const char* name, long long min, long long max) const {
        const auto v = a.integer(name, min, max);
        if (!v) throw usage_error(std::string("--") + name + " is required");
        return *v;
    }
    [[nodiscard]] long long get_or(const char* name, long long min, long long max, long long fallback) const {
        return a.integer(name, min, max).value_or(fallback);
    }
    [[nodiscard]] std::uint8_t u7(const char* name) const { return static_cast<std::uint8_t>(get(name, 0, 127)); }
    [[nodiscard]] std::string text(const char* name) const {
        const auto v = a.option(name);
        if (!v) throw usage_error(std::string("--") + name + " is required");
        return *v;
    }
    [[nodiscard]] bool yes(const char* name) const { return a.flag(name); }
    // A channel voice value: MIDI 1.0 resolution (bits), or with --raw the MIDI 2.0 width.
    [[nodiscard]] std::uint32_t value(const char* name, unsigned bits, unsigned raw_bits, long long fallback = -1) const {
        const long long max = raw ? (raw_bits == 32 ? 0xFFFFFFFFLL : (1LL << raw_bits) - 1) : (1LL << bits) - 1;
        const long long v = fallback < 0 ? get(name, 0, max) : get_or(name, 0, max, fallback);
        return raw ? static_cast<std::uint32_t>(v) : scale_up(static_cast<std::uint32_t>(v), bits, raw_bits);
    }
    void require_midi2(const char* message) const {
        if (proto != protocol::midi2) throw usage_error(std::string(message) + " exists only in MIDI 2.0 (use --protocol midi2)");
    }
};

using packets = std::vector<packet>;

// MIDI 1.0 messages, translated to MIDI 2.0 when asked: one rule for every message
// that exists in both protocols.
packets in_protocol(const request& r, packets midi1) {
    if (r.proto == protocol::midi1) return midi1;
    midi1_to_midi2 state{};
    packets out;
    std::array<packet, max_translated_packets> buf{};
    for (const auto& p : midi1) {
        const auto t = translate(state, p, buf);
        out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(t.written));
    }
    while (has_pending(state)) {
        const auto t = flush(state, buf);
        out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(t.written));
    }
    return out;
}

// Controller sequences (RPN/NRPN) in MIDI 1.0 form.
packets controller_sequence(const request& r, std::uint8_t select_msb, std::uint8_t select_lsb) {
    const auto bank = r.u7("bank");
    const auto index = r.u7("index");
    const auto v = static_cast<std::uint16_t>(r.get("value", 0, 16383));
    return {make_midi1_control_change(r.g, r.c, select_msb, bank), make_midi1_control_change(r.g, r.c, select_lsb, index),
            make_midi1_control_change(r.g, r.c, 6, static_cast<std::uint8_t>(v >> 7)),
            make_midi1_control_change(r.g, r.c, 38, static_cast<std::uint8_t>(v & 0x7F))};
}

packets text_packets(std::size_t (*split)(std::string_view, std::span<packet>, std::size_t), const std::string& text,
                     std::size_t max_bytes, const char* what) {
    if (text.size() > max_bytes)
        throw usage_error(std::string(what) + " is " + std::to_string(text.size()) + " bytes; the limit is " +
                          std::to_string(max_bytes));
    if (!utf8_valid(text)) throw usage_error(std::string(what) + " is not valid UTF-8");
    packets out(packet_count(text.size(), 14));
    out.resize(split(text, out, 0));
    return out;
}

std::vector<std::uint8_t> data_bytes(const request& r, unsigned max_value) {
    const auto tokens = read_hex_tokens({r.text("data")});
    auto bytes = parse_bytes(tokens);
    for (std::size_t i = 0; i < bytes.size(); ++i)
        if (bytes[i] > max_value)
            throw usage_error("--data byte " + std::to_string(i + 1) + " '" + hex_byte(bytes[i]) + "' is not a 7-bit data byte");
    return bytes;
}

std::uint8_t stream_protocol(const request& r) {
    const auto p = r.text("stream-protocol");
    if (p == "midi1") return stream_protocol_midi1;
    if (p == "midi2") return stream_protocol_midi2;
    throw usage_error("--stream-protocol must be midi1 or midi2");
}

struct message_form {
    const char* name;
    const char* options;  // for --help
    std::vector<std::string> known;
    std::function<packets(const request&)> build;
};

const std::vector<message_form>& forms() {
    static const std::vector<message_form> table{
        // ---- channel voice, both protocols
        {"note-on", "--note N --velocity V [--attribute-type T --attribute A (midi2)]",
         {"note", "velocity", "attribute-type", "attribute"},
         [](const request& r) -> packets {
             if (r.proto == protocol::midi2 && (r.raw || r.a.option("attribute-type"))) {
                 return {make_midi2_note_on(r.g, r.c, r.u7("note"), static_cast<std::uint16_t>(r.value("velocity", 7, 16)),
                                            static_cast<std::uint8_t>(r.get_or("attribute-type", 0, 255, 0)),
                                            static_cast<std::uint16_t>(r.get_or("attribute", 0, 0xFFFF, 0)))};
             }
             return in_protocol(r, {make_midi1_note_on(r.g, r.c, r.u7("note"), r.u7("velocity"))});
         }},
        {"note-off", "--note N [--velocity V] [--attribute-type T --attribute A (midi2)]",
         {"note", "velocity", "attribute-type", "attribute"},
         [](const request& r) -> packets {
             if (r.proto == protocol::midi2 && (r.raw || r.a.option("attribute-type"))) {
                 return {make_midi2_note_off(r.g, r.c, r.u7("note"), static_cast<std::uint16_t>(r.value("velocity", 7, 16, 0)),
                                             static_cast<std::uint8_t>(r.get_or("attribute-type", 0, 255, 0)),
                                             static_cast<std::uint16_t>(r.get_or("attribute", 0, 0xFFFF, 0)))};
             }
             return in_protocol(r, {make_midi1_note_off(r.g, r.c, r.u7("note"),
                                                        static_cast<std::uint8_t>(r.get_or("velocity", 0, 127, 0)))});
         }},
        {"poly-pressure", "--note N --value V", {"note", "value"},
         [](const request& r) -> packets {
             if (r.raw && r.proto == protocol::midi2) return {make_midi2_poly_pressure(r.g, r.c, r.u7("note"), r.value("value", 7, 32))};
             return in_protocol(r, {make_midi1_poly_pressure(r.g, r.c, r.u7("note"), r.u7("value"))});
         }},
        {"control-change", "--controller N --value V", {"controller", "value"},
         [](const request& r) -> packets {
             if (r.raw && r.proto == protocol::midi2)
                 return {make_midi2_control_change(r.g, r.c, r.u7("controller"), r.value("value", 7, 32))};
             return in_protocol(r, {make_midi1_control_change(r.g, r.c, r.u7("controller"), r.u7("value"))});
         }},
        {"program-change", "--program N [--bank B (0-16383)]", {"program", "bank"},
         [](const request& r) -> packets {
             const auto bank = r.a.integer("bank", 0, 16383);
             if (r.proto == protocol::midi2)
                 return {make_midi2_program_change(r.g, r.c, r.u7("program"),
                                                   bank ? std::optional<std::uint16_t>(static_cast<std::uint16_t>(*bank))
                                                        : std::nullopt)};
             packets out;
             if (bank) {
                 out.push_back(make_midi1_control_change(r.g, r.c, 0, static_cast<std::uint8_t>(*bank >> 7)));
                 out.push_back(make_midi1_control_change(r.g, r.c, 32, static_cast<std::uint8_t>(*bank & 0x7F)));
             }
             out.push_back(make_midi1_program_change(r.g, r.c, r.u7("program")));
             return out;
         }},
        {"channel-pressure", "--value V", {"value"},
         [](const request& r) -> packets {
             if (r.raw && r.proto == protocol::midi2) return {make_midi2_channel_pressure(r.g, r.c, r.value("value", 7, 32))};
             return in_protocol(r, {make_midi1_channel_pressure(r.g, r.c, r.u7("value"))});
         }},
        {"pitch-bend", "[--value V (0-16383, default 8192)]", {"value"},
         [](const request& r) -> packets {
             if (r.raw && r.proto == protocol::midi2) return {make_midi2_pitch_bend(r.g, r.c, r.value("value", 14, 32, 0x80000000LL))};
             return in_protocol(r, {make_midi1_pitch_bend(r.g, r.c, static_cast<std::uint16_t>(r.get_or("value", 0, 16383, 8192)))});
         }},
        {"registered-controller", "--bank B --index I --value V (0-16383)  (RPN)", {"bank", "index", "value"},
         [](const request& r) -> packets {
             if (r.raw && r.proto == protocol::midi2)
                 return {make_midi2_registered_controller(r.g, r.c, r.u7("bank"), r.u7("index"), r.value("value", 14, 32))};
             return in_protocol(r, controller_sequence(r, 101, 100));
         }},
        {"assignable-controller", "--bank B --index I --value V (0-16383)  (NRPN)", {"bank", "index", "value"},
         [](const request& r) -> packets {
             if (r.raw && r.proto == protocol::midi2)
                 return {make_midi2_assignable_controller(r.g, r.c, r.u7("bank"), r.u7("index"), r.value("value", 14, 32))};
             return in_protocol(r, controller_sequence(r, 99, 98));
         }},
        // ---- channel voice, MIDI 2.0 only
        {"relative-registered-controller", "--bank B --index I --value DELTA (signed 32-bit)", {"bank", "index", "value"},
         [](const request& r) -> packets {
             r.require_midi2("relative-registered-controller");
             return {make_midi2_relative_registered_controller(r.g, r.c, r.u7("bank"), r.u7("index"),
                                                               static_cast<std::int32_t>(r.get("value", INT32_MIN, INT32_MAX)))};
         }},
        {"relative-assignable-controller", "--bank B --index I --value DELTA (signed 32-bit)", {"bank", "index", "value"},
         [](const request& r) -> packets {
             r.require_midi2("relative-assignable-controller");
             return {make_midi2_relative_assignable_controller(r.g, r.c, r.u7("bank"), r.u7("index"),
                                                               static_cast<std::int32_t>(r.get("value", INT32_MIN, INT32_MAX)))};
         }},
        {"registered-per-note-controller", "--note N --index I --value V", {"note", "index", "value"},
         [](const request& r) -> packets {
             r.require_midi2("registered-per-note-controller");
             return {make_midi2_registered_per_note_controller(r.g, r.c, r.u7("note"), static_cast<std::uint8_t>(r.get("index", 0, 255)),
                                                               r.value("value", 7, 32))};
         }},
        {"assignable-per-note-controller", "--note N --index I --value V", {"note", "index", "value"},
         [](const request& r) -> packets {
             r.require_midi2("assignable-per-note-controller");
             return {make_midi2_assignable_per_note_controller(r.g, r.c, r.u7("note"), static_cast<std::uint8_t>(r.get("index", 0, 255)),
                                                               r.value("value", 7, 32))};
         }},
        {"per-note-pitch-bend", "--note N [--value V (0-16383, default 8192)]", {"note", "value"},
         [](const request& r) -> packets {
             r.require_midi2("per-note-pitch-bend");
             return {make_midi2_per_note_pitch_bend(r.g, r.c, r.u7("note"),
                                                    r.raw ? r.value("value", 14, 32, 0x80000000LL) : r.value("value", 14, 32, 8192))};
         }},
        {"per-note-management", "--note N [--detach] [--reset]", {"note"},
         [](const request& r) -> packets {
             r.require_midi2("per-note-management");
             return {make_midi2_per_note_management(r.g, r.c, r.u7("note"), r.yes("detach"), r.yes("reset"))};
         }},
        // ---- system
        {"timing-clock", "", {}, [](const request& r) -> packets { return {make_system(r.g, system_status::timing_clock)}; }},
        {"start", "", {}, [](const request& r) -> packets { return {make_system(r.g, system_status::start)}; }},
        {"continue", "", {}, [](const request& r) -> packets { return {make_system(r.g, system_status::continue_)}; }},
        {"stop", "", {}, [](const request& r) -> packets { return {make_system(r.g, system_status::stop)}; }},
        {"active-sensing", "", {}, [](const request& r) -> packets { return {make_system(r.g, system_status::active_sensing)}; }},
        {"reset", "", {}, [](const request& r) -> packets { return {make_system(r.g, system_status::reset)}; }},
        {"tune-request", "", {}, [](const request& r) -> packets { return {make_system(r.g, system_status::tune_request)}; }},
        {"mtc-quarter-frame", "--value V (0-127)", {"value"},
         [](const request& r) -> packets { return {make_mtc_quarter_frame(r.g, r.u7("value"))}; }},
        {"song-position", "--value V (0-16383, in sixteenth notes)", {"value"},
         [](const request& r) -> packets { return {make_song_position(r.g, static_cast<std::uint16_t>(r.get("value", 0, 16383)))}; }},
        {"song-select", "--value V (0-127)", {"value"},
         [](const request& r) -> packets { return {make_song_select(r.g, r.u7("value"))}; }},
        // ---- data
        {"sysex7", "--data 'HEX BYTES' (without F0/F7)", {"data"},
         [](const request& r) -> packets {
             const auto bytes = data_bytes(r, 0x7F);
             packets out(packet_count(bytes.size(), sysex7_bytes_per_packet));
             out.resize(split_sysex7(r.g, bytes, out));
             return out;
         }},
        {"sysex8", "--data 'HEX BYTES' [--stream-id N]", {"data", "stream-id"},
         [](const request& r) -> packets {
             const auto bytes = data_bytes(r, 0xFF);
             packets out(packet_count(bytes.size(), sysex8_bytes_per_packet));
             out.resize(split_sysex8(r.g, static_cast<std::uint8_t>(r.get_or("stream-id", 0, 255, 0)), bytes, out));
             return out;
         }},
        // ---- utility
        {"noop", "", {}, [](const request&) -> packets { return {make_noop()}; }},
        {"jr-clock", "--value TICKS (0-65535, 1/31250 s)", {"value"},
         [](const request& r) -> packets { return {make_jr_clock(static_cast<std::uint16_t>(r.get("value", 0, 0xFFFF)))}; }},
        {"jr-timestamp", "--value TICKS (0-65535, 1/31250 s)", {"value"},
         [](const request& r) -> packets { return {make_jr_timestamp(static_cast<std::uint16_t>(r.get("value", 0, 0xFFFF)))}; }},
        {"delta-clockstamp-tpqn", "--value TICKS_PER_QUARTER_NOTE (0-65535)", {"value"},
         [](const request& r) -> packets {
             return {make_delta_clockstamp_tpqn(static_cast<std::uint16_t>(r.get("value", 0, 0xFFFF)))};
         }},
        {"delta-clockstamp", "--value TICKS (0-1048575)", {"value"},
         [](const request& r) -> packets { return {make_delta_clockstamp(static_cast<std::uint32_t>(r.get("value", 0, 0xFFFFF)))}; }},
        // ---- flex data
        {"tempo", "--bpm BPM | --value TEN_NS_PER_QUARTER", {"bpm", "value"},
         [](const request& r) -> packets {
             if (const auto bpm = r.a.option("bpm")) {
                 double b = 0;
                 try {
                     b = std::stod(*bpm);
                 } catch (const std::exception&) {
                     throw usage_error("--bpm: '" + *bpm + "' is not a number");
                 }
                 if (!(b >= 1.0 && b <= 1000.0)) throw usage_error("--bpm: " + *bpm + " is out of range 1..1000");
                 return {make_set_tempo(r.g, static_cast<std::uint32_t>(std::llround(6e9 / b)))};
             }
             return {make_set_tempo(r.g, static_cast<std::uint32_t>(r.get("value", 1, 0xFFFFFFFFLL)))};
         }},
        {"time-signature", "--numerator N --denominator D (power of two) [--thirty-seconds N (default 8)]",
         {"numerator", "denominator", "thirty-seconds"},
         [](const request& r) -> packets {
             const auto d = r.get("denominator", 1, 128);
             unsigned exponent = 0;
             while ((1LL << exponent) < d) ++exponent;
             if ((1LL << exponent) != d) throw usage_error("--denominator must be a power of two, not " + std::to_string(d));
             return {make_set_time_signature(r.g, static_cast<std::uint8_t>(r.get("numerator", 1, 255)),
                                             static_cast<std::uint8_t>(exponent),
                                             static_cast<std::uint8_t>(r.get_or("thirty-seconds", 0, 255, 8)))};
         }},
        {"key-signature", "--sharps-flats N (-7..7) --tonic A..G", {"sharps-flats", "tonic"},
         [](const request& r) -> packets {
             const auto t = r.text("tonic");
             if (t.size() != 1 || t[0] < 'A' || t[0] > 'G') throw usage_error("--tonic must be one of A B C D E F G");
             return {make_set_key_signature(r.g, flex_address::group, channel{0},
                                            static_cast<std::int8_t>(r.get("sharps-flats", -7, 7)),
                                            static_cast<std::uint8_t>(t[0] - 'A' + 1))};
         }},
        {"flex-text", "--bank 1|2 --status N --text TEXT  (1: metadata, 2: performance text such as lyrics = status 1)",
         {"bank", "status", "text"},
         [](const request& r) -> packets {
             const auto text = r.text("text");
             if (!utf8_valid(text)) throw usage_error("--text is not valid UTF-8");
             packets out(packet_count(text.size(), 12));
             out.resize(split_flex_text(r.g, flex_address::group, channel{0}, static_cast<std::uint8_t>(r.get("bank", 1, 2)),
                                        static_cast<std::uint8_t>(r.get("status", 0, 255)), text, out));
             return out;
         }},
        // ---- UMP stream
        {"endpoint-discovery", "[--filter BITS (default 0x1f: everything)]", {"filter"},
         [](const request& r) -> packets {
             return {make_endpoint_discovery(1, 1, static_cast<std::uint8_t>(r.get_or("filter", 0, 0xFF, 0x1F)))};
         }},
        {"endpoint-info", "--blocks N [--static] [--midi1] [--midi2] [--rx-jr] [--tx-jr]", {"blocks"},
         [](const request& r) -> packets {
             endpoint_info_fields e;
             e.function_block_count = static_cast<std::uint8_t>(r.get("blocks", 0, 32));
             e.static_function_blocks = r.yes("static");
             e.midi1_protocol = r.yes("midi1");
             e.midi2_protocol = r.yes("midi2");
             e.rx_jr_timestamps = r.yes("rx-jr");
             e.tx_jr_timestamps = r.yes("tx-jr");
             return {make_endpoint_info(e)};
         }},
        {"endpoint-name", "--text NAME (at most 98 bytes)", {"text"},
         [](const request& r) -> packets {
             return text_packets(split_endpoint_name, r.text("text"), endpoint_name_max_bytes, "--text");
         }},
        {"product-instance-id", "--text ID (at most 42 bytes)", {"text"},
         [](const request& r) -> packets {
             return text_packets(split_product_instance_id, r.text("text"), product_instance_id_max_bytes, "--text");
         }},
        {"stream-configuration-request", "--stream-protocol midi1|midi2 [--rx-jr] [--tx-jr]", {"stream-protocol"},
         [](const request& r) -> packets {
             return {make_stream_configuration_request(stream_protocol(r), r.yes("rx-jr"), r.yes("tx-jr"))};
         }},
        {"stream-configuration-notification", "--stream-protocol midi1|midi2 [--rx-jr] [--tx-jr]", {"stream-protocol"},
         [](const request& r) -> packets {
             return {make_stream_configuration_notification(stream_protocol(r), r.yes("rx-jr"), r.yes("tx-jr"))};
         }},
        {"function-block-discovery", "[--block N (1-32, default all)] [--filter BITS (default 3)]", {"block", "filter"},
         [](const request& r) -> packets {
             const auto block = r.a.integer("block", 1, 32);
             return {make_function_block_discovery(block ? static_cast<std::uint8_t>(*block - 1) : all_function_blocks,
                                                   static_cast<std::uint8_t>(r.get_or("filter", 0, 0xFF, 0x03)))};
         }},
        {"function-block-info",
         "--block N (1-32) --direction input|output|bidirectional --first-group G --groups N [--active] [--midi1-port N] "
         "[--ui-hint N] [--ci-version N] [--sysex8-streams N]",
         {"block", "direction", "first-group", "groups", "midi1-port", "ui-hint", "ci-version", "sysex8-streams"},
         [](const request& r) -> packets {
             function_block_info_fields b;
             b.block = static_cast<std::uint8_t>(r.get("block", 1, 32) - 1);
             b.active = r.yes("active");
             const auto d = r.text("direction");
             if (d == "input") b.direction = function_block_direction::input;
             else if (d == "output") b.direction = function_block_direction::output;
             else if (d == "bidirectional") b.direction = function_block_direction::bidirectional;
             else throw usage_error("--direction must be input, output or bidirectional");
             b.first_group = group{static_cast<std::uint8_t>(r.get("first-group", 1, 16) - 1)};
             b.group_count = static_cast<std::uint8_t>(r.get("groups", 1, 16));
             b.midi1 = static_cast<function_block_midi1>(r.get_or("midi1-port", 0, 2, 0));
             b.ui_hint = static_cast<function_block_ui_hint>(r.get_or("ui-hint", 0, 3, 0));
             b.midi_ci_version = static_cast<std::uint8_t>(r.get_or("ci-version", 0, 255, 0));
             b.max_sysex8_streams = static_cast<std::uint8_t>(r.get_or("sysex8-streams", 0, 255, 0));
             return {make_function_block_info(b)};
         }},
        {"function-block-name", "--block N (1-32) --text NAME (at most 91 bytes)", {"block", "text"},
         [](const request& r) -> packets {
             const auto block = static_cast<std::uint8_t>(r.get("block", 1, 32) - 1);
             const auto text = r.text("text");
             if (text.size() > function_block_name_max_bytes)
                 throw usage_error("--text is " + std::to_string(text.size()) + " bytes; the limit is 91");
             if (!utf8_valid(text)) throw usage_error("--text is not valid UTF-8");
             packets out(packet_count(text.size(), 13));
             out.resize(split_function_block_name(block, text, out));
             return out;
         }},
        {"start-of-clip", "", {}, [](const request&) -> packets { return {make_start_of_clip()}; }},
        {"end-of-clip", "", {}, [](const request&) -> packets { return {make_end_of_clip()}; }},
    };
    return table;
}

std::string make_help() {
    std::string s =
        "usage: umpctl encode MESSAGE [--group G] [--channel C] [--protocol midi1|midi2] [--raw] [OPTIONS]\n"
        "\n"
        "Prints the UMP words of one message, one packet per line. Groups and channels are\n"
        "1-16. Channel voice values are at MIDI 1.0 resolution (7 bits, 14 for pitch bend and\n"
        "controller data); --protocol midi2 (the default) widens them as the MIDI 1.0 to 2.0\n"
        "translation of the UMP specification does; with --raw they are taken at MIDI 2.0\n"
        "width (velocity 16 bits, other values 32 bits). Numbers may be decimal or 0x-hex.\n"
        "\nmessages:\n";
    for (const auto& f : forms()) s += "  " + std::string(f.name) + (*f.options ? "  " : "") + f.options + "\n";
    s += "\nexample: umpctl encode note-on --group 1 --channel 1 --note 60 --velocity 100 --protocol midi1\n";
    return s;
}

}  // namespace

const char* const encode_help = [] {
    static const std::string text = make_help();
    return text.c_str();
}();

const std::vector<std::string> encode_flags{"raw", "static", "midi1", "midi2", "rx-jr", "tx-jr", "active", "detach", "reset"};

bool is_message_name(std::string_view name) {
    for (const auto& f : forms())
        if (name == f.name) return true;
    return false;
}

std::vector<packet> encode_message(const arguments& a, const std::string& name, const std::vector<std::string>& extra_known,
                                   const std::string& default_protocol) {
    for (const auto& f : forms()) {
        if (name != f.name) continue;
        std::vector<std::string> known = f.known;
        known.insert(known.end(), {"group", "channel", "protocol"});
        known.insert(known.end(), extra_known.begin(), extra_known.end());
        a.reject_unknown(known);
        const auto proto_name = a.option_or("protocol", default_protocol);
        if (proto_name != "midi1" && proto_name != "midi2")
            throw usage_error("--protocol must be midi1 or midi2, not '" + proto_name + "'");
        const request r{a,
                        group{static_cast<std::uint8_t>(a.integer("group", 1, 16).value_or(1) - 1)},
                        channel{static_cast<std::uint8_t>(a.integer("channel", 1, 16).value_or(1) - 1)},
                        proto_name == "midi1" ? protocol::midi1 : protocol::midi2,
                        a.flag("raw")};
        if (r.raw && r.proto == protocol::midi1) throw usage_error("--raw needs --protocol midi2");
        return f.build(r);
    }
    throw usage_error("unknown message '" + name + "'");
}

int encode_verb(const verb_args& args) {
    const arguments a(args, encode_flags);
    if (a.positional().size() != 1) throw usage_error("name exactly one message, e.g. note-on");
    for (const auto& p : encode_message(a, a.positional().front(), {}, "midi2")) {
        std::string line;
        for (auto w : p.span()) line += (line.empty() ? "" : " ") + hex_word(w);
        std::cout << line << "\n";
    }
    return 0;
}

}  // namespace umpctl
