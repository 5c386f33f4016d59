#include "port_io.hpp"

#include <jack/midiport.h>

#include <algorithm>
#include <cstring>
#include <span>

namespace umpd::jack::detail {

port_counters atomic_port_counters::snapshot() const noexcept {
    port_counters c;
    c.events = events.load(std::memory_order_relaxed);
    c.messages = messages.load(std::memory_order_relaxed);
    c.dropped_full = dropped_full.load(std::memory_order_relaxed);
    c.deferred = deferred.load(std::memory_order_relaxed);
    c.late = late.load(std::memory_order_relaxed);
    c.untranslatable = untranslatable.load(std::memory_order_relaxed);
    return c;
}

// ---------------------------------------------------------------------------
// event_stage
// ---------------------------------------------------------------------------

// Room for a full SysEx chunk being written, the next one growing, and one packet.
event_stage::event_stage(std::size_t event_capacity)
    : event_capacity_(event_capacity),
      bytes_(new std::uint8_t[2 * event_capacity + 4 * max_packet_bytes]),
      capacity_(2 * event_capacity + 4 * max_packet_bytes) {}

bool event_stage::has_room() noexcept {
    if (seg_count_ + max_packet_segments > segment_capacity) return false;
    if (capacity_ - write_ >= max_packet_bytes) return true;
    // Compact: move the waiting bytes to the front (bounded by capacity_).
    const std::size_t n = write_ - read_;
    std::memmove(bytes_.get(), bytes_.get() + read_, n);
    for (std::size_t i = 0; i < seg_count_; ++i) {
        segs_[(seg_head_ + i) % segment_capacity].begin -= static_cast<std::uint32_t>(read_);
    }
    write_ = n;
    read_ = 0;
    return capacity_ - write_ >= max_packet_bytes;
}

event_stage::segment* event_stage::last_open() noexcept {
    if (seg_count_ == 0) return nullptr;
    segment& s = segs_[(seg_head_ + seg_count_ - 1) % segment_capacity];
    return s.open ? &s : nullptr;
}

void event_stage::push_segment(std::uint32_t frame, bool sysex, std::uint8_t first) noexcept {
    if (segment* s = last_open()) s->open = false;
    segs_[(seg_head_ + seg_count_) % segment_capacity] =
        segment{static_cast<std::uint32_t>(write_), 1, frame, sysex, true};
    ++seg_count_;
    bytes_[write_++] = first;
}

void event_stage::add_byte(std::uint8_t b) noexcept {
    // The frame of a new segment is the frame of the packet being appended (frame_).
    if (b >= 0xF8) {  // real time: an event of its own, wherever it falls
        push_segment(frame_, false, b);
        if (segment* s = last_open()) s->open = false;
        return;
    }
    if (b == 0xF0) {
        in_sysex_ = true;
        push_segment(frame_, true, b);
        return;
    }
    if (b == 0xF7) {
        if (!in_sysex_) return;  // stray: the converter never emits one, but stay safe
        in_sysex_ = false;
        segment* s = last_open();
        if (s && s->sysex) {
            bytes_[write_++] = b;
            ++s->length;
            s->open = false;
        } else {
            push_segment(frame_, true, b);
            last_open()->open = false;
        }
        return;
    }
    if (b >= 0x80) {  // any other status: a new short message
        in_sysex_ = false;
        push_segment(frame_, false, b);
        return;
    }
    segment* s = last_open();
    if (s && !(s->sysex && s->length >= event_capacity_)) {
        bytes_[write_++] = b;
        ++s->length;
    } else if (in_sysex_) {  // a SysEx continues in a new chunk
        push_segment(frame_, true, b);
    }
    // else: a data byte with nothing open; the converter never emits one.
}

void event_stage::append(const std::uint8_t* bytes, std::size_t n, std::uint32_t frame) noexcept {
    frame_ = frame;
    for (std::size_t i = 0; i < n; ++i) add_byte(bytes[i]);
    // A packet always ends its short messages; only a SysEx stays open across packets.
    if (segment* s = last_open(); s && !s->sysex) s->open = false;
}

bool event_stage::drain(void* buffer, std::uint32_t& last_frame, bool final, std::uint64_t& events) noexcept {
    while (seg_count_ > 0) {
        segment& s = segs_[seg_head_];
        if (s.open && s.sysex && !final && s.length < event_capacity_) return true;
        if (s.length > 0) {
            const std::uint32_t frame = std::max(s.frame, last_frame);
            const std::size_t avail = jack_midi_max_event_size(buffer);
            std::size_t n = s.length;
            if (s.sysex) n = std::min(n, avail);
            if (n == 0 || n > avail) return false;
            jack_midi_data_t* dst = jack_midi_event_reserve(buffer, frame, n);
            if (dst == nullptr) return false;
            std::memcpy(dst, bytes_.get() + s.begin, n);
            ++events;
            last_frame = frame;
            s.begin += static_cast<std::uint32_t>(n);
            s.length -= static_cast<std::uint32_t>(n);
            read_ = s.begin;
            if (s.length > 0) return false;  // the buffer is full; the rest waits
        }
        seg_head_ = (seg_head_ + 1) % segment_capacity;
        --seg_count_;
    }
    read_ = write_ = 0;
    return true;
}

void event_stage::restamp_to_start() noexcept {
    for (std::size_t i = 0; i < seg_count_; ++i) segs_[(seg_head_ + i) % segment_capacity].frame = 0;
}

// ---------------------------------------------------------------------------
// port_state
// ---------------------------------------------------------------------------

port_state::port_state(const port_spec& s, const client_config& cfg)
    : key(s.key), is_source(s.direction == naming::port_direction::source), spec(s) {
    if (is_source) {
        outgoing = std::make_unique<spsc_ring<outgoing_message>>(cfg.outgoing_capacity);
        stage = std::make_unique<event_stage>(cfg.event_capacity);
    } else {
        to_ump.target_group = core::group{s.group_index};
    }
}

void port_state::convert_packet(const core::packet& p, std::uint32_t frame) noexcept {
    std::array<std::uint8_t, 16> bytes{};
    const auto emit = [&](const core::packet& q) {
        const std::span<const std::uint32_t> words(q.words.data(), core::word_count_of(q.words[0]));
        const core::conversion_result r = core::ump_to_midi1(to_bytes, words, bytes);
        if (r.written > 0) stage->append(bytes.data(), r.written, frame);
    };
    if (core::type_of(p.words[0]) == core::message_type::midi2_channel_voice) {
        std::array<core::packet, core::max_translated_packets> out{};
        const core::translate_result t = core::translate(to_midi1, p, out);
        for (std::size_t i = 0; i < t.written; ++i) emit(out[i]);
    } else {
        emit(p);
    }
    const auto& b = to_bytes.counters;
    const auto& m = to_midi1.counters;
    counters.untranslatable.store(m.malformed + m.untranslatable + b.skipped_packets + b.malformed_packets +
                                      b.orphaned_sysex,
                                  std::memory_order_relaxed);
}

void port_state::write_cycle(const cycle_clock& clock, jack_nframes_t nframes) noexcept {
    void* buffer = jack_port_get_buffer(port, nframes);
    if (buffer == nullptr) return;
    jack_midi_clear_buffer(buffer);
    std::uint32_t last_frame = 0;
    std::uint64_t events = 0;
    std::uint64_t messages = 0;
    std::uint64_t late = 0;

    // What waited from an earlier cycle goes first, at frame 0.
    stage->restamp_to_start();
    bool blocked = !stage->drain(buffer, last_frame, false, events);
    const std::uint64_t end_ns = clock.start_ns + clock.span_ns;
    while (!blocked) {
        const outgoing_message* m = outgoing->peek();
        if (m == nullptr || m->timestamp_ns >= end_ns) break;  // a later cycle's
        std::uint32_t frame = 0;
        if (m->timestamp_ns >= clock.start_ns) {
            frame = static_cast<std::uint32_t>((m->timestamp_ns - clock.start_ns) * clock.frames / clock.span_ns);
            frame = std::min(frame, nframes - 1);
        } else if (m->timestamp_ns != 0 && m->timestamp_ns + clock.span_ns < clock.start_ns) {
            ++late;  // its own cycle had passed before it was queued or reached
        }
        if (!stage->has_room()) {
            blocked = !stage->drain(buffer, last_frame, false, events);
            if (!stage->has_room()) {
                blocked = true;
                break;
            }
        }
        const core::packet p = m->packet;
        outgoing->pop();
        ++messages;
        convert_packet(p, frame);
        blocked = !stage->drain(buffer, last_frame, false, events);
    }
    // The cycle ends: a SysEx in progress goes out as far as it came (it continues next cycle).
    if (!blocked) blocked = !stage->drain(buffer, last_frame, true, events);
    if (blocked) atomic_port_counters::bump(counters.deferred);
    if (events) atomic_port_counters::bump(counters.events, events);
    if (messages) atomic_port_counters::bump(counters.messages, messages);
    if (late) atomic_port_counters::bump(counters.late, late);
}

std::size_t port_state::read_cycle(const cycle_clock& clock, jack_nframes_t nframes,
                                   spsc_ring<incoming_message>& incoming,
                                   std::atomic<std::uint64_t>& incoming_dropped) noexcept {
    void* buffer = jack_port_get_buffer(port, nframes);
    if (buffer == nullptr) return 0;
    const std::uint32_t count = jack_midi_get_event_count(buffer);
    std::size_t pushed = 0;
    std::uint64_t dropped = 0;
    std::uint64_t messages = 0;
    std::array<std::uint32_t, 64> words{};
    for (std::uint32_t i = 0; i < count; ++i) {
        jack_midi_event_t ev{};
        if (jack_midi_event_get(&ev, buffer, i) != 0 || ev.buffer == nullptr) continue;
        // Untrusted: another process wrote it. A frame past the cycle is clamped.
        const std::uint32_t frame = nframes == 0 ? 0 : std::min<std::uint32_t>(ev.time, nframes - 1);
        const std::uint64_t ts = clock.time_of(frame);
        std::span<const std::uint8_t> in(ev.buffer, ev.size);
        for (;;) {
            const core::conversion_result r = core::midi1_to_ump(to_ump, in, words);
            for (std::size_t w = 0; w < r.written;) {
                const unsigned n = core::word_count_of(words[w]);
                const incoming_message msg{key, ts, core::packet::from_words(std::span(words).subspan(w, n))};
                if (incoming.push(msg)) {
                    ++pushed;
                    ++messages;
                } else {
                    ++dropped;
                }
                w += n;
            }
            in = in.subspan(r.consumed);
            if (r.status == core::conversion_status::ok) break;
        }
    }
    if (count) atomic_port_counters::bump(counters.events, count);
    if (messages) atomic_port_counters::bump(counters.messages, messages);
    if (dropped) {
        atomic_port_counters::bump(counters.dropped_full, dropped);
        atomic_port_counters::bump(incoming_dropped, dropped);
    }
    const auto& c = to_ump.counters;
    counters.untranslatable.store(std::uint64_t{c.stray_data_bytes} + c.stray_end_of_exclusive +
                                      c.undefined_status_bytes + c.unterminated_sysex + c.truncated_messages,
                                  std::memory_order_relaxed);
    return pushed;
}

}  // namespace umpd::jack::detail
