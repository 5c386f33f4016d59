// What the service verbs share: reaching umpd, endpoint lookup, time options.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli.hpp"
#include "umpd/client/client.hpp"

namespace umpctl {

// Connects to the umpd of --runtime-dir (default: the SDK's); an input_error naming
// the problem when it cannot.
[[nodiscard]] umpd::client::client connect_service(const arguments& a, const char* client_name);

// Throws input_error with the SDK's message when r failed.
template <class T>
T value_or_throw(umpd::client::result<T> r) {
    if (!r) throw input_error(r.message());
    return std::move(*r);
}
void check(const umpd::client::result<void>& r);

// The endpoint with that id or name, from umpd's list; input_error when none.
[[nodiscard]] umpd::client::endpoint_info find_endpoint(umpd::client::client& c, const std::string& id_or_name);

// Sleeps until the CLOCK_MONOTONIC time t (no-op when it has passed).
void sleep_until_ns(std::uint64_t t);

}  // namespace umpctl
