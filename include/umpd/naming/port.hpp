// The vocabulary the naming module shares with the service: a MIDI 1.0 port's
// direction, its address inside an endpoint, and the naming errors.
//
// Every function of the naming module is plain computation on values: any thread may
// call it, none is real-time safe (they allocate). Classes holding state (port_numbers,
// port_index, port_scan) have no internal locking: one thread at a time, in the
// service that is the thread holding the registry.
#pragma once

#include <cstdint>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace umpd::naming {

// Seen from applications, as WinMM and ALSA see it: a source delivers what the
// endpoint sends (an input port to apps), a destination takes what apps send to it.
enum class port_direction : std::uint8_t { source = 0, destination = 1 };

[[nodiscard]] constexpr std::string_view to_string(port_direction d) noexcept {
    return d == port_direction::source ? "source" : "destination";
}
[[nodiscard]] constexpr std::size_t index_of(port_direction d) noexcept { return static_cast<std::size_t>(d); }

inline constexpr std::uint8_t group_count = 16;
// Every MIDI 1.0 port name fits this many characters (Unicode code points): WinMM's
// MAXPNAMELEN of 32 less the terminating zero, which old applications stored.
inline constexpr std::size_t name_budget = 31;

enum class errc {
    group_out_of_range = 1,  // a group index above 15
    duplicate_port,          // two ports with the same group and direction in one endpoint
    bad_duplicate_ordinal,   // a duplicate ordinal of 0
    duplicate_key,           // a port number record repeats an (endpoint, group, direction)
    duplicate_number,        // two ports share a number in one direction
    number_out_of_range,     // a port number at or above max_port_number
};
[[nodiscard]] const std::error_category& naming_category() noexcept;
[[nodiscard]] std::error_code make_error_code(errc e) noexcept;

}  // namespace umpd::naming

template <>
struct std::is_error_code_enum<umpd::naming::errc> : std::true_type {};
