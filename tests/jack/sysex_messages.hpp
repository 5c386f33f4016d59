// Test support shared by the JACK tests: SysEx as UMP packets and back, and draining
// a umpd::jack::client's incoming messages. Test thread only.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "jack_server.hpp"
#include "umpd/core/messages.hpp"
#include "umpd/jack/client.hpp"

namespace umpd::jack::test {

// 7-bit SysEx packets of up to 6 bytes each (one complete packet when it fits).
inline std::vector<core::packet> sysex_packets(const std::vector<std::uint8_t>& bytes, core::group g = {}) {
    std::vector<core::packet> out;
    const std::size_t n = bytes.size();
    for (std::size_t i = 0; i < n || (n == 0 && i == 0); i += 6) {
        const std::size_t len = std::min<std::size_t>(6, n - i);
        core::packet_format f = n <= 6 ? core::packet_format::complete
                                : i == 0 ? core::packet_format::start
                                : i + len >= n ? core::packet_format::end
                                               : core::packet_format::continue_;
        out.push_back(core::make_sysex7(g, f, std::span(bytes).subspan(i, len)));
        if (n == 0) break;
    }
    return out;
}

// The SysEx payload of a run of 7-bit SysEx packets.
inline std::vector<std::uint8_t> sysex_bytes(const std::vector<incoming_message>& msgs) {
    std::vector<std::uint8_t> b;
    for (const auto& m : msgs)
        if (auto v = core::as_sysex7(m.packet))
            for (unsigned i = 0; i < v->size(); ++i) b.push_back(v->byte(i));
    return b;
}

// Drains the client until `done` holds for what arrived (or wait_until's guard expires).
inline std::vector<incoming_message> receive_until(client& c,
                                                   const std::function<bool(const std::vector<incoming_message>&)>& done) {
    std::vector<incoming_message> got;
    std::array<incoming_message, 256> buf{};
    wait_until([&] {
        for (;;) {
            const std::size_t n = c.take(buf);
            got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
            if (n < buf.size()) break;
        }
        return done(got);
    });
    return got;
}

}  // namespace umpd::jack::test
