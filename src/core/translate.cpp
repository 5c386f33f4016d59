// MIDI 1.0 <-> MIDI 2.0 channel voice translation; the rules and the choices made
// where the specification leaves room are documented in translate.hpp.
#include "umpd/core/translate.hpp"

#include "umpd/core/scale.hpp"

namespace umpd::core {
namespace {

using channel_state = midi1_to_midi2::channel_state;

// channel_state::flags
constexpr std::uint8_t f_bank_pending = 0x01;  // CC 0 or CC 32 seen since the last Program Change
constexpr std::uint8_t f_nrpn = 0x02;          // the selection is an NRPN (CC 99/98), else an RPN
constexpr std::uint8_t f_param_msb = 0x04;     // parameter MSB (CC 101/99) received
constexpr std::uint8_t f_param_lsb = 0x08;     // parameter LSB (CC 100/98) received
constexpr std::uint8_t f_data_msb = 0x10;      // a CC 6 was received for the current selection
constexpr std::uint8_t f_data_pending = 0x20;  // ... and has not been sent yet

constexpr std::uint8_t cc_bank_msb = 0, cc_bank_lsb = 32, cc_data_msb = 6, cc_data_lsb = 38;
constexpr std::uint8_t cc_nrpn_lsb = 98, cc_nrpn_msb = 99, cc_rpn_lsb = 100, cc_rpn_msb = 101;
constexpr std::uint8_t cc_data_increment = 96, cc_data_decrement = 97;
constexpr std::uint8_t cc_reset_all_controllers = 121;

constexpr std::uint32_t group_channel_mask = 0x0F0F0000u;  // same bits in types 0x2 and 0x4

[[nodiscard]] constexpr unsigned channel_index(std::uint32_t w) noexcept {
    return ((w >> 20) & 0xF0u) | ((w >> 16) & 0x0Fu);
}

[[nodiscard]] constexpr std::uint32_t midi2_word0(std::uint32_t group_channel, std::uint32_t opcode,
                                                  std::uint32_t index1, std::uint32_t index2) noexcept {
    return 0x40000000u | group_channel | (opcode << 20) | (index1 << 8) | index2;
}

[[nodiscard]] constexpr std::uint32_t midi1_word(std::uint32_t group_channel, std::uint32_t status,
                                                 std::uint32_t data1, std::uint32_t data2) noexcept {
    return 0x20000000u | group_channel | (status << 20) | (data1 << 8) | data2;
}

[[nodiscard]] constexpr bool parameter_selected(const channel_state& c) noexcept {
    if ((c.flags & (f_param_msb | f_param_lsb)) != (f_param_msb | f_param_lsb)) return false;
    // Null RPN: deselects rather than naming a parameter.
    return (c.flags & f_nrpn) != 0 || c.param_msb != 0x7F || c.param_lsb != 0x7F;
}

std::size_t emit_parameter(const channel_state& c, std::uint32_t group_channel, std::uint32_t value14,
                           std::uint32_t* out) noexcept {
    const std::uint32_t opcode = (c.flags & f_nrpn) != 0 ? 0x3u : 0x2u;
    out[0] = midi2_word0(group_channel, opcode, c.param_msb, c.param_lsb);
    out[1] = scale_up_14_to_32(value14);
    return 2;
}

// Sends a CC 6 value that no CC 38 completed (LSB 0); returns the words written.
std::size_t send_pending(midi1_to_midi2& s, channel_state& c, std::uint32_t group_channel,
                         std::uint32_t* out) noexcept {
    if ((c.flags & f_data_pending) == 0) return 0;
    c.flags = static_cast<std::uint8_t>(c.flags & ~f_data_pending);
    --s.pending;
    return emit_parameter(c, group_channel, std::uint32_t{c.data_msb} << 7, out);
}

std::size_t copy_packet(const std::uint32_t* in, std::uint32_t* out) noexcept {
    const unsigned n = word_count_of(in[0]);
    for (unsigned i = 0; i < n; ++i) out[i] = in[i];
    return n;
}

std::size_t up_control_change(midi1_to_midi2& s, std::uint32_t w, std::uint32_t gc, std::uint32_t index,
                              std::uint32_t value, std::uint32_t* out) noexcept {
    channel_state& c = s.channels[channel_index(w)];
    switch (index) {
    case cc_bank_msb:
        c.bank_msb = static_cast<std::uint8_t>(value);
        c.flags |= f_bank_pending;
        return 0;
    case cc_bank_lsb:
        c.bank_lsb = static_cast<std::uint8_t>(value);
        c.flags |= f_bank_pending;
        return 0;
    case cc_rpn_msb:
    case cc_rpn_lsb:
    case cc_nrpn_msb:
    case cc_nrpn_lsb: {
        // A new selection ends the previous parameter's data entry.
        const std::size_t n = send_pending(s, c, gc, out);
        const std::uint8_t kind = index < cc_rpn_lsb ? f_nrpn : 0;
        if ((c.flags & f_nrpn) != kind)  // switching RPN <-> NRPN: the other half is stale
            c.flags = static_cast<std::uint8_t>((c.flags & ~(f_nrpn | f_param_msb | f_param_lsb)) | kind);
        if ((index & 1u) != 0) {  // 101 and 99 are the MSBs
            c.param_msb = static_cast<std::uint8_t>(value);
            c.flags |= f_param_msb;
        } else {
            c.param_lsb = static_cast<std::uint8_t>(value);
            c.flags |= f_param_lsb;
        }
        c.flags = static_cast<std::uint8_t>(c.flags & ~f_data_msb);
        return n;
    }
    case cc_data_msb: {
        if (!parameter_selected(c)) {
            ++s.counters.untranslatable;
            return 0;
        }
        const std::size_t n = send_pending(s, c, gc, out);  // "a subsequent CC 6"
        c.data_msb = static_cast<std::uint8_t>(value);
        c.flags |= f_data_msb | f_data_pending;
        ++s.pending;
        return n;
    }
    case cc_data_lsb:
        if (!parameter_selected(c) || (c.flags & f_data_msb) == 0) {
            ++s.counters.untranslatable;
            return 0;
        }
        if ((c.flags & f_data_pending) != 0) {
            c.flags = static_cast<std::uint8_t>(c.flags & ~f_data_pending);
            --s.pending;
        }
        return emit_parameter(c, gc, (std::uint32_t{c.data_msb} << 7) | value, out);
    case cc_data_increment:
    case cc_data_decrement:
    case cc_reset_all_controllers: {
        // Increment/decrement act on the value entered so far, and Reset All
        // Controllers belongs after it too: the pending value goes out first.
        const std::size_t n = send_pending(s, c, gc, out);
        if (index == cc_reset_all_controllers)  // RP-015: the selection becomes null
            c.flags = static_cast<std::uint8_t>(c.flags & ~(f_param_msb | f_param_lsb | f_data_msb));
        out[n] = midi2_word0(gc, 0xB, index, 0);
        out[n + 1] = scale_up_7_to_32(value);
        return n + 2;
    }
    default:  // ordinary controllers take the fast path in up_one; kept correct anyway
        out[0] = midi2_word0(gc, 0xB, index, 0);
        out[1] = scale_up_7_to_32(value);
        return 2;
    }
}

// MIDI 1.0 messages that need state or a change of message: status nibbles 0x0-0x7
// and 0xF (malformed), 0xC (program change), Note On with velocity 0, and the
// controllers the translator consumes or orders (bank select, data entry, data
// increment/decrement, (N)RPN selection, reset all controllers).
constexpr std::uint32_t special_statuses = 0x90FFu;
constexpr std::uint64_t special_controllers_low = (std::uint64_t{1} << cc_bank_msb) |
                                                  (std::uint64_t{1} << cc_data_msb) |
                                                  (std::uint64_t{1} << cc_bank_lsb) | (std::uint64_t{1} << cc_data_lsb);
constexpr std::uint64_t special_controllers_high =
    (std::uint64_t{1} << (cc_data_increment - 64)) | (std::uint64_t{1} << (cc_data_decrement - 64)) |
    (std::uint64_t{1} << (cc_nrpn_lsb - 64)) | (std::uint64_t{1} << (cc_nrpn_msb - 64)) |
    (std::uint64_t{1} << (cc_rpn_lsb - 64)) | (std::uint64_t{1} << (cc_rpn_msb - 64)) |
    (std::uint64_t{1} << (cc_reset_all_controllers - 64));

// Written with & and | rather than && and || so the common case costs no branch.
[[nodiscard]] constexpr bool needs_special_handling(std::uint32_t status, std::uint32_t d1,
                                                    std::uint32_t d2) noexcept {
    const std::uint64_t controllers = d1 < 64 ? special_controllers_low : special_controllers_high;
    const auto special_controller = static_cast<std::uint32_t>((controllers >> (d1 & 63u)) & 1u) &
                                    static_cast<std::uint32_t>(status == 0xB);
    const auto note_off = static_cast<std::uint32_t>(status == 0x9) & static_cast<std::uint32_t>(d2 == 0);
    return (((special_statuses >> status) & 1u) | special_controller | note_off) != 0;
}

std::size_t up_special(midi1_to_midi2& s, std::uint32_t w, std::uint32_t status, std::uint32_t d1,
                       std::uint32_t d2, std::uint32_t* out) noexcept {
    const std::uint32_t gc = w & group_channel_mask;
    switch (status) {
    case 0x9:  // velocity 0: a Note Off of velocity 64 in MIDI 1.0
        out[0] = midi2_word0(gc, 0x8, d1, 0);
        out[1] = 0x80000000u;
        return 2;
    case 0xB:
        return up_control_change(s, w, gc, d1, d2, out);
    case 0xC: {
        channel_state& c = s.channels[channel_index(w)];
        std::uint32_t data = d1 << 24;
        std::uint32_t bank_valid = 0;
        if ((c.flags & f_bank_pending) != 0) {
            data |= (std::uint32_t{c.bank_msb} << 8) | c.bank_lsb;
            bank_valid = 1;
            c.flags = static_cast<std::uint8_t>(c.flags & ~f_bank_pending);
        }
        out[0] = midi2_word0(gc, 0xC, 0, bank_valid);
        out[1] = data;
        return 2;
    }
    default:
        ++s.counters.malformed;
        return 0;
    }
}

// Translates the packet starting at in[0] (complete) into out (room for
// max_translated_words); returns the words written.
std::size_t up_one(midi1_to_midi2& s, const std::uint32_t* in, std::uint32_t* out) noexcept {
    const std::uint32_t w = in[0];
    if ((w >> 28) != 0x2) return copy_packet(in, out);
    const std::uint32_t status = (w >> 20) & 0xFu;
    const std::uint32_t d1 = (w >> 8) & 0x7Fu;
    const std::uint32_t d2 = w & 0x7Fu;
    if (needs_special_handling(status, d1, d2)) [[unlikely]]
        return up_special(s, w, status, d1, d2, out);

    // The stateless rest, without branches on the status: Note Off (0x8), Note On
    // (0x9), Poly Pressure (0xA) and Control Change (0xB) keep data1 in index 1;
    // Channel Pressure (0xD) and Pitch Bend (0xE) have none. The opcode equals the
    // MIDI 1.0 status. 7->16 widening is the top half of 7->32 widening.
    // Selections are masks: a mispredicted branch per message would cost more than
    // computing both candidates.
    const auto all_if = [](bool b) { return 0u - static_cast<std::uint32_t>(b); };
    const std::uint32_t is_pressure = all_if(status == 0xD);
    const std::uint32_t is_bend = all_if(status == 0xE);
    const std::uint32_t seven = (d1 & is_pressure) | (d2 & ~is_pressure);
    std::uint32_t data = (scale_up_14_to_32(d1 | (d2 << 7)) & is_bend) | (scale_up_7_to_32(seven) & ~is_bend);
    data &= ~all_if(status <= 0x9) | 0xFFFF0000u;  // 16-bit velocity; no attribute
    out[0] = 0x40000000u | (w & 0x0FFF0000u) | ((d1 << 8) & ~all_if(status >= 0xD));
    out[1] = data;
    return 2;
}

std::size_t down_one(midi2_to_midi1& s, const std::uint32_t* in, std::uint32_t* out) noexcept {
    const std::uint32_t w = in[0];
    if ((w >> 28) != 0x4) return copy_packet(in, out);
    const std::uint32_t data = in[1];
    const std::uint32_t gc = w & group_channel_mask;
    const std::uint32_t index1 = (w >> 8) & 0x7Fu;  // note, controller or bank (7 bits in every use)
    switch ((w >> 20) & 0xFu) {
    case 0x8:
    case 0x9: {
        const std::uint32_t status = (w >> 20) & 0xFu;
        if ((w & 0xFFu) != 0) ++s.counters.attributes_lost;
        std::uint32_t velocity = scale_down(data >> 16, 16, 7);
        if (status == 0x9 && velocity == 0) velocity = 1;  // 0 would be a Note Off
        out[0] = midi1_word(gc, status, index1, velocity);
        return 1;
    }
    case 0xA:
        out[0] = midi1_word(gc, 0xA, index1, scale_down(data, 32, 7));
        return 1;
    case 0xB:
        out[0] = midi1_word(gc, 0xB, index1, scale_down(data, 32, 7));
        return 1;
    case 0xC: {
        std::size_t n = 0;
        if ((w & 0x01u) != 0) {
            out[n++] = midi1_word(gc, 0xB, cc_bank_msb, (data >> 8) & 0x7Fu);
            out[n++] = midi1_word(gc, 0xB, cc_bank_lsb, data & 0x7Fu);
        }
        out[n++] = midi1_word(gc, 0xC, (data >> 24) & 0x7Fu, 0);
        return n;
    }
    case 0xD:
        out[0] = midi1_word(gc, 0xD, scale_down(data, 32, 7), 0);
        return 1;
    case 0xE: {
        const std::uint32_t v = scale_down(data, 32, 14);
        out[0] = midi1_word(gc, 0xE, v & 0x7Fu, v >> 7);
        return 1;
    }
    case 0x2:
    case 0x3: {
        const bool registered = ((w >> 20) & 0xFu) == 0x2;
        const std::uint32_t v = scale_down(data, 32, 14);
        out[0] = midi1_word(gc, 0xB, registered ? cc_rpn_msb : cc_nrpn_msb, index1);
        out[1] = midi1_word(gc, 0xB, registered ? cc_rpn_lsb : cc_nrpn_lsb, w & 0x7Fu);
        out[2] = midi1_word(gc, 0xB, cc_data_msb, v >> 7);
        out[3] = midi1_word(gc, 0xB, cc_data_lsb, v & 0x7Fu);
        return 4;
    }
    case 0x7:
        ++s.counters.malformed;
        return 0;
    default:  // per-note controllers, relative controllers, per-note pitch bend, per-note management
        ++s.counters.untranslatable;
        return 0;
    }
}

// One is a template argument, not a function pointer, so the per-packet step inlines.
template <auto One, class State>
translate_result translate_packet(State& s, const packet& in, std::span<packet> out) noexcept {
    if (out.size() < max_translated_packets) return {0, translate_status::output_full};
    std::array<std::uint32_t, max_translated_words> words{};
    const std::size_t n = One(s, in.words.data(), words.data());
    std::size_t written = 0;
    for (std::size_t k = 0; k < n;) {
        const packet p = packet::from_words(std::span<const std::uint32_t>{words}.subspan(k, n - k));
        k += p.size();
        out[written++] = p;
    }
    return {written, translate_status::ok};
}

template <auto One, class State>
translate_words_result translate_run(State& s, std::span<const std::uint32_t> in,
                                     std::span<std::uint32_t> out) noexcept {
    std::size_t i = 0;
    std::size_t o = 0;
    while (i < in.size()) {
        const unsigned n = word_count_of(in[i]);
        if (in.size() - i < n) return {i, o, translate_status::incomplete_packet};
        if (out.size() - o < max_translated_words) return {i, o, translate_status::output_full};
        o += One(s, in.data() + i, out.data() + o);
        i += n;
    }
    return {i, o, translate_status::ok};
}

}  // namespace

translate_result translate(midi1_to_midi2& state, const packet& in, std::span<packet> out) noexcept {
    return translate_packet<up_one>(state, in, out);
}

translate_result translate(midi2_to_midi1& state, const packet& in, std::span<packet> out) noexcept {
    return translate_packet<down_one>(state, in, out);
}

translate_words_result translate_words(midi1_to_midi2& state, std::span<const std::uint32_t> in,
                                       std::span<std::uint32_t> out) noexcept {
    return translate_run<up_one>(state, in, out);
}

translate_words_result translate_words(midi2_to_midi1& state, std::span<const std::uint32_t> in,
                                       std::span<std::uint32_t> out) noexcept {
    return translate_run<down_one>(state, in, out);
}

translate_result flush(midi1_to_midi2& state, std::span<packet> out) noexcept {
    std::size_t written = 0;
    for (unsigned idx = 0; idx < state.channels.size() && state.pending != 0; ++idx) {
        channel_state& c = state.channels[idx];
        if ((c.flags & f_data_pending) == 0) continue;
        if (written == out.size()) return {written, translate_status::output_full};
        const std::uint32_t gc = ((idx >> 4) << 24) | ((idx & 0xFu) << 16);
        std::array<std::uint32_t, 2> w{};
        (void)send_pending(state, c, gc, w.data());
        out[written++] = packet{w[0], w[1]};
    }
    return {written, translate_status::ok};
}

}  // namespace umpd::core
