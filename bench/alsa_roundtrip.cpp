// The ALSA sequencer round trip through umpd next to a plain sequencer route, in one
// run (bench/alsa_roundtrip.sh runs it inside the ALSA test VM, next to a umpd).
//
//   alsa_roundtrip N NAME=DEST/SOURCE...
//
// For each path: a client of its own sends a note on to DEST and waits until it comes
// back from SOURCE (ping-pong, one in flight), N times, and prints the round trip
// times. The first path is the baseline; the others print their ratio to it.
// Example: direct=14:0/14:0 (Midi Through echoes what it gets) umpd=128:2/128:1
// (umpd's loopback endpoint, destination port then source port).
#include <alsa/asoundlib.h>
#include <poll.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

long long now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct path {
    std::string name;
    snd_seq_addr_t dest{};
    snd_seq_addr_t source{};
    std::vector<double> us;
};

bool parse_addr(const std::string& s, snd_seq_addr_t& out) {
    int c = 0;
    int p = 0;
    if (std::sscanf(s.c_str(), "%d:%d", &c, &p) != 2 || c < 0 || c > 255 || p < 0 || p > 255) return false;
    out.client = static_cast<unsigned char>(c);
    out.port = static_cast<unsigned char>(p);
    return true;
}

double percentile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
    return v[i];
}

// One path: a fresh client with an output and an input port, subscribed to the path.
bool measure(path& p, int n) {
    snd_seq_t* seq = nullptr;
    if (snd_seq_open(&seq, "default", SND_SEQ_OPEN_DUPLEX, 0) < 0) return false;
    snd_seq_set_client_name(seq, ("alsa-bench-" + p.name).c_str());
    const int out = snd_seq_create_simple_port(seq, "out", SND_SEQ_PORT_CAP_READ | SND_SEQ_PORT_CAP_SUBS_READ,
                                               SND_SEQ_PORT_TYPE_APPLICATION);
    const int in = snd_seq_create_simple_port(seq, "in", SND_SEQ_PORT_CAP_WRITE | SND_SEQ_PORT_CAP_SUBS_WRITE,
                                              SND_SEQ_PORT_TYPE_APPLICATION);
    if (out < 0 || in < 0 || snd_seq_connect_to(seq, out, p.dest.client, p.dest.port) < 0 ||
        snd_seq_connect_from(seq, in, p.source.client, p.source.port) < 0) {
        std::fprintf(stderr, "alsa_roundtrip: %s: cannot subscribe to %d:%d / %d:%d\n", p.name.c_str(),
                     p.dest.client, p.dest.port, p.source.client, p.source.port);
        snd_seq_close(seq);
        return false;
    }
    const int nfds = snd_seq_poll_descriptors_count(seq, POLLIN);
    std::vector<pollfd> fds(static_cast<std::size_t>(nfds));
    snd_seq_poll_descriptors(seq, fds.data(), static_cast<unsigned>(nfds), POLLIN);
    const int warmup = 20;
    int lost = 0;
    for (int i = 0; i < n + warmup; ++i) {
        snd_seq_event_t ev{};
        ev.type = SND_SEQ_EVENT_NOTEON;
        ev.flags = SND_SEQ_EVENT_LENGTH_FIXED;
        ev.queue = SND_SEQ_QUEUE_DIRECT;
        ev.source.port = static_cast<unsigned char>(out);
        ev.dest.client = SND_SEQ_ADDRESS_SUBSCRIBERS;
        ev.dest.port = SND_SEQ_ADDRESS_UNKNOWN;
        ev.data.note.channel = 0;
        ev.data.note.note = static_cast<unsigned char>(i % 128);
        ev.data.note.velocity = 100;
        const long long t0 = now_ns();
        if (snd_seq_event_output_direct(seq, &ev) < 0) return false;
        bool back = false;
        while (!back) {
            if (::poll(fds.data(), fds.size(), 2000) <= 0) break;  // lost: counted
            snd_seq_event_t* got = nullptr;
            while (snd_seq_event_input_pending(seq, 1) > 0 && snd_seq_event_input(seq, &got) >= 0) {
                if (got->type == SND_SEQ_EVENT_NOTEON && got->data.note.note == ev.data.note.note) back = true;
            }
        }
        const long long t1 = now_ns();
        if (!back) {
            ++lost;
            continue;
        }
        if (i >= warmup) p.us.push_back(static_cast<double>(t1 - t0) / 1000.0);
    }
    snd_seq_close(seq);
    if (lost > 0) std::fprintf(stderr, "alsa_roundtrip: %s: %d events did not come back\n", p.name.c_str(), lost);
    return !p.us.empty();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: alsa_roundtrip N NAME=DEST/SOURCE...\n");
        return 2;
    }
    const int n = std::atoi(argv[1]);
    if (n <= 0) {
        std::fprintf(stderr, "alsa_roundtrip: N must be a positive number, got '%s'\n", argv[1]);
        return 2;
    }
    std::vector<path> paths;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        const auto eq = a.find('=');
        const auto slash = a.find('/');
        path p;
        if (eq == std::string::npos || slash == std::string::npos || slash < eq ||
            !parse_addr(a.substr(eq + 1, slash - eq - 1), p.dest) || !parse_addr(a.substr(slash + 1), p.source)) {
            std::fprintf(stderr, "alsa_roundtrip: expected NAME=CLIENT:PORT/CLIENT:PORT, got '%s'\n", a.c_str());
            return 2;
        }
        p.name = a.substr(0, eq);
        paths.push_back(std::move(p));
    }
    for (auto& p : paths)
        if (!measure(p, n)) return 1;
    const double base = percentile(paths.front().us, 0.5);
    std::printf("ALSA sequencer round trip, %d note-on events one at a time (us)\n", n);
    std::printf("%-10s %10s %10s %10s %10s %8s\n", "path", "min", "median", "p99", "max", "ratio");
    for (const auto& p : paths) {
        const double med = percentile(p.us, 0.5);
        std::printf("%-10s %10.1f %10.1f %10.1f %10.1f %7.2fx\n", p.name.c_str(), percentile(p.us, 0.0), med,
                    percentile(p.us, 0.99), percentile(p.us, 1.0), med / base);
    }
    return 0;
}
