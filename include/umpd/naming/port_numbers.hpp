// Stable MIDI 1.0 port numbers: the same (endpoint identity, group, direction) keeps
// its number across rebuilds, replugs and restarts (the service persists save());
// a new key takes the lowest free number of its direction. Sources and destinations
// are numbered separately, from 0, as WinMM numbers inputs and outputs.
// Not thread-safe: one thread at a time (the service's registry thread).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <vector>

#include "umpd/naming/port.hpp"

namespace umpd::naming {

// Numbers are below this: a corrupt persisted file cannot make the allocator huge.
inline constexpr std::uint32_t max_port_number = 1u << 16;

// The serialisable form: one record per key ever numbered.
struct port_number_record {
    std::string endpoint;  // the endpoint's most specific stable identity
    std::uint8_t group_index = 0;
    port_direction direction = port_direction::source;
    std::uint32_t number = 0;
    friend bool operator==(const port_number_record&, const port_number_record&) = default;
};

class port_numbers {
public:
    // The key's number: the one it had, else the lowest free one of its direction.
    // Precondition: group_index <= 15.
    [[nodiscard]] std::uint32_t assign(std::string_view endpoint, std::uint8_t group_index, port_direction d);
    // The key's number if it has one.
    [[nodiscard]] std::optional<std::uint32_t> find(std::string_view endpoint, std::uint8_t group_index,
                                                    port_direction d) const;
    // Frees the numbers of an endpoint the user removed for good (not on unplug:
    // keeping them is what makes numbers stable). Returns how many were freed.
    std::size_t forget(std::string_view endpoint);

    // Every record, sorted by direction then number.
    [[nodiscard]] std::vector<port_number_record> save() const;
    // Replaces the state with `records` (untrusted: from a file). On an error
    // (errc::group_out_of_range, duplicate_key, duplicate_number, number_out_of_range)
    // nothing changes.
    [[nodiscard]] std::error_code restore(const std::vector<port_number_record>& records);

    [[nodiscard]] std::size_t size() const noexcept { return keys_.size(); }

private:
    using key = std::tuple<std::string, std::uint8_t, port_direction>;
    struct per_direction {
        std::uint32_t next = 0;      // every number below is taken or in `released`
        std::set<std::uint32_t> released;  // freed numbers below `next`
    };
    std::map<key, std::uint32_t, std::less<>> keys_;
    per_direction dirs_[2];
};

}  // namespace umpd::naming
