#include "umpd/core/translate.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "umpd/core/messages.hpp"
#include "umpd/core/scale.hpp"
#include "vector_file.hpp"

namespace {

using namespace umpd::core;
using words = std::vector<std::uint32_t>;

std::vector<packet> to_packets(const words& w) {
    std::vector<packet> out;
    for (std::size_t i = 0; i < w.size();) {
        const unsigned n = word_count_of(w[i]);
        EXPECT_LE(i + n, w.size()) << "truncated packet in test data";
        if (i + n > w.size()) break;
        out.push_back(packet::from_words(std::span<const std::uint32_t>{w}.subspan(i, n)));
        i += n;
    }
    return out;
}

words to_words(const std::vector<packet>& ps) {
    words out;
    for (const auto& p : ps) out.insert(out.end(), p.span().begin(), p.span().end());
    return out;
}

std::string hex(const words& w) {
    std::ostringstream s;
    s << std::hex;
    for (auto x : w) s << x << ' ';
    return s.str();
}

// Runs every packet through the packet API; checks each result is within bounds.
template <class Translator>
words run_packets(Translator& t, const words& in) {
    std::vector<packet> out;
    for (const auto& p : to_packets(in)) {
        std::array<packet, max_translated_packets> buf{};
        const auto r = translate(t, p, buf);
        EXPECT_EQ(r.status, translate_status::ok);
        EXPECT_LE(r.written, max_translated_packets);
        out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r.written));
    }
    return to_words(out);
}

template <class Translator>
words run_words(Translator& t, const words& in) {
    words out(in.size() * max_translated_words + max_translated_words);
    const auto r = translate_words(t, in, out);
    EXPECT_EQ(r.status, translate_status::ok);
    EXPECT_EQ(r.consumed, in.size());
    out.resize(r.written);
    return out;
}

translate_counters parse_counters(const std::string& s) {
    translate_counters c;
    std::istringstream in(s);
    std::string item;
    while (in >> item) {
        const auto eq = item.find('=');
        if (eq == std::string::npos) throw std::runtime_error("bad counter " + item);
        const std::string name = item.substr(0, eq);
        const std::uint64_t v = std::stoull(item.substr(eq + 1));
        if (name == "malformed") c.malformed = v;
        else if (name == "untranslatable") c.untranslatable = v;
        else if (name == "attributes_lost") c.attributes_lost = v;
        else throw std::runtime_error("unknown counter " + name);
    }
    return c;
}

void expect_counters(const translate_counters& got, const translate_counters& want) {
    EXPECT_EQ(got.malformed, want.malformed);
    EXPECT_EQ(got.untranslatable, want.untranslatable);
    EXPECT_EQ(got.attributes_lost, want.attributes_lost);
}

template <class Translator>
void run_vector_file(const std::string& name) {
    const auto cases = umpd::test::load_vectors(name);
    for (const auto& c : cases) {
        SCOPED_TRACE(c.where() + " " + (c.fields.empty() ? "" : c.fields[0]));
        ASSERT_GE(c.fields.size(), 3u);
        ASSERT_LE(c.fields.size(), 4u);
        const words in = umpd::test::parse_hex_words(c.fields[1]);
        const words expected = c.fields[2] == "-" ? words{} : umpd::test::parse_hex_words(c.fields[2]);
        const translate_counters counters = parse_counters(c.fields.size() == 4 ? c.fields[3] : "");
        ASSERT_FALSE(in.empty());

        Translator by_packet{};
        const words got = run_packets(by_packet, in);
        EXPECT_EQ(got, expected) << "got " << hex(got);
        expect_counters(by_packet.counters, counters);

        Translator by_words{};
        EXPECT_EQ(run_words(by_words, in), expected);
        expect_counters(by_words.counters, counters);
    }
}

TEST(translate, midi1_to_midi2_vectors) { run_vector_file<midi1_to_midi2>("midi1_to_midi2.txt"); }
TEST(translate, midi2_to_midi1_vectors) { run_vector_file<midi2_to_midi1>("midi2_to_midi1.txt"); }

constexpr group g0{0};
constexpr channel c0{0};

// Every data byte combination of the stateless messages, against the builders and
// the general scaling method.
TEST(translate, midi1_to_midi2_stateless_messages_exhaustive) {
    midi1_to_midi2 up{};
    const group g{6};
    const channel c{11};
    for (std::uint8_t d1 = 0; d1 < 128; ++d1) {
        for (std::uint8_t d2 = 0; d2 < 128; ++d2) {
            const auto v16 = static_cast<std::uint16_t>(scale_up(d2, 7, 16));
            const std::pair<packet, packet> cases[] = {
                {make_midi1_note_off(g, c, d1, d2), make_midi2_note_off(g, c, d1, v16)},
                {make_midi1_note_on(g, c, d1, d2),
                 d2 == 0 ? make_midi2_note_off(g, c, d1, 0x8000) : make_midi2_note_on(g, c, d1, v16)},
                {make_midi1_poly_pressure(g, c, d1, d2), make_midi2_poly_pressure(g, c, d1, scale_up(d2, 7, 32))},
                {make_midi1_channel_pressure(g, c, d1), make_midi2_channel_pressure(g, c, scale_up(d1, 7, 32))},
                {make_midi1_pitch_bend(g, c, static_cast<std::uint16_t>(d1 | (d2 << 7))),
                 make_midi2_pitch_bend(g, c, scale_up(static_cast<std::uint32_t>(d1 | (d2 << 7)), 14, 32))},
            };
            for (const auto& [in, expected] : cases) {
                std::array<packet, max_translated_packets> out{};
                const auto r = translate(up, in, out);
                ASSERT_EQ(r.written, 1u) << std::hex << in[0];
                ASSERT_EQ(out[0], expected) << std::hex << in[0] << " -> " << out[0][0] << ' ' << out[0][1];
            }
        }
    }
    expect_counters(up.counters, {});
}

TEST(translate, midi1_to_midi2_every_controller_index) {
    for (std::uint8_t index = 0; index < 128; ++index) {
        for (const std::uint8_t value : std::array<std::uint8_t, 7>{0, 1, 63, 64, 65, 100, 127}) {
            midi1_to_midi2 up{};
            std::array<packet, max_translated_packets> out{};
            const auto r = translate(up, make_midi1_control_change(group{1}, channel{2}, index, value), out);
            const bool consumed = index == 0 || index == 32 || index == 6 || index == 38 || (index >= 98 && index <= 101);
            if (consumed) {
                EXPECT_EQ(r.written, 0u) << "controller " << int{index};
            } else {
                ASSERT_EQ(r.written, 1u) << "controller " << int{index};
                EXPECT_EQ(out[0], make_midi2_control_change(group{1}, channel{2}, index, scale_up(value, 7, 32)))
                    << "controller " << int{index};
            }
            // CC 6 and CC 38 with nothing selected are the only drops.
            EXPECT_EQ(up.counters.untranslatable, index == 6 || index == 38 ? 1u : 0u) << "controller " << int{index};
        }
    }
}

TEST(translate, packet_api_needs_room_for_the_maximum) {
    midi1_to_midi2 up{};
    std::array<packet, max_translated_packets - 1> small{};
    // Refused bank select leaves no trace: the program change carries no bank.
    auto r = translate(up, make_midi1_control_change(g0, c0, 0, 5), small);
    EXPECT_EQ(r.status, translate_status::output_full);
    EXPECT_EQ(r.written, 0u);
    std::array<packet, max_translated_packets> out{};
    r = translate(up, make_midi1_program_change(g0, c0, 9), out);
    ASSERT_EQ(r.written, 1u);
    EXPECT_EQ(out[0], make_midi2_program_change(g0, c0, 9));

    midi2_to_midi1 down{};
    r = translate(down, make_midi2_registered_controller(g0, c0, 0, 0, 0), small);
    EXPECT_EQ(r.status, translate_status::output_full);
    EXPECT_EQ(r.written, 0u);
    r = translate(down, make_midi2_registered_controller(g0, c0, 0, 0, 0), out);
    EXPECT_EQ(r.status, translate_status::ok);
    EXPECT_EQ(r.written, 4u);
}

TEST(translate, words_api_stops_before_a_partial_packet) {
    midi2_to_midi1 down{};
    const words in{0x20903C64u, 0x40903C00u};  // a whole MIDI 1.0 packet, then half a MIDI 2.0 one
    words out(16);
    const auto r = translate_words(down, in, out);
    EXPECT_EQ(r.status, translate_status::incomplete_packet);
    EXPECT_EQ(r.consumed, 1u);
    EXPECT_EQ(r.written, 1u);
    EXPECT_EQ(out[0], 0x20903C64u);
}

TEST(translate, words_api_stops_when_output_is_short) {
    midi1_to_midi2 up{};
    const words in{0x20903C64u, 0x20803C00u};
    words out(max_translated_words + 1);  // room for the first translation only
    auto r = translate_words(up, in, out);
    EXPECT_EQ(r.status, translate_status::output_full);
    EXPECT_EQ(r.consumed, 1u);
    EXPECT_EQ(r.written, 2u);
    EXPECT_EQ(out[0], 0x40903C00u);
    r = translate_words(up, std::span<const std::uint32_t>{in}.subspan(r.consumed), out);
    EXPECT_EQ(r.status, translate_status::ok);
    EXPECT_EQ(r.consumed, 1u);
    EXPECT_EQ(r.written, 2u);
    EXPECT_EQ(out[0], 0x40803C00u);

    words none(max_translated_words - 1);
    r = translate_words(up, in, none);
    EXPECT_EQ(r.status, translate_status::output_full);
    EXPECT_EQ(r.consumed, 0u);

    r = translate_words(up, {}, none);
    EXPECT_EQ(r.status, translate_status::ok);
    EXPECT_EQ(r.consumed, 0u);
}

TEST(translate, flush_sends_pending_data_entry) {
    midi1_to_midi2 up{};
    std::array<packet, max_translated_packets> out{};
    const group g3{3};
    const channel c7{7};
    for (auto p : {make_midi1_control_change(g3, c7, 99, 1), make_midi1_control_change(g3, c7, 98, 2),
                   make_midi1_control_change(g3, c7, 6, 64), make_midi1_control_change(g0, c0, 101, 0),
                   make_midi1_control_change(g0, c0, 100, 0), make_midi1_control_change(g0, c0, 6, 2)}) {
        ASSERT_EQ(translate(up, p, out).written, 0u);
    }
    EXPECT_TRUE(has_pending(up));

    std::array<packet, 1> one{};
    auto r = flush(up, one);  // group 0 comes first
    EXPECT_EQ(r.status, translate_status::output_full);
    ASSERT_EQ(r.written, 1u);
    EXPECT_EQ(one[0], make_midi2_registered_controller(g0, c0, 0, 0, scale_up_14_to_32(2 << 7)));
    EXPECT_TRUE(has_pending(up));
    r = flush(up, one);
    EXPECT_EQ(r.status, translate_status::ok);
    ASSERT_EQ(r.written, 1u);
    EXPECT_EQ(one[0], make_midi2_assignable_controller(g3, c7, 1, 2, 0x80000000u));
    EXPECT_FALSE(has_pending(up));
    r = flush(up, one);
    EXPECT_EQ(r.status, translate_status::ok);
    EXPECT_EQ(r.written, 0u);

    // Once flushed, a CC 38 completes the same MSB again rather than leaving it pending.
    ASSERT_EQ(translate(up, make_midi1_control_change(g0, c0, 38, 1), out).written, 1u);
    EXPECT_EQ(out[0], make_midi2_registered_controller(g0, c0, 0, 0, scale_up_14_to_32((2 << 7) | 1)));
    EXPECT_FALSE(has_pending(up));
}

TEST(translate, pending_count_follows_every_path) {
    midi1_to_midi2 up{};
    std::array<packet, max_translated_packets> out{};
    const auto cc = [&](unsigned ch, std::uint8_t index, std::uint8_t value) {
        return translate(up, make_midi1_control_change(g0, channel{static_cast<std::uint8_t>(ch)}, index, value), out)
            .written;
    };
    for (unsigned ch = 0; ch < 16; ++ch) {
        cc(ch, 101, 0);
        cc(ch, 100, 0);
        cc(ch, 6, 1);
    }
    EXPECT_EQ(up.pending, 16u);
    EXPECT_EQ(cc(0, 38, 0), 1u);   // completed
    EXPECT_EQ(cc(1, 6, 2), 1u);    // replaced: one out, one still pending
    EXPECT_EQ(cc(2, 100, 1), 1u);  // new selection
    EXPECT_EQ(cc(3, 96, 0), 2u);   // increment
    EXPECT_EQ(cc(4, 121, 0), 2u);  // reset all controllers
    EXPECT_EQ(up.pending, 12u);
    std::array<packet, 16> all{};
    const auto r = flush(up, all);
    EXPECT_EQ(r.status, translate_status::ok);
    EXPECT_EQ(r.written, 12u);
    EXPECT_FALSE(has_pending(up));
}

TEST(translate, reset_forgets_state_and_counters) {
    midi1_to_midi2 up{};
    std::array<packet, max_translated_packets> out{};
    (void)translate(up, make_midi1_control_change(g0, c0, 0, 5), out);
    (void)translate(up, packet{0x20003C64u}, out);
    EXPECT_EQ(up.counters.malformed, 1u);
    reset(up);
    EXPECT_EQ(up.counters.malformed, 0u);
    ASSERT_EQ(translate(up, make_midi1_program_change(g0, c0, 9), out).written, 1u);
    EXPECT_EQ(out[0], make_midi2_program_change(g0, c0, 9));

    midi2_to_midi1 down{};
    (void)translate(down, make_midi2_per_note_pitch_bend(g0, c0, 60, 0), out);
    EXPECT_EQ(down.counters.untranslatable, 1u);
    reset(down);
    EXPECT_EQ(down.counters.untranslatable, 0u);
}

// ---------------------------------------------------------------------------
// Seeded random round trips
// ---------------------------------------------------------------------------

// One MIDI 1.0 "unit": a message, or a sequence the translators turn into one MIDI
// 2.0 message and back (bank select + program change, RPN/NRPN + data entry).
words random_unit(std::mt19937& rng, group g, channel c) {
    const auto byte = [&](unsigned max) { return static_cast<std::uint8_t>(rng() % (max + 1)); };
    const auto cc = [&](std::uint8_t i, std::uint8_t v) { return make_midi1_control_change(g, c, i, v)[0]; };
    switch (rng() % 11) {
    case 0: return {make_midi1_note_on(g, c, byte(127), static_cast<std::uint8_t>(1 + byte(126)))[0]};
    case 1: return {make_midi1_note_off(g, c, byte(127), byte(127))[0]};
    case 2: return {make_midi1_poly_pressure(g, c, byte(127), byte(127))[0]};
    case 3: {
        std::uint8_t index = 0;
        do index = byte(127);
        while (index == 0 || index == 32 || index == 6 || index == 38 || (index >= 98 && index <= 101));
        return {cc(index, byte(127))};
    }
    case 4: return {make_midi1_program_change(g, c, byte(127))[0]};
    case 5: return {cc(0, byte(127)), cc(32, byte(127)), make_midi1_program_change(g, c, byte(127))[0]};
    case 6: {
        std::uint8_t msb = byte(127), lsb = byte(127);
        if (msb == 127 && lsb == 127) lsb = 0;  // Null RPN selects nothing
        return {cc(101, msb), cc(100, lsb), cc(6, byte(127)), cc(38, byte(127))};
    }
    case 7: return {cc(99, byte(127)), cc(98, byte(127)), cc(6, byte(127)), cc(38, byte(127))};
    case 8: return {make_midi1_channel_pressure(g, c, byte(127))[0]};
    case 9: return {make_midi1_pitch_bend(g, c, static_cast<std::uint16_t>(rng() & 0x3FFF))[0]};
    default: return {make_midi1_control_change(g, c, 96 + byte(1), byte(127))[0]};
    }
}

TEST(translate, round_trip_midi1_midi2_midi1) {
    std::mt19937 rng(20240601);
    for (int iteration = 0; iteration < 200; ++iteration) {
        words in;
        for (int k = 0; k < 50; ++k) {
            const group g{static_cast<std::uint8_t>(rng() % 16)};
            const channel c{static_cast<std::uint8_t>(rng() % 16)};
            const words unit = random_unit(rng, g, c);
            in.insert(in.end(), unit.begin(), unit.end());
        }
        midi1_to_midi2 up{};
        midi2_to_midi1 down{};
        const words m2 = run_words(up, in);
        EXPECT_FALSE(has_pending(up));
        for (const auto& p : to_packets(m2)) ASSERT_EQ(p.type(), message_type::midi2_channel_voice);
        const words back = run_words(down, m2);
        ASSERT_EQ(back, in) << "seed iteration " << iteration;
        expect_counters(up.counters, {});
        expect_counters(down.counters, {});
    }
}

// Messages interleaved across all 256 channels, the units of each channel split up
// by other channels' messages: per channel, the round trip is still the identity.
TEST(translate, round_trip_interleaved_channels_keeps_state_apart) {
    std::mt19937 rng(7);
    std::array<words, 256> per_channel;
    for (unsigned idx = 0; idx < 256; ++idx) {
        for (int k = 0; k < 8; ++k) {
            const words unit = random_unit(rng, group{static_cast<std::uint8_t>(idx >> 4)},
                                           channel{static_cast<std::uint8_t>(idx & 0xF)});
            per_channel[idx].insert(per_channel[idx].end(), unit.begin(), unit.end());
        }
    }
    // Interleave: repeatedly take the next message of a random channel.
    std::array<std::size_t, 256> next{};
    words in;
    std::vector<unsigned> live(256);
    for (unsigned i = 0; i < 256; ++i) live[i] = i;
    while (!live.empty()) {
        const std::size_t pick = rng() % live.size();
        const unsigned idx = live[pick];
        in.push_back(per_channel[idx][next[idx]++]);
        if (next[idx] == per_channel[idx].size()) {
            live[pick] = live.back();
            live.pop_back();
        }
    }
    midi1_to_midi2 up{};
    midi2_to_midi1 down{};
    const words back = run_words(down, run_words(up, in));
    std::array<words, 256> got;
    for (auto w : back) got[((w >> 20) & 0xF0u) | ((w >> 16) & 0xFu)].push_back(w);
    for (unsigned idx = 0; idx < 256; ++idx) ASSERT_EQ(got[idx], per_channel[idx]) << "group/channel index " << idx;
}

// MIDI 2.0 values that do not come from MIDI 1.0 lose their low bits once, and
// only once: 2 -> 1 -> 2 yields the widened narrow value, and is stable after that.
TEST(translate, round_trip_midi2_midi1_midi2_is_idempotent) {
    std::mt19937 rng(99);
    const auto r32 = [&] { return static_cast<std::uint32_t>(rng()); };
    for (int iteration = 0; iteration < 2000; ++iteration) {
        const group g{static_cast<std::uint8_t>(rng() % 16)};
        const channel c{static_cast<std::uint8_t>(rng() % 16)};
        const auto b7 = [&] { return static_cast<std::uint8_t>(rng() & 0x7F); };
        packet in;
        packet expected;
        switch (rng() % 6) {
        case 0: {
            const auto v = static_cast<std::uint16_t>(rng());
            const std::uint8_t n = b7();
            in = make_midi2_note_on(g, c, n, v);
            const std::uint32_t narrow = std::max<std::uint32_t>(1u, scale_down(v, 16, 7));
            expected = make_midi2_note_on(g, c, n, scale_up_7_to_16(narrow));
            break;
        }
        case 1: {
            const std::uint8_t i = b7();
            if (i == 0 || i == 32 || i == 6 || i == 38 || (i >= 96 && i <= 101) || i == 121) continue;
            const std::uint32_t v = r32();
            in = make_midi2_control_change(g, c, i, v);
            expected = make_midi2_control_change(g, c, i, scale_up_7_to_32(scale_down(v, 32, 7)));
            break;
        }
        case 2: {
            const std::uint32_t v = r32();
            in = make_midi2_pitch_bend(g, c, v);
            expected = make_midi2_pitch_bend(g, c, scale_up_14_to_32(scale_down(v, 32, 14)));
            break;
        }
        case 3: {
            std::uint8_t bank = b7(), index = b7();
            if (bank == 127 && index == 127) index = 0;
            const std::uint32_t v = r32();
            in = make_midi2_registered_controller(g, c, bank, index, v);
            expected = make_midi2_registered_controller(g, c, bank, index, scale_up_14_to_32(scale_down(v, 32, 14)));
            break;
        }
        case 4: {
            const std::uint8_t bank = b7(), index = b7();
            const std::uint32_t v = r32();
            in = make_midi2_assignable_controller(g, c, bank, index, v);
            expected = make_midi2_assignable_controller(g, c, bank, index, scale_up_14_to_32(scale_down(v, 32, 14)));
            break;
        }
        default: {
            const std::uint8_t program = b7();
            const auto bank = static_cast<std::uint16_t>(rng() & 0x3FFF);
            in = (rng() & 1) != 0 ? make_midi2_program_change(g, c, program, bank)
                                  : make_midi2_program_change(g, c, program);
            expected = in;  // nothing to narrow
            break;
        }
        }
        midi2_to_midi1 down{};
        midi1_to_midi2 up{};
        const words once = run_words(up, run_words(down, words(in.span().begin(), in.span().end())));
        ASSERT_EQ(once, words(expected.span().begin(), expected.span().end())) << "iteration " << iteration;
        const words twice = run_words(up, run_words(down, once));
        ASSERT_EQ(twice, once);
    }
}

// Every MIDI 2.0 channel voice packet, whatever its fields, becomes canonical MIDI 1.0
// packets or nothing.
TEST(translate, midi2_to_midi1_output_is_canonical) {
    std::mt19937 rng(3);
    midi2_to_midi1 down{};
    std::uint64_t emitted = 0;
    for (int i = 0; i < 100000; ++i) {
        const packet in{0x40000000u | (static_cast<std::uint32_t>(rng()) & 0x0FFFFFFFu),
                        static_cast<std::uint32_t>(rng())};
        std::array<packet, max_translated_packets> out{};
        const auto r = translate(down, in, out);
        ASSERT_EQ(r.status, translate_status::ok);
        for (std::size_t k = 0; k < r.written; ++k) {
            const std::uint32_t w = out[k][0];
            ASSERT_EQ(w >> 28, 0x2u);
            ASSERT_EQ(w & 0x0F0F0000u, in[0] & 0x0F0F0000u) << "group and channel kept";
            const std::uint32_t status = (w >> 20) & 0xF;
            ASSERT_GE(status, 0x8u);
            ASSERT_LE(status, 0xEu);
            ASSERT_EQ(w & 0x8080u, 0u) << "reserved bits";
            if (status == 0xC || status == 0xD) {
                ASSERT_EQ(w & 0xFFu, 0u);
            }
        }
        emitted += r.written;
    }
    EXPECT_GT(emitted, 0u);
    EXPECT_GT(down.counters.untranslatable, 0u);
    EXPECT_GT(down.counters.malformed, 0u);
}

// The word API fed in arbitrary slices (as a real-time loop would) gives the same
// result as one call, for both directions.
TEST(translate, resumable_across_buffer_boundaries) {
    std::mt19937 rng(11);
    words in;
    for (int k = 0; k < 400; ++k) {
        const words unit = random_unit(rng, group{static_cast<std::uint8_t>(rng() % 4)},
                                       channel{static_cast<std::uint8_t>(rng() % 4)});
        in.insert(in.end(), unit.begin(), unit.end());
        if (rng() % 5 == 0) {  // other message types in between, of every size
            const words others[] = {{0x10F80000u}, {0x30160102u, 0x03040506u}, {0x50050001u, 2u, 3u, 4u},
                                    {0xB0000000u, 1u, 2u}, {0x40903C00u, 0x80000000u}};
            const words& o = others[rng() % 5];
            in.insert(in.end(), o.begin(), o.end());
        }
    }
    midi1_to_midi2 whole_up{};
    const words expected_up = run_words(whole_up, in);
    midi2_to_midi1 whole_down{};
    const words expected_down = run_words(whole_down, expected_up);

    const auto sliced = [&](auto& t, const words& src) {
        words result;
        std::size_t pos = 0;
        words carry;  // input words not consumed yet
        while (pos < src.size() || !carry.empty()) {
            const std::size_t take = std::min<std::size_t>(rng() % 7, src.size() - pos);
            carry.insert(carry.end(), src.begin() + static_cast<std::ptrdiff_t>(pos),
                         src.begin() + static_cast<std::ptrdiff_t>(pos + take));
            pos += take;
            words out(rng() % 10);
            const auto r = translate_words(t, carry, out);
            result.insert(result.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(r.written));
            carry.erase(carry.begin(), carry.begin() + static_cast<std::ptrdiff_t>(r.consumed));
            if (pos == src.size() && r.status == translate_status::incomplete_packet) break;  // cannot happen here
        }
        return result;
    };
    midi1_to_midi2 up{};
    EXPECT_EQ(sliced(up, in), expected_up);
    midi2_to_midi1 down{};
    EXPECT_EQ(sliced(down, expected_up), expected_down);
}

}  // namespace
