// Text rules shared by every name: UTF-8 made safe, lengths in code points, cutting
// on character boundaries, trimming and the folded form names are compared in.
// Pure functions; any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace umpd::naming {

// Names come from devices, files and users: invalid UTF-8 sequences become U+FFFD
// and control characters (C0, DEL) a space, so a name is always printable and valid.
[[nodiscard]] std::string sanitize_text(std::string_view s);

// Length in Unicode code points. Precondition: s is valid UTF-8 (sanitize_text).
[[nodiscard]] std::size_t code_points(std::string_view s) noexcept;

// The first max_code_points characters of s (all of it when shorter), never ending
// inside a character. Precondition: s is valid UTF-8.
[[nodiscard]] std::string_view cut_code_points(std::string_view s, std::size_t max_code_points) noexcept;

// s without leading and trailing spaces and tabs.
[[nodiscard]] std::string_view trim_text(std::string_view s) noexcept;

// The words of s in folded form: ASCII letters lower-cased, split at white space and
// at ': , ; / _ -'. Other characters (including non-ASCII ones) compare exactly.
[[nodiscard]] std::vector<std::string> folded_words(std::string_view s);
// The folded words joined by single spaces: two names are "the same" when these are equal.
[[nodiscard]] std::string fold_name(std::string_view s);

}  // namespace umpd::naming
