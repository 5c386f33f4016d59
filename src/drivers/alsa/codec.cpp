#include "umpd/alsa/codec.hpp"

namespace umpd::alsa {
namespace {

std::uint8_t low7(int v) noexcept { return static_cast<std::uint8_t>(static_cast<unsigned>(v) & 0x7F); }
std::uint8_t low7(unsigned v) noexcept { return static_cast<std::uint8_t>(v & 0x7F); }
std::uint8_t channel_status(unsigned kind, const snd_seq_event_t& ev) noexcept {
    return static_cast<std::uint8_t>(kind | (ev.data.note.channel & 0x0F));
}
std::uint8_t control_status(unsigned kind, const snd_seq_event_t& ev) noexcept {
    return static_cast<std::uint8_t>(kind | (ev.data.control.channel & 0x0F));
}

// A 14-bit parameter number and value as the controllers a cable carries: number MSB
// and LSB on (msb_cc, lsb_cc), then data entry 6 and 38.
std::size_t parameter_bytes(const snd_seq_event_t& ev, std::uint8_t msb_cc, std::uint8_t lsb_cc,
                            std::array<std::uint8_t, 12>& out) noexcept {
    const std::uint8_t st = control_status(0xB0, ev);
    const unsigned param = ev.data.control.param & 0x3FFF;
    const auto value = static_cast<unsigned>(ev.data.control.value) & 0x3FFF;
    out = {st, msb_cc, low7(param >> 7), st, lsb_cc, low7(param), st, 6, low7(value >> 7), st, 38, low7(value)};
    return 12;
}

}  // namespace

std::span<const std::uint8_t> event_bytes(const snd_seq_event_t& ev, std::array<std::uint8_t, 12>& s) noexcept {
    std::size_t n = 0;
    switch (ev.type) {
    case SND_SEQ_EVENT_NOTEON:
    case SND_SEQ_EVENT_NOTE:  // a note with a duration: its note on (the duration is the sender's queue's business)
        s = {channel_status(0x90, ev), low7(ev.data.note.note), low7(ev.data.note.velocity)};
        n = 3;
        break;
    case SND_SEQ_EVENT_NOTEOFF:
        s = {channel_status(0x80, ev), low7(ev.data.note.note), low7(ev.data.note.velocity)};
        n = 3;
        break;
    case SND_SEQ_EVENT_KEYPRESS:
        s = {channel_status(0xA0, ev), low7(ev.data.note.note), low7(ev.data.note.velocity)};
        n = 3;
        break;
    case SND_SEQ_EVENT_CONTROLLER:
        s = {control_status(0xB0, ev), low7(ev.data.control.param), low7(ev.data.control.value)};
        n = 3;
        break;
    case SND_SEQ_EVENT_PGMCHANGE:
        s = {control_status(0xC0, ev), low7(ev.data.control.value)};
        n = 2;
        break;
    case SND_SEQ_EVENT_CHANPRESS:
        s = {control_status(0xD0, ev), low7(ev.data.control.value)};
        n = 2;
        break;
    case SND_SEQ_EVENT_PITCHBEND: {
        const auto v = static_cast<unsigned>(ev.data.control.value + 8192) & 0x3FFF;
        s = {control_status(0xE0, ev), low7(v), low7(v >> 7)};
        n = 3;
        break;
    }
    case SND_SEQ_EVENT_CONTROL14: {
        const unsigned param = ev.data.control.param;
        const auto v = static_cast<unsigned>(ev.data.control.value) & 0x3FFF;
        const std::uint8_t st = control_status(0xB0, ev);
        if (param < 32) {
            s = {st, low7(param), low7(v >> 7), st, low7(param + 32), low7(v)};
            n = 6;
        } else {
            s = {st, low7(param), low7(v)};
            n = 3;
        }
        break;
    }
    case SND_SEQ_EVENT_NONREGPARAM: n = parameter_bytes(ev, 99, 98, s); break;
    case SND_SEQ_EVENT_REGPARAM: n = parameter_bytes(ev, 101, 100, s); break;
    case SND_SEQ_EVENT_QFRAME:
        s = {0xF1, low7(ev.data.control.value)};
        n = 2;
        break;
    case SND_SEQ_EVENT_SONGPOS: {
        const auto v = static_cast<unsigned>(ev.data.control.value) & 0x3FFF;
        s = {0xF2, low7(v), low7(v >> 7)};
        n = 3;
        break;
    }
    case SND_SEQ_EVENT_SONGSEL:
        s = {0xF3, low7(ev.data.control.value)};
        n = 2;
        break;
    case SND_SEQ_EVENT_TUNE_REQUEST: s[0] = 0xF6; n = 1; break;
    case SND_SEQ_EVENT_CLOCK: s[0] = 0xF8; n = 1; break;
    case SND_SEQ_EVENT_START: s[0] = 0xFA; n = 1; break;
    case SND_SEQ_EVENT_CONTINUE: s[0] = 0xFB; n = 1; break;
    case SND_SEQ_EVENT_STOP: s[0] = 0xFC; n = 1; break;
    case SND_SEQ_EVENT_SENSING: s[0] = 0xFE; n = 1; break;
    case SND_SEQ_EVENT_RESET: s[0] = 0xFF; n = 1; break;
    case SND_SEQ_EVENT_SYSEX:
        // Untrusted: a length with no data is nothing.
        if (ev.data.ext.ptr == nullptr || ev.data.ext.len == 0) return {};
        return {static_cast<const std::uint8_t*>(ev.data.ext.ptr), ev.data.ext.len};
    default: return {};
    }
    // Queue control events (START/STOP/CONTINUE/CLOCK addressed to a queue, not a
    // port) arrive as system events only when sent to a port: those are MIDI.
    return {s.data(), n};
}

event_encoder::event_encoder(std::size_t sysex_chunk) : sysex_(sysex_chunk < 8 ? 8 : sysex_chunk) {}

bool event_encoder::simple_event(const core::packet& p, snd_seq_event_t& ev) noexcept {
    const std::uint32_t w = p[0];
    const auto status = static_cast<std::uint8_t>(w >> 16 & 0xFF);
    const auto d1 = static_cast<std::uint8_t>(w >> 8 & 0x7F);
    const auto d2 = static_cast<std::uint8_t>(w & 0x7F);
    if (p.type() == core::message_type::midi1_channel_voice) {
        const auto ch = static_cast<std::uint8_t>(status & 0x0F);
        using namespace seq_event;
        switch (status & 0xF0) {
        case 0x80: set_note(ev, SND_SEQ_EVENT_NOTEOFF, ch, d1, d2); return true;
        case 0x90: set_note(ev, SND_SEQ_EVENT_NOTEON, ch, d1, d2); return true;
        case 0xA0: set_note(ev, SND_SEQ_EVENT_KEYPRESS, ch, d1, d2); return true;
        case 0xB0: set_control(ev, SND_SEQ_EVENT_CONTROLLER, ch, d1, d2); return true;
        case 0xC0: set_control(ev, SND_SEQ_EVENT_PGMCHANGE, ch, 0, d1); return true;
        case 0xD0: set_control(ev, SND_SEQ_EVENT_CHANPRESS, ch, 0, d1); return true;
        case 0xE0: set_control(ev, SND_SEQ_EVENT_PITCHBEND, ch, 0, (d2 << 7 | d1) - 8192); return true;
        default: return false;
        }
    }
    if (p.type() != core::message_type::system) return false;
    auto set = [&](snd_seq_event_type_t type, int value) { seq_event::set_control(ev, type, 0, 0, value); };
    switch (status) {
    case 0xF1: set(SND_SEQ_EVENT_QFRAME, d1); return true;
    case 0xF2: set(SND_SEQ_EVENT_SONGPOS, d2 << 7 | d1); return true;
    case 0xF3: set(SND_SEQ_EVENT_SONGSEL, d1); return true;
    case 0xF6: set(SND_SEQ_EVENT_TUNE_REQUEST, 0); return true;
    case 0xF8: set(SND_SEQ_EVENT_CLOCK, 0); return true;
    case 0xFA: set(SND_SEQ_EVENT_START, 0); return true;
    case 0xFB: set(SND_SEQ_EVENT_CONTINUE, 0); return true;
    case 0xFC: set(SND_SEQ_EVENT_STOP, 0); return true;
    case 0xFE: set(SND_SEQ_EVENT_SENSING, 0); return true;
    case 0xFF: set(SND_SEQ_EVENT_RESET, 0); return true;
    default: return false;
    }
}

}  // namespace umpd::alsa
