// ALSA sequencer events ⇄ UMP, the conversion half of the ALSA driver (umpd::alsa).
// Plain computation on values: no sequencer is needed, so it is tested on the host.
//
// Incoming (ALSA → UMP): an event is turned into the MIDI 1.0 bytes it stands for
// (note on → 9n kk vv, a SysEx event → its bytes as they are) and those bytes go
// through core::midi1_to_ump with a state kept per origin. That state is what
// reassembles a SysEx the sequencer split into several events (rawmidi and
// snd_midi_event cut long SysEx into chunks; only the first starts with F0, only the
// last ends with F7): the chunks simply continue one byte stream.
//
// Outgoing (UMP → ALSA): packets are mapped straight onto events. MIDI 1.0 channel
// voice and system packets become one event each; MIDI 2.0 channel voice is first
// translated to MIDI 1.0 (core::translate); 7-bit SysEx packets are gathered into a
// buffer and leave as SYSEX events of at most `sysex_chunk` bytes (F0 on the first,
// F7 on the last), so a SysEx of any length goes out in order, in bounded events.
// Other packet types (utility, stream, data, flex) have no MIDI 1.0 form: counted.
//
// Threads: a decoder or encoder serves one stream and one thread at a time. Neither
// allocates after construction (the encoder's buffer is sized once).
#pragma once

#include <alsa/asoundlib.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "umpd/core/bytestream.hpp"
#include "umpd/core/packet.hpp"
#include "umpd/core/translate.hpp"

namespace umpd::alsa {

// alsa-lib's snd_seq_ev_set_* macros, as functions free of their implicit sign
// conversions (the project builds with -Wsign-conversion -Werror).
namespace seq_event {
inline void set_length_kind(snd_seq_event_t& e, unsigned kind) noexcept {
    e.flags = static_cast<unsigned char>((e.flags & ~unsigned{SND_SEQ_EVENT_LENGTH_MASK}) | kind);
}
inline void set_fixed(snd_seq_event_t& e, snd_seq_event_type_t type) noexcept {
    e.type = type;
    set_length_kind(e, SND_SEQ_EVENT_LENGTH_FIXED);
}
inline void set_sysex(snd_seq_event_t& e, std::uint8_t* data, std::size_t len) noexcept {
    e.type = SND_SEQ_EVENT_SYSEX;
    set_length_kind(e, SND_SEQ_EVENT_LENGTH_VARIABLE);
    e.data.ext.len = static_cast<unsigned>(len);
    e.data.ext.ptr = data;
}
inline void set_note(snd_seq_event_t& e, snd_seq_event_type_t type, std::uint8_t ch, std::uint8_t key,
                     std::uint8_t velocity) noexcept {
    set_fixed(e, type);
    e.data.note.channel = ch;
    e.data.note.note = key;
    e.data.note.velocity = velocity;
}
inline void set_control(snd_seq_event_t& e, snd_seq_event_type_t type, std::uint8_t ch, unsigned param,
                        int value) noexcept {
    set_fixed(e, type);
    e.data.control.channel = ch;
    e.data.control.param = param;
    e.data.control.value = value;
}
inline void set_source(snd_seq_event_t& e, int port) noexcept { e.source.port = static_cast<unsigned char>(port); }
inline void set_dest(snd_seq_event_t& e, std::uint8_t client, std::uint8_t port) noexcept {
    e.dest.client = client;
    e.dest.port = port;
}
inline void set_subscribers(snd_seq_event_t& e) noexcept {
    e.dest.client = SND_SEQ_ADDRESS_SUBSCRIBERS;
    e.dest.port = SND_SEQ_ADDRESS_UNKNOWN;
}
inline void set_direct(snd_seq_event_t& e) noexcept { e.queue = SND_SEQ_QUEUE_DIRECT; }
}  // namespace seq_event

// The bytes a MIDI event stands for. Channel and system events are written into
// `scratch`; a SYSEX event's bytes are returned where they lie (ev.data.ext, valid as
// long as the event is). Events that are not MIDI (queue control, announcements,
// subscriptions, ...) give an empty span. CONTROL14, NONREGPARAM and REGPARAM give
// the controller sequence a MIDI 1.0 cable would carry.
[[nodiscard]] std::span<const std::uint8_t> event_bytes(const snd_seq_event_t& ev,
                                                        std::array<std::uint8_t, 12>& scratch) noexcept;

// One incoming stream (an exported destination port or one imported remote port).
struct event_decoder {
    core::midi1_to_ump_state state{};
    std::uint64_t ignored_events = 0;  // events with no MIDI meaning

    void set_group(std::uint8_t group_index) noexcept { state.target_group = core::group{group_index}; }

    // Converts one event; emit(const core::packet&) runs for every packet completed
    // (none for an event that only continues a SysEx still open, up to 6 bytes wait).
    template <class Emit>
    void decode(const snd_seq_event_t& ev, Emit&& emit) noexcept {
        std::array<std::uint8_t, 12> scratch{};
        auto bytes = event_bytes(ev, scratch);
        if (bytes.empty()) {
            ++ignored_events;
            return;
        }
        std::array<std::uint32_t, 32> words{};
        while (true) {
            const auto r = core::midi1_to_ump(state, bytes, words);
            for (std::size_t i = 0; i < r.written;) {
                const auto p = core::packet::from_words(std::span<const std::uint32_t>(words).subspan(i));
                emit(p);
                i += p.size();
            }
            bytes = bytes.subspan(r.consumed);
            if (r.status == core::conversion_status::ok) break;
        }
    }
};

struct encoder_counters {
    std::uint64_t events = 0;           // events produced
    std::uint64_t untranslatable = 0;   // packets with no MIDI 1.0 form: dropped
    std::uint64_t orphaned_sysex = 0;   // SysEx continue/end with none open: dropped
    std::uint64_t unterminated_sysex = 0;  // a SysEx cut short by a new start or a channel message
};

// One outgoing stream (an exported source port or one imported remote port).
class event_encoder {
public:
    static constexpr std::size_t default_sysex_chunk = 256;
    explicit event_encoder(std::size_t sysex_chunk = default_sysex_chunk);

    // Converts one packet; emit(snd_seq_event_t&) runs for every event ready (the
    // caller sets source, destination and timing; a SYSEX event's data points into
    // this encoder and is valid during the call). A SysEx still open waits in the
    // encoder until its buffer is full or it ends: flush() sends the part held.
    template <class Emit>
    void encode(const core::packet& p, Emit&& emit) {
        if (p.type() == core::message_type::midi2_channel_voice) {
            std::array<core::packet, core::max_translated_packets> out{};
            const auto r = core::translate(to_midi1_, p, out);
            if (r.written == 0) ++counters_.untranslatable;
            for (std::size_t i = 0; i < r.written; ++i) encode_midi1(out[i], emit);
            return;
        }
        encode_midi1(p, emit);
    }

    // Sends the SysEx bytes held so far (a chunk without F7: the SysEx continues).
    template <class Emit>
    void flush(Emit&& emit) {
        if (sysex_len_ == 0) return;
        snd_seq_event_t ev{};
        seq_event::set_sysex(ev, sysex_.data(), sysex_len_);
        ++counters_.events;
        emit(ev);
        sysex_len_ = 0;
    }

    [[nodiscard]] bool sysex_open() const noexcept { return sysex_open_; }
    [[nodiscard]] const encoder_counters& counters() const noexcept { return counters_; }

private:
    // Fills `ev` for a MIDI 1.0 channel voice or system packet; false when none fits.
    [[nodiscard]] bool simple_event(const core::packet& p, snd_seq_event_t& ev) noexcept;

    template <class Emit>
    void encode_midi1(const core::packet& p, Emit& emit) {
        using core::message_type;
        const auto t = p.type();
        if (t == message_type::data64) {
            encode_sysex(p, emit);
            return;
        }
        snd_seq_event_t ev{};
        if (!simple_event(p, ev)) {
            ++counters_.untranslatable;
            return;
        }
        const bool real_time = t == message_type::system && (p[0] >> 16 & 0xFF) >= 0xF8;
        if (sysex_open_ && !real_time) {  // MIDI 1.0 cannot carry it inside a SysEx: close it
            ++counters_.unterminated_sysex;
            append(0xF7, emit);
            sysex_open_ = false;
            flush(emit);
        } else if (sysex_len_ > 0) {
            flush(emit);  // what is held leaves first: order is kept
        }
        ++counters_.events;
        emit(ev);
    }

    template <class Emit>
    void encode_sysex(const core::packet& p, Emit& emit) {
        const unsigned status = p[0] >> 20 & 0xF;  // 0 complete, 1 start, 2 continue, 3 end
        unsigned count = p[0] >> 16 & 0xF;
        if (count > 6) count = 6;
        if (status > 3) {
            ++counters_.untranslatable;
            return;
        }
        const bool opens = status == 0 || status == 1;
        if (!opens && !sysex_open_) {
            ++counters_.orphaned_sysex;
            return;
        }
        if (opens) {
            if (sysex_open_) {
                ++counters_.unterminated_sysex;
                append(0xF7, emit);
                flush(emit);
            }
            sysex_open_ = true;
            append(0xF0, emit);
        }
        for (unsigned i = 0; i < count; ++i) {
            append(sysex_byte(p, i), emit);
        }
        if (status == 0 || status == 3) {
            append(0xF7, emit);
            sysex_open_ = false;
            flush(emit);
        }
    }

    // Byte i (0..5) of a 7-bit SysEx packet's data.
    [[nodiscard]] static std::uint8_t sysex_byte(const core::packet& p, unsigned i) noexcept {
        // Bytes 0-1 are in word 0 (bits 15..8, 7..0), bytes 2-5 in word 1.
        const std::uint32_t w = i < 2 ? p[0] : p[1];
        const unsigned shift = i < 2 ? (1 - i) * 8 : (5 - i) * 8;
        return static_cast<std::uint8_t>(w >> shift & 0x7F);
    }

    template <class Emit>
    void append(std::uint8_t b, Emit& emit) {
        if (sysex_len_ == sysex_.size()) flush(emit);
        sysex_[sysex_len_++] = b;
    }

    std::vector<std::uint8_t> sysex_;
    std::size_t sysex_len_ = 0;
    bool sysex_open_ = false;
    core::midi2_to_midi1 to_midi1_{};
    encoder_counters counters_{};
};

}  // namespace umpd::alsa
