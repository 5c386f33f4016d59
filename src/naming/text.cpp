// Text rules for names (text.hpp).
#include "umpd/naming/text.hpp"

#include "umpd/core/reassembly.hpp"

namespace umpd::naming {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

bool is_continuation(char c) noexcept { return (static_cast<unsigned char>(c) & 0xC0u) == 0x80u; }

// The length a lead byte announces; 0 for a byte that cannot start a character.
std::size_t sequence_length(unsigned char b) noexcept {
    if (b < 0x80u) return 1;
    if (b >= 0xC2u && b <= 0xDFu) return 2;
    if (b >= 0xE0u && b <= 0xEFu) return 3;
    if (b >= 0xF0u && b <= 0xF4u) return 4;
    return 0;
}

bool is_separator(char c) noexcept {
    switch (c) {
    case ' ': case '\t': case '\n': case '\r': case '\v': case '\f':
    case ':': case ',': case ';': case '/': case '_': case '-':
        return true;
    default:
        return false;
    }
}

}  // namespace

std::string sanitize_text(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        const std::size_t len = sequence_length(b);
        // core's strict validator decides each sequence: overlong forms, surrogates
        // and truncated sequences are replaced one byte at a time.
        if (len == 0 || s.size() - i < len || !core::utf8_valid(s.substr(i, len))) {
            out += replacement;
            ++i;
            continue;
        }
        if (len == 1 && (b < 0x20u || b == 0x7Fu)) {
            out += ' ';
        } else {
            out += s.substr(i, len);
        }
        i += len;
    }
    return out;
}

std::size_t code_points(std::string_view s) noexcept {
    std::size_t n = 0;
    for (char c : s) n += is_continuation(c) ? 0u : 1u;
    return n;
}

std::string_view cut_code_points(std::string_view s, std::size_t max_code_points) noexcept {
    std::size_t seen = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (is_continuation(s[i])) continue;
        if (seen == max_code_points) return core::utf8_truncate(s, i);
        ++seen;
    }
    return s;
}

std::string_view trim_text(std::string_view s) noexcept {
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(" \t");
    return s.substr(b, e - b + 1);
}

std::vector<std::string> folded_words(std::string_view s) {
    std::vector<std::string> words;
    std::string word;
    for (char c : s) {
        if (is_separator(c)) {
            if (!word.empty()) words.push_back(std::move(word));
            word.clear();
            continue;
        }
        word += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    if (!word.empty()) words.push_back(std::move(word));
    return words;
}

std::string fold_name(std::string_view s) {
    std::string out;
    for (const auto& w : folded_words(s)) {
        if (!out.empty()) out += ' ';
        out += w;
    }
    return out;
}

}  // namespace umpd::naming
