// The SDK against a real umpd (UMPD_DAEMON_BINARY) on a temporary runtime directory.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "client_session.hpp"
#include "umpd/client/client.hpp"
#include "umpd/client/umpd.h"
#include "umpd/core/messages.hpp"

namespace {

namespace uc = umpd::client;
using namespace std::chrono_literals;
using umpd_test::receive_one;
using umpd_test::wait_event;
using umpd::core::channel;
using umpd::core::group;

constexpr const char* default_device = "virtual/umpd-virtual-device";
constexpr const char* default_endpoint = "virtual/umpd-virtual-device/1";

uc::client connect(const umpd_test::daemon_process& d, const char* name = "sdk_test") {
    return umpd_test::connect_client(d, name);
}

umpd::core::packet note_on(std::uint8_t note) {
    return umpd::core::make_midi2_note_on(group{0}, channel{0}, note, 0xC000, 0, 0);
}

template <class Pred>
bool eventually(Pred pred, std::chrono::seconds limit = 10s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return pred();
}

TEST(sdk, seed_story_one_port_loopback_offline_add_remove) {
    umpd_test::daemon_process d;
    auto a = connect(d, "seed a");
    EXPECT_EQ(a.server().protocol, 1);

    auto l = a.list();
    ASSERT_TRUE(l) << l.message();
    ASSERT_EQ(l->devices.size(), 1u);
    EXPECT_EQ(l->devices[0].id, default_device);
    ASSERT_EQ(l->devices[0].endpoints.size(), 1u);
    ASSERT_EQ(l->endpoints.size(), 1u);
    EXPECT_EQ(l->endpoints[0].id, default_endpoint);
    EXPECT_FALSE(l->endpoints[0].offline);

    // Send -> receive through the port's loopback.
    auto conn = a.open(default_endpoint);
    ASSERT_TRUE(conn) << conn.message();
    EXPECT_EQ(conn->endpoint().id, default_endpoint);
    ASSERT_TRUE(conn->send(note_on(60)));
    auto m = receive_one(*conn);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->packet, note_on(60));
    EXPECT_NE(m->timestamp_ns, 0u);

    // A second client sees the offline toggle.
    auto b = connect(d, "seed b");
    ASSERT_TRUE(b.subscribe());
    auto dev = a.set_offline(default_device, true);
    ASSERT_TRUE(dev) << dev.message();
    EXPECT_TRUE(dev->offline);
    auto seen = wait_event(b, [](const uc::event& e) {
        return (e.what == uc::event::kind::device_changed && e.device && e.device->id == default_device && e.device->offline) ||
               (e.what == uc::event::kind::endpoint_changed && e.endpoint && e.endpoint->id == default_endpoint &&
                e.endpoint->offline);
    });
    EXPECT_TRUE(seen) << "client b saw no change to offline";
    auto l2 = b.list();
    ASSERT_TRUE(l2);
    ASSERT_NE(l2->find_device(default_device), nullptr);
    EXPECT_TRUE(l2->find_device(default_device)->offline);
    ASSERT_TRUE(a.set_offline(default_device, false));

    // Add a port, see it, use it, remove it.
    auto port = a.add_port(default_device, "Second", "midi1");
    ASSERT_TRUE(port) << port.message();
    EXPECT_EQ(port->id, std::string(default_device) + "/2");
    EXPECT_EQ(port->protocol, "midi1");
    EXPECT_TRUE(wait_event(b, [&](const uc::event& e) {
        return e.what == uc::event::kind::endpoint_added && e.endpoint && e.endpoint->id == port->id;
    }));
    {
        auto c2 = a.open("Second");  // by name
        ASSERT_TRUE(c2) << c2.message();
        const auto p = umpd::core::make_midi1_note_on(group{0}, channel{0}, 64, 100);
        ASSERT_TRUE(c2->send(p));
        auto got = receive_one(*c2);
        ASSERT_TRUE(got);
        EXPECT_EQ(got->packet, p);
    }
    ASSERT_TRUE(a.remove_port(port->id));
    EXPECT_TRUE(wait_event(b, [&](const uc::event& e) {
        return e.what == uc::event::kind::endpoint_removed && e.id == port->id;
    }));
    auto l3 = a.list();
    ASSERT_TRUE(l3);
    EXPECT_EQ(l3->endpoints.size(), 1u);

    // Errors are values with messages.
    auto missing = a.remove_port("virtual/umpd-virtual-device/9");
    EXPECT_EQ(missing.code(), uc::errc::not_found);
    EXPECT_FALSE(missing.message().empty());
    auto bad_open = a.open("no such endpoint");
    EXPECT_EQ(bad_open.code(), uc::errc::not_found);

    // The first connection still works after all that.
    ASSERT_TRUE(conn->send(note_on(61)));
    auto again = receive_one(*conn);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->packet, note_on(61));
}

TEST(sdk, loopbacks_and_rename) {
    umpd_test::daemon_process d;
    auto c = connect(d);
    auto pair = c.create_loopback(uc::loopback_kind::pair, "Left", "Right");
    ASSERT_TRUE(pair) << pair.message();
    ASSERT_EQ(pair->endpoints.size(), 2u);
    auto left = c.open(pair->endpoints[0]);
    auto right = c.open(pair->endpoints[1]);
    ASSERT_TRUE(left && right);
    ASSERT_TRUE(left->send(note_on(70)));
    auto m = receive_one(*right);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->packet, note_on(70));

    auto listed = c.list_loopbacks();
    ASSERT_TRUE(listed);
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ((*listed)[0].id, pair->id);

    auto renamed = c.rename(default_device, "Renamed Device");
    ASSERT_TRUE(renamed) << renamed.message();
    EXPECT_TRUE(renamed->is_device);
    EXPECT_EQ(renamed->name, "Renamed Device");
    auto l = c.list();
    ASSERT_TRUE(l);
    ASSERT_NE(l->find_device("Renamed Device"), nullptr);

    ASSERT_TRUE(c.remove_loopback(pair->id));
    listed = c.list_loopbacks();
    ASSERT_TRUE(listed);
    EXPECT_TRUE(listed->empty());
    EXPECT_EQ(c.remove_loopback(pair->id).code(), uc::errc::not_found);
}

TEST(sdk, many_clients_on_one_endpoint_fan_out) {
    umpd_test::daemon_process d;
    constexpr int clients = 8;
    constexpr std::uint32_t messages = 2000;
    struct listener {
        std::optional<uc::client> c;
        uc::connection conn;
        std::mutex mu;
        std::vector<std::uint32_t> got;
    };
    std::vector<std::unique_ptr<listener>> ls;
    for (int i = 0; i < clients; ++i) {
        auto l = std::make_unique<listener>();
        l->c.emplace(connect(d));
        uc::open_options o;
        // Room for the whole burst: the test is about fan-out, not about full rings.
        o.to_client_words = 16384;
        auto* raw = l.get();
        o.on_receive = [raw](const uc::timed_packet& m) {
            std::lock_guard g(raw->mu);
            raw->got.push_back(m.packet.words[1]);
        };
        auto conn = raw->c->open(default_endpoint, std::move(o));
        ASSERT_TRUE(conn) << conn.message();
        raw->conn = std::move(*conn);
        ls.push_back(std::move(l));
    }
    auto sender = connect(d);
    auto tx = sender.open(default_endpoint);
    ASSERT_TRUE(tx);
    for (std::uint32_t i = 0; i < messages;) {
        auto r = tx->send(umpd::core::make_midi2_control_change(group{0}, channel{0}, 7, i));
        if (r) ++i;
        else ASSERT_EQ(r.code(), uc::errc::ring_full) << r.message();
    }
    for (auto& l : ls) {
        EXPECT_TRUE(eventually([&] {
            std::lock_guard g(l->mu);
            return l->got.size() >= messages;
        }));
        std::lock_guard g(l->mu);
        ASSERT_EQ(l->got.size(), messages);
        for (std::uint32_t i = 0; i < messages; ++i) ASSERT_EQ(l->got[i], i) << "out of order at " << i;
        EXPECT_EQ(l->conn.counters().receive_dropped_full, 0u);
    }
    auto l = sender.list();
    ASSERT_TRUE(l);
    EXPECT_EQ(l->find_endpoint(default_endpoint)->connections, static_cast<std::uint64_t>(clients + 1));
}

TEST(sdk, client_killed_mid_stream_leaves_others_unaffected) {
    umpd_test::daemon_process d;
    // The streaming child forks before this process starts any client thread.
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(ready[0]);
        uc::options o;
        o.runtime_dir = d.dir();
        auto c = uc::client::connect(o);
        if (!c) ::_exit(2);
        auto conn = c->open(default_endpoint);
        if (!conn) ::_exit(3);
        for (std::uint32_t i = 0;; ++i) {
            (void)conn->send(umpd::core::make_midi2_control_change(group{0}, channel{0}, 9, i));
            if (i == 1000) (void)!::write(ready[1], "x", 1);
            if (i % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    }
    ::close(ready[1]);
    char x = 0;
    ASSERT_EQ(::read(ready[0], &x, 1), 1);
    ::close(ready[0]);

    auto watcher = connect(d);
    auto rx = watcher.open(default_endpoint);
    ASSERT_TRUE(rx);
    ASSERT_TRUE(receive_one(*rx));  // the stream reaches us
    auto before = watcher.status();
    ASSERT_TRUE(before) << before.message();
    ASSERT_GE(before->connections, 2u);

    ::kill(child, SIGKILL);
    ASSERT_EQ(umpd_test::wait_exit(child), 128 + SIGKILL);

    // umpd reclaims the child's connection; ours and the daemon carry on.
    EXPECT_TRUE(eventually([&] {
        auto s = watcher.status();
        return s && s->connections == before->connections - 1;
    })) << "the killed client's connection was not reclaimed";
    auto after = watcher.status();
    ASSERT_TRUE(after);
    EXPECT_EQ(after->pid, before->pid);
    uc::timed_packet m;
    while (rx->receive(m)) {
    }
    ASSERT_TRUE(rx->send(note_on(72)));
    std::optional<uc::timed_packet> got;
    do got = receive_one(*rx);
    while (got && got->packet != note_on(72));
    ASSERT_TRUE(got) << "our own message never came back";
}

TEST(sdk, umpd_killed_and_restarted_clients_reconnect) {
    umpd_test::daemon_process d;
    uc::options o;
    o.runtime_dir = d.dir();
    o.reconnect_interval = 20ms;
    auto c = uc::client::connect(o);
    ASSERT_TRUE(c) << c.message();
    ASSERT_TRUE(c->subscribe());
    auto polled = c->open(default_endpoint);
    ASSERT_TRUE(polled);
    std::atomic<int> via_callback{0};
    uc::open_options cb;
    cb.on_receive = [&](const uc::timed_packet&) { ++via_callback; };
    auto called = c->open(default_endpoint, std::move(cb));
    ASSERT_TRUE(called);
    const int old_fd = polled->fd();
    (void)old_fd;

    d.kill_hard();
    EXPECT_TRUE(wait_event(*c, [](const uc::event& e) { return e.what == uc::event::kind::disconnected; }));
    EXPECT_FALSE(c->is_connected());
    auto during = polled->send(note_on(1));
    EXPECT_EQ(during.code(), uc::errc::disconnected);
    EXPECT_EQ(c->list().code(), uc::errc::disconnected);

    d.start();
    EXPECT_TRUE(wait_event(*c, [](const uc::event& e) { return e.what == uc::event::kind::reconnected; }));
    EXPECT_TRUE(c->is_connected());
    EXPECT_TRUE(polled->is_live());
    EXPECT_TRUE(called->is_live());

    const int before = via_callback.load();
    ASSERT_TRUE(polled->send(note_on(80))) << "send after reconnect";
    std::optional<uc::timed_packet> got;
    do got = receive_one(*polled);
    while (got && got->packet != note_on(80));
    ASSERT_TRUE(got);
    EXPECT_TRUE(eventually([&] { return via_callback.load() > before; }));
    auto l = c->list();
    ASSERT_TRUE(l);
    EXPECT_EQ(l->find_endpoint(default_endpoint)->connections, 2u);
}

TEST(sdk, malformed_ump_refused_and_connection_still_usable) {
    umpd_test::daemon_process d;
    auto c = connect(d);
    auto conn = c.open(default_endpoint);
    ASSERT_TRUE(conn);
    // MIDI 1.0 channel voice with status 0xF: not a channel voice message.
    const umpd::core::packet bad(0x20F03C64);
    auto r = conn->send(bad);
    EXPECT_EQ(r.code(), uc::errc::malformed_packet);
    EXPECT_NE(r.message().find("20f03c64"), std::string::npos) << r.message();
    // Bit 7 set in a 7-bit data byte.
    EXPECT_EQ(conn->send(umpd::core::packet(0x2090BC64)).code(), uc::errc::malformed_packet);

    std::vector<uc::timed_packet> batch{{0, note_on(1)}, {0, bad}, {0, note_on(2)}};
    auto b = conn->send_batch(batch);
    EXPECT_EQ(b.code(), uc::errc::malformed_packet);
    EXPECT_NE(b.message().find("message 1"), std::string::npos) << b.message();
    EXPECT_EQ(conn->counters().sent, 0u) << "a refused batch sends nothing";

    batch.erase(batch.begin() + 1);
    auto ok = conn->send_batch(batch);
    ASSERT_TRUE(ok) << ok.message();
    EXPECT_EQ(*ok, 2u);
    auto m1 = receive_one(*conn);
    auto m2 = receive_one(*conn);
    ASSERT_TRUE(m1 && m2);
    EXPECT_EQ(m1->packet, note_on(1));
    EXPECT_EQ(m2->packet, note_on(2));
    EXPECT_EQ(conn->counters().rejected_malformed, 0u);
}

TEST(sdk, scheduled_message_arrives_at_its_time) {
    umpd_test::daemon_process d;
    auto c = connect(d);
    auto conn = c.open(default_endpoint);
    ASSERT_TRUE(conn);
    const std::uint64_t at = uc::now_ns() + 50'000'000;
    ASSERT_TRUE(conn->send(note_on(90), at));
    auto m = receive_one(*conn);
    ASSERT_TRUE(m);
    EXPECT_GE(uc::now_ns(), at) << "delivered before its time";
    EXPECT_GE(m->timestamp_ns, at);
}

TEST(sdk, c_api_against_umpd) {
    umpd_test::daemon_process d;
    umpd_client* c = nullptr;
    ASSERT_EQ(umpd_connect(d.dir().c_str(), "c api", &c), UMPD_OK) << umpd_last_error();
    umpd_endpoint_info eps[4];
    size_t count = 0;
    ASSERT_EQ(umpd_list_endpoints(c, eps, 4, &count), UMPD_OK);
    ASSERT_EQ(count, 1u);
    EXPECT_STREQ(eps[0].id, default_endpoint);

    char* json = nullptr;
    ASSERT_EQ(umpd_list_json(c, &json), UMPD_OK);
    EXPECT_NE(std::string(json).find(default_endpoint), std::string::npos);
    umpd_free_string(json);

    umpd_connection* conn = nullptr;
    EXPECT_EQ(umpd_open(c, "nope", nullptr, nullptr, &conn), UMPD_ERR_NOT_FOUND);
    EXPECT_GT(std::strlen(umpd_last_error()), 0u);
    ASSERT_EQ(umpd_open(c, default_endpoint, nullptr, nullptr, &conn), UMPD_OK) << umpd_last_error();
    const uint32_t words[2] = {0x40903C00, 0xC0000000};
    EXPECT_EQ(umpd_send(conn, words, 1, 0), UMPD_ERR_MALFORMED_PACKET) << "word count must match the type";
    ASSERT_EQ(umpd_send(conn, words, 2, 0), UMPD_OK) << umpd_last_error();
    ASSERT_EQ(umpd_wait(conn, 5'000'000'000), 1);
    umpd_timed_packet m{};
    ASSERT_EQ(umpd_receive(conn, &m), 1);
    EXPECT_EQ(m.words[0], words[0]);
    EXPECT_EQ(m.words[1], words[1]);
    umpd_connection_counters counters{};
    ASSERT_EQ(umpd_get_counters(conn, &counters), UMPD_OK);
    EXPECT_EQ(counters.sent, 1u);

    char port[256] = {};
    ASSERT_EQ(umpd_add_port(c, default_device, "C Port", "midi2", port, sizeof port), UMPD_OK) << umpd_last_error();
    EXPECT_STREQ(port, "virtual/umpd-virtual-device/2");
    EXPECT_EQ(umpd_remove_port(c, port), UMPD_OK);
    umpd_close(conn);
    umpd_disconnect(c);
}

}  // namespace

// Connections opened while umpd dies and comes back: whichever side of the reconnect an
// open() lands on, every connection it returned ends up live on the new umpd.
TEST(sdk, connections_opened_around_a_restart_all_come_back) {
    umpd_test::daemon_process d;
    uc::options o;
    o.runtime_dir = d.dir();
    o.reconnect_interval = 5ms;
    auto c = uc::client::connect(o);
    ASSERT_TRUE(c) << c.message();

    std::atomic<bool> stop{false};
    std::vector<uc::connection> opened;  // the opener thread's until it is joined
    std::thread opener([&] {
        while (!stop) {
            auto conn = c->open(default_endpoint);
            if (conn) opened.push_back(std::move(*conn));
            else std::this_thread::sleep_for(1ms);  // umpd is away
        }
    });
    std::this_thread::sleep_for(50ms);
    d.kill_hard();
    std::this_thread::sleep_for(20ms);
    d.start();
    EXPECT_TRUE(eventually([&] { return c->is_connected(); }));
    std::this_thread::sleep_for(50ms);
    stop = true;
    opener.join();

    ASSERT_FALSE(opened.empty());
    std::size_t live = 0;
    for (auto& conn : opened) live += eventually([&] { return conn.is_live(); }, 5s);
    EXPECT_EQ(live, opened.size()) << "connections left dead after the restart";
    // And they work: a message sent on the last one comes back through the loopback.
    ASSERT_TRUE(opened.back().send(note_on(99)));
    std::optional<uc::timed_packet> got;
    do got = receive_one(opened.back());
    while (got && got->packet != note_on(99));
    EXPECT_TRUE(got);
}
