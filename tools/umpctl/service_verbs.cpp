// umpctl's service verbs: status, list, device, loopback, send, monitor, play-notes,
// service install. They talk to umpd through the SDK (umpd::client).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "encode.hpp"
#include "service.hpp"
#include "umpd/core/describe.hpp"
#include "umpd/core/messages.hpp"
#include "umpd/core/scale.hpp"
#include "umpd/core/reader.hpp"
#include "verbs.hpp"

namespace umpctl {

namespace uc = umpd::client;
using json = nlohmann::json;

// ---- shared ------------------------------------------------------------------------------

uc::client connect_service(const arguments& a, const char* client_name) {
    uc::options o;
    o.runtime_dir = a.option_or("runtime-dir", "");
    o.client_name = client_name;
    o.reconnect = false;  // a command line fails fast instead of waiting for umpd
    return value_or_throw(uc::client::connect(std::move(o)));
}

void check(const uc::result<void>& r) {
    if (!r) throw input_error(r.message());
}

uc::endpoint_info find_endpoint(uc::client& c, const std::string& id_or_name) {
    const auto l = value_or_throw(c.list());
    if (const auto* e = l.find_endpoint(id_or_name)) return *e;
    throw input_error("no endpoint '" + id_or_name + "' (see `umpctl list`)");
}

void sleep_until_ns(std::uint64_t t) {
    timespec ts{static_cast<time_t>(t / 1'000'000'000u), static_cast<long>(t % 1'000'000'000u)};
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
}

namespace {

std::atomic<bool> interrupted{false};

void on_signal(int) { interrupted = true; }

void catch_interrupts() {
    struct sigaction sa{};
    sa.sa_handler = on_signal;
    ::sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
}


std::string pad(std::string s, std::size_t width) {
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s;
}

std::string words_hex(const umpd::core::packet& p) {
    std::string s;
    for (auto w : p.span()) s += (s.empty() ? "" : " ") + hex_word(w);
    return s;
}

// Groups hex words into packets by their message types.
std::vector<umpd::core::packet> packets_from_words(const std::vector<std::uint32_t>& words) {
    std::vector<umpd::core::packet> out;
    for (std::size_t i = 0; i < words.size();) {
        const unsigned n = umpd::core::word_count_of(words[i]);
        if (i + n > words.size())
            throw input_error("word " + std::to_string(i + 1) + " (" + hex_word(words[i]) + ") starts a packet of " +
                              std::to_string(n) + " words but only " + std::to_string(words.size() - i) + " follow");
        out.push_back(umpd::core::packet::from_words(std::span(words).subspan(i, n)));
        i += n;
    }
    return out;
}

// --at NS (absolute CLOCK_MONOTONIC) or +MS (from now); 0 when absent.
std::uint64_t parse_at(const arguments& a) {
    const auto at = a.option("at");
    if (!at) return 0;
    if (!at->empty() && (*at)[0] == '+') {
        const long long ms = parse_integer(std::string_view(*at).substr(1), 0, 3'600'000, "--at +MS");
        return uc::now_ns() + static_cast<std::uint64_t>(ms) * 1'000'000u;
    }
    const long long ns = parse_integer(*at, 1, std::numeric_limits<long long>::max(), "--at NS");
    return static_cast<std::uint64_t>(ns);
}

// Sends packets at time t (0: now) on c; waits first when t is further ahead than
// umpd schedules, so a long --count/--interval run does not hit the limit.
void send_at(uc::connection& c, const std::vector<umpd::core::packet>& ps, std::uint64_t t) {
    if (t != 0) {
        const std::uint64_t ahead = c.max_schedule_ahead_ns() != 0 ? c.max_schedule_ahead_ns() / 2 : 1'000'000'000u;
        if (t > uc::now_ns() + ahead) sleep_until_ns(t - ahead);
    }
    for (const auto& p : ps) {
        for (;;) {
            auto r = c.send(p, t);
            if (r) break;
            if (r.code() != uc::errc::ring_full) throw input_error(r.message());
            ::usleep(1000);  // umpd is behind: let it drain
        }
    }
}

// After sending: waits until umpd has read everything and reports what it refused.
void finish_sending(uc::connection& c, const uc::connection_counters& before, std::uint64_t last_time) {
    if (!c.flush(std::chrono::seconds(10))) throw input_error("umpd did not read the messages within 10 s");
    // Messages held for the future would be dropped with the connection: stay until due.
    if (last_time > uc::now_ns()) sleep_until_ns(last_time + 1'000'000);
    const auto after = c.counters();
    if (after.rejected_malformed > before.rejected_malformed)
        throw input_error("umpd refused " + std::to_string(after.rejected_malformed - before.rejected_malformed) +
                          " message(s) as malformed UMP");
    if (after.rejected_schedule > before.rejected_schedule)
        throw input_error("umpd refused " + std::to_string(after.rejected_schedule - before.rejected_schedule) +
                          " message(s) scheduled too far ahead (limit " +
                          std::to_string(c.max_schedule_ahead_ns() / 1'000'000) + " ms) or with its queue full");
}

// ---- status / list ---------------------------------------------------------------------

int status_verb_impl(const verb_args& args) {
    const arguments a(args, {"json"});
    a.reject_unknown({"runtime-dir"});
    if (!a.positional().empty()) throw usage_error("status takes no arguments");
    auto c = connect_service(a, "umpctl status");
    if (a.flag("json")) {
        std::cout << value_or_throw(c.call("status")) << "\n";
        return 0;
    }
    const auto s = value_or_throw(c.status());
    const auto l = value_or_throw(c.list());
    std::cout << "umpd " << s.version << "  pid " << s.pid << "  up " << static_cast<long long>(s.uptime_s) << " s\n"
              << "runtime dir   " << s.runtime_dir << "\n"
              << "config file   " << (s.config_file.empty() ? "(none)" : s.config_file) << "\n";
    for (const auto& d : s.drivers)
        std::cout << "driver        " << pad(d.name, 10) << pad(d.state, 10) << d.detail << "\n";
    std::cout << "devices       " << l.devices.size() << "\n"
              << "endpoints     " << l.endpoints.size() << "\n"
              << "connections   " << s.connections << "\n"
              << "routed        " << s.messages_routed << "\n"
              << "dropped_full  " << s.dropped_full << "  (messages lost to full client rings)\n"
              << "rejected      " << s.rejected_malformed << " malformed, " << s.rejected_schedule << " schedule\n";
    return 0;
}

int list_verb_impl(const verb_args& args) {
    const arguments a(args, {"json"});
    a.reject_unknown({"runtime-dir"});
    if (!a.positional().empty()) throw usage_error("list takes no arguments");
    auto c = connect_service(a, "umpctl list");
    if (a.flag("json")) {
        const json j = json::parse(value_or_throw(c.call("list")), nullptr, false);
        const auto e = j.is_object() ? j.find("endpoints") : j.end();
        if (!j.is_object() || e == j.end() || !e->is_array()) throw input_error("umpd's list has no endpoints array");
        std::cout << e->dump(2) << "\n";
        return 0;
    }
    const auto l = value_or_throw(c.list());
    if (l.devices.empty()) {
        std::cout << "no devices\n";
        return 0;
    }
    for (const auto& d : l.devices) {
        std::cout << d.id << "  \"" << d.name << "\"  driver " << d.driver << (d.offline ? "  OFFLINE" : "") << "\n";
        for (const auto& id : d.endpoints) {
            const auto* e = l.find_endpoint(id);
            if (e == nullptr) continue;
            std::cout << "  " << pad(e->id, 40) << " " << pad("\"" + e->name + "\"", 26) << " " << pad(e->protocol, 6)
                      << " " << pad(e->kind, 11) << " connections " << e->connections << "  routed " << e->counters.routed
                      << (e->offline ? "  OFFLINE" : "") << "\n";
        }
    }
    return 0;
}

// ---- device / loopback -------------------------------------------------------------------

int device_verb_impl(const verb_args& args) {
    const arguments a(args, {});
    const auto& pos = a.positional();
    if (pos.empty()) throw usage_error("name a sub-command: add-port, remove-port, offline or rename");
    const std::string& sub = pos[0];
    if (sub == "add-port") {
        a.reject_unknown({"runtime-dir", "name", "protocol"});
        if (pos.size() != 2) throw usage_error("usage: device add-port DEVICE [--name N] [--protocol midi1|midi2]");
        const auto proto = a.option_or("protocol", "");
        if (!proto.empty() && proto != "midi1" && proto != "midi2")
            throw usage_error("--protocol must be midi1 or midi2, not '" + proto + "'");
        auto c = connect_service(a, "umpctl device");
        const auto e = value_or_throw(c.add_port(pos[1], a.option_or("name", ""), proto));
        std::cout << e.id << "\n";
        return 0;
    }
    a.reject_unknown({"runtime-dir"});
    if (sub == "remove-port") {
        if (pos.size() != 2) throw usage_error("usage: device remove-port ENDPOINT");
        auto c = connect_service(a, "umpctl device");
        check(c.remove_port(pos[1]));
        return 0;
    }
    if (sub == "offline") {
        if (pos.size() != 3 || (pos[2] != "on" && pos[2] != "off"))
            throw usage_error("usage: device offline DEVICE on|off");
        auto c = connect_service(a, "umpctl device");
        const auto d = value_or_throw(c.set_offline(pos[1], pos[2] == "on"));
        std::cout << d.id << " " << (d.offline ? "offline" : "online") << "\n";
        return 0;
    }
    if (sub == "rename") {
        if (pos.size() != 3) throw usage_error("usage: device rename DEVICE|ENDPOINT NAME");
        auto c = connect_service(a, "umpctl device");
        const auto r = value_or_throw(c.rename(pos[1], pos[2]));
        std::cout << r.id << " \"" << r.name << "\"\n";
        return 0;
    }
    throw usage_error("unknown sub-command '" + sub + "' (add-port, remove-port, offline, rename)");
}

int loopback_verb_impl(const verb_args& args) {
    const arguments a(args, {"json"});
    a.reject_unknown({"runtime-dir"});
    const auto& pos = a.positional();
    if (pos.empty()) throw usage_error("name a sub-command: create, remove or list");
    const std::string& sub = pos[0];
    if (sub == "create") {
        if (pos.size() < 3 || pos.size() > 4)
            throw usage_error("usage: loopback create pair|midi1|diagnostics NAME [NAME_B]");
        uc::loopback_kind kind{};
        if (pos[1] == "pair") kind = uc::loopback_kind::pair;
        else if (pos[1] == "midi1") kind = uc::loopback_kind::midi1;
        else if (pos[1] == "diagnostics") kind = uc::loopback_kind::diagnostics;
        else throw usage_error("the kind must be pair, midi1 or diagnostics, not '" + pos[1] + "'");
        if (pos.size() == 4 && kind != uc::loopback_kind::pair) throw usage_error("only a pair takes a second name");
        auto c = connect_service(a, "umpctl loopback");
        const auto d = value_or_throw(c.create_loopback(kind, pos[2], pos.size() == 4 ? pos[3] : ""));
        std::cout << d.id << "\n";
        for (const auto& e : d.endpoints) std::cout << "  " << e << "\n";
        return 0;
    }
    if (sub == "remove") {
        if (pos.size() != 2) throw usage_error("usage: loopback remove DEVICE");
        auto c = connect_service(a, "umpctl loopback");
        check(c.remove_loopback(pos[1]));
        return 0;
    }
    if (sub == "list") {
        if (pos.size() != 1) throw usage_error("usage: loopback list [--json]");
        auto c = connect_service(a, "umpctl loopback");
        if (a.flag("json")) {
            const json j = json::parse(value_or_throw(c.call("list_loopbacks")), nullptr, false);
            const auto d = j.is_object() ? j.find("devices") : j.end();
            std::cout << ((j.is_object() && d != j.end()) ? d->dump(2) : std::string("[]")) << "\n";
            return 0;
        }
        const auto ds = value_or_throw(c.list_loopbacks());
        if (ds.empty()) std::cout << "no loopbacks\n";
        for (const auto& d : ds) {
            std::cout << d.id << "  \"" << d.name << "\"  " << d.model << "\n";
            for (const auto& e : d.endpoints) std::cout << "  " << e << "\n";
        }
        return 0;
    }
    throw usage_error("unknown sub-command '" + sub + "' (create, remove, list)");
}

// ---- send / play-notes -------------------------------------------------------------------

int send_verb_impl(const verb_args& args) {
    const arguments a(args, encode_flags);
    const auto& pos = a.positional();
    if (pos.size() < 2) throw usage_error("name an endpoint and a message (hex words or a form such as note-on)");
    const std::vector<std::string> own{"runtime-dir", "at", "count", "interval"};
    auto c = connect_service(a, "umpctl send");
    std::vector<umpd::core::packet> packets;
    uc::endpoint_info ep;
    if (is_message_name(pos[1])) {
        if (pos.size() != 2) throw usage_error("give either hex words or one message form, not both");
        ep = find_endpoint(c, pos[0]);
        packets = encode_message(a, pos[1], own, ep.protocol == "midi1" ? "midi1" : "midi2");
    } else {
        a.reject_unknown(own);
        const std::vector<std::string> words_text(pos.begin() + 1, pos.end());
        packets = packets_from_words(parse_words(read_hex_tokens(words_text)));
        for (std::size_t i = 0; i < packets.size(); ++i)
            if (const auto e = umpd::core::check_packet(packets[i]); e != umpd::core::read_error::none)
                throw input_error("packet " + std::to_string(i + 1) + " [" + words_hex(packets[i]) +
                                  "] is not valid UMP (" + umpd::core::to_string(e) + ")");
    }
    const long long count = a.integer("count", 1, 100'000'000).value_or(1);
    const auto interval = a.integer("interval", 0, 3'600'000);
    std::uint64_t t = parse_at(a);
    if (interval && t == 0) t = uc::now_ns() + 1'000'000;  // a grid needs a start time
    auto conn = value_or_throw(c.open(pos[0]));
    const auto before = conn.counters();
    std::uint64_t last = t;
    for (long long i = 0; i < count; ++i) {
        const std::uint64_t at = t == 0 ? 0 : t + static_cast<std::uint64_t>(i) * static_cast<std::uint64_t>(interval.value_or(0)) * 1'000'000u;
        send_at(conn, packets, at);
        last = at;
    }
    finish_sending(conn, before, last);
    return 0;
}

std::vector<std::uint8_t> parse_notes(const std::string& text) {
    std::vector<std::uint8_t> notes;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ','))
        notes.push_back(static_cast<std::uint8_t>(parse_integer(item, 0, 127, "a note number")));
    if (notes.empty()) throw usage_error("--notes needs at least one note number");
    return notes;
}

int play_notes_verb_impl(const verb_args& args) {
    const arguments a(args, {});
    a.reject_unknown({"runtime-dir", "notes", "bpm", "channel", "group", "velocity"});
    if (a.positional().size() != 1) throw usage_error("name one endpoint");
    const auto notes = parse_notes(a.option_or("notes", "60,64,67"));
    const long long bpm = a.integer("bpm", 1, 1000).value_or(120);
    const auto ch = umpd::core::channel{static_cast<std::uint8_t>(a.integer("channel", 1, 16).value_or(1) - 1)};
    const auto grp = umpd::core::group{static_cast<std::uint8_t>(a.integer("group", 1, 16).value_or(1) - 1)};
    const auto velocity = static_cast<std::uint8_t>(a.integer("velocity", 1, 127).value_or(100));
    auto c = connect_service(a, "umpctl play-notes");
    const auto ep = find_endpoint(c, a.positional()[0]);
    auto conn = value_or_throw(c.open(ep.id));
    const bool midi1 = ep.protocol == "midi1";
    const std::uint64_t beat = 60'000'000'000ull / static_cast<std::uint64_t>(bpm);
    const std::uint64_t start = uc::now_ns() + 10'000'000;  // 10 ms: room to schedule the first note
    const auto before = conn.counters();
    std::uint64_t last = start;
    for (std::size_t i = 0; i < notes.size(); ++i) {
        const std::uint64_t on = start + i * beat;
        const std::uint64_t off = on + beat * 9 / 10;  // a short gap keeps repeated notes distinct
        const std::uint16_t v16 = static_cast<std::uint16_t>(umpd::core::scale_up(velocity, 7, 16));
        send_at(conn, {midi1 ? umpd::core::make_midi1_note_on(grp, ch, notes[i], velocity)
                             : umpd::core::make_midi2_note_on(grp, ch, notes[i], v16, 0, 0)}, on);
        send_at(conn, {midi1 ? umpd::core::make_midi1_note_off(grp, ch, notes[i], 0)
                             : umpd::core::make_midi2_note_off(grp, ch, notes[i], 0, 0, 0)}, off);
        last = off;
    }
    finish_sending(conn, before, last);
    std::cout << "played " << notes.size() << " note" << (notes.size() == 1 ? "" : "s") << " on " << ep.id << "\n";
    return 0;
}

// ---- monitor -----------------------------------------------------------------------------

struct running_stats {
    std::vector<double> values;
    void add(double v) { values.push_back(v); }
    // The standard deviation, scaled, or "n/a" without data.
    [[nodiscard]] std::string deviation(double scale, const char* unit) const {
        if (values.size() < 2) return "n/a";
        double sum = 0;
        for (double x : values) sum += x;
        const double mean = sum / static_cast<double>(values.size());
        double var = 0;
        for (double x : values) var += (x - mean) * (x - mean);
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.3f %s", std::sqrt(var / static_cast<double>(values.size())) * scale, unit);
        return buf;
    }
    [[nodiscard]] std::string summary(const char* unit) const {
        if (values.empty()) return "no data";
        std::vector<double> v = values;
        std::sort(v.begin(), v.end());
        double sum = 0;
        for (double x : v) sum += x;
        const double mean = sum / static_cast<double>(v.size());
        double var = 0;
        for (double x : v) var += (x - mean) * (x - mean);
        const double sd = std::sqrt(var / static_cast<double>(v.size()));
        const auto pct = [&](double p) {
            return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
        };
        char buf[256];
        std::snprintf(buf, sizeof buf, "mean %.3f %s, std dev (jitter) %.3f %s, min %.3f, median %.3f, p99 %.3f, max %.3f %s",
                      mean, unit, sd, unit, v.front(), pct(0.5), pct(0.99), v.back(), unit);
        return buf;
    }
};

int monitor_verb_impl(const verb_args& args) {
    const arguments a(args, {"json"});
    a.reject_unknown({"runtime-dir", "count", "timeout"});
    if (a.positional().size() != 1) throw usage_error("name one endpoint");
    const auto count = a.integer("count", 1, std::numeric_limits<long long>::max());
    const auto timeout_s = a.option("timeout");
    double timeout = -1;
    if (timeout_s) {
        char* end = nullptr;
        timeout = std::strtod(timeout_s->c_str(), &end);
        if (end == timeout_s->c_str() || *end != '\0' || !(timeout >= 0))
            throw usage_error("--timeout must be a number of seconds, not '" + *timeout_s + "'");
    }
    const bool as_json = a.flag("json");
    catch_interrupts();
    auto c = connect_service(a, "umpctl monitor");
    auto conn = value_or_throw(c.open(a.positional()[0]));
    std::cerr << "monitoring " << conn.endpoint().id << " \"" << conn.endpoint().name << "\"" << std::endl;
    const std::uint64_t start = uc::now_ns();
    const std::uint64_t deadline = timeout < 0 ? 0 : start + static_cast<std::uint64_t>(timeout * 1e9);
    long long received = 0;
    std::uint64_t previous = 0;
    running_stats intervals, delays;
    uc::timed_packet m;
    while (!interrupted && (!count || received < *count)) {
        if (!conn.receive(m)) {
            if (!conn.is_open()) throw input_error("the connection to umpd was lost");
            const std::uint64_t now = uc::now_ns();
            if (deadline != 0 && now >= deadline) break;
            // Short slices so Ctrl-C and the timeout are noticed.
            std::uint64_t slice = 100'000'000;
            if (deadline != 0) slice = std::min(slice, deadline - now);
            (void)conn.wait(std::chrono::nanoseconds(slice), std::chrono::nanoseconds(0));
            continue;
        }
        const std::uint64_t arrived = uc::now_ns();
        ++received;
        if (as_json) {
            std::cout << "{\"timestamp_ns\":" << m.timestamp_ns << "," << umpd::core::describe_json(m.packet).substr(1)
                      << std::endl;
        } else {
            const double rel_ms = previous == 0 ? 0.0 : static_cast<double>(m.timestamp_ns - previous) / 1e6;
            char head[64];
            std::snprintf(head, sizeof head, "%llu  +%10.3f ms  ", static_cast<unsigned long long>(m.timestamp_ns), rel_ms);
            std::cout << head << umpd::core::describe(m.packet) << std::endl;
        }
        if (previous != 0 && m.timestamp_ns >= previous) intervals.add(static_cast<double>(m.timestamp_ns - previous) / 1e6);
        if (arrived >= m.timestamp_ns) delays.add(static_cast<double>(arrived - m.timestamp_ns) / 1e3);
        previous = m.timestamp_ns;
    }
    const auto counters = conn.counters();
    if (!as_json) {
        std::cout << received << " message" << (received == 1 ? "" : "s") << "\n"
                  << "interval between messages: " << intervals.summary("ms") << "\n"
                  << "delivery delay (stamp to read): " << delays.summary("us") << "\n"
                  << "jitter: " << intervals.deviation(1e3, "us") << " between messages, "
                  << delays.deviation(1.0, "us") << " in delivery delay\n";
        if (counters.receive_dropped_full > 0)
            std::cout << "lost " << counters.receive_dropped_full << " message(s): the monitor's ring was full\n";
    }
    if (count && received < *count)
        std::cerr << "umpctl monitor: received " << received << " of " << *count << " messages before "
                  << (interrupted ? "interruption" : "the timeout") << "\n";
    return 0;
}

// ---- service install ---------------------------------------------------------------------

// The unit umpd ships (packaging/umpd.service); @UMPD@ is replaced by the binary's path.
constexpr const char* unit_template =
    "[Unit]\n"
    "Description=umpd, the user-space MIDI 2.0 service\n"
    "Documentation=https://github.com/umpd/umpd\n"
    "\n"
    "[Service]\n"
    "Type=simple\n"
    "ExecStart=@UMPD@\n"
    "Restart=on-failure\n"
    "RestartSec=1\n"
    "\n"
    "[Install]\n"
    "WantedBy=default.target\n";

std::string find_umpd_binary(const arguments& a) {
    if (auto p = a.option("umpd")) return *p;
    // Next to this umpctl first (a build tree or an install), then PATH.
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const auto beside = self.parent_path() / "umpd";
        if (::access(beside.c_str(), X_OK) == 0) return beside.string();
        const auto build_tree = self.parent_path().parent_path() / "umpd" / "umpd";
        if (::access(build_tree.c_str(), X_OK) == 0) return build_tree.string();
    }
    if (const char* path = std::getenv("PATH")) {
        std::stringstream in(path);
        std::string dir;
        while (std::getline(in, dir, ':')) {
            const std::string p = dir + "/umpd";
            if (!dir.empty() && ::access(p.c_str(), X_OK) == 0) return p;
        }
    }
    throw input_error("cannot find the umpd binary (not next to umpctl, not on PATH); give it with --umpd PATH");
}

bool systemd_user_available() {
    if (::access("/run/systemd/system", F_OK) != 0) return false;
    return std::system("systemctl --user show-environment >/dev/null 2>&1") == 0;
}

int service_verb_impl(const verb_args& args) {
    const arguments a(args, {"no-start"});
    a.reject_unknown({"umpd", "unit-dir", "runtime-dir"});
    if (a.positional().size() != 1 || a.positional()[0] != "install") throw usage_error("usage: service install");
    std::string dir;
    if (auto d = a.option("unit-dir")) {
        dir = *d;
    } else {
        const char* config = std::getenv("XDG_CONFIG_HOME");
        const char* home = std::getenv("HOME");
        if (config != nullptr && *config == '/') dir = std::string(config) + "/systemd/user";
        else if (home != nullptr && *home == '/') dir = std::string(home) + "/.config/systemd/user";
        else throw input_error("neither XDG_CONFIG_HOME nor HOME is set; give the unit directory with --unit-dir");
    }
    std::string unit = unit_template;
    std::string exec = find_umpd_binary(a);
    if (auto rd = a.option("runtime-dir")) exec += " --runtime-dir " + *rd;
    unit.replace(unit.find("@UMPD@"), 6, exec);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw input_error("cannot create " + dir + ": " + ec.message());
    const std::string path = dir + "/umpd.service";
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << unit;
        out.close();
        if (!out) throw input_error("cannot write " + tmp);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
        throw input_error("cannot write " + path + ": " + std::strerror(errno));
    std::cout << "wrote " << path << "\n";
    if (a.flag("no-start")) return 0;
    if (!systemd_user_available())
        throw input_error("wrote " + path + ", but systemd (user instance) is not running here; start umpd yourself: " + exec);
    if (std::system("systemctl --user daemon-reload && systemctl --user enable --now umpd") != 0)
        throw input_error("wrote " + path + ", but `systemctl --user enable --now umpd` failed; see `systemctl --user status umpd`");
    std::cout << "enabled and started umpd (systemctl --user status umpd)\n";
    return 0;
}

}  // namespace

// ---- verbs and help ------------------------------------------------------------------------

int status_verb(const verb_args& args) { return status_verb_impl(args); }
int list_verb(const verb_args& args) { return list_verb_impl(args); }
int device_verb(const verb_args& args) { return device_verb_impl(args); }
int loopback_verb(const verb_args& args) { return loopback_verb_impl(args); }
int send_verb(const verb_args& args) { return send_verb_impl(args); }
int monitor_verb(const verb_args& args) { return monitor_verb_impl(args); }
int play_notes_verb(const verb_args& args) { return play_notes_verb_impl(args); }
int service_verb(const verb_args& args) { return service_verb_impl(args); }

#define UMPCTL_RUNTIME_DIR_HELP "  --runtime-dir DIR   the umpd to talk to (default: $XDG_RUNTIME_DIR/umpd)\n"

const char* const status_help =
    "usage: umpctl status [--json] [--runtime-dir DIR]\n"
    "\n"
    "Shows umpd's version, uptime, drivers and counters: connections, messages routed,\n"
    "messages lost to full client rings, messages refused as malformed or unschedulable.\n"
    "  --json              umpd's status object as JSON\n" UMPCTL_RUNTIME_DIR_HELP;

const char* const list_help =
    "usage: umpctl list [--json] [--runtime-dir DIR]\n"
    "\n"
    "Lists devices and their endpoints (ports) with their ids, which every verb accepts\n"
    "(as it does a unique name).\n"
    "  --json              a JSON array of endpoints: id, name, device, device_id, driver,\n"
    "                      protocol, offline, kind, connections, counters\n" UMPCTL_RUNTIME_DIR_HELP;

const char* const device_help =
    "usage: umpctl device add-port DEVICE [--name N] [--protocol midi1|midi2]\n"
    "       umpctl device remove-port ENDPOINT\n"
    "       umpctl device offline DEVICE on|off\n"
    "       umpctl device rename DEVICE|ENDPOINT NAME\n"
    "\n"
    "Configures a running device (the request -> stop I/O -> perform -> restart I/O\n"
    "protocol runs in umpd). add-port prints the new endpoint's id.\n" UMPCTL_RUNTIME_DIR_HELP;

const char* const loopback_help =
    "usage: umpctl loopback create pair|midi1|diagnostics NAME [NAME_B]\n"
    "       umpctl loopback remove DEVICE\n"
    "       umpctl loopback list [--json]\n"
    "\n"
    "pair: two endpoints A and B, what is sent to one comes out of the other.\n"
    "midi1: one endpoint whose MIDI 1.0 ports in and out share its name (as loopMIDI).\n"
    "diagnostics: a loopback that keeps the sender's timestamps (for benchmarks).\n"
    "create prints the new device's id and its endpoints.\n" UMPCTL_RUNTIME_DIR_HELP;

const char* const send_help =
    "usage: umpctl send ENDPOINT WORD... [--at NS|+MS] [--count N] [--interval MS]\n"
    "       umpctl send ENDPOINT MESSAGE [OPTIONS] [--at ...] [--count N] [--interval MS]\n"
    "\n"
    "Sends UMP to an endpoint: hex words (packets follow their message types), or one\n"
    "message in the readable form of `umpctl encode` (see umpctl encode --help), e.g.\n"
    "  umpctl send virtual/umpd-virtual-device/1 note-on --note 60 --velocity 100\n"
    "The readable form uses the endpoint's protocol unless --protocol says otherwise.\n"
    "  --at NS             deliver at CLOCK_MONOTONIC time NS; --at +MS: MS ms from now\n"
    "  --count N           send N times\n"
    "  --interval MS       N times, MS ms apart (scheduled by umpd on a grid)\n"
    "Exits once umpd has read (and, for future times, delivered) everything; fails when\n"
    "umpd refused a message.\n" UMPCTL_RUNTIME_DIR_HELP;

const char* const monitor_help =
    "usage: umpctl monitor ENDPOINT [--json] [--count N] [--timeout S]\n"
    "\n"
    "Prints every message the endpoint's source emits, decoded, with its timestamp\n"
    "(CLOCK_MONOTONIC ns) and the time since the previous one; on exit, statistics of\n"
    "the intervals and of the delivery delay (jitter = their standard deviation).\n"
    "  --json              one JSON object per line: timestamp_ns, words (8-digit hex),\n"
    "                      and the decoded fields of `umpctl decode --json`\n"
    "  --count N           exit after N messages\n"
    "  --timeout S         exit after S seconds (a fraction is fine)\n"
    "A line \"monitoring ID\" on stderr says when it listens.\n" UMPCTL_RUNTIME_DIR_HELP;

const char* const play_notes_help =
    "usage: umpctl play-notes ENDPOINT [--notes 60,64,67] [--bpm 120] [--channel C]\n"
    "                         [--group G] [--velocity V]\n"
    "\n"
    "Plays the notes one after the other, one beat each, scheduled by umpd (note on at\n"
    "the beat, note off at 90% of it), in the endpoint's protocol. Channels and groups\n"
    "are 1-16; velocity 1-127 (default 100).\n" UMPCTL_RUNTIME_DIR_HELP;

const char* const service_help =
    "usage: umpctl service install [--umpd PATH] [--unit-dir DIR] [--no-start] [--runtime-dir DIR]\n"
    "\n"
    "Writes the systemd user unit umpd.service (to $XDG_CONFIG_HOME/systemd/user, or\n"
    "~/.config/systemd/user) and runs `systemctl --user daemon-reload` and\n"
    "`systemctl --user enable --now umpd`. Where systemd is not running it writes the unit\n"
    "and says so (exit 1).\n"
    "  --umpd PATH         the umpd binary (default: next to umpctl, then PATH)\n"
    "  --unit-dir DIR      where to write the unit\n"
    "  --no-start          only write the unit\n"
    "  --runtime-dir DIR   passed to umpd in the unit\n";

#undef UMPCTL_RUNTIME_DIR_HELP

}  // namespace umpctl
