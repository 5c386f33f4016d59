#include "umpd/core/bytestream.hpp"

#include <cstddef>

#include "umpd/core/messages.hpp"
#include "umpd/core/reader.hpp"

namespace umpd::core {

namespace {

// ---------------------------------------------------------------------------
// MIDI 1.0 bytes → UMP
// ---------------------------------------------------------------------------

constexpr std::uint8_t sysex_start = 0xF0;
constexpr std::uint8_t sysex_end = 0xF7;

void emit(midi1_to_ump_state& s, const packet& p) noexcept {
    for (unsigned i = 0; i < p.size(); ++i) s.pending[s.pending_count++] = p.words[i];
}

// The packet that closes the open SysEx (by F7 or by another status byte).
void finish_sysex(midi1_to_ump_state& s) noexcept {
    const packet_format f = s.sysex_started ? packet_format::end : packet_format::complete;
    emit(s, make_sysex7(s.target_group, f, std::span<const std::uint8_t>(s.sysex.data(), s.sysex_count)));
    s.in_sysex = false;
    s.sysex_started = false;
    s.sysex_count = 0;
}

void emit_message(midi1_to_ump_state& s) noexcept {
    const std::uint8_t st = s.status;
    std::uint32_t w = st >= 0xF0 ? 0x10000000u : 0x20000000u;
    w = with_field<27, 24>(w, s.target_group.index);
    w = with_field<23, 16>(w, st);
    if (s.expected > 0) w = with_field<15, 8>(w, s.data[0]);
    if (s.expected > 1) w = with_field<7, 0>(w, s.data[1]);
    emit(s, packet{w});
}

// Handles one byte; the packets it completes go to s.pending (at most 3 words:
// a SysEx end packet followed by a tune request).
void feed(midi1_to_ump_state& s, std::uint8_t b) noexcept {
    if (b >= 0xF8) {
        if (b == 0xF9 || b == 0xFD) {
            ++s.counters.undefined_status_bytes;
            return;
        }
        emit(s, make_system(s.target_group, static_cast<system_status>(b)));
        return;
    }

    if (b & 0x80u) {
        if (s.in_sysex) {
            const bool terminated = b == sysex_end;
            finish_sysex(s);
            if (terminated) return;
            ++s.counters.unterminated_sysex;
        } else if (b == sysex_end) {
            ++s.counters.stray_end_of_exclusive;
        }
        if (s.message_open) ++s.counters.truncated_messages;
        s.message_open = false;
        s.data_count = 0;
        s.status = 0;  // every non-real-time status byte cancels running status

        if (b == sysex_end) return;
        if (b == sysex_start) {
            s.in_sysex = true;
            return;
        }
        if (b < 0xF0) {
            s.status = b;
            s.expected = (b & 0xE0u) == 0xC0u ? 1 : 2;  // Cn and Dn take one data byte
            s.message_open = true;
            return;
        }
        const int n = system_data_bytes(b);
        if (n < 0) {  // F4, F5
            ++s.counters.undefined_status_bytes;
            return;
        }
        s.status = b;
        s.expected = static_cast<std::uint8_t>(n);
        if (n == 0) {
            emit_message(s);
            s.status = 0;
        } else {
            s.message_open = true;
        }
        return;
    }

    if (s.in_sysex) {
        if (s.sysex_count == sysex7_bytes_per_packet) {
            // A seventh byte: the six held bytes are not the whole SysEx.
            const packet_format f = s.sysex_started ? packet_format::continue_ : packet_format::start;
            emit(s, make_sysex7(s.target_group, f, s.sysex));
            s.sysex_started = true;
            s.sysex_count = 0;
        }
        s.sysex[s.sysex_count++] = b;
        return;
    }
    if (s.status == 0) {
        ++s.counters.stray_data_bytes;
        return;
    }
    s.data[s.data_count++] = b;
    s.message_open = true;
    if (s.data_count == s.expected) {
        emit_message(s);
        s.data_count = 0;
        s.message_open = false;
        if (s.status >= 0xF0) s.status = 0;  // system common has no running status
    }
}

// Writes the whole pending packets that fit; returns the words written.
std::size_t flush(midi1_to_ump_state& s, std::span<std::uint32_t> out) noexcept {
    std::size_t written = 0;
    while (s.pending_pos < s.pending_count) {
        const unsigned n = word_count_of(s.pending[s.pending_pos]);
        if (n > out.size() - written) break;
        for (unsigned i = 0; i < n; ++i) out[written++] = s.pending[s.pending_pos++];
    }
    if (s.pending_pos == s.pending_count) s.pending_pos = s.pending_count = 0;
    return written;
}

// ---------------------------------------------------------------------------
// UMP → MIDI 1.0 bytes
// ---------------------------------------------------------------------------

// The most bytes one packet becomes: F7 closing an open SysEx, then F0, six data
// bytes and F7. convert_packet may also store (but not count) bytes up to this bound,
// so its destination always needs this much room.
constexpr std::size_t max_bytes_per_packet = 9;
static_assert(std::tuple_size_v<decltype(ump_to_midi1_state::pending)> >= max_bytes_per_packet);

// The state convert_packet reads and writes, held in locals for a whole call: bytes
// stored through a std::uint8_t* may alias anything, so fields left in the state struct
// would be reloaded from memory after every byte written.
struct u2m_hot {
    bool running_status;
    bool filter;  // only_group is set
    std::uint8_t only_group;
    std::uint8_t last_status;
    bool sysex_open;
    std::uint8_t sysex_group;
};

u2m_hot load_hot(const ump_to_midi1_state& s) noexcept {
    return {s.running_status, s.only_group.has_value(), s.only_group ? s.only_group->index : std::uint8_t{0},
            s.last_status, s.sysex_open, s.sysex_group.index};
}

void store_hot(ump_to_midi1_state& s, const u2m_hot& h) noexcept {
    s.last_status = h.last_status;
    s.sysex_open = h.sysex_open;
    s.sysex_group = group{h.sysex_group};
}

// word_count_of() without a table load: stepping through the input is a chain of
// dependent operations (load a word, find its size, add), and a load would lengthen it.
constexpr std::uint32_t packed_sizes = [] {
    std::uint32_t bits = 0;
    for (unsigned t = 0; t < 16; ++t) bits |= (word_count_table[t] - 1u) << (2 * t);
    return bits;
}();

[[nodiscard]] constexpr unsigned size_of_packet(std::uint32_t w0) noexcept {
    return ((packed_sizes >> ((w0 >> 28) * 2)) & 3u) + 1u;
}

// The packet at p, which has at least max_packet_words readable words. Words past the
// packet's size are copied as they are: they are not part of the packet (nothing here
// or in check_packet looks at them), and masking them would cost branches.
[[nodiscard]] packet load_packet(const std::uint32_t* p) noexcept { return packet{p[0], p[1], p[2], p[3]}; }

// MIDI 1.0 data bytes after each status byte that a checked type 0x1 or 0x2 packet can
// carry (0 for the rest): a load instead of branches on the status.
constexpr std::array<std::uint8_t, 256> data_bytes_after = [] {
    std::array<std::uint8_t, 256> t{};
    for (unsigned st = 0x80; st < 0xF0; ++st) t[st] = (st & 0xE0u) == 0xC0u ? 1 : 2;  // Cn, Dn take one
    for (unsigned st = 0xF0; st < 0x100; ++st) {
        const int n = system_data_bytes(static_cast<std::uint8_t>(st));
        t[st] = static_cast<std::uint8_t>(n < 0 ? 0 : n);
    }
    return t;
}();

// Converts one complete packet into dst[0 .. returned count); dst must have room for
// max_bytes_per_packet. Bytes past the count may be stored too: writing a byte
// unconditionally and advancing by a condition keeps the common cases free of
// data-dependent branches.
[[gnu::always_inline]] inline unsigned convert_packet(u2m_hot& h, ump_to_midi1_counters& c, const packet& p,
                                                      std::uint8_t* dst) noexcept {
    if (check_packet(p) != read_error::none) {
        ++c.malformed_packets;
        return 0;
    }
    const std::uint32_t w0 = p[0];
    const unsigned t = w0 >> 28;
    if (t - 1u > 2u) {  // only 0x1, 0x2 and 0x3 have a byte form
        ++c.skipped_packets;
        return 0;
    }
    const auto g = static_cast<std::uint8_t>(field<27, 24>(w0));
    if (h.filter && h.only_group != g) {
        ++c.other_group_packets;
        return 0;
    }
    const auto status = static_cast<std::uint8_t>(field<23, 16>(w0));
    const auto data1 = static_cast<std::uint8_t>(field<14, 8>(w0));
    const auto data2 = static_cast<std::uint8_t>(field<6, 0>(w0));

    if (t != 0x3) {
        // Channel voice and system share one path without data-dependent branches:
        // in a live stream the two interleave unpredictably. check_packet has limited
        // the status to 80..EF (type 0x2) or to a UMP system message (type 0x1).
        const bool voice = t == 0x2;
        const bool real_time = status >= 0xF8;  // allowed anywhere, changes nothing
        unsigned k = 0;
        if (h.sysex_open & !real_time) {  // a MIDI 1.0 SysEx cannot carry anything else
            dst[k++] = sysex_end;
            h.sysex_open = false;
            ++c.unterminated_sysex;
        }
        dst[k] = status;
        // & rather than &&: one test instead of a branch per operand.
        k += !(voice & h.running_status & (status == h.last_status));
        dst[k] = data1;
        dst[k + 1] = data2;
        // Voice sets the running status, real time keeps it, system common cancels it.
        // Masks rather than a conditional, which compilers turn into a branch.
        const auto voice_mask = static_cast<std::uint8_t>(-static_cast<int>(voice));
        const auto keep_mask = static_cast<std::uint8_t>(-static_cast<int>(real_time));
        h.last_status = static_cast<std::uint8_t>((status & voice_mask) | (h.last_status & keep_mask));
        return k + data_bytes_after[status];
    }

    // 7-bit SysEx; check_packet has limited the format to 0..3 and the count to 0..6.
    const bool continues_sysex = field<21, 20>(w0) >= 2;  // continue or end
    unsigned k = 0;
    if (!continues_sysex) {
        if (h.sysex_open) {  // a start or complete while one is open
            dst[k++] = sysex_end;
            ++c.unterminated_sysex;
        }
        h.last_status = 0;
        dst[k++] = sysex_start;
        h.sysex_open = true;
        h.sysex_group = g;
    } else if (!h.sysex_open || h.sysex_group != g) {
        ++c.orphaned_sysex;
        return 0;
    }
    const std::uint32_t w1 = p[1];
    dst[k] = static_cast<std::uint8_t>(w0 >> 8);
    dst[k + 1] = static_cast<std::uint8_t>(w0);
    dst[k + 2] = static_cast<std::uint8_t>(w1 >> 24);
    dst[k + 3] = static_cast<std::uint8_t>(w1 >> 16);
    dst[k + 4] = static_cast<std::uint8_t>(w1 >> 8);
    dst[k + 5] = static_cast<std::uint8_t>(w1);
    k += field<19, 16>(w0);
    dst[k] = sysex_end;
    const bool last = field<21, 20>(w0) == 0 || field<21, 20>(w0) == 3;  // complete or end
    h.sysex_open = h.sysex_open && !last;
    return k + last;
}

std::size_t flush(ump_to_midi1_state& s, std::span<std::uint8_t> out) noexcept {
    std::size_t written = 0;
    while (s.pending_pos < s.pending_count && written < out.size()) out[written++] = s.pending[s.pending_pos++];
    if (s.pending_pos == s.pending_count) s.pending_pos = s.pending_count = 0;
    return written;
}

conversion_result ump_to_midi1_run(ump_to_midi1_state& s, u2m_hot& h, std::span<const std::uint32_t> in,
                                   std::span<std::uint8_t> out) noexcept {
    conversion_result r;
    r.written = flush(s, out);
    if (s.pending_count != 0) {
        r.status = conversion_status::output_full;
        return r;
    }
    const std::size_t size = in.size();

    // Complete the packet the previous input ended inside.
    if (s.partial_count != 0) {
        const unsigned need = word_count_of(s.partial[0]);
        while (s.partial_count < need && r.consumed < size) s.partial[s.partial_count++] = in[r.consumed++];
        if (s.partial_count < need) return r;
        const packet p{s.partial[0], s.partial[1], s.partial[2], s.partial[3]};
        s.partial = {};
        s.partial_count = 0;
        s.pending_count = static_cast<std::uint8_t>(convert_packet(h, s.counters, p, s.pending.data()));
        r.written += flush(s, out.subspan(r.written));
        if (s.pending_count != 0) {
            r.status = conversion_status::output_full;
            return r;
        }
    }

    // Fast path: while a whole packet can be read without looking at its size and
    // the output has room for the most any packet becomes, convert straight into the
    // output. Neither condition can become true again once false, so the slow path
    // below only ever finishes the call.
    {
        const std::uint32_t* ip = in.data() + r.consumed;
        const std::uint32_t* const ip_end = in.data() + size;
        std::uint8_t* op = out.data() + r.written;
        std::uint8_t* const op_end = out.data() + out.size();
        while (ip_end - ip >= static_cast<std::ptrdiff_t>(max_packet_words) &&
               op_end - op >= static_cast<std::ptrdiff_t>(max_bytes_per_packet)) {
            const unsigned n = size_of_packet(ip[0]);
            op += convert_packet(h, s.counters, load_packet(ip), op);
            ip += n;
        }
        r.consumed = static_cast<std::size_t>(ip - in.data());
        r.written = static_cast<std::size_t>(op - out.data());
    }

    // Slow path: through s.pending, so that a packet's bytes can wait for room.
    while (r.consumed < size) {
        const unsigned n = word_count_of(in[r.consumed]);
        if (n > size - r.consumed) {
            while (r.consumed < size) s.partial[s.partial_count++] = in[r.consumed++];
            break;
        }
        const packet p = packet::from_words(in.subspan(r.consumed, n));
        r.consumed += n;
        s.pending_count = static_cast<std::uint8_t>(convert_packet(h, s.counters, p, s.pending.data()));
        if (s.pending_count == 0) continue;
        r.written += flush(s, out.subspan(r.written));
        if (s.pending_count != 0) {
            r.status = conversion_status::output_full;
            return r;
        }
    }
    return r;
}

}  // namespace

conversion_result midi1_to_ump(midi1_to_ump_state& s, std::span<const std::uint8_t> in,
                               std::span<std::uint32_t> out) noexcept {
    conversion_result r;
    r.written = flush(s, out);
    if (s.pending_count != 0) {
        r.status = conversion_status::output_full;
        return r;
    }
    while (r.consumed < in.size()) {
        feed(s, in[r.consumed++]);
        if (s.pending_count == 0) continue;
        r.written += flush(s, out.subspan(r.written));
        if (s.pending_count != 0) {
            r.status = conversion_status::output_full;
            return r;
        }
    }
    return r;
}

conversion_result ump_to_midi1(ump_to_midi1_state& s, std::span<const std::uint32_t> in,
                               std::span<std::uint8_t> out) noexcept {
    u2m_hot h = load_hot(s);
    const conversion_result r = ump_to_midi1_run(s, h, in, out);
    store_hot(s, h);
    return r;
}

}  // namespace umpd::core
