// The baseline of bench/jack_latency.sh: a plain JACK client that copies every MIDI
// event of its input port to its output port at the same frame, in its process
// callback. It is what a bridge costs when it adds nothing: JACK's own graph only.
//
// Threads: main (open, activate, wait for SIGTERM/SIGINT) and JACK's process thread
// (copies events; allocates nothing, locks nothing).
#include <jack/jack.h>
#include <jack/midiport.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>

namespace {

jack_port_t* in_port = nullptr;
jack_port_t* out_port = nullptr;

int process(jack_nframes_t nframes, void*) {
    void* in = jack_port_get_buffer(in_port, nframes);
    void* out = jack_port_get_buffer(out_port, nframes);
    jack_midi_clear_buffer(out);
    const jack_nframes_t n = jack_midi_get_event_count(in);
    for (jack_nframes_t i = 0; i < n; ++i) {
        jack_midi_event_t ev;
        if (jack_midi_event_get(&ev, in, i) == 0) (void)jack_midi_event_write(out, ev.time, ev.buffer, ev.size);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const char* name = argc > 1 ? argv[1] : "passthrough";
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    jack_status_t status{};
    jack_client_t* c = jack_client_open(name, JackNoStartServer, &status);
    if (c == nullptr) {
        std::fprintf(stderr, "jack_passthrough: no JACK server (status 0x%x)\n", static_cast<unsigned>(status));
        return 1;
    }
    in_port = jack_port_register(c, "in", JACK_DEFAULT_MIDI_TYPE, JackPortIsInput, 0);
    out_port = jack_port_register(c, "out", JACK_DEFAULT_MIDI_TYPE, JackPortIsOutput, 0);
    if (in_port == nullptr || out_port == nullptr || jack_set_process_callback(c, process, nullptr) != 0 ||
        jack_activate(c) != 0) {
        std::fprintf(stderr, "jack_passthrough: cannot set up the client\n");
        jack_client_close(c);
        return 1;
    }
    int sig = 0;
    sigwait(&set, &sig);
    jack_client_close(c);
    return 0;
}
