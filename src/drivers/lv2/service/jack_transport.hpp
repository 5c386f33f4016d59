// Following JACK transport: a JACK client of the lv2 driver's own — no ports, no
// process callback — whose transport the render thread reads once per block. While
// JACK has a timebase master (the position carries bar/beat/tick), JACK's transport is
// umpd's: the renderer turns differences into transport commands (see renderer.cpp,
// follow_jack); without one, umpd keeps its own.
//
// Threads: open/close and the commands (start, stop, locate) on the control thread;
// read() on the render thread (jack_transport_query is real-time safe: it copies
// JACK's transport state without locking).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

typedef struct _jack_client jack_client_t;

namespace umpd::lv2::service_detail {

struct jack_position {
    bool rolling = false;
    bool bbt = false;  // a timebase master fills bar/beat/tick, tempo and meter
    double bpm = 120.0;
    double beats_per_bar = 4.0;
    int beat_unit = 4;
    double beat = 0.0;  // beats since the start: (bar - 1) * beats_per_bar + (beat - 1) + tick / ticks_per_beat
    std::uint32_t frame = 0;
    std::uint32_t frame_rate = 0;
};

class jack_transport_follower {
public:
    jack_transport_follower() = default;
    ~jack_transport_follower();
    jack_transport_follower(const jack_transport_follower&) = delete;
    jack_transport_follower& operator=(const jack_transport_follower&) = delete;

    // Control thread. Never starts a server; false (with why) when none answers.
    [[nodiscard]] bool open(const std::string& server_name, const std::string& client_name, std::string& why);
    void close();
    [[nodiscard]] bool is_open() const noexcept { return client_ != nullptr; }
    // False once the JACK server went away (jack_on_info_shutdown): from then on read()
    // says nothing and the commands do nothing, so umpd keeps its own transport, until
    // the next open() (a reload, a restart).
    [[nodiscard]] bool alive() const noexcept { return alive_.load(std::memory_order_acquire); }

    // Render thread (or control): the transport now; false when not open or the server is gone.
    [[nodiscard]] bool read(jack_position& out) const noexcept;

    // Control thread: JACK's own transport commands (every JACK client may send them).
    void start() const noexcept;
    void stop() const noexcept;
    void locate(std::uint32_t frame) const noexcept;

private:
    static void on_shutdown(int status, const char* reason, void* arg);

    jack_client_t* client_ = nullptr;
    std::atomic<bool> alive_{false};
};

}  // namespace umpd::lv2::service_detail
