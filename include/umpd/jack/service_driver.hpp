// The JACK driver inside the service (umpd::jack_service): the JACK client of
// include/umpd/jack/client.hpp wired to umpd's endpoints (docs/jack.md, "The driver
// in the service").
//
// It exports every MIDI 1.0 port of every online endpoint as a JACK MIDI port (a
// source as a JACK output, a destination as a JACK input; the name table's shown name,
// the device name and shown name as the alias) and keeps that set equal to the
// service's through endpoints_changed(). Data flows through one client-side
// local_connection per exported endpoint: what comes out of the endpoint's source goes
// to the JACK output of the message's group; what JACK applications write to an input
// goes to the endpoint's destination with the port's group and the time of its frame.
//
// Threads:
//   control  every driver call (start/stop/endpoints_changed/handle/apply) and a
//            status timer watched in the service's control loop.
//   bridge   the driver's own thread: the single reader of every local_connection and
//            of jack::client::take(), the single writer of both (send(), write()).
//            Allocates nothing and takes no lock; it sees the exported set through an
//            immutable table the control thread swaps and retires only after the
//            bridge has acknowledged the new one.
//   JACK     the client's process callback and keeper (client.hpp).
#pragma once

#include <memory>

#include "umpd/service/cycle_clock.hpp"
#include "umpd/service/driver.hpp"

namespace umpd::jack {

// The factory for server_options::drivers. The driver reads [jack] from
// host.current_config() at start() and apply().
[[nodiscard]] std::unique_ptr<service::driver> make_jack_driver(service::driver_host& host);
// The same, publishing every JACK cycle into `cycles` while the client is connected (for
// the plugin host's render thread); `cycles` must outlive the driver.
[[nodiscard]] std::unique_ptr<service::driver> make_jack_driver(service::driver_host& host,
                                                                service::cycle_clock* cycles);

}  // namespace umpd::jack
