// Tests for reassembly and splitting of multi-packet messages, and the UTF-8 checks.
#include "umpd/core/reassembly.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "vector_file.hpp"

namespace umpd::core {
namespace {

using bytes = std::vector<std::uint8_t>;

constexpr reassembly_status all_statuses[] = {
    reassembly_status::ignored,          reassembly_status::in_progress,
    reassembly_status::complete,         reassembly_status::discarded,
    reassembly_status::overflow,         reassembly_status::unexpected_continue,
    reassembly_status::unexpected_end,   reassembly_status::interrupted,
    reassembly_status::malformed,        reassembly_status::too_many_streams,
    reassembly_status::invalid_utf8,
};

std::optional<reassembly_status> status_named(std::string_view name) {
    for (auto s : all_statuses)
        if (to_string(s) == name) return s;
    return std::nullopt;
}

bytes to_bytes(std::span<const std::uint8_t> s) { return {s.begin(), s.end()}; }
bytes to_bytes(std::string_view s) { return {s.begin(), s.end()}; }
std::string as_text(const bytes& b) { return {b.begin(), b.end()}; }

std::string hex(std::span<const std::uint8_t> b) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (auto v : b) {
        out += digits[v >> 4];
        out += digits[v & 0xF];
    }
    return out;
}

std::string describe(const reassembly_result& r) {
    std::string s = r.interrupted ? "!" : "";
    s += to_string(r.status);
    if (!r.bytes.empty()) s += "=" + hex(r.bytes);
    return s;
}

bytes random_bytes(std::mt19937& rng, std::size_t n, std::uint8_t lo, std::uint8_t hi) {
    std::uniform_int_distribution<int> d(lo, hi);
    bytes b(n);
    for (auto& v : b) v = static_cast<std::uint8_t>(d(rng));
    return b;
}

// Valid UTF-8 with characters of every length, exactly n bytes.
std::string random_utf8(std::mt19937& rng, std::size_t n) {
    static const std::string pieces[] = {"a", "Z", "~", "\xC3\xA9", "\xDF\xBF", "\xE2\x82\xAC", "\xEF\xBF\xBF",
                                         "\xED\x9F\xBF", "\xF0\x9F\x8E\xB9", "\xF4\x8F\xBF\xBF"};
    std::uniform_int_distribution<std::size_t> d(0, std::size(pieces) - 1);
    std::string s;
    while (s.size() < n) {
        const auto& p = pieces[d(rng)];
        s += s.size() + p.size() <= n ? p : std::string("x");
    }
    return s;
}

// ---------------------------------------------------------------------------
// Data-driven vectors
// ---------------------------------------------------------------------------

// Builds the reassembler named in a vector's first field and feeds it packets.
class vector_reassembler {
public:
    explicit vector_reassembler(const std::string& spec) {
        std::istringstream in(spec);
        std::string kind, limit_text, slots_text;
        in >> kind >> limit_text >> slots_text;
        const bool default_limit = limit_text.empty() || limit_text == "-";
        const std::size_t limit = default_limit ? 0 : std::stoul(limit_text);
        const std::size_t slots = slots_text.empty() ? 1 : std::stoul(slots_text);
        if (kind == "sysex7") {
            storage_.resize(16 * (default_limit ? 64 : limit));
            sysex7_.emplace(storage_);
        } else if (kind == "sysex8") {
            storage_.resize(16 * slots * (default_limit ? 64 : limit));
            slots_.resize(16 * slots);
            sysex8_.emplace(slots_, storage_);
        } else {
            static const std::map<std::string, text_kind> kinds{
                {"endpoint_name", text_kind::endpoint_name},
                {"product_instance_id", text_kind::product_instance_id},
                {"function_block_name", text_kind::function_block_name},
                {"flex_text", text_kind::flex_text}};
            const auto k = kinds.at(kind);
            storage_.resize(128 * slots);
            slots_.resize(slots);
            text_.emplace(k, slots_, storage_, default_limit ? text_reassembler::spec_max_bytes : limit);
        }
    }
    reassembly_result feed(const packet& p) {
        if (sysex7_) return sysex7_->feed(p);
        if (sysex8_) return sysex8_->feed(p);
        return text_->feed(p);
    }

private:
    bytes storage_;
    std::vector<reassembly_slot> slots_;
    std::optional<sysex7_multi_group_reassembler> sysex7_;
    std::optional<sysex8_multi_group_reassembler> sysex8_;
    std::optional<text_reassembler> text_;
};

TEST(ReassemblyVectors, EveryCaseGivesTheExpectedResults) {
    const auto cases = test::load_vectors("reassembly.txt");
    ASSERT_GE(cases.size(), 60u);
    for (const auto& c : cases) {
        if (c.fields.size() != 3u) {
            ADD_FAILURE() << c.where() << ": expected 3 fields";
            continue;
        }
        vector_reassembler r(c.fields[0]);
        const auto words = test::parse_hex_words(c.fields[1]);
        std::vector<std::string> expected;
        {
            std::istringstream in(c.fields[2]);
            std::string tok;
            while (in >> tok) expected.push_back(tok);
        }
        std::vector<std::string> got;
        for (std::size_t i = 0; i < words.size();) {
            const std::size_t n = word_count_of(words[i]);
            if (i + n > words.size()) {
                ADD_FAILURE() << c.where() << ": packet cut short";
                break;
            }
            const auto p = packet::from_words(std::span(words).subspan(i, n));
            const auto res = r.feed(p);
            got.push_back(describe(res));
            i += n;
        }
        // Normalise "status=" (explicitly empty) to "status" and check names exist.
        for (auto& e : expected) {
            if (!e.empty() && e.back() == '=') e.pop_back();
            const auto name = e.substr(e[0] == '!' ? 1 : 0, e.find('=') - (e[0] == '!' ? 1 : 0));
            EXPECT_TRUE(status_named(name).has_value()) << c.where() << ": unknown status " << name;
        }
        EXPECT_EQ(got, expected) << c.where();
    }
}

// ---------------------------------------------------------------------------
// UTF-8
// ---------------------------------------------------------------------------

// An independent reference: decode, then check the code point's range and form.
bool reference_utf8_valid(std::span<const std::uint8_t> s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const unsigned b = s[i];
        unsigned len = 0;
        std::uint32_t cp = 0;
        if (b < 0x80) { len = 1; cp = b; }
        else if ((b & 0xE0) == 0xC0) { len = 2; cp = b & 0x1F; }
        else if ((b & 0xF0) == 0xE0) { len = 3; cp = b & 0x0F; }
        else if ((b & 0xF8) == 0xF0) { len = 4; cp = b & 0x07; }
        else return false;
        if (s.size() - i < len) return false;
        for (unsigned k = 1; k < len; ++k) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        static constexpr std::uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

TEST(Utf8, AcceptsBoundaryCharacters) {
    for (const char* s : {"", "plain ASCII", "\x7F", "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF",
                          "\xEE\x80\x80", "\xEF\xBF\xBF", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF",
                          "Gr\xC3\xBC\xC3\x9F \xE2\x82\xAC \xF0\x9F\x8E\xB9"})
        EXPECT_TRUE(utf8_valid(std::string_view(s))) << hex(to_bytes(std::string_view(s)));
}

TEST(Utf8, RejectsOverlongSurrogatesOutOfRangeAndTruncated) {
    for (const char* s : {"\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xE0\x9F\xBF", "\xF0\x80\x80\x80",
                          "\xF0\x8F\xBF\xBF", "\xED\xA0\x80", "\xED\xBF\xBF", "\xF4\x90\x80\x80",
                          "\xF5\x80\x80\x80", "\xFE", "\xFF", "\x80", "\xBF", "a\x80", "\xC3", "\xE2\x82",
                          "\xF0\x9F\x8E", "abc\xE2\x82", "\xC3" "a", "\xE2\x82" "a", "\xF0\x9F\x8E" "a"})
        EXPECT_FALSE(utf8_valid(std::string_view(s))) << hex(to_bytes(std::string_view(s)));
}

TEST(Utf8, AgreesWithAReferenceDecoderOnEveryShortSequence) {
    // Every 1-, 2- and 3-byte sequence; 3-byte ones are the ones with the range rules.
    std::array<std::uint8_t, 3> b{};
    for (unsigned a = 0; a < 256; ++a) {
        b[0] = static_cast<std::uint8_t>(a);
        ASSERT_EQ(utf8_valid(std::span<const std::uint8_t>(b.data(), 1)), reference_utf8_valid({b.data(), 1})) << a;
        for (unsigned c = 0; c < 256; ++c) {
            b[1] = static_cast<std::uint8_t>(c);
            ASSERT_EQ(utf8_valid(std::span<const std::uint8_t>(b.data(), 2)), reference_utf8_valid({b.data(), 2}))
                << a << " " << c;
            if (a < 0xE0 || a > 0xF4) continue;  // other leads fail or pass on the first two bytes
            for (unsigned d = 0; d < 256; ++d) {
                b[2] = static_cast<std::uint8_t>(d);
                ASSERT_EQ(utf8_valid(std::span<const std::uint8_t>(b)), reference_utf8_valid(b))
                    << a << " " << c << " " << d;
            }
        }
    }
    // 4-byte sequences around the lead bytes that carry rules, seeded random elsewhere.
    std::mt19937 rng(4);
    for (int i = 0; i < 200000; ++i) {
        auto v = random_bytes(rng, 4, 0x80, 0xFF);
        v[0] = static_cast<std::uint8_t>(0xEF + rng() % 8);
        ASSERT_EQ(utf8_valid(std::span<const std::uint8_t>(v)), reference_utf8_valid(v)) << hex(v);
    }
}

TEST(Utf8, TruncateCutsOnlyOnCharacterBoundaries) {
    const std::string_view s = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x8E\xB9z";  // a é € 🎹 z: 1+2+3+4+1 bytes
    const std::size_t expected[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 11, 11};
    for (std::size_t max = 0; max < std::size(expected); ++max) {
        const auto t = utf8_truncate(s, max);
        EXPECT_EQ(t.size(), expected[max]) << max;
        EXPECT_EQ(t.data(), s.data());
        EXPECT_TRUE(utf8_valid(t)) << max;
    }
    EXPECT_EQ(utf8_truncate("", 0), "");
    EXPECT_EQ(utf8_truncate("abc", 2), "ab");
}

TEST(Utf8, TruncateOfRandomValidTextIsTheLongestValidPrefix) {
    std::mt19937 rng(11);
    for (int round = 0; round < 300; ++round) {
        const std::string s = random_utf8(rng, rng() % 60);
        for (std::size_t max = 0; max <= s.size() + 1; ++max) {
            const auto t = utf8_truncate(s, max);
            ASSERT_LE(t.size(), max);
            ASSERT_EQ(s.substr(0, t.size()), t);
            ASSERT_TRUE(utf8_valid(t));
            // Longest: nothing between t.size() and max starts a character.
            for (std::size_t k = t.size() + 1; k <= std::min(max, s.size()); ++k)
                ASSERT_FALSE(utf8_valid(std::string_view(s).substr(0, k))) << s << " " << max;
        }
    }
}

// ---------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------

TEST(ReassemblyResult, NamesAreDistinctAndClassifyErrors) {
    std::set<std::string_view> names;
    for (auto s : all_statuses) names.insert(to_string(s));
    EXPECT_EQ(names.size(), std::size(all_statuses));
    EXPECT_FALSE(reassembly_result{reassembly_status::complete}.is_error());
    EXPECT_TRUE(reassembly_result{reassembly_status::complete}.has_message());
    EXPECT_TRUE(reassembly_result{reassembly_status::invalid_utf8}.has_message());
    EXPECT_TRUE(reassembly_result{reassembly_status::invalid_utf8}.is_error());
    EXPECT_TRUE((reassembly_result{reassembly_status::complete, true}.is_error()));
    for (auto s : {reassembly_status::ignored, reassembly_status::in_progress, reassembly_status::discarded})
        EXPECT_FALSE(reassembly_result{s}.is_error()) << to_string(s);
    for (auto s : {reassembly_status::overflow, reassembly_status::unexpected_continue,
                   reassembly_status::unexpected_end, reassembly_status::interrupted, reassembly_status::malformed,
                   reassembly_status::too_many_streams})
        EXPECT_TRUE(reassembly_result{s}.is_error()) << to_string(s);
}

TEST(TextLimits, MatchTheSpec) {
    EXPECT_EQ(text_max_bytes(text_kind::endpoint_name), 98u);
    EXPECT_EQ(text_max_bytes(text_kind::product_instance_id), 42u);
    EXPECT_EQ(text_max_bytes(text_kind::function_block_name), 91u);
    // The limits are whole packets.
    EXPECT_EQ(98u % text_bytes_per_packet(text_kind::endpoint_name), 0u);
    EXPECT_EQ(42u % text_bytes_per_packet(text_kind::product_instance_id), 0u);
    EXPECT_EQ(91u % text_bytes_per_packet(text_kind::function_block_name), 0u);
    bytes storage(500);
    EXPECT_EQ(text_reassembler(text_kind::endpoint_name, storage).limit(), 98u);
    EXPECT_EQ(text_reassembler(text_kind::product_instance_id, storage).limit(), 42u);
    EXPECT_EQ(text_reassembler(text_kind::function_block_name, storage).limit(), 91u);
    EXPECT_EQ(text_reassembler(text_kind::flex_text, storage).limit(), 500u);
    EXPECT_EQ(text_reassembler(text_kind::endpoint_name, storage, 300).limit(), 300u);
    EXPECT_EQ(text_reassembler(text_kind::endpoint_name, std::span(storage).first(50)).limit(), 50u);
}

// ---------------------------------------------------------------------------
// Splitting
// ---------------------------------------------------------------------------

std::vector<packet> split_all(auto split_fn, std::size_t n_bytes, std::size_t per_packet) {
    std::vector<packet> out(packet_count(n_bytes, per_packet) + 2);
    const auto n = split_fn(std::span(out), std::size_t{0});
    EXPECT_EQ(n, packet_count(n_bytes, per_packet));
    out.resize(n);
    return out;
}

packet_format format_of_packet(const packet& p) {
    switch (p.type()) {
    case message_type::data64:
    case message_type::data128: return static_cast<packet_format>(field<23, 20>(p[0]));
    case message_type::flex_data: return static_cast<packet_format>(field<23, 22>(p[0]));
    default: return static_cast<packet_format>(field<27, 26>(p[0]));
    }
}

void expect_formats(const std::vector<packet>& ps) {
    for (std::size_t i = 0; i < ps.size(); ++i) {
        const auto f = format_of_packet(ps[i]);
        if (ps.size() == 1) EXPECT_EQ(f, packet_format::complete);
        else if (i == 0) EXPECT_EQ(f, packet_format::start);
        else if (i + 1 == ps.size()) EXPECT_EQ(f, packet_format::end);
        else EXPECT_EQ(f, packet_format::continue_);
    }
}

TEST(Split, PacketCountsAndFormats) {
    EXPECT_EQ(packet_count(0, 6), 1u);
    EXPECT_EQ(packet_count(6, 6), 1u);
    EXPECT_EQ(packet_count(7, 6), 2u);
    EXPECT_EQ(packet_count(12, 6), 2u);
    EXPECT_EQ(packet_count(13, 6), 3u);
    EXPECT_EQ(packet_count(98, 14), 7u);
    const bytes data{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    const auto ps = split_all([&](std::span<packet> o, std::size_t f) { return split_sysex7(group{2}, data, o, f); },
                              data.size(), 6);
    ASSERT_EQ(ps.size(), 3u);
    expect_formats(ps);
    EXPECT_EQ(ps[0], make_sysex7(group{2}, packet_format::start, std::span(data).first(6)));
    EXPECT_EQ(ps[1], make_sysex7(group{2}, packet_format::continue_, std::span(data).subspan(6, 6)));
    EXPECT_EQ(ps[2], make_sysex7(group{2}, packet_format::end, std::span(data).subspan(12)));
    // The wire form of the last packet, by hand: group 2, end, 2 bytes 0d 0e.
    EXPECT_EQ(ps[2][0], 0x32320d0eu);
    EXPECT_EQ(ps[2][1], 0x00000000u);
    const auto empty = split_all([&](std::span<packet> o, std::size_t f) { return split_sysex7(group{0}, {}, o, f); },
                                 0, 6);
    ASSERT_EQ(empty.size(), 1u);
    EXPECT_EQ(empty[0][0], 0x30000000u);
}

TEST(Split, TextPacketsOnTheWire) {
    std::array<packet, 4> out{};
    ASSERT_EQ(split_endpoint_name("Hi", out), 1u);
    EXPECT_EQ(out[0], packet(0xF0034869u, 0, 0, 0));
    ASSERT_EQ(split_product_instance_id("0123456789ABCDE", out), 2u);  // 15 bytes: 14 + 1
    EXPECT_EQ(out[0], packet(0xF4043031u, 0x32333435u, 0x36373839u, 0x41424344u));
    EXPECT_EQ(out[1], packet(0xFC044500u, 0, 0, 0));
    ASSERT_EQ(split_function_block_name(7, "ABC", out), 1u);
    EXPECT_EQ(out[0], packet(0xF0120741u, 0x42430000u, 0, 0));
    ASSERT_EQ(split_flex_text(group{1}, flex_address::channel, channel{9}, flex_bank_performance_text, 0x01,
                              "Hello world!x", out), 2u);
    EXPECT_EQ(out[0], packet(0xD1490201u, 0x48656C6Cu, 0x6F20776Fu, 0x726C6421u));
    EXPECT_EQ(out[1], packet(0xD1C90201u, 0x78000000u, 0, 0));
    ASSERT_EQ(split_sysex8(group{3}, 0x42, bytes{0xF0, 0x80}, out), 1u);
    EXPECT_EQ(out[0], packet(0x530342F0u, 0x80000000u, 0, 0));
}

TEST(Split, ResumesFromAnyPacketIntoSmallBuffers) {
    std::mt19937 rng(3);
    const auto data = random_bytes(rng, 100, 0, 255);
    std::vector<packet> whole(8);
    ASSERT_EQ(split_sysex8(group{5}, 9, data, whole), 8u);
    for (std::size_t chunk = 1; chunk <= 9; ++chunk) {
        std::vector<packet> pieces;
        std::vector<packet> buf(chunk);
        for (std::size_t first = 0;;) {
            const auto n = split_sysex8(group{5}, 9, data, buf, first);
            if (n == 0) break;
            ASSERT_LE(n, chunk);
            pieces.insert(pieces.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
            first += n;
        }
        EXPECT_EQ(pieces, whole) << chunk;
    }
    std::vector<packet> none;
    EXPECT_EQ(split_sysex8(group{5}, 9, data, none), 0u);
    EXPECT_EQ(split_sysex8(group{5}, 9, data, whole, 8), 0u);
    EXPECT_EQ(split_sysex8(group{5}, 9, data, whole, 100), 0u);
}

// ---------------------------------------------------------------------------
// Round trips: split, then reassemble, every size from 0 to 200
// ---------------------------------------------------------------------------

// Feeds a packet sequence; every packet but the last must be in progress.
reassembly_result feed_sequence(auto& r, const std::vector<packet>& ps) {
    for (std::size_t i = 0; i + 1 < ps.size(); ++i) {
        const auto res = r.feed(ps[i]);
        EXPECT_EQ(res.status, reassembly_status::in_progress) << i;
        EXPECT_FALSE(res.interrupted);
    }
    return r.feed(ps.back());
}

TEST(RoundTrip, Sysex7EverySizeUpTo200) {
    std::mt19937 rng(7);
    bytes storage(16 * 200);
    sysex7_multi_group_reassembler r(storage);
    for (std::size_t n = 0; n <= 200; ++n) {
        const group g{static_cast<std::uint8_t>(n % 16)};
        const auto data = random_bytes(rng, n, 0, 0x7F);
        const auto ps = split_all([&](std::span<packet> o, std::size_t f) { return split_sysex7(g, data, o, f); }, n,
                                  sysex7_bytes_per_packet);
        expect_formats(ps);
        for (const auto& p : ps) ASSERT_EQ(p.group_field(), g);
        const auto res = feed_sequence(r, ps);
        ASSERT_EQ(res.status, reassembly_status::complete) << n;
        EXPECT_FALSE(res.interrupted);
        EXPECT_EQ(to_bytes(res.bytes), data) << n;
        // The bytes live in this group's part of the caller's storage.
        EXPECT_GE(res.bytes.data(), storage.data() + g.index * 200);
        EXPECT_LE(res.bytes.data() + res.bytes.size(), storage.data() + (g.index + 1) * 200);
    }
}

TEST(RoundTrip, Sysex8EverySizeUpTo200) {
    std::mt19937 rng(8);
    bytes storage(200);
    sysex8_reassembler r({}, storage);
    for (std::size_t n = 0; n <= 200; ++n) {
        const auto stream = static_cast<std::uint8_t>(rng());
        const auto data = random_bytes(rng, n, 0, 0xFF);
        const auto ps = split_all(
            [&](std::span<packet> o, std::size_t f) { return split_sysex8(group{4}, stream, data, o, f); }, n,
            sysex8_bytes_per_packet);
        expect_formats(ps);
        for (const auto& p : ps) ASSERT_EQ(as_sysex8(p)->stream_id(), stream);
        const auto res = feed_sequence(r, ps);
        ASSERT_EQ(res.status, reassembly_status::complete) << n;
        EXPECT_EQ(to_bytes(res.bytes), data) << n;
    }
}

using text_splitter = std::size_t (*)(std::string_view, std::span<packet>, std::size_t);

struct text_case {
    text_kind kind;
    text_splitter split;
};

std::size_t split_block_5(std::string_view t, std::span<packet> o, std::size_t f) {
    return split_function_block_name(5, t, o, f);
}
std::size_t split_flex_lyrics(std::string_view t, std::span<packet> o, std::size_t f) {
    return split_flex_text(group{6}, flex_address::channel, channel{3}, flex_bank_performance_text,
                           static_cast<std::uint8_t>(flex_performance_status::lyrics), t, o, f);
}
std::size_t split_endpoint(std::string_view t, std::span<packet> o, std::size_t f) { return split_endpoint_name(t, o, f); }
std::size_t split_product(std::string_view t, std::span<packet> o, std::size_t f) {
    return split_product_instance_id(t, o, f);
}

const text_case text_cases[] = {
    {text_kind::endpoint_name, split_endpoint},
    {text_kind::product_instance_id, split_product},
    {text_kind::function_block_name, split_block_5},
    {text_kind::flex_text, split_flex_lyrics},
};

TEST(RoundTrip, TextEverySizeUpTo200ValidAndInvalid) {
    std::mt19937 rng(9);
    for (const auto& tc : text_cases) {
        bytes storage(256);
        text_reassembler r(tc.kind, storage, 200);  // above the spec's limits, to cover 0..200
        for (std::size_t n = 0; n <= 200; ++n) {
            // Valid UTF-8, then arbitrary non-zero bytes (mostly invalid).
            const std::string valid = random_utf8(rng, n);
            const auto junk_bytes = random_bytes(rng, n, 1, 0xFF);
            const std::string junk(junk_bytes.begin(), junk_bytes.end());
            for (const std::string& text : {valid, junk}) {
                const auto ps = split_all([&](std::span<packet> o, std::size_t f) { return tc.split(text, o, f); }, n,
                                          text_bytes_per_packet(tc.kind));
                expect_formats(ps);
                const auto res = feed_sequence(r, ps);
                ASSERT_EQ(res.status, utf8_valid(text) ? reassembly_status::complete : reassembly_status::invalid_utf8)
                    << static_cast<int>(tc.kind) << " " << n;
                EXPECT_EQ(to_bytes(res.bytes), to_bytes(text));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Limits: exactly the limit fits, one more overflows, never a write past it
// ---------------------------------------------------------------------------

// Storage with guard bytes after the part handed to the reassembler.
struct guarded_storage {
    explicit guarded_storage(std::size_t n) : all(n + 64, 0xA5), size(n) {}
    std::span<std::uint8_t> span() { return std::span(all).first(size); }
    bool guard_intact() const {
        return std::all_of(all.begin() + static_cast<std::ptrdiff_t>(size), all.end(), [](auto b) { return b == 0xA5; });
    }
    bytes all;
    std::size_t size;
};

TEST(Limits, ExactlyTheLimitAndOneOverForEveryPacketBoundary) {
    std::mt19937 rng(21);
    for (std::size_t limit = 0; limit <= 40; ++limit) {
        guarded_storage s7(limit), s8(limit), st(limit);
        sysex7_reassembler r7(s7.span());
        sysex8_reassembler r8({}, s8.span());
        text_reassembler rt(text_kind::flex_text, st.span());
        for (std::size_t n : {limit, limit + 1}) {
            const auto d7 = random_bytes(rng, n, 0, 0x7F);
            const auto d8 = random_bytes(rng, n, 0, 0xFF);
            const auto dt = random_utf8(rng, n);
            const auto p7 = split_all([&](std::span<packet> o, std::size_t f) { return split_sysex7(group{}, d7, o, f); },
                                      n, 6);
            const auto p8 = split_all(
                [&](std::span<packet> o, std::size_t f) { return split_sysex8(group{}, 1, d8, o, f); }, n, 13);
            const auto pt = split_all([&](std::span<packet> o, std::size_t f) { return split_flex_lyrics(dt, o, f); },
                                      n, 12);
            const bool fits = n == limit;
            auto check = [&](auto& r, const std::vector<packet>& ps, const bytes& data, guarded_storage& g) {
                std::size_t overflows = 0;
                reassembly_result last{};
                for (const auto& p : ps) {
                    last = r.feed(p);
                    if (last.status == reassembly_status::overflow) {
                        ++overflows;
                        EXPECT_LE(last.bytes.size(), limit);
                        EXPECT_TRUE(std::equal(last.bytes.begin(), last.bytes.end(), data.begin()));
                    }
                    ASSERT_TRUE(g.guard_intact());
                }
                if (fits) {
                    EXPECT_EQ(last.status, reassembly_status::complete) << limit;
                    EXPECT_EQ(to_bytes(last.bytes), data);
                } else {
                    EXPECT_EQ(overflows, 1u) << limit;
                    EXPECT_NE(last.status, reassembly_status::complete);
                }
            };
            check(r7, p7, d7, s7);
            check(r8, p8, d8, s8);
            check(rt, pt, to_bytes(dt), st);
            // After an overflow the reassembler is ready for the next message.
            EXPECT_FALSE(r7.busy());
            EXPECT_EQ(r8.open_streams(), 0u);
            EXPECT_EQ(rt.open_count(), 0u);
        }
    }
}

TEST(Limits, OverflowReportsOnceThenDiscardsUntilTheEnd) {
    bytes storage(10);
    sysex7_reassembler r(storage);
    const auto data = bytes(40, 0x11);
    std::vector<packet> ps(7);
    ASSERT_EQ(split_sysex7(group{}, data, ps), 7u);
    std::vector<reassembly_status> got;
    for (const auto& p : ps) got.push_back(r.feed(p).status);
    using enum reassembly_status;
    EXPECT_EQ(got, (std::vector{in_progress, overflow, discarded, discarded, discarded, discarded, discarded}));
}

// ---------------------------------------------------------------------------
// Interleaving
// ---------------------------------------------------------------------------

// Merges packet sequences in a random order that keeps each sequence's own order.
std::vector<std::pair<std::size_t, packet>> interleave(std::mt19937& rng,
                                                       const std::vector<std::vector<packet>>& seqs) {
    std::vector<std::size_t> next(seqs.size(), 0);
    std::vector<std::pair<std::size_t, packet>> out;
    for (;;) {
        std::vector<std::size_t> live;
        for (std::size_t i = 0; i < seqs.size(); ++i)
            if (next[i] < seqs[i].size()) live.push_back(i);
        if (live.empty()) return out;
        const auto pick = live[rng() % live.size()];
        out.emplace_back(pick, seqs[pick][next[pick]++]);
    }
}

// Feeds the merged sequences; each message must complete once, intact, with no error.
void expect_each_completes(auto& r, std::mt19937& rng, const std::vector<bytes>& messages,
                           const std::vector<std::vector<packet>>& seqs) {
    std::size_t completed = 0;
    for (const auto& [i, p] : interleave(rng, seqs)) {
        const auto res = r.feed(p);
        ASSERT_FALSE(res.is_error()) << describe(res);
        if (res.has_message()) {
            ++completed;
            EXPECT_EQ(to_bytes(res.bytes), messages[i]) << i;
        }
    }
    EXPECT_EQ(completed, messages.size());
}

TEST(Interleaving, SixteenGroupsOfSysex7) {
    std::mt19937 rng(31);
    bytes storage(16 * 100);
    sysex7_multi_group_reassembler r(storage);
    for (int round = 0; round < 50; ++round) {
        std::vector<bytes> data;
        std::vector<std::vector<packet>> seqs;
        for (std::uint8_t g = 0; g < 16; ++g) {
            data.push_back(random_bytes(rng, rng() % 101, 0, 0x7F));
            std::vector<packet> ps(packet_count(data.back().size(), 6));
            ASSERT_EQ(split_sysex7(group{g}, data.back(), ps), ps.size());
            // Real-time messages between the packets are not meant for the
            // reassembler; fed anyway, they are ignored.
            seqs.emplace_back();
            for (const auto& p : ps) {
                seqs.back().push_back(make_system(group{g}, system_status::timing_clock));
                seqs.back().push_back(p);
            }
        }
        expect_each_completes(r, rng, data, seqs);
    }
}

TEST(Interleaving, Sysex8StreamsOnOneGroupAndAcrossGroups) {
    std::mt19937 rng(32);
    constexpr std::size_t streams_per_group = 4;
    std::vector<reassembly_slot> slots(16 * streams_per_group);
    bytes storage(16 * streams_per_group * 80);
    sysex8_multi_group_reassembler r(slots, storage);
    EXPECT_EQ(r.group_reassembler(group{3}).max_streams(), streams_per_group);
    EXPECT_EQ(r.group_reassembler(group{3}).limit(), 80u);
    for (int round = 0; round < 50; ++round) {
        std::vector<bytes> data;
        std::vector<std::vector<packet>> seqs;
        // Two groups, four distinct random stream ids on each.
        for (std::uint8_t g : {std::uint8_t{0}, std::uint8_t{9}}) {
            std::vector<std::uint8_t> ids(256);
            for (std::size_t k = 0; k < 256; ++k) ids[k] = static_cast<std::uint8_t>(k);
            std::shuffle(ids.begin(), ids.end(), rng);
            for (std::size_t s = 0; s < streams_per_group; ++s) {
                data.push_back(random_bytes(rng, rng() % 81, 0, 0xFF));
                seqs.push_back(std::vector<packet>(packet_count(data.back().size(), 13)));
                ASSERT_EQ(split_sysex8(group{g}, ids[s], data.back(), seqs.back()), seqs.back().size());
            }
        }
        expect_each_completes(r, rng, data, seqs);
    }
}

TEST(Interleaving, FunctionBlockNamesAndFlexText) {
    std::mt19937 rng(33);
    std::vector<reassembly_slot> slots(8);
    bytes storage(8 * 100);
    text_reassembler names(text_kind::function_block_name, slots, storage);
    std::vector<bytes> texts;
    std::vector<std::vector<packet>> seqs;
    for (std::uint8_t block = 0; block < 8; ++block) {
        texts.push_back(to_bytes(random_utf8(rng, 1 + rng() % 91)));
        seqs.push_back(std::vector<packet>(packet_count(texts.back().size(), 13)));
        ASSERT_EQ(split_function_block_name(block, as_text(texts.back()), seqs.back()), seqs.back().size());
    }
    expect_each_completes(names, rng, texts, seqs);

    // Flex text: one reassembler for every group, channel and status.
    std::vector<reassembly_slot> flex_slots(6);
    bytes flex_storage(6 * 64);
    text_reassembler flex(text_kind::flex_text, flex_slots, flex_storage);
    texts.clear();
    seqs.clear();
    const std::uint8_t statuses[] = {1, 2, 3};
    for (std::uint8_t k = 0; k < 6; ++k) {
        texts.push_back(to_bytes(random_utf8(rng, 1 + rng() % 64)));
        seqs.push_back(std::vector<packet>(packet_count(texts.back().size(), 12)));
        ASSERT_EQ(split_flex_text(group{static_cast<std::uint8_t>(k % 2)}, flex_address::channel,
                                  channel{static_cast<std::uint8_t>(k / 2)}, flex_bank_metadata_text,
                                  statuses[k % 3], as_text(texts.back()), seqs.back()),
                  seqs.back().size());
    }
    expect_each_completes(flex, rng, texts, seqs);
}

// ---------------------------------------------------------------------------
// State and configuration
// ---------------------------------------------------------------------------

TEST(Reassembler, ResetDropsTheOpenMessage) {
    bytes storage(32);
    sysex7_reassembler r(storage);
    EXPECT_EQ(r.feed(make_sysex7(group{}, packet_format::start, bytes{1, 2})).status, reassembly_status::in_progress);
    EXPECT_TRUE(r.busy());
    r.reset();
    EXPECT_FALSE(r.busy());
    EXPECT_EQ(r.feed(make_sysex7(group{}, packet_format::end, bytes{3})).status, reassembly_status::unexpected_end);

    std::vector<reassembly_slot> slots(2);
    sysex8_reassembler r8(slots, storage);
    EXPECT_EQ(r8.feed(make_sysex8(group{}, packet_format::start, 1, bytes{1})).status, reassembly_status::in_progress);
    EXPECT_EQ(r8.feed(make_sysex8(group{}, packet_format::start, 2, bytes{1})).status, reassembly_status::in_progress);
    EXPECT_EQ(r8.open_streams(), 2u);
    r8.reset();
    EXPECT_EQ(r8.open_streams(), 0u);
    EXPECT_EQ(r8.feed(make_sysex8(group{}, packet_format::end, 1, {})).status, reassembly_status::unexpected_end);
}

TEST(Reassembler, DefaultConstructedTakesOnlyEmptyMessages) {
    sysex7_reassembler r;
    EXPECT_EQ(r.limit(), 0u);
    EXPECT_EQ(r.feed(make_sysex7(group{}, packet_format::complete, {})).status, reassembly_status::complete);
    EXPECT_EQ(r.feed(make_sysex7(group{}, packet_format::complete, bytes{1})).status, reassembly_status::overflow);
}

TEST(Reassembler, MultiGroupWithPerGroupStorage) {
    bytes a(4), b(12);
    std::array<std::span<std::uint8_t>, 16> parts{};
    parts[0] = a;
    parts[7] = b;
    sysex7_multi_group_reassembler r(parts);
    EXPECT_EQ(r.group_reassembler(group{0}).limit(), 4u);
    EXPECT_EQ(r.group_reassembler(group{7}).limit(), 12u);
    EXPECT_EQ(r.group_reassembler(group{3}).limit(), 0u);
    const bytes five{1, 2, 3, 4, 5};
    EXPECT_EQ(r.feed(make_sysex7(group{0}, packet_format::complete, five)).status, reassembly_status::overflow);
    const auto res = r.feed(make_sysex7(group{7}, packet_format::complete, five));
    EXPECT_EQ(res.status, reassembly_status::complete);
    EXPECT_EQ(res.bytes.data(), b.data());
    EXPECT_EQ(r.feed(make_sysex7(group{3}, packet_format::complete, five)).status, reassembly_status::overflow);
    EXPECT_EQ(r.feed(make_sysex7(group{3}, packet_format::complete, {})).status, reassembly_status::complete);
}

TEST(Reassembler, MultiGroupSplitsOneSpanInSixteen) {
    bytes storage(16 * 10 + 5);  // the remainder is unused
    sysex7_multi_group_reassembler r(storage);
    for (std::uint8_t g = 0; g < 16; ++g) EXPECT_EQ(r.group_reassembler(group{g}).limit(), 10u);
    const auto res = r.feed(make_sysex7(group{15}, packet_format::complete, bytes{9}));
    ASSERT_EQ(res.status, reassembly_status::complete);
    EXPECT_EQ(res.bytes.data(), storage.data() + 150);

    // Fewer stream slots than groups: each group still holds one stream.
    std::vector<reassembly_slot> few(3);
    sysex8_multi_group_reassembler r8(few, storage);
    EXPECT_EQ(r8.group_reassembler(group{0}).max_streams(), 1u);
    EXPECT_EQ(r8.feed(make_sysex8(group{2}, packet_format::start, 1, bytes{1})).status, reassembly_status::in_progress);
    EXPECT_EQ(r8.feed(make_sysex8(group{2}, packet_format::start, 2, bytes{1})).status,
              reassembly_status::too_many_streams);
}

TEST(Reassembler, TextStopsEachPacketAtItsFirstZero) {
    bytes storage(98);
    text_reassembler r(text_kind::endpoint_name, storage);
    // "AB\0" in a start packet, then "C": the early padding is dropped, the rest kept.
    EXPECT_EQ(r.feed(make_endpoint_name(packet_format::start, bytes{'A', 'B', 0, 'X'})).status,
              reassembly_status::in_progress);
    const auto res = r.feed(make_endpoint_name(packet_format::end, bytes{'C'}));
    ASSERT_EQ(res.status, reassembly_status::complete);
    EXPECT_EQ(to_bytes(res.bytes), to_bytes(std::string_view("ABC")));
}

TEST(Reassembler, CopiesShareNoState) {
    bytes storage(16);
    sysex7_reassembler a(storage);
    EXPECT_EQ(a.feed(make_sysex7(group{}, packet_format::start, bytes{1})).status, reassembly_status::in_progress);
    sysex7_reassembler b = a;  // same storage, its own state
    const auto res = b.feed(make_sysex7(group{}, packet_format::end, bytes{2}));
    ASSERT_EQ(res.status, reassembly_status::complete);
    EXPECT_EQ(to_bytes(res.bytes), (bytes{1, 2}));
    EXPECT_FALSE(b.busy());
    EXPECT_TRUE(a.busy());
}

}  // namespace
}  // namespace umpd::core
