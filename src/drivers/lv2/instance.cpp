#include "umpd/lv2/instance.hpp"

#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/midi/midi.h>
#include <lv2/options/options.h>
#include <lv2/parameters/parameters.h>
#include <lv2/state/state.h>
#include <lv2/time/time.h>
#include <lv2/worker/worker.h>
#include <semaphore.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include "record_ring.hpp"
#include "umpd/core/bytestream.hpp"
#include "umpd/core/translate.hpp"
#include "world_impl.hpp"

namespace umpd::lv2 {
namespace {

constexpr std::uint64_t ns_per_second = 1'000'000'000ULL;
constexpr std::uint32_t event_header_bytes = sizeof(LV2_Atom_Event);  // frame time + atom header

constexpr std::uint32_t pad8(std::uint32_t n) noexcept { return (n + 7u) & ~7u; }

// Features a plugin may require that this host provides (or that are plugin
// properties asking nothing of the host).
constexpr std::array supported_features{
    LV2_URID__map,         LV2_URID__unmap,   LV2_LOG__log,         LV2_WORKER__schedule,
    LV2_OPTIONS__options,  LV2_BUF_SIZE__boundedBlockLength,        LV2_CORE__isLive,
    LV2_CORE__hardRTCapable, LV2_CORE__inPlaceBroken,
};

// Data bytes that follow a status byte in MIDI 1.0.
constexpr std::uint8_t data_bytes(std::uint8_t status) noexcept {
    if (status < 0xF0) return (status & 0xE0) == 0xC0 ? 1 : 2;
    switch (status) {
    case 0xF1: case 0xF3: return 1;
    case 0xF2: return 2;
    default: return 0;
    }
}

// The instance whose render() runs on this thread, if any: log and schedule_work
// take their real-time path then.
thread_local const void* rendering_instance = nullptr;

}  // namespace

struct instance::impl {
    world::impl* w = nullptr;
    const LilvPlugin* plugin = nullptr;
    LilvInstance* lilv = nullptr;
    plugin_info info;
    instance_config cfg;

    struct urids_t {
        LV2_URID atom_Sequence, atom_Chunk, atom_Object, atom_Long, atom_Int, atom_Float, atom_Double, midi_MidiEvent,
            time_Position, time_frame, time_speed, time_bar, time_barBeat, time_beat, time_beatUnit,
            time_beatsPerBar, time_beatsPerMinute, time_framesPerSecond, buf_min, buf_max, buf_nominal, buf_seq,
            param_sample_rate;
    } u{};

    // Control ports: the buffer the plugin reads (render thread), the value the
    // control thread asks for, and the value last seen (outputs).
    std::vector<float> port_values;
    std::unique_ptr<std::atomic<float>[]> shared_values;
    std::vector<std::uint32_t> control_inputs, control_outputs, bpm_ports;

    struct byte_assembler {
        std::uint8_t status = 0, need = 0, have = 0;
        std::array<std::uint8_t, 3> msg{};
        bool in_sysex = false, sysex_overflow = false;
        std::uint32_t sysex_len = 0;
        std::unique_ptr<std::uint8_t[]> sysex;
    };
    struct event_port {
        std::uint32_t index = 0;
        bool midi = false, time = false;
        std::unique_ptr<std::uint64_t[]> buffer;  // 8-byte aligned, as atoms require
        // MIDI inputs
        core::midi2_to_midi1 down{};
        core::ump_to_midi1_state bytes{};
        byte_assembler assembler;
        // MIDI outputs
        core::midi1_to_ump_state to_ump{};
        core::midi1_to_midi2 up{};
        std::unique_ptr<timed_packet[]> out;
        std::size_t out_count = 0;
    };
    std::vector<event_port> inputs, outputs;  // every event port; MIDI ones first, in port order
    std::size_t midi_inputs = 0, midi_outputs = 0;
    std::vector<std::unique_ptr<float[]>> signal_buffers;  // audio, CV and unknown ports: silent
    LV2_Atom_Forge forge{};
    bool position_sent = false;
    std::vector<std::uint64_t> frame_offset_ns;  // round(f * 1e9 / rate) for f in 0 .. block_size

    // Features.
    LV2_Log_Log log{};
    LV2_Worker_Schedule schedule{};
    std::int32_t min_block = 1, max_block = 0, nominal_block = 0, seq_size = 0;
    float rate_f = 0.0f;
    std::array<LV2_Options_Option, 6> options{};
    LV2_Feature f_map{}, f_unmap{}, f_log{}, f_sched{}, f_options{}, f_bounded{};
    std::array<const LV2_Feature*, 7> features{};

    // Worker.
    const LV2_Worker_Interface* worker = nullptr;
    std::unique_ptr<record_ring> requests, responses;
    std::unique_ptr<std::uint8_t[]> response_buffer;  // render thread
    std::unique_ptr<std::uint8_t[]> request_buffer;   // worker thread
    sem_t sem{};
    bool sem_ready = false;
    std::atomic<bool> stopping{false};
    std::thread worker_thread;
    std::thread::id worker_id{};

    // Log: the render thread writes to a ring; other threads under a mutex.
    record_ring log_ring{16384};
    std::mutex log_mutex;
    std::vector<std::string> log_lines;

    struct atomic_counters {
        std::atomic<std::uint64_t> blocks{0}, input_dropped{0}, sysex_dropped{0}, untranslatable{0},
            output_buffer_full{0}, output_dropped{0}, output_malformed{0}, positions_sent{0}, worker_dropped{0},
            log_dropped{0};
    } counters;

    ~impl() {
        if (worker_thread.joinable()) {
            stopping.store(true);
            sem_post(&sem);
            worker_thread.join();
        }
        if (lilv) {
            lilv_instance_deactivate(lilv);
            lilv_instance_free(lilv);
        }
        if (sem_ready) sem_destroy(&sem);
    }

    [[nodiscard]] std::string plugin_error(std::string_view reason) const { return info.uri + ": " + std::string{reason}; }

    void map_urids() {
        auto& m = w->urids;
        u.atom_Sequence = m.map(LV2_ATOM__Sequence);
        u.atom_Chunk = m.map(LV2_ATOM__Chunk);
        u.atom_Object = m.map(LV2_ATOM__Object);
        u.atom_Long = m.map(LV2_ATOM__Long);
        u.atom_Int = m.map(LV2_ATOM__Int);
        u.atom_Float = m.map(LV2_ATOM__Float);
        u.atom_Double = m.map(LV2_ATOM__Double);
        u.midi_MidiEvent = m.map(LV2_MIDI__MidiEvent);
        u.time_Position = m.map(LV2_TIME__Position);
        u.time_frame = m.map(LV2_TIME__frame);
        u.time_speed = m.map(LV2_TIME__speed);
        u.time_bar = m.map(LV2_TIME__bar);
        u.time_barBeat = m.map(LV2_TIME__barBeat);
        u.time_beat = m.map(LV2_TIME__beat);
        u.time_beatUnit = m.map(LV2_TIME__beatUnit);
        u.time_beatsPerBar = m.map(LV2_TIME__beatsPerBar);
        u.time_beatsPerMinute = m.map(LV2_TIME__beatsPerMinute);
        u.time_framesPerSecond = m.map(LV2_TIME__framesPerSecond);
        u.buf_min = m.map(LV2_BUF_SIZE__minBlockLength);
        u.buf_max = m.map(LV2_BUF_SIZE__maxBlockLength);
        u.buf_nominal = m.map(LV2_BUF_SIZE__nominalBlockLength);
        u.buf_seq = m.map(LV2_BUF_SIZE__sequenceSize);
        u.param_sample_rate = m.map(LV2_PARAMETERS__sampleRate);
    }

    void build_features() {
        log.handle = this;
        log.printf = &log_printf;
        log.vprintf = [](LV2_Log_Handle h, LV2_URID type, const char* fmt, va_list args) -> int {
            return static_cast<impl*>(h)->write_log(type, fmt, args);
        };
        schedule.handle = this;
        schedule.schedule_work = [](LV2_Worker_Schedule_Handle h, std::uint32_t size, const void* data) {
            return static_cast<impl*>(h)->schedule_work(size, data);
        };
        min_block = 1;
        max_block = static_cast<std::int32_t>(cfg.block_size);
        nominal_block = max_block;
        seq_size = static_cast<std::int32_t>(cfg.atom_buffer_bytes);
        rate_f = static_cast<float>(cfg.sample_rate);
        const std::uint32_t int_size = sizeof(std::int32_t);
        options[0] = {LV2_OPTIONS_INSTANCE, 0, u.buf_min, int_size, u.atom_Int, &min_block};
        options[1] = {LV2_OPTIONS_INSTANCE, 0, u.buf_max, int_size, u.atom_Int, &max_block};
        options[2] = {LV2_OPTIONS_INSTANCE, 0, u.buf_nominal, int_size, u.atom_Int, &nominal_block};
        options[3] = {LV2_OPTIONS_INSTANCE, 0, u.buf_seq, int_size, u.atom_Int, &seq_size};
        options[4] = {LV2_OPTIONS_INSTANCE, 0, u.param_sample_rate, sizeof(float), u.atom_Float, &rate_f};
        options[5] = {LV2_OPTIONS_INSTANCE, 0, 0, 0, 0, nullptr};
        f_map = {LV2_URID__map, w->urids.map_feature()};
        f_unmap = {LV2_URID__unmap, w->urids.unmap_feature()};
        f_log = {LV2_LOG__log, &log};
        f_sched = {LV2_WORKER__schedule, &schedule};
        f_options = {LV2_OPTIONS__options, options.data()};
        f_bounded = {LV2_BUF_SIZE__boundedBlockLength, nullptr};
        features = {&f_map, &f_unmap, &f_log, &f_sched, &f_options, &f_bounded, nullptr};
    }

    // --- log -----------------------------------------------------------------
    static int log_printf(LV2_Log_Handle h, LV2_URID type, const char* fmt, ...) {
        va_list args;
        va_start(args, fmt);
        const int n = static_cast<impl*>(h)->write_log(type, fmt, args);
        va_end(args);
        return n;
    }
    int write_log(LV2_URID /*type*/, const char* fmt, va_list args) {
        std::array<char, 256> line{};
        // vsnprintf into a stack buffer: no allocation for the formats plugins use.
        const int n = std::vsnprintf(line.data(), line.size(), fmt, args);
        if (n < 0) return n;
        const auto len = static_cast<std::uint32_t>(std::min<std::size_t>(static_cast<std::size_t>(n), line.size() - 1));
        if (rendering_instance == this) {
            if (!log_ring.push(line.data(), len)) counters.log_dropped.fetch_add(1, std::memory_order_relaxed);
        } else {
            std::lock_guard lock(log_mutex);
            log_lines.emplace_back(line.data(), len);
        }
        return n;
    }

    // --- worker --------------------------------------------------------------
    LV2_Worker_Status schedule_work(std::uint32_t size, const void* data) {
        if (!worker) return LV2_WORKER_ERR_UNKNOWN;
        if (rendering_instance != this) {
            // Outside run() (instantiate, restore): LV2 lets the host do the work at once.
            return worker->work(lilv_instance_get_handle(lilv), &respond_now, this, size, data);
        }
        if (!requests->push(data, size)) {
            counters.worker_dropped.fetch_add(1, std::memory_order_relaxed);
            return LV2_WORKER_ERR_NO_SPACE;
        }
        sem_post(&sem);
        return LV2_WORKER_SUCCESS;
    }
    static LV2_Worker_Status respond_now(LV2_Worker_Respond_Handle h, std::uint32_t size, const void* data) {
        auto* self = static_cast<impl*>(h);
        if (self->worker->work_response) return self->worker->work_response(lilv_instance_get_handle(self->lilv), size, data);
        return LV2_WORKER_SUCCESS;
    }
    static LV2_Worker_Status respond(LV2_Worker_Respond_Handle h, std::uint32_t size, const void* data) {
        auto* self = static_cast<impl*>(h);
        if (!self->responses->push(data, size)) {
            self->counters.worker_dropped.fetch_add(1, std::memory_order_relaxed);
            return LV2_WORKER_ERR_NO_SPACE;
        }
        return LV2_WORKER_SUCCESS;
    }
    void worker_loop() {
        while (true) {
            while (sem_wait(&sem) != 0) {
            }
            if (stopping.load()) return;
            bool skipped = false;
            const std::uint32_t n = requests->pop(request_buffer.get(), cfg.worker_ring_bytes, &skipped);
            if (n > 0 || !skipped) worker->work(lilv_instance_get_handle(lilv), &respond, this, n, request_buffer.get());
        }
    }

    // --- render helpers (real-time) ------------------------------------------
    [[nodiscard]] std::uint32_t capacity() const noexcept { return cfg.atom_buffer_bytes; }

    // Room for an event of `size` body bytes in the forge's buffer.
    [[nodiscard]] bool fits(std::uint32_t size) const noexcept {
        return forge.offset + event_header_bytes + pad8(size) <= forge.size;
    }

    // The input sequence being filled: events are written at forge.buf + forge.offset
    // (the forge holds no sequence frame; fill_input stores the sequence's size once
    // at the end), so the fast path and the forge share one write position.
    void write_midi(std::uint32_t offset, const std::uint8_t* bytes, std::uint32_t size) noexcept {
        if (!fits(size)) {
            counters.input_dropped.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        // Written in place rather than through three forge calls.
        std::uint8_t* at = forge.buf + forge.offset;
        LV2_Atom_Event ev{};
        ev.time.frames = offset;
        ev.body.size = size;
        ev.body.type = u.midi_MidiEvent;
        std::memcpy(at, &ev, sizeof ev);
        std::memcpy(at + sizeof ev, bytes, size);
        const std::uint32_t n = event_header_bytes + pad8(size);
        std::memset(at + sizeof ev + size, 0, n - sizeof ev - size);
        forge.offset += n;
    }

    void write_position(std::uint32_t offset, const position& p) noexcept {
        // An object of 9 properties: header 16 + 9 * (key/context 8 + atom 8 + body 8).
        constexpr std::uint32_t object_bytes = 16 + 9 * 24;
        if (!fits(object_bytes)) {
            counters.input_dropped.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        lv2_atom_forge_frame_time(&forge, offset);
        LV2_Atom_Forge_Frame frame;
        lv2_atom_forge_object(&forge, &frame, 0, u.time_Position);
        lv2_atom_forge_key(&forge, u.time_frame);
        lv2_atom_forge_long(&forge, p.frame);
        lv2_atom_forge_key(&forge, u.time_speed);
        lv2_atom_forge_float(&forge, p.speed);
        lv2_atom_forge_key(&forge, u.time_bar);
        lv2_atom_forge_long(&forge, p.bar);
        lv2_atom_forge_key(&forge, u.time_barBeat);
        lv2_atom_forge_float(&forge, p.bar_beat);
        lv2_atom_forge_key(&forge, u.time_beat);
        lv2_atom_forge_double(&forge, p.beat);
        lv2_atom_forge_key(&forge, u.time_beatUnit);
        lv2_atom_forge_int(&forge, p.beat_unit);
        lv2_atom_forge_key(&forge, u.time_beatsPerBar);
        lv2_atom_forge_float(&forge, p.beats_per_bar);
        lv2_atom_forge_key(&forge, u.time_beatsPerMinute);
        lv2_atom_forge_float(&forge, p.beats_per_minute);
        lv2_atom_forge_key(&forge, u.time_framesPerSecond);
        lv2_atom_forge_float(&forge, p.frames_per_second);
        lv2_atom_forge_pop(&forge, &frame);
        counters.positions_sent.fetch_add(1, std::memory_order_relaxed);
    }

    // Feeds MIDI 1.0 bytes (from ump_to_midi1) into the port's assembler; complete
    // messages go to the plugin at `offset`.
    void assemble(event_port& port, std::uint32_t offset, std::span<const std::uint8_t> bytes) noexcept {
        auto& a = port.assembler;
        for (const std::uint8_t b : bytes) {
            if (b >= 0xF8) {
                write_midi(offset, &b, 1);  // real time: on its own, even inside a SysEx
            } else if (b == 0xF0) {
                a.in_sysex = true;
                a.sysex_overflow = false;
                a.sysex[0] = b;
                a.sysex_len = 1;
                a.status = 0;
            } else if (a.in_sysex) {
                if (a.sysex_len < cfg.max_sysex_bytes) {
                    a.sysex[a.sysex_len++] = b;
                } else {
                    a.sysex_overflow = true;
                }
                if (b == 0xF7 || b >= 0x80) {
                    a.in_sysex = false;
                    if (a.sysex_overflow || b != 0xF7) {
                        counters.sysex_dropped.fetch_add(1, std::memory_order_relaxed);
                    } else {
                        write_midi(offset, a.sysex.get(), a.sysex_len);
                    }
                }
            } else if (b & 0x80) {
                a.status = b;
                a.need = data_bytes(b);
                a.have = 0;
                a.msg[0] = b;
                if (a.need == 0) {
                    write_midi(offset, a.msg.data(), 1);
                    a.status = 0;
                }
            } else if (a.status != 0) {
                a.msg[1u + a.have++] = b;
                if (a.have == a.need) {
                    write_midi(offset, a.msg.data(), 1u + a.need);
                    a.status = 0;
                }
            }
        }
    }

    // Everything but a MIDI 1.0 channel voice message outside a SysEx (fill_input's
    // fast path): translation, bytes, the assembler. Out of line to keep the hot loop small.
    [[gnu::noinline]] void feed_packet(event_port& port, std::uint32_t offset, const core::packet& p) noexcept {
        std::array<core::packet, core::max_translated_packets> translated{};
        std::size_t n = 1;
        if (p.type() == core::message_type::midi2_channel_voice) {
            n = core::translate(port.down, p, translated).written;
        } else {
            translated[0] = p;
        }
        std::array<std::uint8_t, 32> bytes{};
        for (std::size_t i = 0; i < n; ++i) {
            const auto words = translated[i].span();
            std::size_t consumed = 0;
            while (true) {
                const auto r = core::ump_to_midi1(port.bytes, words.subspan(consumed), bytes);
                consumed += r.consumed;
                assemble(port, offset, std::span<const std::uint8_t>{bytes.data(), r.written});
                if (r.status == core::conversion_status::ok && consumed >= words.size()) break;
                if (r.consumed == 0 && r.written == 0) break;  // no progress: give up on this packet
            }
        }
    }

    // One MIDI event of at most 3 bytes, padded: the fast path's single store.
    struct short_midi_event {
        LV2_Atom_Event head;
        std::array<std::uint8_t, 8> data;
    };
    static_assert(sizeof(short_midi_event) == event_header_bytes + 8);

    [[gnu::noinline]] void positions_up_to(std::uint32_t offset, const block_timeline& timeline,
                                           std::uint32_t& next_point, std::uint32_t points) noexcept {
        while (next_point < points && timeline.points[next_point].offset <= offset) {
            write_position(timeline.points[next_point].offset, timeline.points[next_point].pos);
            ++next_point;
        }
    }

    void fill_input(event_port& port, std::uint64_t block_start, std::uint32_t frames,
                    std::span<const timed_packet> midi, const block_timeline* timeline, bool send_start) noexcept {
        auto* buf = reinterpret_cast<std::uint8_t*>(port.buffer.get());
        lv2_atom_forge_set_buffer(&forge, buf, capacity());
        // The sequence header, written directly; its size is stored once at the end.
        LV2_Atom_Sequence head{};
        head.atom.type = u.atom_Sequence;
        std::memcpy(buf, &head, sizeof head);
        std::uint32_t at = sizeof head;  // the write position; forge.offset outside the fast path
        const std::uint32_t end = capacity();
        std::uint32_t next_point = send_start ? 0 : 1;
        const std::uint32_t points = (port.time && timeline) ? timeline->count : 0;
        std::uint32_t last_offset = 0;
        const std::uint64_t rate = cfg.sample_rate;
        const std::uint32_t midi_type = u.midi_MidiEvent;
        std::uint64_t dropped = 0;
        for (const timed_packet& tp : midi) {
            std::uint64_t off = 0;
            if (tp.timestamp_ns > block_start) {
                const std::uint64_t dt = tp.timestamp_ns - block_start;
                off = dt >= ns_per_second * 16 ? frames : (dt * rate + ns_per_second / 2) / ns_per_second;
            }
            auto offset = static_cast<std::uint32_t>(std::min<std::uint64_t>(off, frames - 1));
            offset = std::max(offset, last_offset);  // the plugin gets them in the order given
            last_offset = offset;
            if (next_point < points) {
                forge.offset = at;
                positions_up_to(offset, *timeline, next_point, points);
                at = forge.offset;
            }
            // Fast path: a MIDI 1.0 channel voice message outside a SysEx is its bytes,
            // written as one padded event.
            const std::uint32_t w0 = tp.packet.words[0];
            const auto status = static_cast<std::uint8_t>(w0 >> 16);
            if ((w0 >> 28) == 0x2u && status >= 0x80 && status < 0xF0 && !port.assembler.in_sysex) {
                port.assembler.status = 0;
                if (end - at < sizeof(short_midi_event)) {
                    ++dropped;
                    continue;
                }
                // Scalar stores straight into the buffer (a struct built on the stack and
                // copied as a block stalls store forwarding). Layout: LV2_Atom_Event, then
                // the bytes padded with zeros to 8.
                const std::uint32_t size = 1u + data_bytes(status);
                const std::uint64_t b0 = status, b1 = (w0 >> 8) & 0x7Fu, b2 = size == 3 ? (w0 & 0x7Fu) : 0u;
                const std::uint64_t body = std::endian::native == std::endian::little
                                               ? b0 | (b1 << 8) | (b2 << 16)
                                               : (b0 << 56) | (b1 << 48) | (b2 << 40);
                const std::int64_t frame = offset;
                std::uint8_t* ev = buf + at;
                std::memcpy(ev + offsetof(LV2_Atom_Event, time), &frame, sizeof frame);
                std::memcpy(ev + offsetof(LV2_Atom_Event, body) + offsetof(LV2_Atom, size), &size, sizeof size);
                std::memcpy(ev + offsetof(LV2_Atom_Event, body) + offsetof(LV2_Atom, type), &midi_type, sizeof midi_type);
                std::memcpy(ev + sizeof(LV2_Atom_Event), &body, sizeof body);
                at += static_cast<std::uint32_t>(sizeof(short_midi_event));
                continue;
            }
            forge.offset = at;
            feed_packet(port, offset, tp.packet);
            at = forge.offset;
        }
        if (next_point < points) {
            forge.offset = at;
            positions_up_to(frames, *timeline, next_point, points);
            at = forge.offset;
        }
        forge.offset = at;
        reinterpret_cast<LV2_Atom*>(buf)->size = at - static_cast<std::uint32_t>(sizeof(LV2_Atom));
        if (dropped != 0) counters.input_dropped.fetch_add(dropped, std::memory_order_relaxed);
    }

    void emit(event_port& port, std::uint64_t stamp, const core::packet& p) noexcept {
        if (port.out_count >= cfg.max_output_events) {
            counters.output_dropped.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        port.out[port.out_count++] = {stamp, p};
    }

    // A MIDI 1.0 channel voice packet from the plugin: as is, or translated to MIDI 2.0.
    void emit_midi1(event_port& port, std::uint64_t stamp, const core::packet& p) noexcept {
        if (cfg.output_midi2) {
            std::array<core::packet, core::max_translated_packets> up{};
            const auto t = core::translate(port.up, p, up);
            for (std::size_t i = 0; i < t.written; ++i) emit(port, stamp, up[i]);
        } else {
            emit(port, stamp, p);
        }
    }

    // Every output event but a whole channel voice message (collect_output's fast path):
    // the byte-stream converter. Out of line to keep the hot loop small.
    [[gnu::noinline]] void collect_bytes(event_port& port, std::uint64_t stamp, const std::uint8_t* data,
                                         std::uint32_t size) noexcept {
        std::array<std::uint32_t, 64> words;  // scratch, written before read: not zeroed
        std::span<const std::uint8_t> in{data, size};
        std::size_t consumed = 0;
        while (true) {
            const auto r = core::midi1_to_ump(port.to_ump, in.subspan(consumed), words);
            consumed += r.consumed;
            for (std::size_t at_word = 0; at_word < r.written;) {
                const core::packet p = core::packet::from_words(std::span<const std::uint32_t>{words}.subspan(at_word, r.written - at_word));
                at_word += p.size();
                if (p.type() == core::message_type::midi1_channel_voice) {
                    emit_midi1(port, stamp, p);
                } else {
                    emit(port, stamp, p);
                }
            }
            if (r.status == core::conversion_status::ok && consumed >= in.size()) break;
            if (r.consumed == 0 && r.written == 0) break;
        }
    }

    void collect_output(event_port& port, std::uint64_t block_start) noexcept {
        port.out_count = 0;
        const auto* base = reinterpret_cast<const std::uint8_t*>(port.buffer.get());
        const auto* seq = reinterpret_cast<const LV2_Atom_Sequence*>(base);
        if (seq->atom.type != u.atom_Sequence) return;  // the plugin wrote nothing
        const std::uint32_t body_capacity = capacity() - static_cast<std::uint32_t>(sizeof(LV2_Atom));
        if (seq->atom.size < sizeof(LV2_Atom_Sequence_Body) || seq->atom.size > body_capacity) {
            counters.output_malformed.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        const std::uint32_t used = seq->atom.size;
        // Less room left than the smallest MIDI event: the plugin ran out of buffer.
        if (body_capacity - used < event_header_bytes + 8) {
            counters.output_buffer_full.fetch_add(1, std::memory_order_relaxed);
        }
        const std::uint8_t* body = base + sizeof(LV2_Atom);
        std::uint32_t at = sizeof(LV2_Atom_Sequence_Body);
        const std::uint64_t rate = cfg.sample_rate;
        const std::uint32_t midi_type = u.midi_MidiEvent;
        const std::uint32_t block_size = cfg.block_size;
        const std::uint64_t* stamps = frame_offset_ns.data();
        const std::uint32_t head = (0x2u << 28) | (std::uint32_t{cfg.output_group.index} << 24);
        while (at + event_header_bytes <= used) {
            LV2_Atom_Event ev;
            std::memcpy(&ev, body + at, sizeof ev);
            if (ev.body.size > used - at - event_header_bytes) break;  // truncated tail: ignore it
            const std::uint8_t* data = body + at + event_header_bytes;
            if (ev.body.type == midi_type && ev.body.size > 0 && ev.time.frames >= 0) {
                const auto f = static_cast<std::uint64_t>(ev.time.frames);
                const std::uint64_t stamp = block_start + (f <= block_size ? stamps[f]
                                                                           : (f * ns_per_second + rate / 2) / rate);
                const std::uint8_t status = data[0];
                // Fast path: a whole channel voice message becomes one packet.
                if (status >= 0x80 && status < 0xF0 && ev.body.size == 1u + data_bytes(status) &&
                    !port.to_ump.message_open && !port.to_ump.in_sysex) {
                    const std::uint32_t d1 = ev.body.size > 1 ? data[1] & 0x7Fu : 0u;
                    const std::uint32_t d2 = ev.body.size > 2 ? data[2] & 0x7Fu : 0u;
                    const std::uint32_t w0 = head | (std::uint32_t{status} << 16) | (d1 << 8) | d2;
                    if (!cfg.output_midi2 && port.out_count < cfg.max_output_events) {
                        timed_packet& out = port.out[port.out_count++];
                        out.timestamp_ns = stamp;
                        out.packet.words[0] = w0;
                        out.packet.words[1] = 0;
                        out.packet.words[2] = 0;
                        out.packet.words[3] = 0;
                    } else {
                        emit_midi1(port, stamp, core::packet{w0});
                    }
                } else {
                    collect_bytes(port, stamp, data, ev.body.size);
                }
            }
            const std::uint32_t step = event_header_bytes + pad8(ev.body.size);
            if (step > used - at) break;
            at += step;
        }
    }
};

instance::instance(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
instance::~instance() = default;

instance::result instance::create(world& w, std::string_view uri, const instance_config& config) {
    result res;
    auto fail = [&](errc code, std::string message) {
        res.error = {make_error_code(code), std::move(message)};
        return std::move(res);
    };
    const std::string uri_s{uri};
    if (config.sample_rate == 0 || config.sample_rate > 768000 || config.block_size == 0 || config.block_size > 8192 ||
        config.atom_buffer_bytes < 64 || config.atom_buffer_bytes > (1u << 20) || config.max_output_events == 0 ||
        config.max_sysex_bytes < 2 || config.worker_ring_bytes < 64) {
        return fail(errc::invalid_config, uri_s + ": invalid configuration (sample rate, block size or buffer sizes)");
    }
    auto& wi = w.internals();
    const LilvPlugin* plugin = wi.find(uri);
    if (!plugin) return fail(errc::plugin_not_found, uri_s + ": no such plugin installed");
    if (!lilv_plugin_verify(plugin)) return fail(errc::bad_bundle, uri_s + ": plugin data does not verify (bad bundle)");
    {
        const LilvNode* lib = lilv_plugin_get_library_uri(plugin);
        char* path = lib ? lilv_file_uri_parse(lilv_node_as_uri(lib), nullptr) : nullptr;
        const bool present = path && ::access(path, R_OK) == 0;
        const std::string shown = path ? path : "(none)";
        lilv_free(path);
        if (!present) return fail(errc::bad_bundle, uri_s + ": plugin binary " + shown + " is missing (bad bundle)");
    }

    auto p = std::make_unique<impl>();
    p->w = &wi;
    p->plugin = plugin;
    p->cfg = config;
    p->info = describe(wi, plugin);
    for (const auto& f : p->info.required_features) {
        if (std::find(supported_features.begin(), supported_features.end(), f) == supported_features.end()) {
            return fail(errc::unsupported_feature, uri_s + ": requires feature " + f + ", which this host does not provide");
        }
    }
    p->map_urids();
    p->build_features();
    p->frame_offset_ns.resize(config.block_size + 1);
    for (std::uint64_t f = 0; f <= config.block_size; ++f) {
        p->frame_offset_ns[f] = (f * ns_per_second + config.sample_rate / 2) / config.sample_rate;
    }
    lv2_atom_forge_init(&p->forge, wi.urids.map_feature());

    // Ports: control values with their defaults, silent signal buffers, event buffers.
    const std::uint32_t n_ports = p->info.port_count;
    p->port_values.assign(n_ports, 0.0f);
    p->shared_values = std::make_unique<std::atomic<float>[]>(n_ports);
    for (const auto& c : p->info.controls) {
        p->port_values[c.index] = c.default_value;
        p->shared_values[c.index].store(c.default_value);
        (c.output ? p->control_outputs : p->control_inputs).push_back(c.index);
        if (!c.output && c.bpm) p->bpm_ports.push_back(c.index);
    }
    const std::size_t words = config.atom_buffer_bytes / 8;
    auto make_port = [&](const event_port_info& e, bool output) {
        impl::event_port port;
        port.index = e.index;
        port.midi = e.midi;
        port.time = e.time_position;
        port.buffer = std::make_unique<std::uint64_t[]>(words);
        if (output && e.midi) {
            port.out = std::make_unique<timed_packet[]>(config.max_output_events);
            port.to_ump.target_group = config.output_group;
        }
        if (!output && e.midi) port.assembler.sysex = std::make_unique<std::uint8_t[]>(config.max_sysex_bytes);
        return port;
    };
    for (const auto& e : p->info.midi_inputs) p->inputs.push_back(make_port(e, false));
    for (const auto& e : p->info.other_event_inputs) p->inputs.push_back(make_port(e, false));
    for (const auto& e : p->info.midi_outputs) p->outputs.push_back(make_port(e, true));
    for (const auto& e : p->info.other_event_outputs) p->outputs.push_back(make_port(e, true));
    p->midi_inputs = p->info.midi_inputs.size();
    p->midi_outputs = p->info.midi_outputs.size();

    if (p->info.has_worker) {
        p->requests = std::make_unique<record_ring>(config.worker_ring_bytes);
        p->responses = std::make_unique<record_ring>(config.worker_ring_bytes);
        p->response_buffer = std::make_unique<std::uint8_t[]>(config.worker_ring_bytes);
        p->request_buffer = std::make_unique<std::uint8_t[]>(config.worker_ring_bytes);
    }

    p->lilv = lilv_plugin_instantiate(plugin, static_cast<double>(config.sample_rate), p->features.data());
    if (!p->lilv) return fail(errc::instantiate_failed, uri_s + ": instantiate() failed (the plugin refused)");

    // Connect every port.
    std::vector<bool> connected(n_ports, false);
    for (const auto& c : p->info.controls) {
        lilv_instance_connect_port(p->lilv, c.index, &p->port_values[c.index]);
        connected[c.index] = true;
    }
    for (auto* list : {&p->inputs, &p->outputs}) {
        for (auto& port : *list) {
            lilv_instance_connect_port(p->lilv, port.index, port.buffer.get());
            connected[port.index] = true;
        }
    }
    // Empty input sequences until the first render.
    for (auto& port : p->inputs) {
        auto* seq = reinterpret_cast<LV2_Atom_Sequence*>(port.buffer.get());
        seq->atom.size = sizeof(LV2_Atom_Sequence_Body);
        seq->atom.type = p->u.atom_Sequence;
    }
    for (std::uint32_t i = 0; i < n_ports; ++i) {
        if (connected[i]) continue;
        p->signal_buffers.push_back(std::make_unique<float[]>(config.block_size));
        lilv_instance_connect_port(p->lilv, i, p->signal_buffers.back().get());
    }

    if (p->info.has_worker) {
        p->worker = static_cast<const LV2_Worker_Interface*>(lilv_instance_get_extension_data(p->lilv, LV2_WORKER__interface));
        if (p->worker && p->worker->work) {
            if (sem_init(&p->sem, 0, 0) != 0) return fail(errc::thread_failed, uri_s + ": worker semaphore failed");
            p->sem_ready = true;
            try {
                impl* self = p.get();
                p->worker_thread = std::thread([self] { self->worker_loop(); });
            } catch (const std::system_error&) {
                return fail(errc::thread_failed, uri_s + ": worker thread could not be started");
            }
        } else {
            p->worker = nullptr;
        }
    }
    lilv_instance_activate(p->lilv);
    res.value.reset(new instance(std::move(p)));
    return res;
}

const plugin_info& instance::info() const noexcept { return impl_->info; }
const instance_config& instance::config() const noexcept { return impl_->cfg; }
std::size_t instance::midi_input_count() const noexcept { return impl_->midi_inputs; }
std::size_t instance::midi_output_count() const noexcept { return impl_->midi_outputs; }

std::error_code instance::set_control(std::string_view symbol, float value) noexcept {
    for (const auto& c : impl_->info.controls) {
        if (c.output || c.symbol != symbol) continue;
        if (value != value) return make_error_code(errc::unknown_port);  // NaN: refuse rather than feed the plugin
        if (c.minimum <= c.maximum) value = std::clamp(value, c.minimum, c.maximum);
        impl_->shared_values[c.index].store(value, std::memory_order_relaxed);
        return {};
    }
    return make_error_code(errc::unknown_port);
}

std::optional<float> instance::control(std::string_view symbol) const noexcept {
    for (const auto& c : impl_->info.controls) {
        if (c.symbol == symbol) return impl_->shared_values[c.index].load(std::memory_order_relaxed);
    }
    return std::nullopt;
}

std::string instance::save_state(error* err) {
    auto& p = *impl_;
    struct context {
        impl* self;
        float value;
    } ctx{&p, 0.0f};
    LilvGetPortValueFunc get = [](const char* symbol, void* user, std::uint32_t* size, std::uint32_t* type) -> const void* {
        auto* c = static_cast<context*>(user);
        for (const auto& port : c->self->info.controls) {
            if (port.output || port.symbol != symbol) continue;
            c->value = c->self->shared_values[port.index].load(std::memory_order_relaxed);
            *size = sizeof(float);
            *type = c->self->u.atom_Float;
            return &c->value;  // lilv copies the value before asking for the next port
        }
        *size = 0;
        *type = 0;
        return nullptr;
    };
    LilvState* state = lilv_state_new_from_instance(p.plugin, p.lilv, p.w->urids.map_feature(), nullptr, nullptr, nullptr,
                                                    nullptr, get, &ctx, LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE,
                                                    p.features.data());
    if (!state) {
        if (err) *err = {make_error_code(errc::state_failed), p.plugin_error("state could not be saved")};
        return {};
    }
    char* text = lilv_state_to_string(p.w->lilv, p.w->urids.map_feature(), p.w->urids.unmap_feature(), state,
                                      "urn:umpd:state", nullptr);
    lilv_state_free(state);
    if (!text) {
        if (err) *err = {make_error_code(errc::state_failed), p.plugin_error("state could not be serialised")};
        return {};
    }
    std::string out{text};
    lilv_free(text);
    if (err) *err = {};
    return out;
}

error instance::restore_state(std::string_view text) {
    auto& p = *impl_;
    const std::string s{text};
    LilvState* state = lilv_state_new_from_string(p.w->lilv, p.w->urids.map_feature(), s.c_str());
    if (!state) return {make_error_code(errc::state_failed), p.plugin_error("state text does not parse")};
    LilvSetPortValueFunc set = [](const char* symbol, void* user, const void* value, std::uint32_t size, std::uint32_t type) {
        auto* self = static_cast<impl*>(user);
        float v = 0.0f;
        if (type == self->u.atom_Float && size == sizeof(float)) std::memcpy(&v, value, sizeof v);
        else if (type == self->u.atom_Double && size == sizeof(double)) {
            double d = 0.0;
            std::memcpy(&d, value, sizeof d);
            v = static_cast<float>(d);
        } else if (type == self->u.atom_Int && size == sizeof(std::int32_t)) {
            std::int32_t i = 0;
            std::memcpy(&i, value, sizeof i);
            v = static_cast<float>(i);
        } else {
            return;
        }
        for (const auto& port : self->info.controls) {
            if (port.output || port.symbol != symbol) continue;
            self->shared_values[port.index].store(v, std::memory_order_relaxed);
            self->port_values[port.index] = v;  // not rendering: restore excludes run()
        }
    };
    lilv_state_restore(state, p.lilv, set, &p, 0, p.features.data());
    lilv_state_free(state);
    return {};
}

std::vector<std::string> instance::take_log() {
    auto& p = *impl_;
    std::vector<std::string> out;
    {
        std::lock_guard lock(p.log_mutex);
        out.swap(p.log_lines);
    }
    std::array<char, 256> line{};
    while (true) {
        const std::uint32_t n = p.log_ring.pop(line.data(), line.size());
        if (n == 0 && p.log_ring.empty()) break;
        out.emplace_back(line.data(), n);
    }
    return out;
}

instance_counters instance::counters() const noexcept {
    const auto& c = impl_->counters;
    auto r = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    return {r(c.blocks),           r(c.input_dropped),  r(c.sysex_dropped),  r(c.untranslatable), r(c.output_buffer_full),
            r(c.output_dropped),   r(c.output_malformed), r(c.positions_sent), r(c.worker_dropped), r(c.log_dropped)};
}

render_status instance::render(std::uint64_t block_start_ns, std::uint32_t frames,
                               std::span<const std::span<const timed_packet>> inputs,
                               const block_timeline* timeline) noexcept {
    auto& p = *impl_;
    if (frames == 0 || frames > p.cfg.block_size) return render_status::bad_frames;
    rendering_instance = &p;

    for (const std::uint32_t i : p.control_inputs) p.port_values[i] = p.shared_values[i].load(std::memory_order_relaxed);
    if (timeline) {
        for (const std::uint32_t i : p.bpm_ports) p.port_values[i] = static_cast<float>(timeline->bpm);
    }

    const bool send_start = timeline && (timeline->changed_at_start || !p.position_sent);
    std::uint64_t untranslatable = 0;
    for (std::size_t i = 0; i < p.inputs.size(); ++i) {
        auto& port = p.inputs[i];
        std::span<const timed_packet> midi;
        if (i < p.midi_inputs && i < inputs.size()) midi = inputs[i];
        p.fill_input(port, block_start_ns, frames, midi, timeline, send_start);
        untranslatable += port.down.counters.untranslatable + port.down.counters.malformed;
    }
    if (timeline) p.position_sent = true;
    p.counters.untranslatable.store(untranslatable, std::memory_order_relaxed);

    for (auto& port : p.outputs) {
        auto* seq = reinterpret_cast<LV2_Atom_Sequence*>(port.buffer.get());
        seq->atom.size = p.capacity() - static_cast<std::uint32_t>(sizeof(LV2_Atom));
        seq->atom.type = p.u.atom_Chunk;
    }

    lilv_instance_run(p.lilv, frames);

    if (p.worker) {
        bool skipped = false;
        while (!p.responses->empty()) {
            const std::uint32_t n = p.responses->pop(p.response_buffer.get(), p.cfg.worker_ring_bytes, &skipped);
            if (p.worker->work_response) p.worker->work_response(lilv_instance_get_handle(p.lilv), n, p.response_buffer.get());
        }
        if (p.worker->end_run) p.worker->end_run(lilv_instance_get_handle(p.lilv));
    }

    for (std::size_t i = 0; i < p.midi_outputs; ++i) p.collect_output(p.outputs[i], block_start_ns);
    for (const std::uint32_t i : p.control_outputs) p.shared_values[i].store(p.port_values[i], std::memory_order_relaxed);
    // One writer (this thread): a plain increment, not a locked read-modify-write.
    p.counters.blocks.store(p.counters.blocks.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    rendering_instance = nullptr;
    return render_status::ok;
}

std::span<const timed_packet> instance::output(std::size_t port) const noexcept {
    if (port >= impl_->midi_outputs) return {};
    const auto& o = impl_->outputs[port];
    return {o.out.get(), o.out_count};
}

}  // namespace umpd::lv2
