// Text and JSON descriptions of packets, driven by tests/vectors/describe.txt and
// describe_json.txt. Also checks that the vectors cover every message type and every
// status UMP 1.1 defines, that every JSON output parses with a strict reader, and
// that no packet at all (random words, seeded) makes the describers misbehave.
#include "umpd/core/describe.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "umpd/core/messages.hpp"
#include "vector_file.hpp"

namespace umpd::core {
namespace {

// ---------------------------------------------------------------------------
// A strict JSON reader (RFC 8259): enough to prove the output is valid and to pull
// out the top-level keys.
// ---------------------------------------------------------------------------

class json_reader {
public:
    explicit json_reader(std::string_view s) : s_(s) {}

    // Parses one value spanning the whole input; on success fills the top-level
    // object's keys (in order) if the value is an object.
    bool parse_document(std::vector<std::string>* top_keys = nullptr) {
        keys_ = top_keys;
        ws();
        if (!value(0)) return false;
        ws();
        return pos_ == s_.size();
    }

private:
    bool value(int depth) {
        if (depth > 64 || pos_ >= s_.size()) return false;
        switch (s_[pos_]) {
        case '{': return object(depth);
        case '[': return array(depth);
        case '"': return string(nullptr);
        case 't': return literal("true");
        case 'f': return literal("false");
        case 'n': return literal("null");
        default: return number();
        }
    }
    bool object(int depth) {
        ++pos_;
        ws();
        if (peek('}')) return ++pos_, true;
        while (true) {
            std::string key;
            ws();
            if (!string(&key)) return false;
            if (depth == 0 && keys_ != nullptr) keys_->push_back(key);
            ws();
            if (!peek(':')) return false;
            ++pos_;
            ws();
            if (!value(depth + 1)) return false;
            ws();
            if (peek('}')) return ++pos_, true;
            if (!peek(',')) return false;
            ++pos_;
        }
    }
    bool array(int depth) {
        ++pos_;
        ws();
        if (peek(']')) return ++pos_, true;
        while (true) {
            ws();
            if (!value(depth + 1)) return false;
            ws();
            if (peek(']')) return ++pos_, true;
            if (!peek(',')) return false;
            ++pos_;
        }
    }
    bool string(std::string* out) {
        if (!peek('"')) return false;
        ++pos_;
        while (pos_ < s_.size()) {
            const auto c = static_cast<unsigned char>(s_[pos_]);
            if (c == '"') return ++pos_, true;
            if (c < 0x20) return false;
            if (c == '\\') {
                if (++pos_ >= s_.size()) return false;
                const char e = s_[pos_];
                if (e == 'u') {
                    for (int i = 0; i < 4; ++i)
                        if (++pos_ >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[pos_]))) return false;
                } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
                    return false;
                }
                ++pos_;
                continue;
            }
            if (c >= 0x80) {
                // Well-formed UTF-8 only.
                int n = c >= 0xF0 && c <= 0xF4 ? 3 : c >= 0xE0 ? 2 : c >= 0xC2 && c <= 0xDF ? 1 : -1;
                if (n < 0 || c > 0xF4) return false;
                for (int i = 0; i < n; ++i)
                    if (++pos_ >= s_.size() || (static_cast<unsigned char>(s_[pos_]) & 0xC0) != 0x80) return false;
                ++pos_;
                continue;
            }
            if (out) out->push_back(static_cast<char>(c));
            ++pos_;
        }
        return false;
    }
    bool number() {
        const auto digit = [&] { return pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9'; };
        if (peek('-')) ++pos_;
        if (!digit()) return false;
        if (s_[pos_] == '0') ++pos_;
        else while (digit()) ++pos_;
        if (peek('.')) {
            ++pos_;
            if (!digit()) return false;
            while (digit()) ++pos_;
        }
        if (peek('e') || peek('E')) {
            ++pos_;
            if (peek('+') || peek('-')) ++pos_;
            if (!digit()) return false;
            while (digit()) ++pos_;
        }
        return true;
    }
    bool literal(std::string_view w) {
        if (s_.substr(pos_, w.size()) != w) return false;
        pos_ += w.size();
        return true;
    }
    bool peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
    void ws() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
    }

    std::string_view s_;
    std::size_t pos_ = 0;
    std::vector<std::string>* keys_ = nullptr;
};

bool valid_json_object(const std::string& s, std::vector<std::string>* keys = nullptr) {
    return !s.empty() && s.front() == '{' && json_reader(s).parse_document(keys);
}

TEST(JsonReader, AcceptsAndRejects) {
    EXPECT_TRUE(valid_json_object(R"({"a":[1,-2.5e3,true,null,"x\u00e9\n"],"b":{}})"));
    EXPECT_FALSE(valid_json_object(R"({"a":01})"));
    EXPECT_FALSE(valid_json_object(R"({"a":1,})"));
    EXPECT_FALSE(valid_json_object("{\"a\":\"\x01\"}"));
    EXPECT_FALSE(valid_json_object("{\"a\":\"\xff\"}"));
    EXPECT_FALSE(valid_json_object(R"({"a":"\x41"})"));
    EXPECT_FALSE(valid_json_object(R"({"a":1} x)"));
}

// ---------------------------------------------------------------------------
// Vectors
// ---------------------------------------------------------------------------

packet packet_of(const test::vector_case& c) {
    const auto words = test::parse_hex_words(c.fields.at(0));
    EXPECT_FALSE(words.empty()) << c.where();
    if (words.empty()) return packet{};
    // A vector with the wrong number of words would test something else than it says.
    EXPECT_EQ(words.size(), word_count_of(words[0])) << c.where() << ": word count does not match the type";
    return packet::from_words(words);
}

TEST(Describe, TextVectors) {
    for (const auto& c : test::load_vectors("describe.txt")) {
        ASSERT_EQ(c.fields.size(), 2u) << c.where();
        const packet p = packet_of(c);
        EXPECT_EQ(describe(p), c.fields[1]) << c.where();
    }
}

TEST(Describe, JsonVectors) {
    for (const auto& c : test::load_vectors("describe_json.txt")) {
        ASSERT_EQ(c.fields.size(), 2u) << c.where();
        const packet p = packet_of(c);
        const std::string j = describe_json(p);
        EXPECT_EQ(j, c.fields[1]) << c.where();
        EXPECT_TRUE(valid_json_object(j)) << c.where() << ": " << j;
    }
}

// The text line and the JSON object carry the same fields under the same keys.
TEST(Describe, TextAndJsonAgreeOnKeysAndName) {
    for (const auto& c : test::load_vectors("describe.txt")) {
        const packet p = packet_of(c);
        const std::string line = describe(p);
        std::vector<std::string> keys;
        ASSERT_TRUE(valid_json_object(describe_json(p), &keys)) << c.where();
        ASSERT_GE(keys.size(), 3u);
        EXPECT_EQ(keys.front(), "type");
        EXPECT_EQ(keys.back(), "words");
        const std::string name = message_name(p);
        EXPECT_TRUE(line.rfind(name, 0) == 0 || line.find("  " + name) != std::string::npos) << c.where();
        std::set<std::string> seen;
        for (const auto& k : keys) {
            EXPECT_TRUE(seen.insert(k).second) << c.where() << ": duplicate key " << k;
            if (k == "type" || k == "message" || k == "words") continue;
            if (k == "group" || k == "channel") {
                EXPECT_NE(line.find(" " + k + " "), std::string::npos) << c.where() << ": " << k;
                continue;
            }
            EXPECT_NE(line.find(" " + k + "="), std::string::npos) << c.where() << ": text lacks " << k;
        }
    }
}

// Which (type, status) a packet exercises, for the coverage check below.
std::string coverage_key(const packet& p) {
    const auto t = static_cast<unsigned>(p.type());
    const auto w = p[0];
    switch (p.type()) {
    case message_type::utility:
    case message_type::midi1_channel_voice:
    case message_type::data64:
    case message_type::midi2_channel_voice:
    case message_type::data128: return std::to_string(t) + "/" + std::to_string(field<23, 20>(w));
    case message_type::system: return "1/" + std::to_string(field<23, 16>(w));
    case message_type::flex_data:
        return "13/" + std::to_string(field<15, 8>(w)) + "/" + std::to_string(field<7, 0>(w));
    case message_type::ump_stream: return "15/" + std::to_string(field<25, 16>(w));
    default: return std::to_string(t);
    }
}

TEST(Describe, VectorsCoverEveryTypeAndStatus) {
    std::set<std::string> covered;
    for (const auto& c : test::load_vectors("describe.txt")) covered.insert(coverage_key(packet_of(c)));

    std::vector<std::string> required;
    const auto add = [&](const std::string& k) { required.push_back(k); };
    for (unsigned s = 0; s <= 4; ++s) add("0/" + std::to_string(s));
    add("0/5");  // unknown utility status
    for (unsigned s : {0xF1u, 0xF2u, 0xF3u, 0xF6u, 0xF8u, 0xFAu, 0xFBu, 0xFCu, 0xFEu, 0xFFu, 0xF4u, 0xF5u, 0xF9u, 0xFDu,
                       0xF0u, 0xF7u})
        add("1/" + std::to_string(s));
    for (unsigned s : {0x8u, 0x9u, 0xAu, 0xBu, 0xCu, 0xDu, 0xEu, 0x0u, 0x7u}) add("2/" + std::to_string(s));  // 0, 7: unknown
    for (unsigned s = 0; s <= 4; ++s) add("3/" + std::to_string(s));                // 4: unknown
    for (unsigned s = 0; s <= 15; ++s) add("4/" + std::to_string(s));               // 7: unknown
    for (unsigned s : {0u, 1u, 2u, 3u, 8u, 9u, 4u}) add("5/" + std::to_string(s));  // 4: unknown
    for (unsigned s : {0u, 1u, 2u, 5u, 6u, 3u}) add("13/0/" + std::to_string(s));  // 3: unknown
    for (unsigned s = 0; s <= 0x0D; ++s) add("13/1/" + std::to_string(s));          // 0x0D: unknown
    for (unsigned s = 0; s <= 5; ++s) add("13/2/" + std::to_string(s));             // 5: unknown
    add("13/3/0");                                                                  // unknown bank
    for (unsigned s : {0x00u, 0x01u, 0x02u, 0x03u, 0x04u, 0x05u, 0x06u, 0x10u, 0x11u, 0x12u, 0x20u, 0x21u, 0x22u})
        add("15/" + std::to_string(s));  // 0x22: unknown
    for (unsigned t : {6u, 7u, 8u, 9u, 10u, 11u, 12u, 14u}) add(std::to_string(t));

    for (const auto& k : required) EXPECT_TRUE(covered.count(k)) << "describe.txt lacks a case for " << k;
}

// ---------------------------------------------------------------------------
// Behaviour beyond the vectors
// ---------------------------------------------------------------------------

TEST(Describe, TypeNamesAndKeys) {
    EXPECT_EQ(message_type_name(message_type::midi2_channel_voice), "MIDI 2.0 Channel Voice");
    EXPECT_EQ(message_type_name(message_type::ump_stream), "UMP Stream");
    EXPECT_EQ(message_type_name(message_type::reserved_b), "Reserved");
    std::set<std::string_view> keys;
    for (unsigned t = 0; t < 16; ++t) {
        const auto type = static_cast<message_type>(t);
        EXPECT_FALSE(message_type_name(type).empty());
        EXPECT_TRUE(keys.insert(message_type_key(type)).second) << t;
    }
    EXPECT_EQ(message_type_key(message_type::reserved_e), "reserved_e");
}

TEST(Describe, NamesFromBuilders) {
    EXPECT_EQ(message_name(make_midi2_registered_controller(group{0}, channel{0}, 0, 6, 1)), "Registered Controller");
    EXPECT_EQ(message_name(make_midi1_note_on(group{0}, channel{0}, 60, 1)), "Note On");
    EXPECT_EQ(message_name(make_sysex7(group{0}, packet_format::start, {})), "SysEx7 Start");
    EXPECT_EQ(message_name(make_endpoint_name(packet_format::end, {})), "Endpoint Name");
    EXPECT_EQ(message_name(make_function_block_info({})), "Function Block Info");
    EXPECT_EQ(message_name(make_jr_timestamp(1)), "JR Timestamp");
    EXPECT_EQ(message_name(make_set_tempo(group{0}, 1)), "Set Tempo");
    EXPECT_EQ(message_name(packet{0x60000000u}), "Reserved (type 0x6)");
    EXPECT_EQ(message_name(packet{0x10F40000u}), "Unknown System status 0xf4");
}

TEST(Describe, GroupsAndChannelsAreOneBased) {
    const packet p = make_midi1_control_change(group{15}, channel{15}, 7, 100);
    EXPECT_EQ(describe(p), "MIDI 1.0 Channel Voice  group 16 channel 16  Control Change  controller=7 value=100");
    EXPECT_NE(describe_json(p).find(R"("group":16,"channel":16)"), std::string::npos);
    const packet fb = make_function_block_info({.active = true, .block = 0, .ui_hint = function_block_ui_hint::sender,
                                                .midi1 = function_block_midi1::no,
                                                .direction = function_block_direction::input, .first_group = group{0},
                                                .group_count = 16, .midi_ci_version = 0, .max_sysex8_streams = 0});
    EXPECT_NE(describe(fb).find("first_group=1 groups=16"), std::string::npos) << describe(fb);
}

TEST(Describe, TextEscapingEveryControlByte) {
    for (unsigned b = 1; b < 0x100; ++b) {
        const std::uint8_t text[] = {'a', static_cast<std::uint8_t>(b), 'z'};
        const packet p = make_endpoint_name(packet_format::complete, text);
        const std::string line = describe(p);
        const std::string json = describe_json(p);
        ASSERT_TRUE(valid_json_object(json)) << b << ": " << json;
        // The quoted text in the line holds no raw control byte and no lone high byte.
        const auto q = line.find("text=\"");
        ASSERT_NE(q, std::string::npos);
        for (std::size_t i = q; i < line.size(); ++i) {
            const auto c = static_cast<unsigned char>(line[i]);
            EXPECT_TRUE(c >= 0x20 && c < 0x7F) << "byte " << b << " leaks into: " << line;
        }
        EXPECT_EQ(line.back(), '"');
    }
    const std::uint8_t tricky[] = {'"', '\\', '\n', 0x01, 0xC3, 0xA9};
    const packet p = make_endpoint_name(packet_format::complete, tricky);
    EXPECT_EQ(describe(p), "UMP Stream  Endpoint Name  format=complete text=\"\\\"\\\\\\n\\x01\xC3\xA9\"");
    EXPECT_NE(describe_json(p).find(R"("text":"\"\\\n\u0001)" "\xC3\xA9" R"(")"), std::string::npos)
        << describe_json(p);
}

// Any four words describe without trouble: a non-empty line, valid JSON with the
// right number of words, the group shown exactly when the type has one.
TEST(Describe, RandomPacketsSeeded) {
    std::mt19937 rng(2024);
    for (int i = 0; i < 100000; ++i) {
        packet p;
        for (auto& w : p.words) w = static_cast<std::uint32_t>(rng());
        // Bias a third of them to the defined status ranges so the decoders run deep.
        if (i % 3 == 0) p.words[0] &= 0xF0FF00FFu;
        const std::string line = describe(p);
        ASSERT_FALSE(line.empty());
        std::vector<std::string> keys;
        const std::string json = describe_json(p);
        ASSERT_TRUE(valid_json_object(json, &keys)) << json;
        ASSERT_EQ(keys.back(), "words");
        std::size_t quoted_words = 0;
        for (std::size_t at = json.find("\"words\":["); at != std::string::npos && at < json.size(); ++at)
            if (json[at] == ',' || json[at] == '[') ++quoted_words;
        EXPECT_EQ(quoted_words, p.size()) << json;
        const bool shows_group = line.find("  group ") != std::string::npos;
        EXPECT_EQ(shows_group, has_group(p.type()) && !is_reserved(p.type())) << line;
    }
}

}  // namespace
}  // namespace umpd::core
