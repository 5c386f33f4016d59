// An SDK client connected to a test daemon (daemon_process.hpp).
#pragma once

#include <stdexcept>

#include "daemon_process.hpp"
#include "umpd/client/client.hpp"

namespace umpd_test {

inline umpd::client::client connect_client(const daemon_process& d, const char* name) {
    umpd::client::options o;
    o.runtime_dir = d.dir();
    o.client_name = name;
    auto c = umpd::client::client::connect(o);
    if (!c) throw std::runtime_error(c.message());
    return std::move(*c);
}

}  // namespace umpd_test
