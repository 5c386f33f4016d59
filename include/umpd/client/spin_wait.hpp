// The consumer's wait of the data path: spin briefly (cheap when messages are dense,
// and no CPU at all once it gives up), then sleep on the eventfd with the ring's
// sleep protocol. The SDK's connection::wait() and umpctl's benchmark floor both use
// it, so the floor measures the same wake-up mechanism the SDK uses.
#pragma once

#include <chrono>

#include "umpd/ipc/fd.hpp"
#include "umpd/ipc/ring.hpp"

namespace umpd::client {

// True when the ring has a message to read; false after `timeout` (negative: wait
// forever). On false the reader has announced it sleeps, so the producer's next
// publish signals `w`. Thread: the ring's consumer thread. Not real-time (it sleeps).
bool wait_for_data(ipc::ring_reader& r, const ipc::wake& w, std::chrono::nanoseconds timeout,
                   std::chrono::nanoseconds spin) noexcept;

}  // namespace umpd::client
