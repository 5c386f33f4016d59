// Tests for MIDI 1.0 byte stream ⇄ UMP conversion (include/umpd/core/bytestream.hpp).
#include "umpd/core/bytestream.hpp"

#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "umpd/core/messages.hpp"
#include "umpd/core/reader.hpp"
#include "vector_file.hpp"

namespace {

using namespace umpd::core;

// ---------------------------------------------------------------------------
// Drivers: feed chunks, drain through output buffers of a given or random size
// ---------------------------------------------------------------------------

// Output capacity per call: a fixed size, or random in [lo, hi] when lo < hi.
struct capacity {
    std::size_t lo;
    std::size_t hi;
    std::mt19937* rng = nullptr;
    std::size_t next() const {
        if (lo == hi || rng == nullptr) return lo;
        return lo + (*rng)() % (hi - lo + 1);
    }
};

template <typename State, typename In, typename Out, typename Fn>
std::vector<Out> drive(Fn convert, State& s, const std::vector<std::vector<In>>& chunks, capacity cap) {
    std::vector<Out> result;
    std::vector<Out> buf;
    for (const auto& chunk : chunks) {
        std::span<const In> in(chunk);
        for (int guard = 0;; ++guard) {
            if (guard > 100000) {
                ADD_FAILURE() << "no progress";
                return result;
            }
            buf.assign(cap.next(), Out{0xEE});
            const conversion_result r = convert(s, in, std::span<Out>(buf));
            EXPECT_LE(r.consumed, in.size());
            EXPECT_LE(r.written, buf.size());
            result.insert(result.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r.written));
            in = in.subspan(r.consumed);
            if (r.status == conversion_status::ok) {
                EXPECT_TRUE(in.empty()) << "ok returned with input left";
                break;
            }
        }
    }
    return result;
}

std::vector<std::uint32_t> to_ump(midi1_to_ump_state& s, const std::vector<std::vector<std::uint8_t>>& chunks,
                                  capacity cap) {
    return drive<midi1_to_ump_state, std::uint8_t, std::uint32_t>(
        [](auto& st, auto in, auto out) { return midi1_to_ump(st, in, out); }, s, chunks, cap);
}

std::vector<std::uint8_t> to_bytes(ump_to_midi1_state& s, const std::vector<std::vector<std::uint32_t>>& chunks,
                                   capacity cap) {
    return drive<ump_to_midi1_state, std::uint32_t, std::uint8_t>(
        [](auto& st, auto in, auto out) { return ump_to_midi1(st, in, out); }, s, chunks, cap);
}

// Cuts v into chunks of random sizes in [1, max_chunk] (and an occasional empty one).
template <typename T>
std::vector<std::vector<T>> random_chunks(const std::vector<T>& v, std::mt19937& rng, std::size_t max_chunk) {
    std::vector<std::vector<T>> out;
    std::size_t pos = 0;
    while (pos < v.size()) {
        const std::size_t n = rng() % 16 == 0 ? 0 : 1 + rng() % max_chunk;
        const std::size_t end = std::min(v.size(), pos + n);
        out.emplace_back(v.begin() + static_cast<std::ptrdiff_t>(pos), v.begin() + static_cast<std::ptrdiff_t>(end));
        pos = end;
    }
    return out;
}

// ---------------------------------------------------------------------------
// Vector files
// ---------------------------------------------------------------------------

std::vector<std::string> split_on_slash(const std::string& s) {
    std::vector<std::string> parts;
    std::string part;
    std::istringstream in(s);
    while (std::getline(in, part, '/')) parts.push_back(part);
    if (parts.empty()) parts.emplace_back();
    return parts;
}

std::vector<std::pair<std::string, std::string>> parse_notes(const std::vector<std::string>& fields) {
    std::vector<std::pair<std::string, std::string>> notes;
    if (fields.size() < 3) return notes;
    std::istringstream in(fields[2]);
    std::string tok;
    while (in >> tok) {
        const auto eq = tok.find('=');
        notes.emplace_back(tok.substr(0, eq), eq == std::string::npos ? "" : tok.substr(eq + 1));
    }
    return notes;
}

std::string hex(const std::vector<std::uint32_t>& words) {
    std::ostringstream o;
    o << std::hex << std::uppercase;
    for (auto w : words) o << w << ' ';
    return o.str();
}

std::string hex(const std::vector<std::uint8_t>& bytes) {
    std::ostringstream o;
    o << std::hex << std::uppercase;
    for (auto b : bytes) o << unsigned{b} << ' ';
    return o.str();
}

struct midi1_to_ump_case {
    std::string where;
    std::vector<std::vector<std::uint8_t>> chunks;
    std::vector<std::uint32_t> expected;
    group target{};
    midi1_to_ump_counters counters{};
};

std::vector<midi1_to_ump_case> load_midi1_to_ump() {
    std::vector<midi1_to_ump_case> cases;
    for (const auto& v : umpd::test::load_vectors("midi1_to_ump.txt")) {
        if (v.fields.size() < 2 || v.fields.size() > 3) throw std::runtime_error("bad vector at " + v.where());
        midi1_to_ump_case c;
        c.where = v.where();
        for (const auto& part : split_on_slash(v.fields[0])) c.chunks.push_back(umpd::test::parse_hex_bytes(part));
        if (v.fields[1] != "-") c.expected = umpd::test::parse_hex_words(v.fields[1]);
        for (const auto& [name, value] : parse_notes(v.fields)) {
            const auto n = static_cast<std::uint32_t>(std::stoul(value));
            if (name == "group") c.target = group{static_cast<std::uint8_t>(n)};
            else if (name == "stray_data_bytes") c.counters.stray_data_bytes = n;
            else if (name == "stray_end_of_exclusive") c.counters.stray_end_of_exclusive = n;
            else if (name == "undefined_status_bytes") c.counters.undefined_status_bytes = n;
            else if (name == "unterminated_sysex") c.counters.unterminated_sysex = n;
            else if (name == "truncated_messages") c.counters.truncated_messages = n;
            else throw std::runtime_error("unknown note " + name + " at " + v.where());
        }
        cases.push_back(std::move(c));
    }
    return cases;
}

struct ump_to_midi1_case {
    std::string where;
    std::vector<std::vector<std::uint32_t>> chunks;
    std::vector<std::uint8_t> expected;
    std::optional<group> only_group;
    bool running_status = false;
    ump_to_midi1_counters counters{};
};

std::vector<ump_to_midi1_case> load_ump_to_midi1() {
    std::vector<ump_to_midi1_case> cases;
    for (const auto& v : umpd::test::load_vectors("ump_to_midi1.txt")) {
        if (v.fields.size() < 2 || v.fields.size() > 3) throw std::runtime_error("bad vector at " + v.where());
        ump_to_midi1_case c;
        c.where = v.where();
        for (const auto& part : split_on_slash(v.fields[0])) c.chunks.push_back(umpd::test::parse_hex_words(part));
        if (v.fields[1] != "-") c.expected = umpd::test::parse_hex_bytes(v.fields[1]);
        for (const auto& [name, value] : parse_notes(v.fields)) {
            if (name == "running_status") {
                c.running_status = true;
                continue;
            }
            const auto n = static_cast<std::uint32_t>(std::stoul(value));
            if (name == "group") c.only_group = group{static_cast<std::uint8_t>(n)};
            else if (name == "skipped_packets") c.counters.skipped_packets = n;
            else if (name == "other_group_packets") c.counters.other_group_packets = n;
            else if (name == "malformed_packets") c.counters.malformed_packets = n;
            else if (name == "orphaned_sysex") c.counters.orphaned_sysex = n;
            else if (name == "unterminated_sysex") c.counters.unterminated_sysex = n;
            else throw std::runtime_error("unknown note " + name + " at " + v.where());
        }
        cases.push_back(std::move(c));
    }
    return cases;
}

void expect_counters(const midi1_to_ump_counters& got, const midi1_to_ump_counters& want, const std::string& where) {
    EXPECT_EQ(got.stray_data_bytes, want.stray_data_bytes) << where;
    EXPECT_EQ(got.stray_end_of_exclusive, want.stray_end_of_exclusive) << where;
    EXPECT_EQ(got.undefined_status_bytes, want.undefined_status_bytes) << where;
    EXPECT_EQ(got.unterminated_sysex, want.unterminated_sysex) << where;
    EXPECT_EQ(got.truncated_messages, want.truncated_messages) << where;
}

void expect_counters(const ump_to_midi1_counters& got, const ump_to_midi1_counters& want, const std::string& where) {
    EXPECT_EQ(got.skipped_packets, want.skipped_packets) << where;
    EXPECT_EQ(got.other_group_packets, want.other_group_packets) << where;
    EXPECT_EQ(got.malformed_packets, want.malformed_packets) << where;
    EXPECT_EQ(got.orphaned_sysex, want.orphaned_sysex) << where;
    EXPECT_EQ(got.unterminated_sysex, want.unterminated_sysex) << where;
}

TEST(midi1_to_ump, vectors) {
    const auto cases = load_midi1_to_ump();
    ASSERT_GE(cases.size(), 90u);
    for (const auto& c : cases) {
        // Roomy output, then output buffers of every small size: same words, same counters.
        for (std::size_t cap : {std::size_t{64}, std::size_t{2}, std::size_t{3}, std::size_t{4}}) {
            midi1_to_ump_state s{};
            s.target_group = c.target;
            const auto got = to_ump(s, c.chunks, {cap, cap});
            EXPECT_EQ(hex(got), hex(c.expected)) << c.where << " (output of " << cap << " words)";
            expect_counters(s.counters, c.counters, c.where);
            EXPECT_TRUE(validate(got).ok()) << c.where;
        }
    }
}

TEST(ump_to_midi1, vectors) {
    const auto cases = load_ump_to_midi1();
    ASSERT_GE(cases.size(), 70u);
    for (const auto& c : cases) {
        for (std::size_t cap : {std::size_t{64}, std::size_t{1}, std::size_t{2}, std::size_t{5}}) {
            ump_to_midi1_state s{};
            s.only_group = c.only_group;
            s.running_status = c.running_status;
            const auto got = to_bytes(s, c.chunks, {cap, cap});
            EXPECT_EQ(hex(got), hex(c.expected)) << c.where << " (output of " << cap << " bytes)";
            expect_counters(s.counters, c.counters, c.where);
        }
    }
}

// ump_to_midi1 converts straight into the output while four words of input are left
// and the output has room for nine bytes (the most one packet becomes), and through
// its state otherwise. The vectors are short, so above they mostly take the second
// path. Here each case's words come in one chunk followed by four utility NOOPs
// (skipped, and nothing else): every packet of the case then has four words after its
// start, so outputs of 9 bytes or more take the direct path, smaller ones the other,
// and sizes just above 9 switch from one to the other within a call.
TEST(ump_to_midi1, vectors_through_every_output_size) {
    const auto cases = load_ump_to_midi1();
    for (const auto& c : cases) {
        std::vector<std::uint32_t> whole;
        for (const auto& chunk : c.chunks) whole.insert(whole.end(), chunk.begin(), chunk.end());
        std::size_t end = 0;
        while (end < whole.size()) end += word_count_of(whole[end]);
        if (end != whole.size()) continue;  // ends inside a packet: the NOOPs would complete it
        whole.insert(whole.end(), 4, 0x00000000u);
        auto counters = c.counters;
        counters.skipped_packets += 4;
        std::vector<std::size_t> caps{64, 4096};
        for (std::size_t cap = 1; cap <= 12; ++cap) caps.push_back(cap);
        for (std::size_t cap : caps) {
            for (bool chunked : {false, true}) {
                ump_to_midi1_state s{};
                s.only_group = c.only_group;
                s.running_status = c.running_status;
                // Chunked: the case's own cuts, the NOOPs added to the last chunk.
                auto chunks = chunked ? c.chunks : std::vector<std::vector<std::uint32_t>>{whole};
                if (chunked) chunks.back().insert(chunks.back().end(), 4, 0x00000000u);
                const auto got = to_bytes(s, chunks, {cap, cap});
                const std::string where =
                    c.where + " (output of " + std::to_string(cap) + " bytes" + (chunked ? ", chunked)" : ")");
                EXPECT_EQ(hex(got), hex(c.expected)) << where;
                expect_counters(s.counters, counters, where);
            }
        }
    }
}

// The largest output of one packet, F7 F0 d d d d d d F7, written straight into an
// output with exactly nine bytes left: nothing may be stored past the end (ASan
// watches the exact-size buffer) and nothing may wait in the state.
TEST(ump_to_midi1, largest_packet_output_fills_the_output_exactly) {
    const std::uint32_t in[] = {0x30160102u, 0x03040506u,   // start, 6 bytes: F0 + 6
                                0x30061112u, 0x13141516u,   // complete while open: F7 F0 + 6 + F7
                                0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u};
    std::vector<std::uint8_t> out(16);
    ump_to_midi1_state s{};
    const auto r = ump_to_midi1(s, in, out);
    EXPECT_EQ(r.status, conversion_status::ok);
    EXPECT_EQ(r.consumed, 8u);
    ASSERT_EQ(r.written, 16u);
    EXPECT_EQ(hex(out), hex(std::vector<std::uint8_t>{0xF0, 1, 2, 3, 4, 5, 6, 0xF7, 0xF0, 0x11, 0x12, 0x13, 0x14,
                                                      0x15, 0x16, 0xF7}));
    EXPECT_EQ(s.counters.unterminated_sysex, 1u);
    EXPECT_EQ(s.counters.skipped_packets, 4u);
    EXPECT_FALSE(s.sysex_open);

    // One byte short: the second packet's bytes wait in the state, the rest follows.
    std::vector<std::uint8_t> small(15);
    ump_to_midi1_state t{};
    auto r2 = ump_to_midi1(t, in, small);
    EXPECT_EQ(r2.status, conversion_status::output_full);
    EXPECT_EQ(r2.consumed, 4u);
    EXPECT_EQ(r2.written, 15u);
    std::vector<std::uint8_t> rest(4);
    r2 = ump_to_midi1(t, std::span(in).subspan(r2.consumed), rest);
    EXPECT_EQ(r2.status, conversion_status::ok);
    EXPECT_EQ(r2.consumed, 4u);
    ASSERT_EQ(r2.written, 1u);
    EXPECT_EQ(rest[0], 0xF7);
    EXPECT_EQ(t.counters, s.counters);
}

// ---------------------------------------------------------------------------
// Resumption when the output fills
// ---------------------------------------------------------------------------

TEST(midi1_to_ump, output_full_keeps_the_packet_and_reports_consumed_input) {
    midi1_to_ump_state s{};
    const std::uint8_t in[] = {0x90, 0x3C, 0x64, 0x90, 0x3E, 0x64, 0x80};
    std::uint32_t one[1];
    auto r = midi1_to_ump(s, in, one);
    EXPECT_EQ(r.status, conversion_status::output_full);
    EXPECT_EQ(r.written, 1u);
    EXPECT_EQ(one[0], 0x20903C64u);
    EXPECT_EQ(r.consumed, 6u);  // the byte that completed the second message is taken

    std::uint32_t none[1];
    r = midi1_to_ump(s, {}, std::span<std::uint32_t>(none, 0));
    EXPECT_EQ(r.status, conversion_status::output_full);
    EXPECT_EQ(r.written, 0u);
    EXPECT_EQ(r.consumed, 0u);

    std::uint32_t out[4];
    r = midi1_to_ump(s, std::span(in).subspan(6), out);
    EXPECT_EQ(r.status, conversion_status::ok);
    EXPECT_EQ(r.written, 1u);
    EXPECT_EQ(r.consumed, 1u);
    EXPECT_EQ(out[0], 0x20903E64u);
}

TEST(midi1_to_ump, sysex_packet_waits_for_room_for_both_words) {
    midi1_to_ump_state s{};
    const std::uint8_t in[] = {0xF0, 0x01, 0xF7, 0xF8};
    std::uint32_t out[2] = {0xEEEEEEEEu, 0xEEEEEEEEu};
    auto r = midi1_to_ump(s, in, std::span(out, 1));
    EXPECT_EQ(r.status, conversion_status::output_full);
    EXPECT_EQ(r.written, 0u);
    EXPECT_EQ(r.consumed, 3u);
    EXPECT_EQ(out[0], 0xEEEEEEEEu) << "no half packet may be written";
    r = midi1_to_ump(s, std::span(in).subspan(3), out);
    EXPECT_EQ(r.status, conversion_status::output_full);
    EXPECT_EQ(r.written, 2u);
    EXPECT_EQ(r.consumed, 1u);
    EXPECT_EQ(out[0], 0x30010100u);
    EXPECT_EQ(out[1], 0u);
    r = midi1_to_ump(s, {}, out);
    EXPECT_EQ(r.status, conversion_status::ok);
    EXPECT_EQ(r.written, 1u);
    EXPECT_EQ(out[0], 0x10F80000u);
}

TEST(ump_to_midi1, output_full_mid_packet) {
    ump_to_midi1_state s{};
    const std::uint32_t in[] = {0x30160102u, 0x03040506u, 0x30310700u, 0x00000000u};
    std::vector<std::uint8_t> got;
    std::uint8_t out[3];
    auto r = ump_to_midi1(s, in, out);
    EXPECT_EQ(r.status, conversion_status::output_full);
    EXPECT_EQ(r.consumed, 2u);
    EXPECT_EQ(r.written, 3u);
    got.insert(got.end(), out, out + r.written);
    std::span<const std::uint32_t> rest = std::span(in).subspan(r.consumed);
    r = ump_to_midi1(s, rest, out);
    EXPECT_EQ(r.status, conversion_status::output_full);
    EXPECT_EQ(r.consumed, 0u);
    EXPECT_EQ(r.written, 3u);
    got.insert(got.end(), out, out + r.written);
    // The last held byte, then the end packet's two bytes: exactly fills the output.
    r = ump_to_midi1(s, rest, out);
    EXPECT_EQ(r.status, conversion_status::ok);
    EXPECT_EQ(r.consumed, 2u);
    EXPECT_EQ(r.written, 3u);
    got.insert(got.end(), out, out + r.written);
    EXPECT_EQ(hex(got), hex(std::vector<std::uint8_t>{0xF0, 1, 2, 3, 4, 5, 6, 7, 0xF7}));
}

TEST(ump_to_midi1, packet_cut_between_calls_is_completed_later) {
    ump_to_midi1_state s{};
    std::uint8_t out[16];
    const std::uint32_t first[] = {0x20903C64u, 0x30020102u};
    auto r = ump_to_midi1(s, first, out);
    EXPECT_EQ(r.status, conversion_status::ok);
    EXPECT_EQ(r.consumed, 2u);
    EXPECT_EQ(r.written, 3u);
    const std::uint32_t second[] = {0x00000000u};
    r = ump_to_midi1(s, second, out);
    EXPECT_EQ(r.consumed, 1u);
    ASSERT_EQ(r.written, 4u);
    EXPECT_EQ(out[0], 0xF0);
    EXPECT_EQ(out[1], 0x01);
    EXPECT_EQ(out[2], 0x02);
    EXPECT_EQ(out[3], 0xF7);
}

// ---------------------------------------------------------------------------
// Seeded random round trips
// ---------------------------------------------------------------------------

bool is_real_time(std::uint8_t b) { return b >= 0xF8; }

struct midi1_stream {
    std::vector<std::uint8_t> input;      // as sent, maybe with running status and real time inside messages
    std::vector<std::uint8_t> canonical;  // every status written, real time left out
    std::vector<std::uint8_t> real_time;  // the real-time bytes, in order
};

// Random valid MIDI 1.0. running_status: omit a repeated channel status whenever
// MIDI 1.0 allows it (always_omit) or at random. rt_inside: real-time bytes inside
// messages and SysEx.
midi1_stream random_midi1(std::mt19937& rng, std::size_t messages, bool rt_inside, bool always_omit) {
    static constexpr std::uint8_t real_time[] = {0xF8, 0xFA, 0xFB, 0xFC, 0xFE, 0xFF};
    static constexpr std::uint8_t common[] = {0xF1, 0xF2, 0xF3, 0xF6};
    midi1_stream m;
    std::uint8_t running = 0;
    const auto data = [&] { return static_cast<std::uint8_t>(rng() % 128); };
    const auto maybe_rt = [&] {
        if (rt_inside && rng() % 6 == 0) {
            const auto b = real_time[rng() % 6];
            m.input.push_back(b);
            m.real_time.push_back(b);
        }
    };
    for (std::size_t i = 0; i < messages; ++i) {
        const auto kind = static_cast<unsigned>(rng() % 12);
        if (kind < 7) {
            const auto st = static_cast<std::uint8_t>(0x80 | ((rng() % 7) << 4) | (rng() % 16));
            const unsigned n = (st & 0xE0) == 0xC0 ? 1 : 2;
            m.canonical.push_back(st);
            if (!(st == running && (always_omit || rng() % 2 == 0))) m.input.push_back(st);
            running = st;
            for (unsigned k = 0; k < n; ++k) {
                maybe_rt();
                const auto d = data();
                m.input.push_back(d);
                m.canonical.push_back(d);
            }
        } else if (kind == 7) {
            const auto st = common[rng() % 4];
            const int n = system_data_bytes(st);
            m.input.push_back(st);
            m.canonical.push_back(st);
            for (int k = 0; k < n; ++k) {
                maybe_rt();
                const auto d = data();
                m.input.push_back(d);
                m.canonical.push_back(d);
            }
            running = 0;
        } else if (kind < 10) {
            // Lengths around the packet boundaries matter most.
            const std::size_t len = rng() % 3 == 0 ? 6 * (rng() % 4) + rng() % 2 : rng() % 40;
            m.input.push_back(0xF0);
            m.canonical.push_back(0xF0);
            for (std::size_t k = 0; k < len; ++k) {
                maybe_rt();
                const auto d = data();
                m.input.push_back(d);
                m.canonical.push_back(d);
            }
            maybe_rt();
            m.input.push_back(0xF7);
            m.canonical.push_back(0xF7);
            running = 0;
        } else {
            const auto b = real_time[rng() % 6];
            m.input.push_back(b);
            m.real_time.push_back(b);
        }
    }
    return m;
}

void split_real_time(const std::vector<std::uint8_t>& bytes, std::vector<std::uint8_t>& other,
                     std::vector<std::uint8_t>& rt) {
    for (auto b : bytes) (is_real_time(b) ? rt : other).push_back(b);
}

TEST(round_trip, midi1_bytes_to_ump_and_back) {
    std::mt19937 rng(0x6D696469);
    for (int round = 0; round < 400; ++round) {
        const auto m = random_midi1(rng, 1 + rng() % 60, true, false);
        midi1_to_ump_state a{};
        a.target_group = group{static_cast<std::uint8_t>(rng() % 16)};
        const auto ump = to_ump(a, random_chunks(m.input, rng, 1 + rng() % 20), {1, 5, &rng});
        EXPECT_EQ(a.counters, midi1_to_ump_counters{}) << round;
        ASSERT_TRUE(validate(ump).ok()) << round;
        for (reader r(ump); auto p = r.next();) ASSERT_EQ(p->packet.group_field(), a.target_group);

        ump_to_midi1_state b{};
        b.only_group = rng() % 2 ? std::optional<group>{a.target_group} : std::nullopt;
        const auto bytes = to_bytes(b, random_chunks(ump, rng, 1 + rng() % 7), {1, 9, &rng});
        EXPECT_EQ(b.counters, ump_to_midi1_counters{}) << round;

        std::vector<std::uint8_t> other, rt;
        split_real_time(bytes, other, rt);
        ASSERT_EQ(hex(other), hex(m.canonical)) << "round " << round << " input " << hex(m.input);
        ASSERT_EQ(hex(rt), hex(m.real_time)) << round;
    }
}

// With real time only between messages and running status used wherever MIDI 1.0
// allows, running status on output gives back exactly the input.
TEST(round_trip, exact_with_running_status) {
    std::mt19937 rng(0x52554E53);
    for (int round = 0; round < 300; ++round) {
        const auto m = random_midi1(rng, 1 + rng() % 60, false, true);
        midi1_to_ump_state a{};
        const auto ump = to_ump(a, random_chunks(m.input, rng, 1 + rng() % 20), {2, 6, &rng});
        EXPECT_EQ(a.counters, midi1_to_ump_counters{});
        ump_to_midi1_state b{};
        b.running_status = true;
        const auto bytes = to_bytes(b, random_chunks(ump, rng, 1 + rng() % 7), {1, 4, &rng});
        ASSERT_EQ(hex(bytes), hex(m.input)) << round;
    }
}

// Random well-formed UMP on one group (SysEx packed 6 bytes a packet, as the byte
// converter packs it), mixed with packets the byte stream cannot carry and packets of
// other groups; UMP → bytes → UMP gives back the group's packets of types 1, 2, 3.
TEST(round_trip, ump_to_bytes_and_back) {
    std::mt19937 rng(0x554D5021);
    for (int round = 0; round < 300; ++round) {
        const group g{static_cast<std::uint8_t>(rng() % 16)};
        std::vector<std::uint32_t> words;
        std::vector<std::uint32_t> kept;  // what should come back, real time left out
        std::vector<std::uint32_t> kept_rt;
        std::size_t skipped = 0, other_group = 0;
        const auto add = [&](const packet& p, bool keep) {
            for (auto w : p.span()) words.push_back(w);
            if (!keep) return;
            auto& into = (p.type() == message_type::system && field<23, 16>(p[0]) >= 0xF8) ? kept_rt : kept;
            for (auto w : p.span()) into.push_back(w);
        };
        const std::size_t n = 1 + rng() % 50;
        for (std::size_t i = 0; i < n; ++i) {
            const auto d = [&] { return static_cast<std::uint8_t>(rng() % 128); };
            const channel c{static_cast<std::uint8_t>(rng() % 16)};
            switch (rng() % 9) {
            case 0: case 1: case 2:
                add(make_midi1_channel_voice(g, static_cast<midi1_status>(8 + rng() % 7), c, d(), 0), true);
                break;
            case 3: {
                auto st = static_cast<midi1_status>(8 + rng() % 7);
                auto p = make_midi1_channel_voice(g, st, c, d(), d());
                if (st == midi1_status::program_change || st == midi1_status::channel_pressure)
                    p = make_midi1_channel_voice(g, st, c, p.words[0] >> 8 & 0x7F, 0);
                add(p, true);
                break;
            }
            case 4: {
                static constexpr system_status all[] = {
                    system_status::mtc_quarter_frame, system_status::song_position, system_status::song_select,
                    system_status::tune_request, system_status::timing_clock, system_status::start,
                    system_status::continue_, system_status::stop, system_status::active_sensing,
                    system_status::reset};
                const auto st = all[rng() % 10];
                const int nd = system_data_bytes(static_cast<std::uint8_t>(st));
                add(make_system(g, st, nd > 0 ? d() : 0, nd > 1 ? d() : 0), true);
                break;
            }
            case 5: {
                std::vector<std::uint8_t> sx(rng() % 30);
                for (auto& b : sx) b = d();
                if (sx.size() <= 6) {
                    add(make_sysex7(g, packet_format::complete, sx), true);
                    break;
                }
                for (std::size_t k = 0; k < sx.size(); k += 6) {
                    const auto f = k == 0 ? packet_format::start
                                          : k + 6 >= sx.size() ? packet_format::end : packet_format::continue_;
                    add(make_sysex7(g, f, std::span(sx).subspan(k, std::min<std::size_t>(6, sx.size() - k))), true);
                    if (rng() % 4 == 0) add(make_system(g, system_status::timing_clock), true);
                    if (rng() % 4 == 0) {
                        add(make_midi2_note_on(g, c, d(), 0x1234), false);
                        ++skipped;
                    }
                }
                break;
            }
            case 6:
                add(make_midi2_control_change(g, c, d(), 0x89ABCDEFu), false);
                ++skipped;
                break;
            case 7:
                add(packet{0x00000000u}, false);
                ++skipped;
                break;
            default:
                add(make_midi1_note_on(group{static_cast<std::uint8_t>((g.index + 1 + rng() % 15) % 16)}, c, d(), d()),
                    false);
                ++other_group;
                break;
            }
        }
        ump_to_midi1_state a{};
        a.only_group = g;
        a.running_status = rng() % 2 == 0;
        const auto bytes = to_bytes(a, random_chunks(words, rng, 1 + rng() % 9), {1, 8, &rng});
        EXPECT_EQ(a.counters.skipped_packets, skipped);
        EXPECT_EQ(a.counters.other_group_packets, other_group);
        EXPECT_EQ(a.counters.malformed_packets + a.counters.orphaned_sysex + a.counters.unterminated_sysex, 0u);

        midi1_to_ump_state b{};
        b.target_group = g;
        const auto back = to_ump(b, random_chunks(bytes, rng, 1 + rng() % 20), {2, 7, &rng});
        EXPECT_EQ(b.counters, midi1_to_ump_counters{});
        std::vector<std::uint32_t> back_other, back_rt;
        for (reader r(back); auto p = r.next();) {
            ASSERT_EQ(p->error, read_error::none);
            auto& into =
                (p->packet.type() == message_type::system && field<23, 16>(p->packet[0]) >= 0xF8) ? back_rt : back_other;
            for (auto w : p->packet.span()) into.push_back(w);
        }
        ASSERT_EQ(hex(back_other), hex(kept)) << round;
        ASSERT_EQ(hex(back_rt), hex(kept_rt)) << round;
    }
}

// Arbitrary bytes: whatever comes out is well formed and the same however the input
// and output are cut.
TEST(midi1_to_ump, random_bytes_chunking_does_not_matter) {
    std::mt19937 rng(0x42595445);
    for (int round = 0; round < 300; ++round) {
        std::vector<std::uint8_t> in(rng() % 200);
        for (auto& b : in) b = static_cast<std::uint8_t>(rng() % 3 == 0 ? 0x80 | rng() : rng() % 128);
        midi1_to_ump_state whole{};
        const auto expected = to_ump(whole, {in}, {4096, 4096});
        ASSERT_TRUE(validate(expected).ok());
        midi1_to_ump_state cut{};
        const auto got = to_ump(cut, random_chunks(in, rng, 1 + rng() % 10), {1, 4, &rng});
        ASSERT_EQ(hex(got), hex(expected)) << round;
        EXPECT_EQ(cut.counters, whole.counters);
    }
}

TEST(ump_to_midi1, random_words_chunking_does_not_matter) {
    std::mt19937 rng(0x574F5244);
    for (int round = 0; round < 300; ++round) {
        std::vector<std::uint32_t> in(rng() % 100);
        for (auto& w : in) {
            // Mostly types 0x1..0x3 so that conversion paths are exercised.
            w = static_cast<std::uint32_t>(rng());
            if (rng() % 4 != 0) w = (w & 0x0F7F7F7Fu) | ((1u + static_cast<std::uint32_t>(rng() % 3)) << 28);
            if ((w >> 28) == 3 && rng() % 2) w = (w & 0xFF30FFFFu) | ((static_cast<std::uint32_t>(rng() % 7)) << 16);
            if ((w >> 28) == 1) w = (w & 0xFF00FFFFu) | (0xF0u << 16) | ((static_cast<std::uint32_t>(rng() % 16)) << 16);
        }
        ump_to_midi1_state whole{};
        whole.running_status = round % 2 == 0;
        const auto expected = to_bytes(whole, {in}, {4096, 4096});
        ump_to_midi1_state cut{};
        cut.running_status = whole.running_status;
        const auto got = to_bytes(cut, random_chunks(in, rng, 1 + rng() % 6), {1, 3, &rng});
        ASSERT_EQ(hex(got), hex(expected)) << round;
        EXPECT_EQ(cut.counters, whole.counters);

        // Every output size from 1 to 12 with long chunks: the direct and the resumable
        // path take turns (see vectors_through_every_output_size).
        for (std::size_t cap = 1; cap <= 12; ++cap) {
            ump_to_midi1_state sized{};
            sized.running_status = whole.running_status;
            const auto got_sized = to_bytes(sized, random_chunks(in, rng, 1 + rng() % 40), {cap, cap});
            ASSERT_EQ(hex(got_sized), hex(expected)) << round << ", output of " << cap;
            EXPECT_EQ(sized.counters, whole.counters) << round << ", output of " << cap;
            EXPECT_EQ(sized.sysex_open, whole.sysex_open) << round << ", output of " << cap;
        }

        // What comes out is clean MIDI 1.0: reading it back finds nothing to complain about.
        midi1_to_ump_state check{};
        (void)to_ump(check, {got}, {4096, 4096});
        EXPECT_EQ(check.counters, midi1_to_ump_counters{}) << round << ": " << hex(got);
    }
}

}  // namespace
