#include "umpd/service/local_connection.hpp"

#include <span>

#include "umpd/service/registry.hpp"

namespace umpd::service {

std::error_code local_connection::create(std::uint32_t to_service_words, std::uint32_t to_client_words,
                                         std::shared_ptr<ipc::wake> client_wake,
                                         std::shared_ptr<ipc::wake> service_wake) {
    auto valid = [](std::uint32_t w) { return w >= 64 && (w & (w - 1)) == 0; };
    if (!valid(to_service_words) || !valid(to_client_words)) return make_error_code(service_errc::invalid_argument);
    auto region = std::make_shared<ipc::shm_region>();
    if (auto ec = ipc::shm_region::create("umpd-local", ipc::connection_bytes(to_service_words, to_client_words), *region))
        return ec;
    ipc::init_connection(*region, to_service_words, to_client_words);
    ipc::connection_rings rings;
    if (auto ec = ipc::attach_connection(*region, rings)) return ec;
    for (auto* w : {&client_wake, &service_wake}) {
        if (*w) continue;
        *w = std::make_shared<ipc::wake>();
        if (auto ec = ipc::wake::create(**w)) return ec;
    }
    region_ = std::move(region);
    client_wake_ = std::move(client_wake);
    service_wake_ = std::move(service_wake);
    out_ = ipc::ring_writer(rings.to_service, rings.to_service_data, rings.to_service_words);
    in_ = ipc::ring_reader(rings.to_client, rings.to_client_data, rings.to_client_words);
    return {};
}

router::connection_setup local_connection::setup(connection_handle h, endpoint_handle e, bool owner) const {
    router::connection_setup s;
    s.handle = h;
    s.endpoint = e;
    s.region = region_;
    s.service_wake = service_wake_;
    s.client_wake = client_wake_;
    s.owner = owner;
    return s;
}

void local_connection::opened(connection_handle h, endpoint_handle e, bool owner) noexcept {
    handle_ = h;
    endpoint_ = e;
    owner_ = owner;
}

bool local_connection::write(std::uint64_t timestamp_ns, const core::packet& p) noexcept {
    return out_.write(timestamp_ns, std::span<const std::uint32_t>(p.words.data(), p.size())) == ipc::write_status::ok;
}

void local_connection::flush() noexcept {
    if (out_.publish()) service_wake_->signal();
}

bool local_connection::read(std::uint64_t& timestamp_ns, core::packet& p) noexcept {
    ipc::timed_packet m;
    // The router is the producer and writes only checked packets; a corrupt ring
    // cannot happen in-process, and is treated as empty.
    if (in_.read(m) != ipc::read_status::ok) return false;
    timestamp_ns = m.timestamp_ns;
    p = m.packet;
    return true;
}

void local_connection::release() noexcept { in_.release(); }
bool local_connection::prepare_to_sleep() noexcept { return in_.prepare_to_sleep(); }
void local_connection::woke_up() noexcept { in_.woke_up(); }
int local_connection::client_wake_fd() const noexcept { return client_wake_ ? client_wake_->fd() : -1; }

std::uint64_t local_connection::dropped_by_router() const noexcept {
    return in_.header() ? in_.header()->dropped_full.load(std::memory_order_relaxed) : 0;
}
std::uint64_t local_connection::dropped_on_write() const noexcept {
    return out_.header() ? out_.header()->dropped_full.load(std::memory_order_relaxed) : 0;
}

}  // namespace umpd::service
