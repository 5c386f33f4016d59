// The ALSA sequencer client: set-up, ports, subscriptions, the I/O thread and the
// timing of outgoing events. docs/alsa.md has the design.
#include "umpd/alsa/client.hpp"

#include <alsa/asoundlib.h>
#include <fnmatch.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "umpd/alsa/codec.hpp"

namespace umpd::alsa {
namespace {

std::int64_t monotonic_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// A message due less than this far ahead goes out at once: holding it would cost a
// timer wake-up for nothing.
constexpr std::int64_t hold_threshold_ns = 200'000;

// alsa-lib prints its complaints to stderr; the driver reports errors itself.
void silent_error_handler(const char*, int, const char*, int, const char*, ...) {}

class category final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "umpd.alsa"; }
    [[nodiscard]] std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::no_sequencer: return "no ALSA sequencer (/dev/snd/seq not found; load snd-seq)";
        case errc::open_failed: return "the ALSA sequencer could not be opened";
        case errc::not_open: return "the ALSA client is not open";
        case errc::duplicate_key: return "a port with this key exists";
        case errc::unknown_port: return "no such port";
        case errc::port_failed: return "the ALSA sequencer refused the port";
        case errc::subscribe_failed: return "the ALSA sequencer refused the subscription";
        case errc::invalid_argument: return "invalid argument";
        case errc::thread_failed: return "the ALSA I/O thread could not be started";
        }
        return "unknown alsa error";
    }
};

// One stream of events in each direction: an exported port, or an imported remote port.
struct stream {
    event_decoder decoder;
    event_encoder encoder;
    std::size_t held = 0;             // its events waiting in the hold
    std::int64_t last_held = 0;       // the latest time one of them is due
    std::uint64_t last_timestamp = 0; // of the last message sent (what flush() uses)
    std::int64_t last_sysex = 0;      // when its last SysEx chunk was due
    explicit stream(std::size_t chunk) : encoder(chunk) {}
};

struct local_port {
    port_spec spec;
    int alsa_port = -1;
    stream io;
    local_port(port_spec s, std::size_t chunk) : spec(std::move(s)), io(chunk) {}
};

struct remote_stream {
    bool from = false;  // subscribed for reading
    bool to = false;    // subscribed for writing
    stream io;
    explicit remote_stream(std::size_t chunk) : io(chunk) {}
};

// An outgoing event held until it is due; a SysEx event keeps a copy of its bytes.
struct held_event {
    stream* owner = nullptr;
    snd_seq_event_t ev{};
    std::vector<std::uint8_t> data;
};

bool valid_name(std::string_view name) { return !name.empty() && name.size() < 64; }

}  // namespace

const std::error_category& alsa_category() noexcept {
    static const category c;
    return c;
}
std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), alsa_category()}; }

bool excluded(std::span<const std::string> patterns, std::string_view client_name, std::string_view port_name) {
    std::string subject;
    subject.reserve(client_name.size() + 1 + port_name.size());
    subject.append(client_name).append(":").append(port_name);
    for (const auto& p : patterns)
        if (fnmatch(p.c_str(), subject.c_str(), 0) == 0) return true;
    return false;
}

struct client::impl {
    client_config config;
    mutable std::recursive_mutex mutex;
    snd_seq_t* seq = nullptr;
    int id = -1;
    int import_port = -1;
    handlers h;
    std::map<port_key, std::unique_ptr<local_port>> ports;
    std::map<int, local_port*> by_alsa_port;
    std::map<address, std::unique_ptr<remote_stream>> remotes;
    std::thread io;
    int stop_fd = -1;
    int timer_fd = -1;  // armed at the earliest held event's time
    std::multimap<std::int64_t, held_event> hold;  // by due time; equal times keep their order
    client_counters counts{};
    std::int64_t sysex_interval_ns = 0;
    std::int64_t spin_ns = 0;

    explicit impl(client_config c)
        : config(std::move(c)),
          sysex_interval_ns(std::int64_t{config.sysex_interval.count()} * 1000),
          spin_ns(std::int64_t{config.answer_spin.count()} * 1000) {}

    // I/O thread, lock held.
    void dispatch(const snd_seq_event_t& ev) {
        if (ev.source.client == SND_SEQ_CLIENT_SYSTEM && ev.source.port == SND_SEQ_PORT_SYSTEM_ANNOUNCE) {
            announce(ev);
            return;
        }
        stream* s = nullptr;
        origin o;
        if (ev.dest.port == import_port) {
            const address from{ev.source.client, ev.source.port};
            auto it = remotes.find(from);
            if (it == remotes.end() || !it->second->from) return;  // not (or no longer) imported
            s = &it->second->io;
            o.remote = true;
            o.from = from;
        } else {
            auto it = by_alsa_port.find(ev.dest.port);
            if (it == by_alsa_port.end() || it->second->spec.direction != naming::port_direction::destination) return;
            s = &it->second->io;
            o.key = it->second->spec.key;
        }
        // Stamped when read: the kernel's own stamps come from the queue timer's ticks
        // (4 ms at HZ=250 without snd-hrtimer), reading is microseconds after delivery.
        const std::uint64_t t = static_cast<std::uint64_t>(monotonic_ns());
        const auto ignored = s->decoder.ignored_events;
        s->decoder.decode(ev, [&](const core::packet& p) {
            ++counts.messages_in;
            if (h.on_message) h.on_message(o, t, p);
        });
        if (s->decoder.ignored_events != ignored) ++counts.ignored_in;
        else ++counts.events_in;
    }

    void announce(const snd_seq_event_t& ev) {
        announcement a;
        switch (ev.type) {
        case SND_SEQ_EVENT_CLIENT_START: a.what = announcement::kind::client_start; break;
        case SND_SEQ_EVENT_CLIENT_EXIT: a.what = announcement::kind::client_exit; break;
        case SND_SEQ_EVENT_CLIENT_CHANGE: a.what = announcement::kind::client_change; break;
        case SND_SEQ_EVENT_PORT_START: a.what = announcement::kind::port_start; break;
        case SND_SEQ_EVENT_PORT_EXIT: a.what = announcement::kind::port_exit; break;
        case SND_SEQ_EVENT_PORT_CHANGE: a.what = announcement::kind::port_change; break;
        default: return;  // subscriptions come and go too: not ours to report
        }
        a.addr = {ev.data.addr.client, ev.data.addr.port};
        if (a.what == announcement::kind::client_exit) {
            // Its ports and subscriptions are gone: forget the streams.
            for (auto it = remotes.begin(); it != remotes.end();) {
                if (it->first.client != a.addr.client) {
                    ++it;
                    continue;
                }
                drop_held(it->second->io);
                it = remotes.erase(it);
            }
        } else if (a.what == announcement::kind::port_exit) {
            if (auto it = remotes.find(a.addr); it != remotes.end()) {
                drop_held(it->second->io);
                remotes.erase(it);
            }
        }
        if (h.on_announcement) h.on_announcement(a);
    }

    void run() {
        const int n = snd_seq_poll_descriptors_count(seq, POLLIN);
        std::vector<pollfd> fds(static_cast<std::size_t>(n > 0 ? n : 0) + 3);
        fds[0] = {stop_fd, POLLIN, 0};
        fds[1] = {h.wake_fd, POLLIN, 0};  // a negative fd is ignored by poll
        fds[2] = {timer_fd, POLLIN, 0};
        snd_seq_poll_descriptors(seq, fds.data() + 3, static_cast<unsigned>(n), POLLIN);
        while (true) {
            for (auto& f : fds) f.revents = 0;
            const int r = ::poll(fds.data(), fds.size(), -1);
            if (r < 0 && errno != EINTR) break;
            if (fds[0].revents != 0) break;
            std::lock_guard lock(mutex);
            bool readable = false;
            for (std::size_t i = 3; i < fds.size(); ++i) readable = readable || fds[i].revents != 0;
            if (fds[2].revents != 0) {
                std::uint64_t expirations = 0;
                (void)::read(timer_fd, &expirations, sizeof expirations);
                release_due();
            }
            const auto in_before = counts.messages_in;
            if (readable) read_events();
            if (fds[1].revents != 0 && h.on_wake) h.on_wake();
            if (counts.messages_in != in_before) answer_spin();
        }
    }

    // Lock held. After passing messages in, on_wake is polled for a moment: what comes
    // back at once (a loopback, a thru) then leaves without a sleep and a wake-up of
    // this thread. Ends as soon as something went out, or after spin_ns.
    void answer_spin() {
        if (!h.on_wake || spin_ns <= 0) return;
        const auto out_before = counts.events_out + counts.scheduled;
        const std::int64_t end = monotonic_ns() + spin_ns;
        while (counts.events_out + counts.scheduled == out_before && monotonic_ns() < end) h.on_wake();
    }

    void read_events() {
        while (true) {
            snd_seq_event_t* ev = nullptr;
            const int r = snd_seq_event_input(seq, &ev);
            if (r == -ENOSPC) {
                ++counts.input_overruns;
                continue;
            }
            if (r < 0 || ev == nullptr) break;  // -EAGAIN: all read
            dispatch(*ev);
        }
    }

    // Lock held. Arms the timer at the earliest held event (disarms when none); at
    // `not_before` when that one is already due but was kept back (SysEx pacing).
    void arm_timer(std::int64_t not_before = 0) {
        itimerspec spec{};
        if (!hold.empty()) {
            std::int64_t at = hold.begin()->first;
            if (not_before > 0 && at < not_before) at = not_before;
            at = std::max<std::int64_t>(at, 1);
            spec.it_value.tv_sec = static_cast<time_t>(at / 1'000'000'000);
            spec.it_value.tv_nsec = static_cast<long>(at % 1'000'000'000);
        }
        (void)::timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &spec, nullptr);
    }

    // Lock held. Sends every held event that is due, in order per stream. A stream
    // sends at most one SysEx event per pass: when this thread wakes late, a backlog of
    // paced SysEx must not leave as one burst (that is what pacing prevents); the rest
    // of that stream waits for the next pass, sysex_interval later.
    void release_due() {
        const std::int64_t now = monotonic_ns();
        std::vector<const stream*> paused;  // streams that sent a SysEx in this pass
        for (auto it = hold.begin(); it != hold.end() && it->first <= now;) {
            held_event& e = it->second;
            if (std::find(paused.begin(), paused.end(), e.owner) != paused.end()) {
                ++it;
                continue;
            }
            const bool sysex = e.ev.type == SND_SEQ_EVENT_SYSEX;
            if (sysex) {
                seq_event::set_sysex(e.ev, e.data.data(), e.data.size());
                paused.push_back(e.owner);
                e.owner->last_sysex = now;
            }
            if (e.owner != nullptr) --e.owner->held;
            (void)write_event(e.ev);
            it = hold.erase(it);
        }
        arm_timer(paused.empty() ? 0 : now + sysex_interval_ns);
    }

    // Lock held. Forgets what a stream still holds (its port or remote went away).
    void drop_held(const stream& s) {
        std::erase_if(hold, [&](const auto& kv) { return kv.second.owner == &s; });
        arm_timer();
    }

    bool write_event(snd_seq_event_t& ev) {
        seq_event::set_direct(ev);
        int r = snd_seq_event_output_direct(seq, &ev);
        if (r == -EAGAIN) {  // the kernel has no room right now: wait for it a little, once
            const int n = snd_seq_poll_descriptors_count(seq, POLLOUT);
            std::vector<pollfd> fds(static_cast<std::size_t>(n > 0 ? n : 0));
            snd_seq_poll_descriptors(seq, fds.data(), static_cast<unsigned>(n), POLLOUT);
            (void)::poll(fds.data(), fds.size(), 200);
            r = snd_seq_event_output_direct(seq, &ev);
        }
        if (r < 0) {
            ++counts.send_failures;
            return false;
        }
        ++counts.events_out;
        return true;
    }

    // Lock held. Sends one event of stream s now, or holds it until it is due; the
    // caller has set source and destination. Nothing overtakes an event s holds.
    bool output(stream& s, snd_seq_event_t& ev, std::uint64_t timestamp_ns) {
        const std::int64_t now = monotonic_ns();
        auto due = static_cast<std::int64_t>(timestamp_ns);
        if (ev.type == SND_SEQ_EVENT_SYSEX) {
            // Receivers get no back-pressure from the sequencer (a full input pool loses
            // events silently): SysEx chunks leave at most one per sysex_interval.
            due = std::max({due, now, s.last_sysex + sysex_interval_ns});
            s.last_sysex = due;
        }
        if (due <= now + hold_threshold_ns && s.held == 0) return write_event(ev);
        held_event e;
        e.owner = &s;
        e.ev = ev;
        if (ev.type == SND_SEQ_EVENT_SYSEX) {
            const auto* b = static_cast<const std::uint8_t*>(ev.data.ext.ptr);
            e.data.assign(b, b + ev.data.ext.len);
        }
        due = std::max(due, s.last_held);
        s.last_held = due;
        ++s.held;
        ++counts.scheduled;
        const bool earliest = hold.empty() || due < hold.begin()->first;
        hold.emplace(due, std::move(e));
        if (earliest) arm_timer();
        return true;
    }

    void encode(stream& s, const core::packet& p, std::uint64_t timestamp_ns, int source_port,
                std::optional<address> dest) {
        s.last_timestamp = timestamp_ns;
        const auto before = s.encoder.counters().untranslatable;
        auto emit = [&](snd_seq_event_t& ev) {
            seq_event::set_source(ev, source_port);
            if (dest) seq_event::set_dest(ev, dest->client, dest->port);
            else seq_event::set_subscribers(ev);
            (void)output(s, ev, timestamp_ns);
        };
        s.encoder.encode(p, emit);
        counts.untranslatable_out += s.encoder.counters().untranslatable - before;
    }

    void flush_stream(stream& s, int source_port, std::optional<address> dest) {
        s.encoder.flush([&](snd_seq_event_t& ev) {
            seq_event::set_source(ev, source_port);
            if (dest) seq_event::set_dest(ev, dest->client, dest->port);
            else seq_event::set_subscribers(ev);
            (void)output(s, ev, s.last_timestamp);
        });
    }

    void close_handle() {
        if (seq != nullptr) snd_seq_close(seq);
        seq = nullptr;
        id = import_port = -1;
        hold.clear();
        ports.clear();
        by_alsa_port.clear();
        remotes.clear();
    }
};

client::client(client_config config) : impl_(std::make_unique<impl>(std::move(config))) {}
client::~client() { close(); }

std::error_code client::open(handlers h) {
    static std::once_flag quiet;
    std::call_once(quiet, [] { snd_lib_error_set_handler(silent_error_handler); });
    auto& m = *impl_;
    std::lock_guard lock(m.mutex);
    if (m.seq != nullptr) return {};
    if (!valid_name(m.config.name)) return errc::invalid_argument;
    if (::access(sequencer_device, F_OK) != 0) return errc::no_sequencer;
    if (snd_seq_open(&m.seq, "default", SND_SEQ_OPEN_DUPLEX, SND_SEQ_NONBLOCK) < 0) {
        m.seq = nullptr;
        return errc::open_failed;
    }
    auto fail = [&](errc e) {
        m.close_handle();
        return make_error_code(e);
    };
    m.id = snd_seq_client_id(m.seq);
    if (m.id < 0 || snd_seq_set_client_name(m.seq, m.config.name.c_str()) < 0) return fail(errc::open_failed);
    // Room for scheduled events (SysEx chunks take several cells each) and a burst in.
    (void)snd_seq_set_client_pool_output(m.seq, 2000);
    (void)snd_seq_set_client_pool_input(m.seq, 2000);
    (void)snd_seq_set_input_buffer_size(m.seq, 65536);

    snd_seq_port_info_t* info = nullptr;
    snd_seq_port_info_alloca(&info);
    snd_seq_port_info_set_name(info, "import");
    snd_seq_port_info_set_capability(info, SND_SEQ_PORT_CAP_READ | SND_SEQ_PORT_CAP_WRITE |
                                               SND_SEQ_PORT_CAP_NO_EXPORT);
    snd_seq_port_info_set_type(info, SND_SEQ_PORT_TYPE_MIDI_GENERIC | SND_SEQ_PORT_TYPE_APPLICATION);
    if (snd_seq_create_port(m.seq, info) < 0) return fail(errc::open_failed);
    m.import_port = snd_seq_port_info_get_port(info);
    if (snd_seq_connect_from(m.seq, m.import_port, SND_SEQ_CLIENT_SYSTEM, SND_SEQ_PORT_SYSTEM_ANNOUNCE) < 0)
        return fail(errc::open_failed);

    m.h = std::move(h);
    m.stop_fd = ::eventfd(0, EFD_CLOEXEC);
    m.timer_fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (m.stop_fd < 0 || m.timer_fd < 0) {
        if (m.stop_fd >= 0) ::close(m.stop_fd);
        if (m.timer_fd >= 0) ::close(m.timer_fd);
        m.stop_fd = m.timer_fd = -1;
        return fail(errc::thread_failed);
    }
    try {
        m.io = std::thread([&m] { m.run(); });
    } catch (const std::system_error&) {
        ::close(m.stop_fd);
        ::close(m.timer_fd);
        m.stop_fd = m.timer_fd = -1;
        return fail(errc::thread_failed);
    }
    return {};
}

void client::close() {
    auto& m = *impl_;
    if (m.io.joinable()) {
        const std::uint64_t one = 1;
        (void)::write(m.stop_fd, &one, sizeof one);
        m.io.join();
    }
    if (m.stop_fd >= 0) ::close(m.stop_fd);
    if (m.timer_fd >= 0) ::close(m.timer_fd);
    m.stop_fd = m.timer_fd = -1;
    std::lock_guard lock(m.mutex);
    m.close_handle();
    m.h = {};
}

bool client::is_open() const noexcept { return impl_->id >= 0; }
int client::id() const noexcept { return impl_->id; }
int client::import_port() const noexcept { return impl_->import_port; }

std::error_code client::add_port(const port_spec& spec) {
    auto& m = *impl_;
    std::lock_guard lock(m.mutex);
    if (m.seq == nullptr) return errc::not_open;
    if (!valid_name(spec.name) || spec.group_index >= naming::group_count) return errc::invalid_argument;
    if (m.ports.count(spec.key) != 0) return errc::duplicate_key;
    auto port = std::make_unique<local_port>(spec, m.config.sysex_chunk);
    port->io.decoder.set_group(spec.group_index);
    snd_seq_port_info_t* info = nullptr;
    snd_seq_port_info_alloca(&info);
    snd_seq_port_info_set_name(info, spec.name.c_str());
    const bool source = spec.direction == naming::port_direction::source;
    snd_seq_port_info_set_capability(info, source ? SND_SEQ_PORT_CAP_READ | SND_SEQ_PORT_CAP_SUBS_READ
                                                  : SND_SEQ_PORT_CAP_WRITE | SND_SEQ_PORT_CAP_SUBS_WRITE);
    snd_seq_port_info_set_type(info, SND_SEQ_PORT_TYPE_MIDI_GENERIC | SND_SEQ_PORT_TYPE_SOFTWARE |
                                         SND_SEQ_PORT_TYPE_PORT);
    snd_seq_port_info_set_midi_channels(info, 16);
    if (snd_seq_create_port(m.seq, info) < 0) return errc::port_failed;
    port->alsa_port = snd_seq_port_info_get_port(info);
    m.by_alsa_port[port->alsa_port] = port.get();
    m.ports.emplace(spec.key, std::move(port));
    return {};
}

std::error_code client::remove_port(port_key key) {
    auto& m = *impl_;
    std::lock_guard lock(m.mutex);
    if (m.seq == nullptr) return errc::not_open;
    auto it = m.ports.find(key);
    if (it == m.ports.end()) return errc::unknown_port;
    (void)snd_seq_delete_port(m.seq, it->second->alsa_port);
    m.drop_held(it->second->io);
    m.by_alsa_port.erase(it->second->alsa_port);
    m.ports.erase(it);
    return {};
}

std::error_code client::rename_port(port_key key, std::string_view name) {
    auto& m = *impl_;
    std::lock_guard lock(m.mutex);
    if (m.seq == nullptr) return errc::not_open;
    if (!valid_name(name)) return errc::invalid_argument;
    auto it = m.ports.find(key);
    if (it == m.ports.end()) return errc::unknown_port;
    snd_seq_port_info_t* info = nullptr;
    snd_seq_port_info_alloca(&info);
    if (snd_seq_get_port_info(m.seq, it->second->alsa_port, info) < 0) return errc::port_failed;
    const std::string n(name);
    snd_seq_port_info_set_name(info, n.c_str());
    if (snd_seq_set_port_info(m.seq, it->second->alsa_port, info) < 0) return errc::port_failed;
    it->second->spec.name = n;
    return {};
}

std::optional<int> client::alsa_port(port_key key) const {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->ports.find(key);
    if (it == impl_->ports.end()) return std::nullopt;
    return it->second->alsa_port;
}

std::vector<remote_port> client::remote_ports() const {
    auto& m = *impl_;
    std::lock_guard lock(m.mutex);
    std::vector<remote_port> out;
    if (m.seq == nullptr) return out;
    snd_seq_client_info_t* cinfo = nullptr;
    snd_seq_port_info_t* pinfo = nullptr;
    snd_seq_client_info_alloca(&cinfo);
    snd_seq_port_info_alloca(&pinfo);
    snd_seq_client_info_set_client(cinfo, -1);
    while (snd_seq_query_next_client(m.seq, cinfo) >= 0) {
        const int c = snd_seq_client_info_get_client(cinfo);
        if (c == m.id || c == SND_SEQ_CLIENT_SYSTEM || c < 0 || c > 255) continue;
        const bool kernel = snd_seq_client_info_get_type(cinfo) == SND_SEQ_KERNEL_CLIENT;
        const std::string cname = snd_seq_client_info_get_name(cinfo);
        snd_seq_port_info_set_client(pinfo, c);
        snd_seq_port_info_set_port(pinfo, -1);
        while (snd_seq_query_next_port(m.seq, pinfo) >= 0) {
            const unsigned caps = snd_seq_port_info_get_capability(pinfo);
            if ((caps & SND_SEQ_PORT_CAP_NO_EXPORT) != 0) continue;
            remote_port r;
            const int p = snd_seq_port_info_get_port(pinfo);
            if (p < 0 || p > 255) continue;
            r.addr = {static_cast<std::uint8_t>(c), static_cast<std::uint8_t>(p)};
            r.client_name = cname;
            r.port_name = snd_seq_port_info_get_name(pinfo);
            r.readable = (caps & SND_SEQ_PORT_CAP_READ) != 0 && (caps & SND_SEQ_PORT_CAP_SUBS_READ) != 0;
            r.writable = (caps & SND_SEQ_PORT_CAP_WRITE) != 0 && (caps & SND_SEQ_PORT_CAP_SUBS_WRITE) != 0;
            r.kernel = kernel;
            if (r.readable || r.writable) out.push_back(std::move(r));
        }
    }
    return out;
}

std::optional<std::string> client::client_name(int c) const {
    auto& m = *impl_;
    std::lock_guard lock(m.mutex);
    if (m.seq == nullptr) return std::nullopt;
    snd_seq_client_info_t* cinfo = nullptr;
    snd_seq_client_info_alloca(&cinfo);
    if (snd_seq_get_any_client_info(m.seq, c, cinfo) < 0) return std::nullopt;
    return std::string(snd_seq_client_info_get_name(cinfo));
}

namespace {

int subscribe(snd_seq_t* seq, snd_seq_addr_t sender, snd_seq_addr_t dest) {
    snd_seq_port_subscribe_t* sub = nullptr;
    snd_seq_port_subscribe_alloca(&sub);
    snd_seq_port_subscribe_set_sender(sub, &sender);
    snd_seq_port_subscribe_set_dest(sub, &dest);
    const int r = snd_seq_subscribe_port(seq, sub);
    return r == -EBUSY ? 0 : r;  // already subscribed
}

int unsubscribe(snd_seq_t* seq, snd_seq_addr_t sender, snd_seq_addr_t dest) {
    snd_seq_port_subscribe_t* sub = nullptr;
    snd_seq_port_subscribe_alloca(&sub);
    snd_seq_port_subscribe_set_sender(sub, &sender);
    snd_seq_port_subscribe_set_dest(sub, &dest);
    return snd_seq_unsubscribe_port(seq, sub);
}

}  // namespace

std::error_code client::connect_from(address remote, std::uint8_t group_index) {
    auto& m = *impl_;
    std::lock_guard lock(m.mutex);
    if (m.seq == nullptr) return errc::not_open;
    if (group_index >= naming::group_count) return errc::invalid_argument;
    auto& r = m.remotes[remote];
    if (!r) r = std::make_unique<remote_stream>(m.config.sysex_chunk);
    r->io.decoder.set_group(group_index);
    const snd_seq_addr_t self{static_cast<unsigned char>(m.id), static_cast<unsigned char>(m.import_port)};
    if (subscribe(m.seq, {remote.client, remote.port}, self) < 0) {
        if (!r->to) m.remotes.erase(remote);
        return errc::subscribe_failed;
    }
    r->from = true;
    return {};
}

std::error_code client::connect_to(address remote) {
    auto& m = *impl_;
    std::lock_guard lock(m.mutex);
    if (m.seq == nullptr) return errc::not_open;
    auto& r = m.remotes[remote];
    if (!r) r = std::make_unique<remote_stream>(m.config.sysex_chunk);
    const snd_seq_addr_t self{static_cast<unsigned char>(m.id), static_cast<unsigned char>(m.import_port)};
    if (subscribe(m.seq, self, {remote.client, remote.port}) < 0) {
        if (!r->from) m.remotes.erase(remote);
        return errc::subscribe_failed;
    }
    r->to = true;
    return {};
}

void client::disconnect(address remote) {
    auto& m = *impl_;
    std::lock_guard lock(m.mutex);
    auto it = m.remotes.find(remote);
    if (m.seq == nullptr || it == m.remotes.end()) return;
    const snd_seq_addr_t self{static_cast<unsigned char>(m.id), static_cast<unsigned char>(m.import_port)};
    if (it->second->from) (void)unsubscribe(m.seq, {remote.client, remote.port}, self);
    if (it->second->to) (void)unsubscribe(m.seq, self, {remote.client, remote.port});
    m.drop_held(it->second->io);
    m.remotes.erase(it);
}

send_status client::send(port_key source, std::uint64_t timestamp_ns, const core::packet& p) {
    auto& m = *impl_;
    std::lock_guard lock(m.mutex);
    auto it = m.ports.find(source);
    if (m.seq == nullptr || it == m.ports.end()) return send_status::unknown_port;
    local_port& port = *it->second;
    if (port.spec.direction != naming::port_direction::source) return send_status::wrong_direction;
    const auto failures = m.counts.send_failures;
    m.encode(port.io, p, timestamp_ns, port.alsa_port, std::nullopt);
    return m.counts.send_failures == failures ? send_status::ok : send_status::failed;
}

send_status client::send_to(address remote, std::uint64_t timestamp_ns, const core::packet& p) {
    auto& m = *impl_;
    std::lock_guard lock(m.mutex);
    auto it = m.remotes.find(remote);
    if (m.seq == nullptr || it == m.remotes.end() || !it->second->to) return send_status::unknown_port;
    const auto failures = m.counts.send_failures;
    m.encode(it->second->io, p, timestamp_ns, m.import_port, remote);
    return m.counts.send_failures == failures ? send_status::ok : send_status::failed;
}

void client::flush() {
    auto& m = *impl_;
    std::lock_guard lock(m.mutex);
    if (m.seq == nullptr) return;
    for (auto& [key, port] : m.ports)
        if (port->spec.direction == naming::port_direction::source)
            m.flush_stream(port->io, port->alsa_port, std::nullopt);
    for (auto& [addr, r] : m.remotes)
        if (r->to) m.flush_stream(r->io, m.import_port, addr);
}

std::unique_lock<std::recursive_mutex> client::lock() const { return std::unique_lock(impl_->mutex); }


client_counters client::counters() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->counts;
}

}  // namespace umpd::alsa
