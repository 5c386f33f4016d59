// Tests for the validating reader (include/umpd/core/reader.hpp).
#include "umpd/core/reader.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "umpd/core/messages.hpp"
#include "vector_file.hpp"

namespace {

using namespace umpd::core;

// The documented rules written out plainly, with no tables, as a second opinion on
// the table-driven check.
read_error reference_check(const packet& p) {
    const std::uint32_t w0 = p[0];
    const unsigned type = w0 >> 28;
    const unsigned status = (w0 >> 16) & 0xFFu;
    const unsigned hi = status >> 4;
    const unsigned lo = status & 0xFu;
    const auto high_bit = [&](unsigned pos) { return (packet_byte(p, pos) & 0x80u) != 0; };
    const auto any_high = [&](unsigned first, unsigned n) {
        for (unsigned i = 0; i < n; ++i)
            if (high_bit(first + i)) return true;
        return false;
    };
    switch (type) {
    case 0x1: {
        unsigned n = 0;
        switch (status) {
        case 0xF1: case 0xF3: n = 1; break;
        case 0xF2: n = 2; break;
        case 0xF6: case 0xF8: case 0xFA: case 0xFB: case 0xFC: case 0xFE: case 0xFF: n = 0; break;
        default: return read_error::malformed_status;
        }
        return any_high(2, n) ? read_error::malformed_data_byte : read_error::none;
    }
    case 0x2:
        if (hi < 0x8 || hi == 0xF) return read_error::malformed_status;
        return any_high(2, (hi == 0xC || hi == 0xD) ? 1 : 2) ? read_error::malformed_data_byte : read_error::none;
    case 0x3:
        if (hi > 0x3) return read_error::malformed_status;
        if (lo > 6) return read_error::malformed_byte_count;
        return any_high(2, lo) ? read_error::malformed_data_byte : read_error::none;
    case 0x4:
        switch (hi) {
        case 0x7: return read_error::malformed_status;
        case 0x0: case 0x1: case 0x6: case 0x8: case 0x9: case 0xA: case 0xB: case 0xF:
            return high_bit(2) ? read_error::malformed_data_byte : read_error::none;
        case 0x2: case 0x3: case 0x4: case 0x5:
            return any_high(2, 2) ? read_error::malformed_data_byte : read_error::none;
        case 0xC:
            return high_bit(4) ? read_error::malformed_data_byte : read_error::none;
        default:
            return read_error::none;
        }
    case 0x5:
        if (hi <= 0x3) return (lo == 0 || lo > 14) ? read_error::malformed_byte_count : read_error::none;
        if (hi == 0x8 || hi == 0x9) return read_error::none;
        return read_error::malformed_status;
    default:
        return read_error::none;
    }
}

// A buffer whose last word sits right before an inaccessible page, so that reading
// one word too far crashes in every build (ASan or not).
class guarded_words {
public:
    guarded_words() {
        page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        void* m = mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) throw std::runtime_error("mmap failed");
        base_ = static_cast<std::uint8_t*>(m);
        if (mprotect(base_ + page_, page_, PROT_NONE) != 0) throw std::runtime_error("mprotect failed");
    }
    ~guarded_words() { munmap(base_, 2 * page_); }
    guarded_words(const guarded_words&) = delete;
    guarded_words& operator=(const guarded_words&) = delete;

    // Copies words so that they end exactly at the guard page.
    std::span<const std::uint32_t> place(const std::vector<std::uint32_t>& words) {
        const std::size_t bytes = words.size() * sizeof(std::uint32_t);
        if (bytes > page_) throw std::runtime_error("too many words for the guard buffer");
        std::uint8_t* start = base_ + page_ - bytes;
        if (bytes != 0) std::memcpy(start, words.data(), bytes);
        return {reinterpret_cast<const std::uint32_t*>(start), words.size()};
    }

private:
    std::size_t page_ = 0;
    std::uint8_t* base_ = nullptr;
};

// Every error the reader reports, as "kind@offset" separated by spaces ("none" if
// none), checking the structural promises on the way: packets follow each other
// without gaps, a truncation is last, the reported error matches check_packet.
std::string read_all(std::span<const std::uint32_t> words) {
    reader r(words);
    std::string out;
    std::size_t expected_offset = 0;
    bool saw_truncation = false;
    while (auto res = r.next()) {
        EXPECT_FALSE(saw_truncation) << "a packet after a truncation";
        EXPECT_EQ(res->offset, expected_offset);
        const unsigned size = word_count_of(words[res->offset]);
        if (res->error == read_error::truncated) {
            saw_truncation = true;
            EXPECT_GT(res->offset + size, words.size());
            for (std::size_t i = res->offset; i < words.size(); ++i)
                EXPECT_EQ(res->packet.words[i - res->offset], words[i]);
        } else {
            EXPECT_LE(res->offset + size, words.size());
            for (unsigned i = 0; i < size; ++i) EXPECT_EQ(res->packet.words[i], words[res->offset + i]);
            EXPECT_EQ(res->error, check_packet(res->packet));
            EXPECT_EQ(res->error, reference_check(res->packet));
        }
        expected_offset += size;
        if (res->error != read_error::none) {
            if (!out.empty()) out += ' ';
            out += std::string(to_string(res->error)) + "@" + std::to_string(res->offset);
        }
    }
    EXPECT_TRUE(r.done());
    EXPECT_EQ(r.remaining(), 0u);
    EXPECT_FALSE(r.next().has_value()) << "the reader must stay at the end";
    return out.empty() ? "none" : out;
}

bool same(const validation_result& a, const validation_result& b) { return a.error == b.error && a.offset == b.offset; }

std::string describe(const validation_result& v) { return std::string(to_string(v.error)) + "@" + std::to_string(v.offset); }

// validate() and every kernel it may pick, on the same words: all must agree.
void expect_kernels_agree(std::span<const std::uint32_t> words) {
    const validation_result v = validate(words);
    const validation_result portable = detail::validate_from(words, 0);
    const validation_result simd = detail::validate_avx2(words);
    EXPECT_TRUE(same(portable, v)) << describe(portable) << " vs " << describe(v) << " (" << words.size() << " words)";
    EXPECT_TRUE(same(simd, v)) << describe(simd) << " vs " << describe(v) << " (" << words.size() << " words)";
}

std::string first_error(std::span<const std::uint32_t> words) {
    expect_kernels_agree(words);
    const validation_result v = validate(words);
    if (v.ok()) {
        EXPECT_EQ(v.offset, words.size());
        return "none";
    }
    return std::string(to_string(v.error)) + "@" + std::to_string(v.offset);
}

std::string first_of(const std::string& all) { return all.substr(0, all.find(' ')); }

std::vector<umpd::test::vector_case> load_corpus() {
    const std::filesystem::path dir = std::filesystem::path(UMPD_TEST_CORPUS_DIR) / "malformed_ump";
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().extension() == ".txt" && e.path().filename() != "README.txt")
            names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    std::vector<umpd::test::vector_case> cases;
    for (const auto& n : names) {
        auto c = umpd::test::load_vectors("../corpus/malformed_ump/" + n);
        cases.insert(cases.end(), c.begin(), c.end());
    }
    return cases;
}

TEST(reader, malformed_corpus_on_exactly_sized_heap_buffers) {
    const auto cases = load_corpus();
    ASSERT_GE(cases.size(), 100u);
    for (const auto& c : cases) {
        ASSERT_EQ(c.fields.size(), 2u) << c.where();
        const auto words = umpd::test::parse_hex_words(c.fields[0]);
        ASSERT_FALSE(words.empty()) << c.where();
        // Exactly sized, so AddressSanitizer flags any read past the end.
        auto heap = std::make_unique<std::uint32_t[]>(words.size());
        std::copy(words.begin(), words.end(), heap.get());
        const std::span<const std::uint32_t> span(heap.get(), words.size());
        const std::string all = read_all(span);
        EXPECT_EQ(all, c.fields[1]) << c.where();
        EXPECT_EQ(first_error(span), first_of(c.fields[1])) << c.where();
    }
}

TEST(reader, malformed_corpus_before_a_guard_page) {
    guarded_words guard;
    for (const auto& c : load_corpus()) {
        const auto words = umpd::test::parse_hex_words(c.fields[0]);
        const auto span = guard.place(words);
        EXPECT_EQ(read_all(span), c.fields[1]) << c.where();
        EXPECT_EQ(first_error(span), first_of(c.fields[1])) << c.where();
        // Every prefix too: each cuts the buffer somewhere else.
        for (std::size_t n = 0; n < words.size(); ++n) {
            const auto prefix = guard.place(std::vector<std::uint32_t>(words.begin(), words.begin() + static_cast<std::ptrdiff_t>(n)));
            (void)read_all(prefix);
            expect_kernels_agree(prefix);
        }
    }
}

// validate() takes four words at a time where it can: shift every corpus case through
// every position of such a block, with room after it, and expect the same errors moved
// by the shift.
TEST(reader, corpus_cases_at_every_block_phase) {
    guarded_words guard;
    for (const auto& c : load_corpus()) {
        const auto words = umpd::test::parse_hex_words(c.fields[0]);
        const bool truncates = c.fields[1].find("truncated") != std::string::npos;
        for (std::size_t shift = 0; shift < 12; ++shift) {
            std::vector<std::uint32_t> shifted(shift, 0x00000000u);  // utility NOOPs
            shifted.insert(shifted.end(), words.begin(), words.end());
            if (!truncates) shifted.insert(shifted.end(), 9, 0x10F80000u);
            std::string expected;
            if (c.fields[1] == "none") {
                expected = "none";
            } else {
                std::istringstream in(c.fields[1]);
                std::string tok;
                while (in >> tok) {
                    const auto at = tok.find('@');
                    if (!expected.empty()) expected += ' ';
                    expected += tok.substr(0, at + 1) + std::to_string(std::stoul(tok.substr(at + 1)) + shift);
                }
            }
            const auto span = guard.place(shifted);
            EXPECT_EQ(read_all(span), expected) << c.where() << " shifted by " << shift;
            EXPECT_EQ(first_error(span), first_of(expected)) << c.where() << " shifted by " << shift;
        }
    }
}

// Data words that would be malformed packets if they started one must not be taken
// for packets, wherever the block boundaries fall.
TEST(reader, words_inside_packets_are_not_checked_as_packets) {
    std::vector<std::uint32_t> words;
    for (int i = 0; i < 10; ++i) {
        for (std::uint32_t w : {0x40903C00u, 0x20703C64u,                           // MIDI 2.0 note on, odd velocity
                                0x50010000u, 0x10F40000u, 0x30FF0000u, 0x2090FFFFu,  // SysEx8, odd payload
                                0x20903C64u,
                                0xB0000000u, 0x40703C00u, 0x50F00000u})              // reserved 3-word type
            words.push_back(w);
    }
    EXPECT_EQ(read_all(words), "none");
    for (std::size_t cut = 0; cut < 8; ++cut) {
        const std::span<const std::uint32_t> s(words.data() + cut, words.size() - cut);
        EXPECT_EQ(first_error(s), first_of(read_all(s))) << cut;
    }
}

TEST(reader, empty_buffer) {
    reader r{std::span<const std::uint32_t>{}};
    EXPECT_TRUE(r.done());
    EXPECT_FALSE(r.next().has_value());
    const auto v = validate({});
    EXPECT_TRUE(v.ok());
    EXPECT_EQ(v.offset, 0u);
    reader defaulted;
    EXPECT_FALSE(defaulted.next().has_value());
}

TEST(reader, truncation_at_every_cut_of_a_valid_stream) {
    const group g{3};
    const std::uint8_t sx[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
    const std::vector<packet> packets{
        make_midi1_note_on(g, channel{1}, 60, 100),
        make_sysex7(g, packet_format::start, std::span(sx, 6)),
        make_midi2_note_on(g, channel{2}, 61, 0xFFFF),
        make_sysex8(g, packet_format::complete, 7, sx),
        make_system(g, system_status::timing_clock),
        packet{0x00000000u},
        make_stream(packet_format::complete, stream_status::endpoint_discovery, 0x0101, 0x1F),
        make_song_position(g, 0x3FFF),
    };
    std::vector<std::uint32_t> words;
    std::vector<std::size_t> starts;
    for (const auto& p : packets) {
        starts.push_back(words.size());
        for (auto w : p.span()) words.push_back(w);
    }
    ASSERT_EQ(validate(words).error, read_error::none);
    guarded_words guard;
    for (std::size_t n = 0; n <= words.size(); ++n) {
        const auto span = guard.place(std::vector<std::uint32_t>(words.begin(), words.begin() + static_cast<std::ptrdiff_t>(n)));
        const bool at_boundary = n == words.size() || std::find(starts.begin(), starts.end(), n) != starts.end();
        const auto v = validate(span);
        if (at_boundary) {
            EXPECT_EQ(v.error, read_error::none) << n;
            EXPECT_EQ(v.offset, n);
        } else {
            // The cut packet is the last one starting before n.
            const auto cut = *std::prev(std::upper_bound(starts.begin(), starts.end(), n));
            EXPECT_EQ(v.error, read_error::truncated) << n;
            EXPECT_EQ(v.offset, cut) << n;
            EXPECT_EQ(read_all(span), "truncated@" + std::to_string(cut));
        }
    }
}

TEST(reader, continues_after_malformed_and_stops_after_truncation) {
    const std::vector<std::uint32_t> words{0x20703C64u, 0x20903C64u, 0x30070000u, 0x00000000u, 0x10F80000u, 0x40903C00u};
    reader r(words);
    auto a = r.next();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->error, read_error::malformed_status);
    EXPECT_EQ(a->offset, 0u);
    auto b = r.next();
    ASSERT_TRUE(b);
    EXPECT_EQ(b->error, read_error::none);
    EXPECT_EQ(b->packet, make_midi1_note_on(group{0}, channel{0}, 60, 100));
    auto c = r.next();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->error, read_error::malformed_byte_count);
    EXPECT_EQ(c->offset, 2u);
    EXPECT_EQ(r.offset(), 4u);
    auto d = r.next();
    ASSERT_TRUE(d);
    EXPECT_EQ(d->error, read_error::none);
    auto e = r.next();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->error, read_error::truncated);
    EXPECT_EQ(e->offset, 5u);
    EXPECT_EQ(e->packet.words[0], 0x40903C00u);
    EXPECT_EQ(e->packet.words[1], 0u);
    EXPECT_TRUE(r.done());
    EXPECT_FALSE(r.next());
}

TEST(reader, reserved_types_are_yielded_with_their_size) {
    for (unsigned t : {0x6u, 0x7u, 0x8u, 0x9u, 0xAu, 0xBu, 0xCu, 0xEu}) {
        std::array<std::uint32_t, 5> buf{};
        buf.fill(0xFFFFFFFFu);
        buf[0] = (t << 28) | 0x0FFFFFFFu;
        buf[word_count_table[t]] = 0x10F80000u;
        reader r(std::span<const std::uint32_t>(buf.data(), word_count_table[t] + 1u));
        auto a = r.next();
        ASSERT_TRUE(a);
        EXPECT_EQ(a->error, read_error::none);
        EXPECT_EQ(a->packet.type(), static_cast<message_type>(t));
        EXPECT_EQ(r.offset(), word_count_table[t]);
        auto b = r.next();
        ASSERT_TRUE(b);
        EXPECT_EQ(b->packet[0], 0x10F80000u);
        EXPECT_FALSE(r.next());
    }
}

// Every (type, status byte) pair, with each byte position in turn holding a high
// bit, against the reference model.
TEST(reader, table_matches_reference_for_every_status) {
    std::size_t checked = 0;
    for (unsigned type = 0; type < 16; ++type) {
        for (unsigned status = 0; status < 256; ++status) {
            for (int hot = -2; hot < 16; ++hot) {
                packet p;
                if (hot == -1) p.words = {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu};
                if (hot >= 0) set_packet_byte(p, static_cast<unsigned>(hot), 0x80);
                p.words[0] = (p.words[0] & 0x0000FFFFu) | (type << 28) | (0x5u << 24) | (status << 16);
                ASSERT_EQ(check_packet(p), reference_check(p))
                    << std::hex << "type " << type << " status " << status << " hot " << std::dec << hot;
                ++checked;
            }
        }
    }
    EXPECT_EQ(checked, 16u * 256u * 18u);
}

TEST(reader, random_words_match_reference) {
    std::mt19937 rng(20240611);
    std::vector<std::uint32_t> words(1 << 16);
    for (int round = 0; round < 16; ++round) {
        // Sparse high bits make every rule both pass and fail often.
        for (auto& w : words) {
            w = static_cast<std::uint32_t>(rng()) & (round % 2 ? 0xFF7F7F7Fu : 0xFFFFFFFFu);
            if (rng() % 8 == 0) w |= 0x80u << (8 * (rng() % 4));
        }
        const std::string all = read_all(words);
        EXPECT_EQ(first_error(words), first_of(all));
    }
}

TEST(reader, builder_output_is_well_formed) {
    const group g{15};
    const channel c{15};
    const std::uint8_t bytes[] = {0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F};
    const std::uint8_t bytes8[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    const packet packets[] = {
        make_midi1_note_off(g, c, 127, 127), make_midi1_note_on(g, c, 127, 127),
        make_midi1_poly_pressure(g, c, 127, 127), make_midi1_control_change(g, c, 127, 127),
        make_midi1_program_change(g, c, 127), make_midi1_channel_pressure(g, c, 127),
        make_midi1_pitch_bend(g, c, 0x3FFF), make_mtc_quarter_frame(g, 127), make_song_position(g, 0x3FFF),
        make_song_select(g, 127), make_system(g, system_status::tune_request), make_system(g, system_status::reset),
        make_sysex7(g, packet_format::complete, {}), make_sysex7(g, packet_format::end, bytes),
        make_sysex8(g, packet_format::start, 0xFF, bytes8), make_sysex8(g, packet_format::end, 0, {}),
        make_midi2_note_on(g, c, 127, 0xFFFF, 0xFF, 0xFFFF), make_midi2_note_off(g, c, 127, 0xFFFF),
        make_midi2_poly_pressure(g, c, 127, 0xFFFFFFFFu), make_midi2_control_change(g, c, 127, 0xFFFFFFFFu),
        make_midi2_program_change(g, c, 127, std::uint16_t{0x3FFF}), make_midi2_channel_pressure(g, c, 0xFFFFFFFFu),
        make_midi2_pitch_bend(g, c, 0xFFFFFFFFu), make_midi2_per_note_pitch_bend(g, c, 127, 0xFFFFFFFFu),
        make_midi2_registered_controller(g, c, 127, 127, 0xFFFFFFFFu),
        make_midi2_assignable_controller(g, c, 127, 127, 0xFFFFFFFFu),
        make_midi2_relative_registered_controller(g, c, 127, 127, -1),
        make_midi2_relative_assignable_controller(g, c, 127, 127, -1),
        make_midi2_registered_per_note_controller(g, c, 127, 255, 0xFFFFFFFFu),
        make_midi2_assignable_per_note_controller(g, c, 127, 255, 0xFFFFFFFFu),
        make_midi2_per_note_management(g, c, 127, true, true),
    };
    for (const auto& p : packets) EXPECT_EQ(check_packet(p), read_error::none) << std::hex << p[0];
}

TEST(reader, error_names) {
    EXPECT_STREQ(to_string(read_error::none), "none");
    EXPECT_STREQ(to_string(read_error::truncated), "truncated");
    EXPECT_STREQ(to_string(read_error::malformed_status), "malformed_status");
    EXPECT_STREQ(to_string(read_error::malformed_byte_count), "malformed_byte_count");
    EXPECT_STREQ(to_string(read_error::malformed_data_byte), "malformed_data_byte");
    EXPECT_STREQ(to_string(static_cast<read_error>(200)), "unknown");
}

// A long stream of random packets of every type, mostly well formed: statuses are
// often ones in use, high bits in data bytes rare. A malformed packet becomes one of a
// never-checked type of the same size, except with probability 1 / keep_bad, so that
// the first error falls anywhere in a long buffer, after a long good run.
std::vector<std::uint32_t> random_stream(std::mt19937& rng, std::size_t size, unsigned keep_bad) {
    static constexpr std::array<std::uint8_t, 16> unchecked_of_size{0x0, 0x0, 0x8, 0xB, 0xD};
    static constexpr std::array<std::uint8_t, 12> common_status{0x90, 0x80, 0xB0, 0xE0, 0xC0, 0xF8,
                                                                0xF2, 0x06, 0x13, 0x00, 0x02, 0x40};
    std::vector<std::uint32_t> words;
    while (words.size() < size) {
        packet p;
        for (auto& w : p.words) {
            w = static_cast<std::uint32_t>(rng()) & 0x7F7F7F7Fu;
            if (rng() % 16 == 0) w |= 0x80u << (8 * (rng() % 4));
        }
        const auto type = static_cast<std::uint32_t>(rng() % 2 ? 1 + rng() % 5 : rng() % 16);
        const auto status = static_cast<std::uint32_t>(rng() % 2 ? common_status[rng() % common_status.size()] : rng() % 256);
        p.words[0] = (type << 28) | static_cast<std::uint32_t>((rng() % 16) << 24) | (status << 16) | (p.words[0] & 0xFFFFu);
        if (check_packet(p) != read_error::none && rng() % keep_bad != 0)
            p.words[0] = (p.words[0] & 0x0FFFFFFFu) | (std::uint32_t{unchecked_of_size[p.size()]} << 28);
        for (auto w : p.span()) words.push_back(w);
    }
    words.resize(size);  // may cut the last packet
    return words;
}

// The kernels step through whole blocks and hand the rest to the packet loop: streams
// of every length up to a page, ending at a guard page, with the first error anywhere.
TEST(reader, kernels_agree_on_random_streams_before_a_guard_page) {
    RecordProperty("avx2_kernel", detail::avx2_kernel_usable() ? "used" : "not available here");
    std::mt19937 rng(77);
    guarded_words guard;
    std::size_t errors_past_the_first_block = 0;
    for (int round = 0; round < 3000; ++round) {
        const std::size_t size = round < 100 ? static_cast<std::size_t>(round) : rng() % 1025;
        const auto words = random_stream(rng, size, round % 3 == 0 ? 1000000u : static_cast<unsigned>(1 + rng() % 200));
        const auto span = guard.place(words);
        const std::string all = read_all(span);
        const std::string first = first_error(span);  // compares the kernels too
        EXPECT_EQ(first, first_of(all)) << "round " << round;
        const validation_result v = validate(span);
        if (!v.ok() && v.offset >= 16) ++errors_past_the_first_block;
        // From a packet start part-way in, the same as validating from there.
        const auto k = static_cast<std::size_t>(rng() % (size + 1));
        std::size_t start = 0;
        while (start < k && start < size) start += word_count_of(span[start]);
        if (start <= size) {
            const validation_result from = detail::validate_from(span, start);
            const validation_result rest = validate(span.subspan(start));
            EXPECT_EQ(from.error, rest.error);
            EXPECT_EQ(from.offset, rest.offset + start);
        }
    }
    EXPECT_GT(errors_past_the_first_block, 1000u);  // the errors are not all near the start
}

// One bad bit at every position of a well-formed stream: where it lands in a packet
// that checks that bit, validate() must stop exactly there, whichever kernel runs.
TEST(reader, kernels_agree_on_one_bad_bit_anywhere) {
    std::mt19937 rng(5);
    const auto good = random_stream(rng, 700, 1000000);
    ASSERT_EQ(first_of(read_all(good)), first_error(good));
    for (const std::uint32_t bit : {0x80u, 0x8000u, 0x800000u, 0x80000000u, 0x00F00000u}) {
        std::size_t found = 0;
        for (std::size_t i = 0; i < good.size(); ++i) {
            auto words = good;
            words[i] ^= bit;
            const std::string expected = first_of(read_all(words));
            EXPECT_EQ(first_error(words), expected) << "word " << i << " bit " << std::hex << bit;
            found += expected != "none" && expected.find("truncated") == std::string::npos;
        }
        EXPECT_GT(found, 20u) << std::hex << bit;
    }
}

// The check is constexpr: usable in static assertions.
static_assert(check_packet(packet{0x20903C64u}) == read_error::none);
static_assert(check_packet(packet{0x20703C64u}) == read_error::malformed_status);
static_assert(check_packet(packet{0x30070000u, 0}) == read_error::malformed_byte_count);
static_assert(check_packet(packet{0x40708000u, 0}) == read_error::malformed_status);

}  // namespace
