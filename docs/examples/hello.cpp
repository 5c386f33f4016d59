// The umpd SDK in a few lines: connect, list, open an endpoint, send a note and read
// it back through the endpoint's loopback.
//   umpd_hello [ENDPOINT]      (default: the first endpoint umpd lists)
#include <chrono>
#include <cstdio>
#include <string>

#include "umpd/client/client.hpp"
#include "umpd/core/describe.hpp"
#include "umpd/core/messages.hpp"

namespace uc = umpd::client;

int main(int argc, char** argv) {
    auto client = uc::client::connect({.client_name = "umpd_hello"});
    if (!client) {
        std::fprintf(stderr, "umpd_hello: %s\n", client.message().c_str());
        return 1;
    }
    auto listing = client->list();
    if (!listing || listing->endpoints.empty()) {
        std::fprintf(stderr, "umpd_hello: %s\n", listing ? "umpd has no endpoints" : listing.message().c_str());
        return 1;
    }
    for (const auto& e : listing->endpoints)
        std::printf("%-40s %-24s %s\n", e.id.c_str(), e.name.c_str(), e.protocol.c_str());

    const std::string target = argc > 1 ? argv[1] : listing->endpoints.front().id;
    auto conn = client->open(target);
    if (!conn) {
        std::fprintf(stderr, "umpd_hello: %s\n", conn.message().c_str());
        return 1;
    }
    using namespace umpd::core;
    const packet note = make_midi2_note_on(group{0}, channel{0}, 60, 0xC000, 0, 0);
    if (auto sent = conn->send(note); !sent) {
        std::fprintf(stderr, "umpd_hello: %s\n", sent.message().c_str());
        return 1;
    }
    // Wait up to a second for what the endpoint's source emits.
    uc::timed_packet m;
    while (conn->wait(std::chrono::seconds(1))) {
        if (!conn->receive(m)) continue;
        std::printf("received at %llu: %s\n", static_cast<unsigned long long>(m.timestamp_ns), describe(m.packet).c_str());
        return 0;
    }
    std::printf("nothing came back from %s (not a loopback?)\n", target.c_str());
    return 0;
}
