// Packet descriptions for people and programs. One decoder fills a neutral
// description (names plus typed fields); two printers turn it into a text line or
// a JSON object, so the two outputs cannot drift apart.
#include "umpd/core/describe.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "umpd/core/messages.hpp"

namespace umpd::core {
namespace {

// ---------------------------------------------------------------------------
// The neutral description
// ---------------------------------------------------------------------------

enum class value_kind {
    number,   // decimal
    signed_,  // decimal, may be negative
    hex,      // 0x-prefixed in text, a plain number in JSON
    boolean,
    name,     // a bare word in text, a string in JSON
    text,     // quoted in text, a string in JSON
    bytes,    // [hex bytes] in text, an array of numbers in JSON
    real,     // two decimals
};

struct field_value {
    std::string key;
    value_kind kind = value_kind::number;
    std::int64_t number = 0;
    unsigned digits = 0;  // hex only
    double real = 0;
    std::string name;
    std::vector<std::uint8_t> bytes;  // text and bytes
};

struct description {
    message_type type = message_type::utility;
    std::optional<unsigned> group;    // 0-based
    std::optional<unsigned> channel;  // 0-based
    std::string message;
    std::vector<field_value> fields;
    bool show_words = false;  // reserved types and unknown statuses
};

// Builds the field list with short calls.
class field_list {
public:
    explicit field_list(description& d) : d_(d) {}

    void number(std::string key, std::uint64_t v) {
        add(std::move(key), value_kind::number).number = static_cast<std::int64_t>(v);
    }
    void signed_number(std::string key, std::int64_t v) { add(std::move(key), value_kind::signed_).number = v; }
    void hex(std::string key, std::uint64_t v, unsigned digits) {
        auto& f = add(std::move(key), value_kind::hex);
        f.number = static_cast<std::int64_t>(v);
        f.digits = digits;
    }
    void boolean(std::string key, bool v) { add(std::move(key), value_kind::boolean).number = v ? 1 : 0; }
    void name(std::string key, std::string v) { add(std::move(key), value_kind::name).name = std::move(v); }
    void text(std::string key, std::vector<std::uint8_t> v) { add(std::move(key), value_kind::text).bytes = std::move(v); }
    void bytes(std::string key, std::vector<std::uint8_t> v) { add(std::move(key), value_kind::bytes).bytes = std::move(v); }
    void real(std::string key, double v) { add(std::move(key), value_kind::real).real = v; }

private:
    field_value& add(std::string key, value_kind k) {
        d_.fields.push_back(field_value{std::move(key), k, 0, 0, 0, {}, {}});
        return d_.fields.back();
    }
    description& d_;
};

std::string hex_string(std::uint64_t v, unsigned digits) {
    static constexpr char digit_chars[] = "0123456789abcdef";
    std::string s;
    do {
        s.insert(s.begin(), digit_chars[v & 0xFu]);
        v >>= 4;
    } while (v != 0);
    while (s.size() < digits) s.insert(s.begin(), '0');
    return s;
}

std::string hex_name(const char* prefix, std::uint64_t v, unsigned digits) {
    return std::string(prefix) + "0x" + hex_string(v, digits);
}

std::vector<std::uint8_t> packet_bytes(const packet& p, unsigned first, unsigned count) {
    std::vector<std::uint8_t> out;
    out.reserve(count);
    for (unsigned i = 0; i < count; ++i) out.push_back(packet_byte(p, first + i));
    return out;
}

std::vector<std::uint8_t> packet_text(const packet& p, unsigned first, unsigned max) {
    return packet_bytes(p, first, packet_text_size(p, first, max));
}

const char* format_name(packet_format f) {
    switch (f) {
    case packet_format::complete: return "complete";
    case packet_format::start: return "start";
    case packet_format::continue_: return "continue";
    case packet_format::end: return "end";
    }
    return "?";
}

const char* format_title(unsigned f) {
    switch (f & 3u) {
    case 0: return "Complete";
    case 1: return "Start";
    case 2: return "Continue";
    default: return "End";
    }
}

// ---------------------------------------------------------------------------
// Decoders, one per message type
// ---------------------------------------------------------------------------

void unknown_status(description& d, const char* family, std::uint64_t status, unsigned digits) {
    d.message = std::string("Unknown ") + family + " status 0x" + hex_string(status, digits);
    d.show_words = true;
}

void decode_utility(const packet& p, description& d) {
    field_list f(d);
    const auto status = field<23, 20>(p[0]);
    const auto value = field<19, 0>(p[0]);
    switch (status) {
    case 0x0: d.message = "NOOP"; return;
    case 0x1: d.message = "JR Clock"; f.number("time", value & 0xFFFFu); return;
    case 0x2: d.message = "JR Timestamp"; f.number("time", value & 0xFFFFu); return;
    case 0x3:
        d.message = "Delta Clockstamp Ticks Per Quarter Note";
        f.number("ticks_per_quarter_note", value & 0xFFFFu);
        return;
    case 0x4: d.message = "Delta Clockstamp"; f.number("ticks", value); return;
    default: unknown_status(d, "Utility", status, 1); return;
    }
}

void decode_system(const packet& p, description& d) {
    d.group = p.group_field().index;
    field_list f(d);
    const auto status = field<23, 16>(p[0]);
    const auto d1 = field<14, 8>(p[0]);
    const auto d2 = field<6, 0>(p[0]);
    switch (status) {
    case 0xF1:
        d.message = "MIDI Time Code";
        f.number("piece", d1 >> 4);
        f.number("value", d1 & 0xFu);
        return;
    case 0xF2: d.message = "Song Position Pointer"; f.number("position", d1 | (d2 << 7)); return;
    case 0xF3: d.message = "Song Select"; f.number("song", d1); return;
    case 0xF6: d.message = "Tune Request"; return;
    case 0xF8: d.message = "Timing Clock"; return;
    case 0xFA: d.message = "Start"; return;
    case 0xFB: d.message = "Continue"; return;
    case 0xFC: d.message = "Stop"; return;
    case 0xFE: d.message = "Active Sensing"; return;
    case 0xFF: d.message = "Reset"; return;
    default: unknown_status(d, "System", status, 2); return;
    }
}

void decode_midi1(const packet& p, description& d) {
    d.group = p.group_field().index;
    field_list f(d);
    const auto status = field<23, 20>(p[0]);
    const auto d1 = field<14, 8>(p[0]);
    const auto d2 = field<6, 0>(p[0]);
    if (status < 0x8) {
        unknown_status(d, "MIDI 1.0 Channel Voice", status, 1);
        return;
    }
    d.channel = field<19, 16>(p[0]);
    switch (status) {
    case 0x8: d.message = "Note Off"; f.number("note", d1); f.number("velocity", d2); return;
    case 0x9: d.message = "Note On"; f.number("note", d1); f.number("velocity", d2); return;
    case 0xA: d.message = "Poly Pressure"; f.number("note", d1); f.number("pressure", d2); return;
    case 0xB: d.message = "Control Change"; f.number("controller", d1); f.number("value", d2); return;
    case 0xC: d.message = "Program Change"; f.number("program", d1); return;
    case 0xD: d.message = "Channel Pressure"; f.number("pressure", d1); return;
    default: d.message = "Pitch Bend"; f.number("value", d1 | (d2 << 7)); return;
    }
}

void decode_data64(const packet& p, description& d) {
    d.group = p.group_field().index;
    field_list f(d);
    const auto status = field<23, 20>(p[0]);
    if (status > 3) {
        unknown_status(d, "Data 64", status, 1);
        return;
    }
    d.message = std::string("SysEx7 ") + format_title(status);
    const auto n = field<19, 16>(p[0]);
    f.number("size", n);
    // A count above 6 cannot be true: say so, and show the 6 bytes the packet holds.
    const bool valid = n <= sysex7_bytes_per_packet;
    f.bytes("data", packet_bytes(p, 2, valid ? n : sysex7_bytes_per_packet));
    if (!valid) {
        f.boolean("invalid", true);
        d.show_words = true;
    }
}

void decode_midi2(const packet& p, description& d) {
    d.group = p.group_field().index;
    field_list f(d);
    const auto op = field<23, 20>(p[0]);
    if (op == 0x7) {
        unknown_status(d, "MIDI 2.0 Channel Voice", op, 1);
        return;
    }
    d.channel = field<19, 16>(p[0]);
    const auto v = *as_midi2_channel_voice(p);
    const auto controller_fields = [&](const char* name, bool relative) {
        d.message = name;
        f.number("bank", v.bank());
        f.number("index", v.index());
        if (relative) f.signed_number("value", static_cast<std::int32_t>(v.data()));
        else f.hex("value", v.data(), 8);
    };
    switch (static_cast<midi2_opcode>(op)) {
    case midi2_opcode::registered_per_note_controller:
    case midi2_opcode::assignable_per_note_controller:
        d.message = op == 0 ? "Registered Per-Note Controller" : "Assignable Per-Note Controller";
        f.number("note", v.note());
        f.number("index", v.per_note_index());
        f.hex("value", v.data(), 8);
        return;
    case midi2_opcode::registered_controller: controller_fields("Registered Controller", false); return;
    case midi2_opcode::assignable_controller: controller_fields("Assignable Controller", false); return;
    case midi2_opcode::relative_registered_controller: controller_fields("Relative Registered Controller", true); return;
    case midi2_opcode::relative_assignable_controller: controller_fields("Relative Assignable Controller", true); return;
    case midi2_opcode::per_note_pitch_bend:
        d.message = "Per-Note Pitch Bend";
        f.number("note", v.note());
        f.hex("value", v.data(), 8);
        return;
    case midi2_opcode::note_off:
    case midi2_opcode::note_on:
        d.message = op == 0x8 ? "Note Off" : "Note On";
        f.number("note", v.note());
        f.hex("velocity", v.velocity(), 4);
        f.number("attribute_type", v.attribute_type());
        f.hex("attribute", v.attribute(), 4);
        return;
    case midi2_opcode::poly_pressure:
        d.message = "Poly Pressure";
        f.number("note", v.note());
        f.hex("pressure", v.data(), 8);
        return;
    case midi2_opcode::control_change:
        d.message = "Control Change";
        f.number("controller", v.controller());
        f.hex("value", v.data(), 8);
        return;
    case midi2_opcode::program_change:
        d.message = "Program Change";
        f.number("program", v.program());
        f.boolean("bank_valid", v.bank_valid());
        if (v.bank_valid()) {
            f.number("bank_msb", v.bank_msb());
            f.number("bank_lsb", v.bank_lsb());
        }
        return;
    case midi2_opcode::channel_pressure: d.message = "Channel Pressure"; f.hex("pressure", v.data(), 8); return;
    case midi2_opcode::pitch_bend: d.message = "Pitch Bend"; f.hex("value", v.data(), 8); return;
    case midi2_opcode::per_note_management:
        d.message = "Per-Note Management";
        f.number("note", v.note());
        f.boolean("detach", v.detach());
        f.boolean("reset", v.reset());
        return;
    }
    unknown_status(d, "MIDI 2.0 Channel Voice", op, 1);
}

void decode_data128(const packet& p, description& d) {
    d.group = p.group_field().index;
    field_list f(d);
    const auto status = field<23, 20>(p[0]);
    if (status <= 3) {
        d.message = std::string("SysEx8 ") + format_title(status);
        const auto count = field<19, 16>(p[0]);  // stream id included
        const bool valid = count >= 1 && count <= sysex8_bytes_per_packet + 1;
        const unsigned n = count == 0 ? 0u : count - 1u;
        f.number("stream_id", field<15, 8>(p[0]));
        f.number("size", n);
        f.bytes("data", packet_bytes(p, 3, n > sysex8_bytes_per_packet ? sysex8_bytes_per_packet : n));
        if (!valid) {
            f.boolean("invalid", true);
            d.show_words = true;
        }
        return;
    }
    if (status == mixed_data_set_header_status) {
        const auto h = as_mixed_data_set_header(p)->fields();
        d.message = "Mixed Data Set Header";
        f.number("mds_id", h.mds_id);
        f.number("valid_bytes", h.valid_bytes_in_chunk);
        f.number("chunks", h.number_of_chunks);
        f.number("chunk", h.chunk_number);
        f.hex("manufacturer_id", h.manufacturer_id, 4);
        f.hex("device_id", h.device_id, 4);
        f.hex("sub_id_1", h.sub_id_1, 4);
        f.hex("sub_id_2", h.sub_id_2, 4);
        return;
    }
    if (status == mixed_data_set_payload_status) {
        d.message = "Mixed Data Set Payload";
        f.number("mds_id", field<19, 16>(p[0]));
        f.bytes("data", packet_bytes(p, 2, mixed_data_set_payload_bytes_per_packet));
        return;
    }
    unknown_status(d, "Data 128", status, 1);
}

std::string note_name(std::uint8_t n) {
    static constexpr std::array<const char*, 8> names{"unknown", "A", "B", "C", "D", "E", "F", "G"};
    return n < names.size() ? names[n] : hex_name("", n, 1);
}

std::string chord_type_name(std::uint8_t t) {
    static constexpr std::array<const char*, 0x1B> names{
        "clear",         "major",        "major_6th",      "major_7th",       "major_9th",     "major_11th",
        "major_13th",    "minor",        "minor_6th",      "minor_7th",       "minor_9th",     "minor_11th",
        "minor_13th",    "dominant",     "dominant_9th",   "dominant_11th",   "dominant_13th", "augmented",
        "augmented_7th", "diminished",   "diminished_7th", "half_diminished", "major_minor",   "pedal",
        "power",         "suspended_2nd", "suspended_4th"};
    return t < names.size() ? names[t] : hex_name("", t, 2);
}

std::string alteration_name(chord_alteration a) {
    static constexpr std::array<const char*, 5> names{"none", "add", "subtract", "raise", "lower"};
    if (a.type == 0) return "none";
    const std::string kind = a.type < names.size() ? names[a.type] : hex_name("", a.type, 1);
    return kind + ":" + std::to_string(a.degree);
}

void decode_flex(const packet& p, description& d) {
    d.group = p.group_field().index;
    field_list f(d);
    const auto v = *as_flex_data(p);
    if (v.address_bits() == static_cast<std::uint8_t>(flex_address::channel)) d.channel = v.channel_field().index;
    const auto bank = v.status_bank();
    const auto status = v.status();
    // Only the text banks use the multi-packet formats; show the format and the
    // address wherever they are not what the message calls for.
    const auto header = [&](bool text) {
        if (text || v.format() != packet_format::complete) f.name("format", format_name(v.format()));
        if (v.address_bits() > 1) f.number("address", v.address_bits());
    };
    if (bank == flex_bank_setup) {
        switch (static_cast<flex_setup_status>(status)) {
        case flex_setup_status::set_tempo: {
            d.message = "Set Tempo";
            header(false);
            const auto t = as_set_tempo(p)->ten_ns_per_quarter_note();
            f.number("ten_ns_per_quarter_note", t);
            if (t != 0) f.real("bpm", 6e9 / static_cast<double>(t));
            return;
        }
        case flex_setup_status::set_time_signature: {
            d.message = "Set Time Signature";
            header(false);
            const auto t = *as_set_time_signature(p);
            f.number("numerator", t.numerator());
            f.number("denominator_exponent", t.denominator_exponent());
            f.number("thirty_second_notes", t.thirty_second_notes());
            return;
        }
        case flex_setup_status::set_metronome: {
            d.message = "Set Metronome";
            header(false);
            const auto m = as_set_metronome(p)->fields();
            f.number("clocks_per_primary_click", m.clocks_per_primary_click);
            f.number("bar_accent_1", m.bar_accent_1);
            f.number("bar_accent_2", m.bar_accent_2);
            f.number("bar_accent_3", m.bar_accent_3);
            f.number("subdivision_clicks_1", m.subdivision_clicks_1);
            f.number("subdivision_clicks_2", m.subdivision_clicks_2);
            return;
        }
        case flex_setup_status::set_key_signature: {
            d.message = "Set Key Signature";
            header(false);
            const auto k = *as_set_key_signature(p);
            f.signed_number("sharps_flats", k.sharps_flats());
            f.name("tonic", note_name(k.tonic()));
            return;
        }
        case flex_setup_status::set_chord_name: {
            d.message = "Set Chord Name";
            header(false);
            const auto c = as_set_chord_name(p)->fields();
            f.signed_number("tonic_sharps_flats", c.tonic_sharps_flats);
            f.name("tonic", note_name(c.tonic));
            f.name("chord_type", chord_type_name(c.chord_type));
            for (unsigned i = 0; i < c.alterations.size(); ++i)
                f.name("alteration_" + std::to_string(i + 1), alteration_name(c.alterations[i]));
            f.signed_number("bass_sharps_flats", c.bass_sharps_flats);
            f.name("bass_note", note_name(c.bass_note));
            f.name("bass_chord_type", chord_type_name(c.bass_chord_type));
            for (unsigned i = 0; i < c.bass_alterations.size(); ++i)
                f.name("bass_alteration_" + std::to_string(i + 1), alteration_name(c.bass_alterations[i]));
            return;
        }
        }
        unknown_status(d, "Flex Data setup", status, 2);
        header(false);
        return;
    }
    if (bank == flex_bank_metadata_text || bank == flex_bank_performance_text) {
        static constexpr std::array<const char*, 13> metadata{
            "Unknown Metadata Text",  "Project Name",    "Composition Name", "MIDI Clip Name",
            "Copyright Notice",       "Composer Name",   "Lyricist Name",    "Arranger Name",
            "Publisher Name",         "Primary Performer Name", "Accompanying Performer Name",
            "Recording Date",         "Recording Location"};
        static constexpr std::array<const char*, 5> performance{"Unknown Performance Text", "Lyrics", "Lyrics Language",
                                                                "Ruby", "Ruby Language"};
        if (bank == flex_bank_metadata_text && status < metadata.size()) {
            d.message = metadata[status];
        } else if (bank == flex_bank_performance_text && status < performance.size()) {
            d.message = performance[status];
        } else {
            unknown_status(d, bank == flex_bank_metadata_text ? "Metadata Text" : "Performance Text", status, 2);
        }
        header(true);
        f.text("text", packet_text(p, 4, flex_text_bytes_per_packet));
        return;
    }
    d.message = "Unknown Flex Data bank 0x" + hex_string(bank, 2) + " status 0x" + hex_string(status, 2);
    d.show_words = true;
    header(false);
}

std::string protocol_name(std::uint8_t p) {
    if (p == stream_protocol_midi1) return "midi1";
    if (p == stream_protocol_midi2) return "midi2";
    return hex_name("", p, 2);
}

void decode_stream(const packet& p, description& d) {
    field_list f(d);
    const auto v = *as_stream(p);
    const auto status = field<25, 16>(p[0]);
    // Only the text messages span packets; elsewhere a format is shown only if odd.
    const auto format = [&](bool text) {
        if (text || v.format() != packet_format::complete) f.name("format", format_name(v.format()));
    };
    switch (static_cast<stream_status>(status)) {
    case stream_status::endpoint_discovery: {
        d.message = "Endpoint Discovery";
        format(false);
        const auto e = *as_endpoint_discovery(p);
        f.number("ump_version_major", e.ump_version_major());
        f.number("ump_version_minor", e.ump_version_minor());
        f.hex("filter", e.filter(), 2);
        return;
    }
    case stream_status::endpoint_info: {
        d.message = "Endpoint Info";
        format(false);
        const auto e = as_endpoint_info(p)->fields();
        f.number("ump_version_major", e.ump_version_major);
        f.number("ump_version_minor", e.ump_version_minor);
        f.boolean("static_function_blocks", e.static_function_blocks);
        f.number("function_blocks", e.function_block_count);
        f.boolean("midi2", e.midi2_protocol);
        f.boolean("midi1", e.midi1_protocol);
        f.boolean("rx_jr", e.rx_jr_timestamps);
        f.boolean("tx_jr", e.tx_jr_timestamps);
        return;
    }
    case stream_status::device_identity: {
        d.message = "Device Identity";
        format(false);
        const auto e = as_device_identity(p)->fields();
        f.bytes("manufacturer", {e.manufacturer.begin(), e.manufacturer.end()});
        f.hex("family", e.family, 4);
        f.hex("model", e.model, 4);
        f.bytes("software_revision", {e.software_revision.begin(), e.software_revision.end()});
        return;
    }
    case stream_status::endpoint_name:
    case stream_status::product_instance_id:
        d.message = status == 0x003 ? "Endpoint Name" : "Product Instance Id";
        format(true);
        f.text("text", packet_text(p, 2, endpoint_name_bytes_per_packet));
        return;
    case stream_status::stream_configuration_request:
    case stream_status::stream_configuration_notification: {
        d.message = status == 0x005 ? "Stream Configuration Request" : "Stream Configuration Notification";
        format(false);
        const auto c = *as_stream_configuration(p);
        f.name("protocol", protocol_name(c.protocol()));
        f.boolean("rx_jr", c.rx_jr_timestamps());
        f.boolean("tx_jr", c.tx_jr_timestamps());
        return;
    }
    case stream_status::function_block_discovery: {
        d.message = "Function Block Discovery";
        format(false);
        const auto b = *as_function_block_discovery(p);
        if (b.block() == all_function_blocks) f.name("block", "all");
        else f.number("block", b.block());
        f.hex("filter", b.filter(), 2);
        return;
    }
    case stream_status::function_block_info: {
        static constexpr std::array<const char*, 4> ui_hints{"unknown", "receiver", "sender", "sender_receiver"};
        static constexpr std::array<const char*, 4> midi1{"no", "unrestricted", "restricted", "reserved"};
        static constexpr std::array<const char*, 4> directions{"reserved", "input", "output", "bidirectional"};
        d.message = "Function Block Info";
        format(false);
        const auto view = *as_function_block_info(p);
        const auto b = view.fields();
        f.boolean("active", b.active);
        f.number("block", b.block);
        f.name("ui_hint", ui_hints[static_cast<unsigned>(b.ui_hint) & 3u]);
        f.name("midi1", midi1[static_cast<unsigned>(b.midi1) & 3u]);
        f.name("direction", directions[static_cast<unsigned>(b.direction) & 3u]);
        f.number("first_group", view.first_group_byte() + 1u);  // 1-based, like every group people read
        f.number("groups", b.group_count);
        f.hex("midi_ci_version", b.midi_ci_version, 2);
        f.number("max_sysex8_streams", b.max_sysex8_streams);
        return;
    }
    case stream_status::function_block_name: {
        d.message = "Function Block Name";
        format(true);
        f.number("block", as_function_block_name(p)->block());
        f.text("text", packet_text(p, 3, function_block_name_bytes_per_packet));
        return;
    }
    case stream_status::start_of_clip: d.message = "Start of Clip"; format(false); return;
    case stream_status::end_of_clip: d.message = "End of Clip"; format(false); return;
    }
    unknown_status(d, "UMP Stream", status, 3);
}

description decode(const packet& p) {
    description d;
    d.type = p.type();
    switch (d.type) {
    case message_type::utility: decode_utility(p, d); break;
    case message_type::system: decode_system(p, d); break;
    case message_type::midi1_channel_voice: decode_midi1(p, d); break;
    case message_type::data64: decode_data64(p, d); break;
    case message_type::midi2_channel_voice: decode_midi2(p, d); break;
    case message_type::data128: decode_data128(p, d); break;
    case message_type::flex_data: decode_flex(p, d); break;
    case message_type::ump_stream: decode_stream(p, d); break;
    default:
        d.message = "Reserved (type 0x" + hex_string(static_cast<unsigned>(d.type), 1) + ")";
        d.show_words = true;
        break;
    }
    return d;
}

// ---------------------------------------------------------------------------
// Text helpers
// ---------------------------------------------------------------------------

// Length of the well-formed UTF-8 sequence starting at s[i] (2..4), or 0 if the
// bytes there are not one (ASCII is handled by the callers).
std::size_t utf8_sequence(std::span<const std::uint8_t> s, std::size_t i) {
    const std::uint8_t b = s[i];
    std::size_t n = 0;
    std::uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the first continuation byte
    if (b >= 0xC2 && b <= 0xDF) n = 2;
    else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        if (b == 0xE0) lo = 0xA0;  // no overlong forms
        if (b == 0xED) hi = 0x9F;  // no surrogates
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    if (s[i + 1] < lo || s[i + 1] > hi) return 0;
    for (std::size_t k = 2; k < n; ++k)
        if (s[i + k] < 0x80 || s[i + k] > 0xBF) return 0;
    return n;
}

std::string quote_text(std::span<const std::uint8_t> s) {
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size();) {
        const std::uint8_t b = s[i];
        if (b >= 0x80) {
            if (const auto n = utf8_sequence(s, i)) {
                out.append(reinterpret_cast<const char*>(s.data() + i), n);
                i += n;
            } else {
                out += "\\x" + hex_string(b, 2);
                ++i;
            }
            continue;
        }
        switch (b) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (b < 0x20 || b == 0x7F) out += "\\x" + hex_string(b, 2);
            else out += static_cast<char>(b);
        }
        ++i;
    }
    out += '"';
    return out;
}

std::string json_bytes_string(std::span<const std::uint8_t> s) {
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size();) {
        const std::uint8_t b = s[i];
        if (b >= 0x80) {
            if (const auto n = utf8_sequence(s, i)) {
                out.append(reinterpret_cast<const char*>(s.data() + i), n);
                i += n;
            } else {
                out += "\\ufffd";
                ++i;
            }
            continue;
        }
        switch (b) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (b < 0x20) out += "\\u00" + hex_string(b, 2);
            else out += static_cast<char>(b);
        }
        ++i;
    }
    out += '"';
    return out;
}


std::string fixed2(double v) {
    std::array<char, 64> buf{};
    const int n = std::snprintf(buf.data(), buf.size(), "%.2f", v);
    return n > 0 ? std::string(buf.data(), static_cast<std::size_t>(n)) : std::string("0");
}

std::string text_value(const field_value& f) {
    switch (f.kind) {
    case value_kind::number:
    case value_kind::signed_: return std::to_string(f.number);
    case value_kind::hex: return "0x" + hex_string(static_cast<std::uint64_t>(f.number), f.digits);
    case value_kind::boolean: return f.number != 0 ? "true" : "false";
    case value_kind::name: return f.name;
    case value_kind::text: return quote_text(f.bytes);
    case value_kind::bytes: {
        std::string s = "[";
        for (std::size_t i = 0; i < f.bytes.size(); ++i) {
            if (i != 0) s += ' ';
            s += hex_string(f.bytes[i], 2);
        }
        return s + "]";
    }
    case value_kind::real: return fixed2(f.real);
    }
    return {};
}

std::string json_value(const field_value& f) {
    switch (f.kind) {
    case value_kind::number:
    case value_kind::signed_:
    case value_kind::hex: return std::to_string(f.number);
    case value_kind::boolean: return f.number != 0 ? "true" : "false";
    case value_kind::name: return json_string(f.name);
    case value_kind::text: return json_bytes_string(f.bytes);
    case value_kind::bytes: {
        std::string s = "[";
        for (std::size_t i = 0; i < f.bytes.size(); ++i) {
            if (i != 0) s += ',';
            s += std::to_string(f.bytes[i]);
        }
        return s + "]";
    }
    case value_kind::real: return fixed2(f.real);
    }
    return "null";
}

}  // namespace

std::string_view message_type_name(message_type t) noexcept {
    switch (t) {
    case message_type::utility: return "Utility";
    case message_type::system: return "System";
    case message_type::midi1_channel_voice: return "MIDI 1.0 Channel Voice";
    case message_type::data64: return "Data 64";
    case message_type::midi2_channel_voice: return "MIDI 2.0 Channel Voice";
    case message_type::data128: return "Data 128";
    case message_type::flex_data: return "Flex Data";
    case message_type::ump_stream: return "UMP Stream";
    default: return "Reserved";
    }
}

std::string_view message_type_key(message_type t) noexcept {
    static constexpr std::array<std::string_view, 16> keys{
        "utility",    "system",     "midi1_channel_voice", "data64",     "midi2_channel_voice", "data128",
        "reserved_6", "reserved_7", "reserved_8",          "reserved_9", "reserved_a",          "reserved_b",
        "reserved_c", "flex_data",  "reserved_e",          "ump_stream"};
    return keys[static_cast<unsigned>(t) & 0xFu];
}

std::string message_name(const packet& p) { return decode(p).message; }

std::string describe(const packet& p) {
    const description d = decode(p);
    std::string out;
    if (!is_reserved(d.type)) {
        out += message_type_name(d.type);
        if (d.group) {
            out += "  group " + std::to_string(*d.group + 1);
            if (d.channel) out += " channel " + std::to_string(*d.channel + 1);
        }
        out += "  ";
    }
    out += d.message;
    std::string fields;
    for (const auto& f : d.fields) {
        if (!fields.empty()) fields += ' ';
        fields += f.key + "=" + text_value(f);
    }
    if (d.show_words) {
        if (!fields.empty()) fields += ' ';
        fields += "words=[";
        for (unsigned i = 0; i < p.size(); ++i) {
            if (i != 0) fields += ' ';
            fields += hex_string(p[i], 8);
        }
        fields += ']';
    }
    if (!fields.empty()) out += "  " + fields;
    return out;
}

std::string describe_json(const packet& p) {
    const description d = decode(p);
    std::string out = "{\"type\":" + json_string(message_type_key(d.type));
    if (d.group) out += ",\"group\":" + std::to_string(*d.group + 1);
    if (d.channel) out += ",\"channel\":" + std::to_string(*d.channel + 1);
    out += ",\"message\":" + json_string(d.message);
    for (const auto& f : d.fields) out += "," + json_string(f.key) + ":" + json_value(f);
    out += ",\"words\":[";
    for (unsigned i = 0; i < p.size(); ++i) {
        if (i != 0) out += ',';
        out += "\"" + hex_string(p[i], 8) + "\"";
    }
    out += "]}";
    return out;
}

std::string json_string(std::string_view s) {
    return json_bytes_string(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

}  // namespace umpd::core
