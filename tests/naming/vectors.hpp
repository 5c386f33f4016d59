// Shared by the naming tests: the escapes of the vector files.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace umpd::naming::test {

// "\s" a space, "\xHH" a byte, "\\" a backslash.
inline std::string unescape(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\') {
            out += s[i];
            continue;
        }
        if (i + 1 >= s.size()) throw std::runtime_error("dangling backslash in vector");
        const char c = s[++i];
        if (c == 's') {
            out += ' ';
        } else if (c == '\\') {
            out += '\\';
        } else if (c == 'x' && i + 2 < s.size()) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            throw std::runtime_error("bad escape in vector: " + std::string(s));
        }
    }
    return out;
}

inline std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        const auto at = s.find(sep, start);
        std::string part(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
        const auto b = part.find_first_not_of(' ');
        const auto e = part.find_last_not_of(' ');
        out.push_back(b == std::string::npos ? std::string{} : part.substr(b, e - b + 1));
        if (at == std::string_view::npos) break;
        start = at + 1;
    }
    return out;
}

}  // namespace umpd::naming::test
