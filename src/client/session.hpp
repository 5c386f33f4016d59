// The SDK's internals: one session per client (control socket, control thread,
// receive thread) and one connection_state per open connection. Private to src/client.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "umpd/client/client.hpp"
#include "umpd/client/port_cache.hpp"
#include "umpd/ipc/fd.hpp"
#include "umpd/ipc/shm.hpp"

namespace umpd::client::detail {

using json = nlohmann::json;

// JSON field access that never throws: wrong types read as the fallback.
[[nodiscard]] std::string get_string(const json& j, const char* key);
[[nodiscard]] std::uint64_t get_u64(const json& j, const char* key);
[[nodiscard]] bool get_bool(const json& j, const char* key);
[[nodiscard]] endpoint_info parse_endpoint(const json& j);
[[nodiscard]] device_info parse_device(const json& j);
[[nodiscard]] event parse_event(const json& j, std::string text);
[[nodiscard]] transport_info parse_transport(const json& j);  // transport.cpp
[[nodiscard]] errc errc_from_protocol(std::string_view code) noexcept;

// The mapped data path of one connection: replaced as a whole on reconnect.
struct data_path {
    ipc::shm_region region;
    ipc::connection_rings rings;
    ipc::ring_writer writer;
    ipc::ring_reader reader;
    ipc::wake service_wake;
    ipc::wake client_wake;
    std::uint64_t connection_id = 0;
    std::uint64_t max_schedule_ahead_ns = 0;
};

struct connection_state {
    std::weak_ptr<session> owner;
    // The endpoint id re-opened after a reconnect. The control thread may change it
    // (republish follows a device whose id changed) under swap_mu; other threads read
    // it through key().
    std::string endpoint_key;
    endpoint_info endpoint;
    std::uint32_t requested_to_service_words = 0;
    std::uint32_t requested_to_client_words = 0;
    bool app_owner = false;  // an app-owned port's I/O connection (opened with "owner": true)
    receive_callback on_receive;
    std::uint64_t receive_token = 0;  // key in the receive thread's table; 0: none

    // Lock order: send_mu, recv_mu, swap_mu. The sender and the reader only try_lock
    // theirs (never wait); the control thread locks all three to swap the data path.
    std::mutex send_mu;
    std::mutex recv_mu;
    mutable std::mutex swap_mu;
    data_path path;               // guarded as above
    connection_counters base;     // counters of regions replaced by reconnects (swap_mu)
    bool armed = false;           // recv_mu: the reader announced it sleeps

    std::atomic<bool> open{true};
    std::atomic<bool> live{true};
    std::atomic<std::uint64_t> connection_id{0};
    std::atomic<int> client_fd{-1};

    [[nodiscard]] connection_counters read_counters() const noexcept;  // takes swap_mu
    [[nodiscard]] std::string key() const {  // takes swap_mu
        std::lock_guard l(swap_mu);
        return endpoint_key;
    }
};

// A response to a request: the `result` object and any fds.
struct reply {
    json result;
    std::vector<ipc::unique_fd> fds;
};

class session : public std::enable_shared_from_this<session> {
public:
    explicit session(options o);
    ~session();

    // Connects and says hello on the calling thread, then starts the control thread.
    [[nodiscard]] result<void> start();
    // Stops both threads, closes every connection. Idempotent. Any thread.
    void shutdown() noexcept;

    // One request/response. Any thread (the control thread included).
    [[nodiscard]] result<reply> request(const std::string& op, json fields);

    [[nodiscard]] result<connection> open(std::string_view endpoint, open_options o, bool owner = false);

    // App-owned devices this client published: re-published after a reconnect (before
    // the connections are re-opened), their endpoint_opened/closed events routed to
    // their callback. Returns a token for unpublish().
    std::uint64_t add_publication(json fields, std::string device_id, event_callback on_event);
    // Unpublishes (when connected) and forgets the publication. Any thread.
    [[nodiscard]] result<void> unpublish(std::uint64_t token);
    void close_connection(connection_state& st) noexcept;

    [[nodiscard]] result<void> subscribe(event_callback cb);
    [[nodiscard]] bool next_event(event& out, std::chrono::milliseconds timeout);
    // Delivers an event on the control thread (callback) or to the queue.
    void post_event(event e);

    // The lookup cache's catalog (fetched with op `ports` when there is none). Subscribes
    // the socket on first use so that events keep the cache fresh. Any thread.
    [[nodiscard]] result<std::shared_ptr<const port_catalog>> catalog();
    port_cache& lookup_cache() noexcept { return cache_; }

    const options opts;
    const std::string runtime_dir;
    [[nodiscard]] server_info server() const;
    std::atomic<bool> connected{false};

private:
    [[nodiscard]] result<ipc::unique_fd> connect_socket();
    // Request and response on `fd` directly, reading the socket on this thread; events
    // read meanwhile are queued for dispatch. For start-up, reconnect and the control thread.
    [[nodiscard]] result<reply> inline_request(int fd, const std::string& op, json fields);
    result<void> reopen(connection_state& st, int fd);
    [[nodiscard]] result<reply> handle_response(const json& j, std::vector<ipc::unique_fd> fds, const std::string& op);
    [[nodiscard]] result<void> hello(int fd);
    [[nodiscard]] result<void> attach(connection_state& st, reply& r, data_path& out);
    void arm_or_signal(connection_state& st) noexcept;

    void control_loop();
    void on_socket_message(std::string& text, std::vector<ipc::unique_fd>& fds);
    void on_disconnect(const std::string& why);
    bool try_reconnect();
    void dispatch_local_events();
    void deliver_event(event e);
    [[nodiscard]] bool ensure_cache_subscription();
    port_cache cache_;
    void swap_path(connection_state& st, data_path p);
    void kick() noexcept;

    void ensure_receive_thread();
    void receive_loop();
    void register_receiver(const std::shared_ptr<connection_state>& st);
    void unregister_receiver(connection_state& st) noexcept;
    void epoll_update(connection_state& st, int old_fd, int new_fd) noexcept;
    void deliver(connection_state& st);

    mutable std::mutex mu_;            // everything below, unless noted
    server_info server_;
    std::condition_variable cv_;
    ipc::unique_fd socket_;
    std::uint64_t generation_ = 0;     // bumped on every disconnect
    std::int64_t waiting_id_ = -1;
    std::optional<std::string> reply_text_;
    std::vector<ipc::unique_fd> reply_fds_;
    bool stopping_ = false;
    bool subscribed_ = false;          // the socket is subscribed (for the application or the cache)
    bool app_subscribed_ = false;      // the application called subscribe()
    bool cache_subscribed_ = false;    // the cache subscribed the socket
    event_callback on_event_;
    std::deque<event> events_;         // for next_event()
    std::condition_variable events_cv_;
    std::deque<event> local_events_;   // waiting for the control thread to deliver
    std::vector<std::weak_ptr<connection_state>> connections_;
    struct publication {
        std::uint64_t token = 0;
        json fields;            // the publish_device request
        std::string device_id;  // as umpd last named it
        event_callback on_event;
    };
    std::vector<publication> publications_;
    std::uint64_t next_publication_ = 1;
    bool republish(int fd);  // after a reconnect; false when the socket failed
    std::string last_disconnect_;

    std::mutex request_mu_;            // one request in flight from user threads
    std::atomic<std::int64_t> next_id_{1};
    std::thread control_;
    std::atomic<std::thread::id> control_id_{};
    std::atomic<std::thread::id> receiver_id_{};
    ipc::wake kick_;

    std::mutex receivers_mu_;          // the receive thread's table
    std::map<std::uint64_t, std::shared_ptr<connection_state>> receivers_;
    std::uint64_t next_token_ = 1;
    std::thread receiver_;
    ipc::unique_fd epoll_;
    ipc::wake receiver_stop_;
    std::atomic<bool> receiver_stopping_{false};
};

}  // namespace umpd::client::detail
