// umpctl bench: latency (round trip through umpd, next to the floor of two bare
// processes over the same kind of ring and wake-up) and throughput (one endpoint,
// client to client).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "service.hpp"
#include "umpd/client/spin_wait.hpp"
#include "umpd/core/messages.hpp"
#include "umpd/ipc/shm.hpp"
#include "verbs.hpp"

namespace umpctl {

namespace uc = umpd::client;
namespace ipc = umpd::ipc;
using json = nlohmann::json;

namespace {

constexpr std::uint32_t floor_ring_words = 4096;
constexpr auto wait_limit = std::chrono::seconds(5);  // a lost message fails the run instead of hanging it

struct percentiles {
    std::uint64_t p50 = 0, p99 = 0, max = 0;
};

percentiles summarise(std::vector<std::uint64_t>& v) {
    percentiles p;
    if (v.empty()) return p;
    std::sort(v.begin(), v.end());
    const auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))]; };
    p.p50 = at(0.5);
    p.p99 = at(0.99);
    p.max = v.back();
    return p;
}

umpd::core::packet probe(std::uint32_t sequence) {
    return umpd::core::make_midi2_control_change(umpd::core::group{0}, umpd::core::channel{0}, 1, sequence);
}

// The floor: a parent and a forked child ping-pong over one shared-memory connection
// region (ring_writer / ring_reader) woken by eventfds, waiting exactly as the SDK's
// connection::wait() does (wait_for_data with the same spin).
std::vector<std::uint64_t> measure_floor(std::size_t messages, std::size_t warmup, std::chrono::nanoseconds spin) {
    ipc::shm_region region;
    if (const auto ec = ipc::shm_region::create("umpctl-bench-floor", ipc::connection_bytes(floor_ring_words, floor_ring_words), region); ec)
        throw input_error("cannot create the floor's shared memory: " + ec.message());
    ipc::init_connection(region, floor_ring_words, floor_ring_words);
    ipc::connection_rings rings;
    if (const auto ec = ipc::attach_connection(region, rings); ec) throw input_error("floor region: " + ec.message());
    ipc::wake to_child, to_parent;
    if (ipc::wake::create(to_child) || ipc::wake::create(to_parent)) throw input_error("cannot create eventfds");
    const std::size_t total = messages + warmup;
    std::cout.flush();
    const pid_t pid = ::fork();
    if (pid < 0) throw input_error("fork failed");
    if (pid == 0) {
        // The echo process: nothing but the ring, the wait and the wake-up.
        ipc::ring_reader in(rings.to_service, rings.to_service_data, rings.to_service_words);
        ipc::ring_writer out(rings.to_client, rings.to_client_data, rings.to_client_words);
        ipc::timed_packet m;
        for (std::size_t i = 0; i < total;) {
            if (!uc::wait_for_data(in, to_child, wait_limit, spin)) ::_exit(1);
            while (in.read(m) == ipc::read_status::ok) {
                in.release();
                (void)out.write(m);
                if (out.publish()) to_parent.signal();
                ++i;
            }
        }
        ::_exit(0);
    }
    ipc::ring_writer out(rings.to_service, rings.to_service_data, rings.to_service_words);
    ipc::ring_reader in(rings.to_client, rings.to_client_data, rings.to_client_words);
    std::vector<std::uint64_t> rtt;
    rtt.reserve(messages);
    bool lost = false;
    ipc::timed_packet m;
    for (std::size_t i = 0; i < total; ++i) {
        const std::uint64_t t = uc::now_ns();
        (void)out.write(ipc::timed_packet{t, probe(static_cast<std::uint32_t>(i))});
        if (out.publish()) to_child.signal();
        if (!uc::wait_for_data(in, to_parent, wait_limit, spin) || in.read(m) != ipc::read_status::ok) {
            lost = true;
            break;
        }
        in.release();
        const std::uint64_t back = uc::now_ns();
        if (i >= warmup) rtt.push_back(back - t);
    }
    if (lost) ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (lost) throw input_error("the floor's echo process lost a message");
    return rtt;
}

// A diagnostics loopback that is removed however the benchmark ends.
struct scratch_loopback {
    uc::client& c;
    std::string device;
    std::string endpoint;
    scratch_loopback(uc::client& cl, const char* what) : c(cl) {
        const std::string name = std::string("umpctl bench ") + what + " " + std::to_string(::getpid());
        auto d = value_or_throw(c.create_loopback(uc::loopback_kind::diagnostics, name));
        device = d.id;
        if (d.endpoints.empty()) throw input_error("umpd created the diagnostics loopback " + d.id + " without an endpoint");
        endpoint = d.endpoints.front();
    }
    ~scratch_loopback() { (void)c.remove_loopback(device); }
    scratch_loopback(const scratch_loopback&) = delete;
    scratch_loopback& operator=(const scratch_loopback&) = delete;
};

int latency(const arguments& a) {
    const auto messages = static_cast<std::size_t>(a.integer("messages", 1, 100'000'000).value_or(100'000));
    const auto spin = std::chrono::microseconds(a.integer("spin", 0, 10'000).value_or(50));
    const std::size_t warmup = std::min<std::size_t>(messages / 10 + 1, 10'000);
    const bool as_json = a.flag("json");

    // The floor first, before the SDK starts its threads (fork copies only the caller).
    auto floor = measure_floor(messages, warmup, spin);

    auto c = connect_service(a, "umpctl bench");
    scratch_loopback loop(c, "latency");
    auto conn = value_or_throw(c.open(loop.endpoint));
    std::vector<std::uint64_t> rtt;
    rtt.reserve(messages);
    uc::timed_packet m;
    for (std::size_t i = 0; i < messages + warmup; ++i) {
        const std::uint64_t t = uc::now_ns();
        // Stamped with the send time (already past, so routed at once); the
        // diagnostics loopback hands the same stamp back.
        if (auto r = conn.send(probe(static_cast<std::uint32_t>(i)), t); !r) throw input_error(r.message());
        if (!conn.wait(wait_limit, spin) || !conn.receive(m))
            throw input_error("no answer from the diagnostics loopback within 5 s (message " + std::to_string(i) + ")");
        const std::uint64_t back = uc::now_ns();
        if (m.packet != probe(static_cast<std::uint32_t>(i)))
            throw input_error("the diagnostics loopback returned another message than the one sent");
        if (m.timestamp_ns != t) throw input_error("the diagnostics loopback did not preserve the sender's timestamp");
        if (i >= warmup) rtt.push_back(back - t);
    }
    const auto u = summarise(rtt);
    const auto f = summarise(floor);
    const double r50 = f.p50 ? static_cast<double>(u.p50) / static_cast<double>(f.p50) : 0.0;
    const double r99 = f.p99 ? static_cast<double>(u.p99) / static_cast<double>(f.p99) : 0.0;
    if (as_json) {
        json j{{"messages", messages},  {"p50_ns", u.p50},       {"p99_ns", u.p99},       {"max_ns", u.max},
               {"floor_p50_ns", f.p50}, {"floor_p99_ns", f.p99}, {"floor_max_ns", f.max}, {"ratio_p50", r50},
               {"ratio_p99", r99},      {"spin_ns", std::chrono::nanoseconds(spin).count()}};
        std::cout << j.dump() << "\n";
        return 0;
    }
    char line[256];
    std::cout << "round trip client -> umpd -> diagnostics loopback -> client, " << messages << " messages (after "
              << warmup << " warm-up), spin " << spin.count() << " us\n";
    std::snprintf(line, sizeof line, "  umpd   median %9.2f us   p99 %9.2f us   max %9.2f us\n", static_cast<double>(u.p50) / 1e3,
                  static_cast<double>(u.p99) / 1e3, static_cast<double>(u.max) / 1e3);
    std::cout << line;
    std::snprintf(line, sizeof line, "  floor  median %9.2f us   p99 %9.2f us   max %9.2f us\n", static_cast<double>(f.p50) / 1e3,
                  static_cast<double>(f.p99) / 1e3, static_cast<double>(f.max) / 1e3);
    std::cout << line << "         (two bare processes, shared-memory ring, eventfd wake-up, the same adaptive spin)\n";
    std::snprintf(line, sizeof line, "  ratio  median %.2fx   p99 %.2fx   (targets: 2x and 3x)\n", r50, r99);
    std::cout << line;
    return 0;
}

int throughput(const arguments& a) {
    const auto messages = static_cast<std::uint64_t>(a.integer("messages", 1, 1'000'000'000).value_or(4'000'000));
    const auto spin = std::chrono::microseconds(a.integer("spin", 0, 10'000).value_or(50));
    constexpr std::uint32_t ring_words = 1u << 16;
    constexpr std::size_t batch_size = 256;
    const bool as_json = a.flag("json");

    auto sender_client = connect_service(a, "umpctl bench sender");
    auto receiver_client = connect_service(a, "umpctl bench receiver");
    scratch_loopback loop(sender_client, "throughput");
    uc::open_options o;
    o.to_service_words = ring_words;
    o.to_client_words = ring_words;
    auto rx = value_or_throw(receiver_client.open(loop.endpoint, o));
    auto tx = value_or_throw(sender_client.open(loop.endpoint, o));

    // Flow control: keep what is in flight within half the receiver's ring, so the
    // benchmark measures throughput rather than drops.
    const std::uint64_t window = ring_words / (ipc::record_header_words + 1) / 2;
    std::atomic<std::uint64_t> received{0};
    std::atomic<bool> stop{false};
    std::string failure;
    const std::uint64_t start = uc::now_ns();
    std::thread sender([&] {
        std::vector<uc::timed_packet> batch(batch_size);
        for (std::size_t k = 0; k < batch_size; ++k)
            batch[k].packet = umpd::core::make_midi1_note_on(umpd::core::group{0}, umpd::core::channel{0},
                                                             static_cast<std::uint8_t>(k % 128), 100);
        std::uint64_t sent = 0;
        uc::timed_packet echo;
        while (sent < messages && !stop) {
            while (tx.receive(echo)) {
            }  // the sender's own copies of the fan-out
            const std::uint64_t in_flight = sent - received.load(std::memory_order_relaxed);
            const std::uint64_t room = in_flight >= window ? 0 : window - in_flight;
            const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>({room, batch_size, messages - sent}));
            if (n == 0) {
                std::this_thread::yield();
                continue;
            }
            auto r = tx.send_batch(std::span(batch.data(), n));
            if (!r) {
                failure = r.message();
                stop = true;
                return;
            }
            sent += *r;
            if (*r < n) std::this_thread::yield();
        }
    });
    uc::timed_packet m;
    std::uint64_t last = start;  // when the latest message arrived (a lost tail does not count)
    std::uint64_t count = 0;
    while (count < messages && !stop) {
        if (rx.receive(m)) {
            received.store(++count, std::memory_order_relaxed);
            if ((count & 1023) == 0 || count == messages) last = uc::now_ns();
            continue;
        }
        if (!rx.wait(std::chrono::seconds(2), spin)) break;  // nothing for 2 s: the rest was lost
    }
    stop = true;
    sender.join();
    if (!failure.empty()) throw input_error(failure);
    const std::uint64_t got = received.load();
    const double seconds = static_cast<double>(last - start) / 1e9;
    const double rate = seconds > 0 ? static_cast<double>(got) / seconds : 0.0;
    const auto counters = rx.counters();
    if (as_json) {
        json j{{"messages", messages}, {"received", got}, {"lost", messages - got}, {"seconds", seconds},
               {"messages_per_s", rate}, {"receiver_dropped_full", counters.receive_dropped_full}};
        std::cout << j.dump() << "\n";
    } else {
        char line[256];
        std::snprintf(line, sizeof line, "one endpoint, client to client: %llu of %llu messages in %.3f s = %.0f messages/s\n",
                      static_cast<unsigned long long>(got), static_cast<unsigned long long>(messages), seconds, rate);
        std::cout << line;
        if (got < messages) std::cout << "  lost " << (messages - got) << " (receiver ring full: " << counters.receive_dropped_full << ")\n";
    }
    return got == messages ? 0 : 1;
}

}  // namespace

int bench_verb(const verb_args& args) {
    const arguments a(args, {"json"});
    a.reject_unknown({"runtime-dir", "messages", "spin"});
    if (a.positional().size() != 1) throw usage_error("name a benchmark: latency or throughput");
    if (a.positional()[0] == "latency") return latency(a);
    if (a.positional()[0] == "throughput") return throughput(a);
    throw usage_error("unknown benchmark '" + a.positional()[0] + "' (latency, throughput)");
}

const char* const bench_help =
    "usage: umpctl bench latency|throughput [--json] [--messages N] [--spin US] [--runtime-dir DIR]\n"
    "\n"
    "latency: the round trip client -> umpd -> diagnostics loopback -> client (a scratch\n"
    "  loopback, removed afterwards), median, p99 and max over N messages (default\n"
    "  100000), next to the floor measured in the same run: two bare processes ping-pong\n"
    "  over a shared-memory ring with the same eventfd wake-up and adaptive spin. Prints\n"
    "  the ratios. --json: messages, p50_ns, p99_ns, max_ns, floor_p50_ns, floor_p99_ns,\n"
    "  floor_max_ns, ratio_p50, ratio_p99.\n"
    "throughput: one endpoint, one client sending batches as fast as the other receives\n"
    "  (N messages, default 4000000). --json: messages, received, lost, seconds,\n"
    "  messages_per_s. Exits 1 when messages were lost.\n"
    "  --spin US           how long a waiting side spins before it sleeps (default 50)\n";

}  // namespace umpctl
