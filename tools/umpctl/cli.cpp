#include "cli.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace umpctl {

arguments::arguments(std::vector<std::string> args, std::vector<std::string> flags) {
    bool options_done = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (options_done || a.size() < 3 || a.rfind("--", 0) != 0) {
            if (a == "--") {
                options_done = true;
                continue;
            }
            positional_.push_back(a);
            continue;
        }
        std::string name = a.substr(2);
        std::string value;
        bool has_value = false;
        if (const auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name.resize(eq);
            has_value = true;
        }
        if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
            if (has_value) throw usage_error("--" + name + " takes no value");
            flags_set_.push_back(name);
            continue;
        }
        if (!has_value) {
            if (i + 1 >= args.size()) throw usage_error("--" + name + " needs a value");
            value = args[++i];
        }
        if (options_.count(name) != 0) throw usage_error("--" + name + " given twice");
        options_.emplace(std::move(name), std::move(value));
    }
}

bool arguments::flag(std::string_view name) const {
    return std::find(flags_set_.begin(), flags_set_.end(), name) != flags_set_.end();
}

std::optional<std::string> arguments::option(std::string_view name) const {
    const auto it = options_.find(name);
    if (it == options_.end()) return std::nullopt;
    return it->second;
}

std::string arguments::option_or(std::string_view name, std::string fallback) const {
    auto v = option(name);
    return v ? *v : std::move(fallback);
}

std::optional<long long> arguments::integer(std::string_view name, long long min, long long max) const {
    const auto v = option(name);
    if (!v) return std::nullopt;
    return parse_integer(*v, min, max, "--" + std::string(name));
}

void arguments::reject_unknown(const std::vector<std::string>& known) const {
    for (const auto& [name, value] : options_)
        if (std::find(known.begin(), known.end(), name) == known.end())
            throw usage_error("unknown option --" + name);
}

long long parse_integer(std::string_view text, long long min, long long max, std::string_view what) {
    const std::string s(text);
    if (s.empty()) throw usage_error(std::string(what) + ": empty value");
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(s.c_str(), &end, 0);
    if (errno != 0 || end == s.c_str() || *end != '\0')
        throw usage_error(std::string(what) + ": '" + s + "' is not a number");
    if (v < min || v > max)
        throw usage_error(std::string(what) + ": " + s + " is out of range " + std::to_string(min) + ".." +
                          std::to_string(max));
    return v;
}

std::vector<hex_token> read_hex_tokens(const std::vector<std::string>& positional) {
    std::vector<hex_token> tokens;
    auto split = [&tokens](const std::string& text) {
        std::string t;
        for (char ch : text + " ") {
            if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == ',') {
                if (!t.empty()) tokens.push_back({t, tokens.size()});
                t.clear();
            } else {
                t.push_back(ch);
            }
        }
    };
    if (!positional.empty()) {
        for (const auto& p : positional) split(p);
    } else {
        std::string line;
        while (std::getline(std::cin, line)) {
            if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
            split(line);
        }
    }
    return tokens;
}

namespace {
bool parse_hex(std::string_view t, unsigned max_digits, std::uint32_t& out) {
    if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) t.remove_prefix(2);
    if (t.empty() || t.size() > max_digits) return false;
    std::uint32_t v = 0;
    for (char ch : t) {
        unsigned d;
        if (ch >= '0' && ch <= '9') d = static_cast<unsigned>(ch - '0');
        else if (ch >= 'a' && ch <= 'f') d = static_cast<unsigned>(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F') d = static_cast<unsigned>(ch - 'A' + 10);
        else return false;
        v = (v << 4) | d;
    }
    out = v;
    return true;
}
}  // namespace

std::vector<std::uint32_t> parse_words(const std::vector<hex_token>& tokens) {
    std::vector<std::uint32_t> words;
    for (const auto& t : tokens) {
        std::uint32_t w;
        if (!parse_hex(t.text, 8, w))
            throw input_error("word " + std::to_string(t.index + 1) + " '" + t.text + "' is not a 32-bit hex number");
        words.push_back(w);
    }
    return words;
}

std::vector<std::uint8_t> parse_bytes(const std::vector<hex_token>& tokens) {
    std::vector<std::uint8_t> bytes;
    for (const auto& t : tokens) {
        std::uint32_t b;
        if (!parse_hex(t.text, 2, b))
            throw input_error("byte " + std::to_string(t.index + 1) + " '" + t.text + "' is not an 8-bit hex number");
        bytes.push_back(static_cast<std::uint8_t>(b));
    }
    return bytes;
}

std::string hex_word(std::uint32_t w) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", w);
    return buf;
}

std::string hex_byte(std::uint8_t b) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02x", b);
    return buf;
}

}  // namespace umpctl
