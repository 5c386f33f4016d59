// Reads data-driven test vectors: one case a line, "input | expected", with '#'
// starting a comment line and blank lines ignored. Fields are trimmed.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace umpd::test {

struct vector_case {
    std::string file;
    int line = 0;
    std::vector<std::string> fields;  // split on '|'
    [[nodiscard]] std::string where() const { return file + ":" + std::to_string(line); }
};

inline std::string trim(std::string s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

// name is relative to tests/vectors/.
inline std::vector<vector_case> load_vectors(const std::string& name) {
    const std::string path = std::string(UMPD_TEST_VECTORS_DIR) + "/" + name;
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open test vectors " + path);
    std::vector<vector_case> cases;
    std::string text;
    int line_no = 0;
    while (std::getline(in, text)) {
        ++line_no;
        const std::string t = trim(text);
        if (t.empty() || t[0] == '#') continue;
        vector_case c{name, line_no, {}};
        std::string field;
        std::istringstream fields(t);
        while (std::getline(fields, field, '|')) c.fields.push_back(trim(field));
        cases.push_back(std::move(c));
    }
    if (cases.empty()) throw std::runtime_error("no test vectors in " + path);
    return cases;
}

// Parses whitespace-separated hex numbers ("20903c64 40903c00", optional 0x).
inline std::vector<std::uint32_t> parse_hex_words(const std::string& s) {
    std::vector<std::uint32_t> out;
    std::istringstream in(s);
    std::string tok;
    while (in >> tok) out.push_back(static_cast<std::uint32_t>(std::stoul(tok, nullptr, 16)));
    return out;
}

inline std::vector<std::uint8_t> parse_hex_bytes(const std::string& s) {
    std::vector<std::uint8_t> out;
    for (auto w : parse_hex_words(s)) {
        if (w > 0xFF) throw std::runtime_error("byte out of range in vector: " + s);
        out.push_back(static_cast<std::uint8_t>(w));
    }
    return out;
}

}  // namespace umpd::test
