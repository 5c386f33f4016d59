// The SDK's lookup cache: one port_catalog built from umpd's full port list, fetched on
// first use and dropped whenever umpd says its ports may have changed. The client feeds
// it every event it reads (on its control thread) and asks it from application threads;
// it is separate from the socket so that it can be tested alone.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "umpd/client/client.hpp"
#include "umpd/client/ports.hpp"

namespace umpd::client {

class port_cache {
public:
    using fetch_fn = std::function<result<std::vector<midi1_port>>()>;

    // True for the events after which a cached catalog may be stale: ports_changed,
    // endpoint_added / removed / changed, reconnected (and disconnected).
    [[nodiscard]] static bool invalidated_by(event::kind k) noexcept;

    // The cached catalog; when there is none, calls fetch (without holding the cache's
    // lock) and builds one. It is kept only when `keep` is true (the client is
    // subscribed, so it will hear about changes) and nothing invalidated the cache
    // while fetch ran — a fetch that raced with a change is answered but not kept.
    // Thread: any.
    [[nodiscard]] result<std::shared_ptr<const port_catalog>> get(const fetch_fn& fetch, bool keep);

    // Drops the catalog. Thread: any (the control thread, on events).
    void invalidate() noexcept;
    // invalidate() when invalidated_by(e.what). Thread: any.
    void on_event(const event& e) noexcept;

    [[nodiscard]] bool cached() const noexcept;
    [[nodiscard]] std::uint64_t fetches() const noexcept;  // how often get() fetched
    [[nodiscard]] std::uint64_t generation() const noexcept;  // bumped by every invalidation

private:
    mutable std::mutex mu_;  // not a real-time path: lookups and events only
    std::shared_ptr<const port_catalog> catalog_;
    std::uint64_t generation_ = 0;
    std::uint64_t fetches_ = 0;
};

}  // namespace umpd::client
