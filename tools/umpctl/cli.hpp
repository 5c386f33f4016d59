// Command-line plumbing shared by umpctl's verbs: argument parsing, hex input and
// the one-line error convention (message on stderr, non-zero exit).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace umpctl {

// Thrown for bad usage or bad input; main() prints "umpctl VERB: what" and exits 2.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// Thrown for input that is malformed after parsing; main() prints it and exits 1.
struct input_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Options are "--name value" or "--name=value"; flags are "--name" listed in `flags`.
// Everything else is a positional argument, in order.
class arguments {
public:
    arguments(std::vector<std::string> args, std::vector<std::string> flags);

    [[nodiscard]] const std::vector<std::string>& positional() const noexcept { return positional_; }
    [[nodiscard]] bool flag(std::string_view name) const;
    [[nodiscard]] std::optional<std::string> option(std::string_view name) const;
    [[nodiscard]] std::string option_or(std::string_view name, std::string fallback) const;
    // An integer option in [min, max]; accepts decimal, 0x-hex and negative decimal.
    [[nodiscard]] std::optional<long long> integer(std::string_view name, long long min, long long max) const;
    // Fails with a usage_error naming every option the verb did not consume.
    void reject_unknown(const std::vector<std::string>& known) const;

private:
    std::vector<std::string> positional_;
    std::map<std::string, std::string, std::less<>> options_;
    std::vector<std::string> flags_set_;
};

// Parses an integer with a range check; `what` names it in the error.
[[nodiscard]] long long parse_integer(std::string_view text, long long min, long long max, std::string_view what);

// A token of hex input and where it came from, for errors that name the position.
struct hex_token {
    std::string text;
    std::size_t index = 0;  // 0-based position among the tokens
};

// Whitespace- or comma-separated tokens from the positional arguments, or from
// stdin when there are none.
[[nodiscard]] std::vector<hex_token> read_hex_tokens(const std::vector<std::string>& positional);

// Converts tokens to 32-bit words / bytes; the error names the token and its position (1-based).
[[nodiscard]] std::vector<std::uint32_t> parse_words(const std::vector<hex_token>& tokens);
[[nodiscard]] std::vector<std::uint8_t> parse_bytes(const std::vector<hex_token>& tokens);

[[nodiscard]] std::string hex_word(std::uint32_t w);
[[nodiscard]] std::string hex_byte(std::uint8_t b);

}  // namespace umpctl
