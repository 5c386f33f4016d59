// Tests for ALSA sequencer events ⇄ UMP (include/umpd/alsa/codec.hpp): no kernel needed.
#include "umpd/alsa/codec.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace {

using namespace umpd;
using alsa::event_decoder;
using alsa::event_encoder;

snd_seq_event_t note(snd_seq_event_type_t type, std::uint8_t ch, std::uint8_t key, std::uint8_t vel) {
    snd_seq_event_t ev{};
    alsa::seq_event::set_note(ev, type, ch, key, vel);
    return ev;
}
snd_seq_event_t control(snd_seq_event_type_t type, std::uint8_t ch, unsigned param, int value) {
    snd_seq_event_t ev{};
    alsa::seq_event::set_control(ev, type, ch, param, value);
    return ev;
}
snd_seq_event_t sysex(std::vector<std::uint8_t>& bytes) {
    snd_seq_event_t ev{};
    alsa::seq_event::set_sysex(ev, bytes.data(), bytes.size());
    return ev;
}

std::vector<core::packet> decode(event_decoder& d, const snd_seq_event_t& ev) {
    std::vector<core::packet> out;
    d.decode(ev, [&](const core::packet& p) { out.push_back(p); });
    return out;
}

struct captured {
    snd_seq_event_type_t type;
    snd_seq_ev_note_t note{};
    snd_seq_ev_ctrl_t control{};
    std::vector<std::uint8_t> bytes;  // SYSEX
};

std::vector<captured> encode(event_encoder& e, const std::vector<core::packet>& packets, bool flush = true) {
    std::vector<captured> out;
    auto emit = [&](snd_seq_event_t& ev) {
        captured c{ev.type, {}, {}, {}};
        c.note = ev.data.note;
        c.control = ev.data.control;
        if (ev.type == SND_SEQ_EVENT_SYSEX) {
            EXPECT_EQ(ev.flags & SND_SEQ_EVENT_LENGTH_MASK, SND_SEQ_EVENT_LENGTH_VARIABLE);
            const auto* b = static_cast<const std::uint8_t*>(ev.data.ext.ptr);
            c.bytes.assign(b, b + ev.data.ext.len);
        } else {
            EXPECT_EQ(ev.flags & SND_SEQ_EVENT_LENGTH_MASK, SND_SEQ_EVENT_LENGTH_FIXED);
        }
        out.push_back(std::move(c));
    };
    for (const auto& p : packets) e.encode(p, emit);
    if (flush) e.flush(emit);
    return out;
}

// The UMP of a MIDI 1.0 byte stream, for group g, by the core converter alone.
std::vector<core::packet> ump_of(const std::vector<std::uint8_t>& bytes, std::uint8_t g = 0) {
    core::midi1_to_ump_state s{};
    s.target_group = core::group{g};
    std::vector<std::uint32_t> words(bytes.size() * 2 + 8);
    const auto r = core::midi1_to_ump(s, bytes, words);
    EXPECT_EQ(r.status, core::conversion_status::ok);
    std::vector<core::packet> out;
    for (std::size_t i = 0; i < r.written;) {
        out.push_back(core::packet::from_words(std::span<const std::uint32_t>(words).subspan(i)));
        i += out.back().size();
    }
    return out;
}

std::vector<std::uint8_t> sysex_bytes(std::size_t payload, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<std::uint8_t> b{0xF0};
    for (std::size_t i = 0; i < payload; ++i) b.push_back(static_cast<std::uint8_t>(rng() & 0x7F));
    b.push_back(0xF7);
    return b;
}

TEST(AlsaCodec, ChannelEventsBecomeMidi1ChannelVoiceInTheirGroup) {
    event_decoder d;
    d.set_group(3);
    EXPECT_EQ(decode(d, note(SND_SEQ_EVENT_NOTEON, 2, 60, 100)), ump_of({0x92, 60, 100}, 3));
    EXPECT_EQ(decode(d, note(SND_SEQ_EVENT_NOTEOFF, 2, 60, 0)), ump_of({0x82, 60, 0}, 3));
    EXPECT_EQ(decode(d, note(SND_SEQ_EVENT_KEYPRESS, 15, 1, 2)), ump_of({0xAF, 1, 2}, 3));
    EXPECT_EQ(decode(d, control(SND_SEQ_EVENT_CONTROLLER, 0, 7, 99)), ump_of({0xB0, 7, 99}, 3));
    EXPECT_EQ(decode(d, control(SND_SEQ_EVENT_PGMCHANGE, 1, 0, 42)), ump_of({0xC1, 42}, 3));
    EXPECT_EQ(decode(d, control(SND_SEQ_EVENT_CHANPRESS, 1, 0, 17)), ump_of({0xD1, 17}, 3));
    EXPECT_EQ(decode(d, control(SND_SEQ_EVENT_PITCHBEND, 0, 0, -8192)), ump_of({0xE0, 0, 0}, 3));
    EXPECT_EQ(decode(d, control(SND_SEQ_EVENT_PITCHBEND, 0, 0, 8191)), ump_of({0xE0, 0x7F, 0x7F}, 3));
    EXPECT_EQ(decode(d, control(SND_SEQ_EVENT_PITCHBEND, 0, 0, 0)), ump_of({0xE0, 0, 0x40}, 3));
    EXPECT_EQ(d.ignored_events, 0u);
}

TEST(AlsaCodec, CompoundControllersBecomeTheirControllerSequence) {
    event_decoder d;
    EXPECT_EQ(decode(d, control(SND_SEQ_EVENT_CONTROL14, 0, 7, 0x1234)),
              ump_of({0xB0, 7, 0x24, 0xB0, 39, 0x34}));
    EXPECT_EQ(decode(d, control(SND_SEQ_EVENT_NONREGPARAM, 1, 0x0102, 0x0304)),
              ump_of({0xB1, 99, 2, 0xB1, 98, 2, 0xB1, 6, 6, 0xB1, 38, 4}));
    EXPECT_EQ(decode(d, control(SND_SEQ_EVENT_REGPARAM, 1, 0, 0x80)),
              ump_of({0xB1, 101, 0, 0xB1, 100, 0, 0xB1, 6, 1, 0xB1, 38, 0}));
}

TEST(AlsaCodec, SystemEventsBecomeSystemPackets) {
    event_decoder d;
    snd_seq_event_t ev{};
    alsa::seq_event::set_control(ev, SND_SEQ_EVENT_CLOCK, 0, 0, 0);
    EXPECT_EQ(decode(d, ev), ump_of({0xF8}));
    alsa::seq_event::set_control(ev, SND_SEQ_EVENT_SONGPOS, 0, 0, 0x1FFF);
    EXPECT_EQ(decode(d, ev), ump_of({0xF2, 0x7F, 0x3F}));
    alsa::seq_event::set_control(ev, SND_SEQ_EVENT_QFRAME, 0, 0, 0x35);
    EXPECT_EQ(decode(d, ev), ump_of({0xF1, 0x35}));
    alsa::seq_event::set_control(ev, SND_SEQ_EVENT_RESET, 0, 0, 0);
    EXPECT_EQ(decode(d, ev), ump_of({0xFF}));
}

TEST(AlsaCodec, NonMidiEventsAreCountedAndGiveNothing) {
    event_decoder d;
    snd_seq_event_t ev{};
    alsa::seq_event::set_fixed(ev, SND_SEQ_EVENT_PORT_SUBSCRIBED);
    EXPECT_TRUE(decode(d, ev).empty());
    std::vector<std::uint8_t> none;
    EXPECT_TRUE(decode(d, sysex(none)).empty());  // a SysEx event with no bytes
    EXPECT_EQ(d.ignored_events, 2u);
}

// The sequencer splits a long SysEx into events of (at most) 256 bytes: only the first
// has F0, only the last F7. Decoded one after the other they give exactly the UMP of
// the whole SysEx, whatever the chunk size.
TEST(AlsaCodec, SysExSplitAcrossEventsIsReassembled) {
    for (std::size_t payload : {0u, 1u, 6u, 7u, 254u, 255u, 256u, 300u, 10000u}) {
        for (std::size_t chunk : {1u, 5u, 6u, 256u, 4096u}) {
            auto whole = sysex_bytes(payload, static_cast<std::uint32_t>(payload * 31 + chunk));
            event_decoder d;
            d.set_group(5);
            std::vector<core::packet> got;
            for (std::size_t at = 0; at < whole.size(); at += chunk) {
                std::vector<std::uint8_t> part(whole.begin() + static_cast<std::ptrdiff_t>(at),
                                               whole.begin() + static_cast<std::ptrdiff_t>(std::min(whole.size(), at + chunk)));
                for (const auto& p : decode(d, sysex(part))) got.push_back(p);
            }
            EXPECT_EQ(got, ump_of(whole, 5)) << payload << " bytes in chunks of " << chunk;
        }
    }
}

TEST(AlsaCodec, ChannelVoiceEncodesToOneEventEach) {
    event_encoder e;
    const auto out = encode(e, ump_of({0x93, 64, 127, 0x83, 64, 0, 0xB3, 1, 2, 0xC3, 5, 0xD3, 6, 0xE3, 0x00, 0x40,
                                       0xA3, 9, 10}));
    ASSERT_EQ(out.size(), 7u);
    EXPECT_EQ(out[0].type, SND_SEQ_EVENT_NOTEON);
    EXPECT_EQ(out[0].note.channel, 3);
    EXPECT_EQ(out[0].note.note, 64);
    EXPECT_EQ(out[0].note.velocity, 127);
    EXPECT_EQ(out[1].type, SND_SEQ_EVENT_NOTEOFF);
    EXPECT_EQ(out[2].type, SND_SEQ_EVENT_CONTROLLER);
    EXPECT_EQ(out[2].control.param, 1u);
    EXPECT_EQ(out[2].control.value, 2);
    EXPECT_EQ(out[3].type, SND_SEQ_EVENT_PGMCHANGE);
    EXPECT_EQ(out[3].control.value, 5);
    EXPECT_EQ(out[4].type, SND_SEQ_EVENT_CHANPRESS);
    EXPECT_EQ(out[5].type, SND_SEQ_EVENT_PITCHBEND);
    EXPECT_EQ(out[5].control.value, 0);
    EXPECT_EQ(out[6].type, SND_SEQ_EVENT_KEYPRESS);
}

TEST(AlsaCodec, Midi2ChannelVoiceIsTranslatedFirst) {
    event_encoder e;
    // MIDI 2.0 note on, group 0, channel 1, note 60, velocity 0xFFFF (→ 127).
    const core::packet on(0x40913C00, 0xFFFF0000);
    const auto out = encode(e, {on});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].type, SND_SEQ_EVENT_NOTEON);
    EXPECT_EQ(out[0].note.channel, 1);
    EXPECT_EQ(out[0].note.note, 60);
    EXPECT_EQ(out[0].note.velocity, 127);
}

TEST(AlsaCodec, PacketsWithoutMidi1FormAreCounted) {
    event_encoder e;
    const auto out = encode(e, {core::packet(0x00000000), core::packet(0xF0000000, 0, 0, 0)});
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(e.counters().untranslatable, 2u);
}

// A SysEx of any length leaves as events of at most the chunk size that add up to its
// bytes, F0 first and F7 last.
TEST(AlsaCodec, SysExOfAnyLengthIsSplitIntoBoundedEvents) {
    for (std::size_t payload : {0u, 1u, 6u, 250u, 254u, 255u, 256u, 1000u, 10000u}) {
        const auto whole = sysex_bytes(payload, static_cast<std::uint32_t>(payload));
        event_encoder e(256);
        const auto out = encode(e, ump_of(whole, 0));
        std::vector<std::uint8_t> joined;
        for (const auto& ev : out) {
            ASSERT_EQ(ev.type, SND_SEQ_EVENT_SYSEX);
            EXPECT_LE(ev.bytes.size(), 256u);
            EXPECT_FALSE(ev.bytes.empty());
            joined.insert(joined.end(), ev.bytes.begin(), ev.bytes.end());
        }
        EXPECT_EQ(joined, whole) << payload;
        EXPECT_EQ(out.size(), (whole.size() + 255) / 256) << payload;
        EXPECT_FALSE(e.sysex_open());
    }
}

TEST(AlsaCodec, HeldSysExLeavesBeforeALaterMessageAndOnFlush) {
    event_encoder e(256);
    auto whole = sysex_bytes(20, 7);
    auto packets = ump_of(whole);
    packets.pop_back();  // the end packet has not arrived yet
    auto out = encode(e, packets, false);
    EXPECT_TRUE(out.empty());  // 14 bytes wait for more
    EXPECT_TRUE(e.sysex_open());
    out = encode(e, {}, true);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bytes.front(), 0xF0);
    EXPECT_NE(out[0].bytes.back(), 0xF7);
    // A real-time message inside the SysEx goes out after what was held, and the
    // SysEx stays open.
    out = encode(e, ump_of({0xF8}), false);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].type, SND_SEQ_EVENT_CLOCK);
    EXPECT_TRUE(e.sysex_open());
    // A note on cannot be inside a SysEx: it is closed with F7 first, and counted.
    out = encode(e, ump_of({0x90, 1, 1}), false);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].bytes, std::vector<std::uint8_t>{0xF7});
    EXPECT_EQ(out[1].type, SND_SEQ_EVENT_NOTEON);
    EXPECT_EQ(e.counters().unterminated_sysex, 1u);
}

TEST(AlsaCodec, OrphanedSysExContinuationIsDropped) {
    event_encoder e;
    const auto whole = ump_of(sysex_bytes(20, 3));
    ASSERT_GE(whole.size(), 3u);
    const auto out = encode(e, {whole[1], whole[2]});  // continue, end: no start
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(e.counters().orphaned_sysex, 2u);
}

// Seeded random round trip: a random mix of messages → UMP → events → bytes → UMP.
TEST(AlsaCodec, RandomRoundTrip) {
    std::mt19937 rng(2026);
    for (int round = 0; round < 200; ++round) {
        std::vector<std::uint8_t> stream;
        const int n = 1 + static_cast<int>(rng() % 20);
        for (int i = 0; i < n; ++i) {
            switch (rng() % 4) {
            case 0: stream.insert(stream.end(), {static_cast<std::uint8_t>(0x90 | (rng() % 16)),
                                                 static_cast<std::uint8_t>(rng() % 128), static_cast<std::uint8_t>(rng() % 128)}); break;
            case 1: stream.insert(stream.end(), {static_cast<std::uint8_t>(0xB0 | (rng() % 16)),
                                                 static_cast<std::uint8_t>(rng() % 120), static_cast<std::uint8_t>(rng() % 128)}); break;
            case 2: stream.push_back(0xF8); break;
            default: {
                const auto s = sysex_bytes(rng() % 700, static_cast<std::uint32_t>(rng()));
                stream.insert(stream.end(), s.begin(), s.end());
            }
            }
        }
        const auto ump = ump_of(stream, 2);
        event_encoder e(256);
        event_decoder d;
        d.set_group(2);
        std::vector<core::packet> back;
        auto emit = [&](snd_seq_event_t& ev) {
            d.decode(ev, [&](const core::packet& p) { back.push_back(p); });
        };
        for (const auto& p : ump) e.encode(p, emit);
        e.flush(emit);
        EXPECT_EQ(back, ump) << "round " << round;
    }
}

}  // namespace
