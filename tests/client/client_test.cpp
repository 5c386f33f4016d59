// The SDK where no umpd is needed: errors, results, closed objects, the C API's
// null-safety, and the hello handshake against a scripted peer on a real socket.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "umpd/client/client.hpp"
#include "umpd/client/umpd.h"
#include "umpd/ipc/control.hpp"

namespace {

namespace uc = umpd::client;

struct temp_dir {
    std::string path;
    temp_dir() {
        char tmpl[] = "/tmp/umpd-client-test-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

TEST(client, connect_without_umpd_says_what_to_do) {
    temp_dir d;
    uc::options o;
    o.runtime_dir = d.path;
    auto c = uc::client::connect(o);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.code(), uc::errc::not_running);
    EXPECT_NE(c.message().find(d.path), std::string::npos) << c.message();
    EXPECT_NE(c.message().find("umpd"), std::string::npos);
}

TEST(client, connect_refuses_nonsense_options) {
    uc::options o;
    o.request_timeout = std::chrono::milliseconds(0);
    EXPECT_EQ(uc::client::connect(o).code(), uc::errc::invalid_argument);
}

TEST(client, error_codes_have_a_category_and_messages) {
    const std::error_code e = uc::errc::ring_full;
    EXPECT_EQ(e.category().name(), std::string("umpd.client"));
    EXPECT_FALSE(e.message().empty());
    EXPECT_NE(uc::make_error_code(uc::errc::not_found).message(), uc::make_error_code(uc::errc::busy).message());
}

TEST(client, result_holds_a_value_or_an_error) {
    uc::result<int> ok = 7;
    ASSERT_TRUE(ok);
    EXPECT_EQ(*ok, 7);
    EXPECT_FALSE(ok.code());
    uc::result<int> bad = uc::make_error(uc::errc::timeout, "too slow");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.code(), uc::errc::timeout);
    EXPECT_EQ(bad.message(), "too slow");
    uc::result<void> v;
    EXPECT_TRUE(v);
    uc::result<void> vb = uc::make_error(uc::errc::closed, "closed");
    EXPECT_FALSE(vb);
    EXPECT_EQ(vb.code(), uc::errc::closed);
}

TEST(client, a_connection_that_is_not_open_refuses_everything) {
    uc::connection c;
    EXPECT_FALSE(c.is_open());
    EXPECT_FALSE(c.is_live());
    EXPECT_EQ(c.fd(), -1);
    EXPECT_EQ(c.send(umpd::core::packet(0x20903C64)).code(), uc::errc::closed);
    uc::timed_packet batch[1]{};
    EXPECT_EQ(c.send_batch(batch).code(), uc::errc::closed);
    uc::timed_packet m;
    EXPECT_FALSE(c.receive(m));
    EXPECT_FALSE(c.wait(std::chrono::milliseconds(1)));
    EXPECT_FALSE(c.flush(std::chrono::milliseconds(1)));
    EXPECT_EQ(c.counters().sent, 0u);
    EXPECT_TRUE(c.endpoint().id.empty());
    c.close();  // harmless
}

TEST(client, listing_finds_by_id_then_name) {
    uc::listing l;
    uc::endpoint_info e1, e2;
    e1.id = "virtual/a/1";
    e1.name = "virtual/a/2";
    e2.id = "virtual/a/2";
    e2.name = "Two";
    l.endpoints = {e1, e2};
    uc::device_info dev;
    dev.id = "virtual/a";
    dev.name = "A";
    l.devices.push_back(dev);
    ASSERT_NE(l.find_endpoint("virtual/a/2"), nullptr);
    EXPECT_EQ(l.find_endpoint("virtual/a/2")->name, "Two") << "an id wins over a name";
    EXPECT_EQ(l.find_endpoint("Two")->id, "virtual/a/2");
    EXPECT_EQ(l.find_endpoint("nope"), nullptr);
    EXPECT_EQ(l.find_device("A")->id, "virtual/a");
}

TEST(client, now_ns_is_monotonic) {
    const auto a = uc::now_ns();
    const auto b = uc::now_ns();
    EXPECT_GT(a, 0u);
    EXPECT_GE(b, a);
}

TEST(c_api, null_handles_and_pointers_are_reported_not_crashed_on) {
    EXPECT_EQ(umpd_connect(nullptr, nullptr, nullptr), UMPD_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(umpd_last_error()).find("out"), std::string::npos);
    umpd_disconnect(nullptr);
    umpd_close(nullptr);
    umpd_free_string(nullptr);
    char* text = nullptr;
    EXPECT_EQ(umpd_list_json(nullptr, &text), UMPD_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(umpd_status_json(nullptr, &text), UMPD_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(umpd_list_endpoints(nullptr, nullptr, 0, nullptr), UMPD_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(umpd_subscribe(nullptr, nullptr, nullptr), UMPD_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(umpd_add_port(nullptr, "d", nullptr, nullptr, nullptr, 0), UMPD_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(umpd_remove_port(nullptr, "e"), UMPD_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(umpd_set_offline(nullptr, "d", 1), UMPD_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(umpd_rename(nullptr, "d", "n"), UMPD_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(umpd_create_loopback(nullptr, "pair", "n", nullptr, nullptr, 0), UMPD_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(umpd_remove_loopback(nullptr, "d"), UMPD_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(umpd_reload_config(nullptr), UMPD_ERR_INVALID_ARGUMENT);
    umpd_connection* conn = reinterpret_cast<umpd_connection*>(0x1);
    EXPECT_EQ(umpd_open(nullptr, "e", nullptr, nullptr, &conn), UMPD_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(conn, nullptr) << "out is cleared on failure";
    const uint32_t w = 0x20903C64;
    EXPECT_EQ(umpd_send(nullptr, &w, 1, 0), UMPD_ERR_INVALID_ARGUMENT);
    size_t sent = 9;
    EXPECT_EQ(umpd_send_batch(nullptr, nullptr, 0, &sent), UMPD_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(sent, 0u);
    umpd_timed_packet m{};
    EXPECT_EQ(umpd_receive(nullptr, &m), UMPD_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(umpd_wait(nullptr, 0), UMPD_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(umpd_connection_fd(nullptr), -1);
    umpd_connection_counters c{};
    EXPECT_EQ(umpd_get_counters(nullptr, &c), UMPD_ERR_INVALID_ARGUMENT);
    EXPECT_GT(umpd_now_ns(), 0u);
}

TEST(c_api, connect_failure_sets_the_message) {
    temp_dir d;
    umpd_client* c = reinterpret_cast<umpd_client*>(0x1);
    EXPECT_EQ(umpd_connect(d.path.c_str(), "t", &c), UMPD_ERR_NOT_RUNNING);
    EXPECT_EQ(c, nullptr);
    EXPECT_NE(std::string(umpd_last_error()).find("not running"), std::string::npos) << umpd_last_error();
}

// A scripted peer on the control socket: answers the first request with `answer`
// (its "id" filled in) and then closes.
class scripted_peer {
public:
    scripted_peer(const std::string& dir, nlohmann::json answer) : answer_(std::move(answer)) {
        listen_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        const std::string path = umpd::ipc::control_socket_path(dir);
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        if (::bind(listen_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_, 4) != 0)
            throw std::runtime_error("bind failed");
        thread_ = std::thread([this] {
            const int fd = ::accept(listen_, nullptr, nullptr);
            if (fd < 0) return;
            std::string text;
            std::vector<umpd::ipc::unique_fd> fds;
            if (!umpd::ipc::receive_message(fd, text, fds)) {
                const auto request = nlohmann::json::parse(text, nullptr, false);
                received_op_ = request.value("op", "");
                answer_["id"] = request.value("id", -1);
                (void)umpd::ipc::send_message(fd, answer_.dump());
            }
            ::close(fd);
        });
    }
    ~scripted_peer() {
        ::shutdown(listen_, SHUT_RDWR);
        thread_.join();
        ::close(listen_);
    }
    std::string received_op_;

private:
    nlohmann::json answer_;
    int listen_ = -1;
    std::thread thread_;
};

TEST(client, hello_with_another_protocol_version_is_refused) {
    temp_dir d;
    std::string op;
    {
        scripted_peer peer(d.path, {{"v", 1}, {"ok", true}, {"result", {{"server", "umpd 9"}, {"protocol", 2}, {"pid", 1}}}});
        uc::options o;
        o.runtime_dir = d.path;
        auto c = uc::client::connect(o);
        ASSERT_FALSE(c);
        EXPECT_EQ(c.code(), uc::errc::unsupported_version);
        EXPECT_NE(c.message().find("protocol 2"), std::string::npos) << c.message();
        op = peer.received_op_;
    }
    EXPECT_EQ(op, "hello");
}

TEST(client, a_refused_hello_carries_umpds_message) {
    temp_dir d;
    scripted_peer peer(d.path, {{"v", 1}, {"ok", false}, {"error", {{"code", "busy"}, {"message", "try later"}}}});
    uc::options o;
    o.runtime_dir = d.path;
    auto c = uc::client::connect(o);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.code(), uc::errc::busy);
    EXPECT_EQ(c.message(), "try later");
}

}  // namespace
