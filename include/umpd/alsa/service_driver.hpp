// The ALSA sequencer driver inside umpd (module umpd::alsa_service): umpd's endpoints
// as sequencer ports for every ALSA application, and the other sequencer clients
// (hardware through snd-seq-midi, virmidi cards, applications) as umpd devices.
// docs/alsa.md has the design; config: [alsa] in docs/config.md.
//
//   export  every MIDI 1.0 port (ports().index()) of every online endpoint, except the
//           endpoints of devices this driver imported, becomes a sequencer port of
//           umpd's client named by its name table's shown name; ports follow the
//           endpoints (added, removed, renamed; an offline device's ports go away).
//   import  each other client (not umpd's own, not System, not matching [alsa]
//           exclude) becomes a device (driver "alsa", app-owned) named after the
//           client; an endpoint per 16 ports, one group terminal block (and group) per
//           port, MIDI 1.0 protocol. Devices follow System:Announce.
//
// Threads: start/stop/endpoints_changed/apply/snapshot and the re-scan after an
// announcement run on umpd's control thread; the data moves on the ALSA client's I/O
// thread (alsa::client), which reads the driver's connection tables under the
// client's lock — the control thread changes them under the same lock.
#pragma once

#include <memory>

#include "umpd/service/driver.hpp"

namespace umpd::alsa {

// The status line when there is no sequencer, exactly as `umpctl status` shows it.
inline constexpr const char* absent_detail = "no ALSA sequencer (/dev/snd/seq not found; load snd-seq)";

[[nodiscard]] std::unique_ptr<service::driver> make_alsa_driver(service::driver_host& host);

}  // namespace umpd::alsa
