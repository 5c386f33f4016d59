// Errors of the LV2 plugin host (umpd::lv2).
//
// Every failure a caller can see is an lv2::error: an error code of lv2_category()
// (what went wrong, for programs) and a message naming the plugin and the reason
// (for people). Pure values; any thread.
#pragma once

#include <string>
#include <system_error>
#include <type_traits>

namespace umpd::lv2 {

enum class errc {
    plugin_not_found = 1,  // no plugin with that URI in the world
    bad_bundle,            // the plugin's data does not verify (missing binary, broken ports ...)
    unsupported_feature,   // the plugin requires a feature this host does not provide
    instantiate_failed,    // the plugin's instantiate() returned NULL
    invalid_config,        // sample rate, block size or buffer sizes out of range
    unknown_port,          // no control input port with that symbol
    state_failed,          // state save or restore did not succeed
    thread_failed,         // the worker thread could not be started
};

[[nodiscard]] const std::error_category& lv2_category() noexcept;
[[nodiscard]] std::error_code make_error_code(errc e) noexcept;

struct error {
    std::error_code code;
    std::string message;  // "<plugin URI>: <reason>"
    [[nodiscard]] explicit operator bool() const noexcept { return static_cast<bool>(code); }
};

}  // namespace umpd::lv2

template <>
struct std::is_error_code_enum<umpd::lv2::errc> : std::true_type {};
