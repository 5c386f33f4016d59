#include "umpd/core/bytestream.hpp"

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

void put(ump_to_midi1_state& s, std::uint8_t b) noexcept { s.pending[s.pending_count++] = b; }

void close_sysex(ump_to_midi1_state& s) noexcept {
    if (!s.sysex_open) return;
    put(s, sysex_end);
    s.sysex_open = false;
    ++s.counters.unterminated_sysex;
}

// Converts one complete packet into s.pending (at most 9 bytes: F7 closing an open
// SysEx, then F0, six bytes and F7).
void convert_packet(ump_to_midi1_state& s, const packet& p) noexcept {
    if (check_packet(p) != read_error::none) {
        ++s.counters.malformed_packets;
        return;
    }
    const message_type t = p.type();
    if (t != message_type::system && t != message_type::midi1_channel_voice && t != message_type::data64) {
        ++s.counters.skipped_packets;
        return;
    }
    const group g = p.group_field();
    if (s.only_group && *s.only_group != g) {
        ++s.counters.other_group_packets;
        return;
    }
    const std::uint32_t w0 = p[0];
    const auto status = static_cast<std::uint8_t>(field<23, 16>(w0));
    const auto data1 = static_cast<std::uint8_t>(field<14, 8>(w0));
    const auto data2 = static_cast<std::uint8_t>(field<6, 0>(w0));

    if (t == message_type::system) {
        if (status >= 0xF8) {  // real time: allowed anywhere, changes nothing
            put(s, status);
            return;
        }
        close_sysex(s);
        s.last_status = 0;
        put(s, status);
        const int n = system_data_bytes(status);
        if (n > 0) put(s, data1);
        if (n > 1) put(s, data2);
        return;
    }

    if (t == message_type::midi1_channel_voice) {
        close_sysex(s);
        if (!s.running_status || status != s.last_status) put(s, status);
        s.last_status = status;
        put(s, data1);
        if ((status & 0xE0u) != 0xC0u) put(s, data2);
        return;
    }

    // 7-bit SysEx.
    const auto v = sysex7_view{p};
    const packet_format f = v.format();
    if (f == packet_format::complete || f == packet_format::start) {
        close_sysex(s);
        s.last_status = 0;
        put(s, sysex_start);
        s.sysex_open = true;
        s.sysex_group = g;
    } else if (!s.sysex_open || s.sysex_group != g) {
        ++s.counters.orphaned_sysex;
        return;
    }
    for (unsigned i = 0; i < v.size(); ++i) put(s, v.byte(i));
    if (f == packet_format::complete || f == packet_format::end) {
        put(s, sysex_end);
        s.sysex_open = false;
    }
}

std::size_t flush(ump_to_midi1_state& s, std::span<std::uint8_t> out) noexcept {
    std::size_t written = 0;
    while (s.pending_pos < s.pending_count && written < out.size()) out[written++] = s.pending[s.pending_pos++];
    if (s.pending_pos == s.pending_count) s.pending_pos = s.pending_count = 0;
    return written;
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
    conversion_result r;
    r.written = flush(s, out);
    if (s.pending_count != 0) {
        r.status = conversion_status::output_full;
        return r;
    }
    const std::size_t size = in.size();
    while (r.consumed < size) {
        packet p;
        if (s.partial_count != 0) {
            // Complete the packet the previous input ended inside.
            const unsigned need = word_count_of(s.partial[0]);
            while (s.partial_count < need && r.consumed < size) s.partial[s.partial_count++] = in[r.consumed++];
            if (s.partial_count < need) break;
            p = packet{s.partial[0], s.partial[1], s.partial[2], s.partial[3]};
            s.partial = {};
            s.partial_count = 0;
        } else {
            const unsigned n = word_count_of(in[r.consumed]);
            if (n > size - r.consumed) {
                while (r.consumed < size) s.partial[s.partial_count++] = in[r.consumed++];
                break;
            }
            p = packet::from_words(in.subspan(r.consumed, n));
            r.consumed += n;
        }
        convert_packet(s, p);
        if (s.pending_count == 0) continue;
        r.written += flush(s, out.subspan(r.written));
        if (s.pending_count != 0) {
            r.status = conversion_status::output_full;
            return r;
        }
    }
    return r;
}

}  // namespace umpd::core
