// Lookups over every MIDI 1.0 port the service publishes: by name (any style, or
// legacy-compatible only) and direction → all matching ports (zero, one or several
// are all normal answers); by number and direction → the port; by endpoint (and
// group and direction) → its ports. port_index answers from hash indexes updated
// per endpoint; port_scan answers the same queries by a linear scan and serves as
// the reference in tests and the baseline in the benchmark.
//
// Not thread-safe: one thread at a time (the service's registry thread). Pointers
// returned stay valid until the next update or removal of THAT endpoint.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "umpd/naming/name_table.hpp"
#include "umpd/naming/port.hpp"

namespace umpd::naming {

struct indexed_port {
    std::string endpoint;  // the endpoint's identity in the service
    std::uint8_t group_index = 0;
    port_direction direction = port_direction::source;
    std::uint32_t number = 0;  // from port_numbers: unique per direction
    std::string custom;        // the names of its name_entry
    std::string legacy;
    std::string new_style;
    std::string shown;         // the name it shows
    friend bool operator==(const indexed_port&, const indexed_port&) = default;
};

// An endpoint's ports from its table and their numbers (numbers[i] for entries[i]).
[[nodiscard]] std::vector<indexed_port> make_indexed_ports(std::string_view endpoint, const name_table& table,
                                                           const std::vector<std::uint32_t>& numbers);

enum class name_match : std::uint8_t {
    any,          // the custom, legacy-compatible, new-style or shown name
    legacy_only,  // only the legacy-compatible name (what old applications stored)
};

// Results of name and endpoint lookups: ordered by endpoint, then group.
using port_list = std::vector<const indexed_port*>;

class port_index {
public:
    port_index();
    ~port_index();
    port_index(const port_index&) = delete;
    port_index& operator=(const port_index&) = delete;

    // Replaces every port of `endpoint` (an empty list removes it). Each port's
    // endpoint field is set to `endpoint`. Fails with errc::duplicate_number when a
    // number is used twice in one direction (within the list or by another endpoint),
    // errc::duplicate_port or errc::group_out_of_range; then nothing changes.
    [[nodiscard]] std::error_code update(std::string_view endpoint, std::vector<indexed_port> ports);
    void remove(std::string_view endpoint);

    [[nodiscard]] port_list find_by_name(std::string_view name, port_direction d,
                                         name_match m = name_match::any) const;
    [[nodiscard]] const indexed_port* find_by_number(std::uint32_t number, port_direction d) const;
    [[nodiscard]] port_list ports_of(std::string_view endpoint) const;
    [[nodiscard]] port_list ports_of(std::string_view endpoint, port_direction d) const;
    [[nodiscard]] const indexed_port* port_of(std::string_view endpoint, std::uint8_t group_index,
                                              port_direction d) const;
    [[nodiscard]] std::size_t size() const noexcept;

private:
    struct state;
    std::unique_ptr<state> s_;
};

class port_scan {
public:
    [[nodiscard]] std::error_code update(std::string_view endpoint, std::vector<indexed_port> ports);
    void remove(std::string_view endpoint);

    [[nodiscard]] port_list find_by_name(std::string_view name, port_direction d,
                                         name_match m = name_match::any) const;
    [[nodiscard]] const indexed_port* find_by_number(std::uint32_t number, port_direction d) const;
    [[nodiscard]] port_list ports_of(std::string_view endpoint) const;
    [[nodiscard]] port_list ports_of(std::string_view endpoint, port_direction d) const;
    [[nodiscard]] const indexed_port* port_of(std::string_view endpoint, std::uint8_t group_index,
                                              port_direction d) const;
    [[nodiscard]] std::size_t size() const noexcept { return ports_.size(); }

private:
    // One allocation per port so that pointers survive other endpoints' updates.
    std::vector<std::unique_ptr<indexed_port>> ports_;
};

}  // namespace umpd::naming
