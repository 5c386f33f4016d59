/* The umpd C API: connect, list endpoints, send a MIDI 1.0 note on to the first one
 * and read it back. */
#include <stdio.h>

#include "umpd/client/umpd.h"

int main(void) {
    umpd_client* client = NULL;
    if (umpd_connect(NULL, "umpd_hello_c", &client) != UMPD_OK) {
        fprintf(stderr, "umpd_hello_c: %s\n", umpd_last_error());
        return 1;
    }
    umpd_endpoint_info endpoints[16];
    size_t count = 0;
    if (umpd_list_endpoints(client, endpoints, 16, &count) != UMPD_OK || count == 0) {
        fprintf(stderr, "umpd_hello_c: %s\n", count == 0 ? "umpd has no endpoints" : umpd_last_error());
        umpd_disconnect(client);
        return 1;
    }
    umpd_connection* conn = NULL;
    if (umpd_open(client, endpoints[0].id, NULL, NULL, &conn) != UMPD_OK) {
        fprintf(stderr, "umpd_hello_c: %s\n", umpd_last_error());
        umpd_disconnect(client);
        return 1;
    }
    const uint32_t note_on = 0x20903C64; /* group 1, channel 1, note 60, velocity 100 */
    if (umpd_send(conn, &note_on, 1, 0) != UMPD_OK) fprintf(stderr, "umpd_hello_c: %s\n", umpd_last_error());
    umpd_timed_packet m;
    if (umpd_wait(conn, 1000000000) == 1 && umpd_receive(conn, &m) == 1)
        printf("%s: received %08x at %llu\n", endpoints[0].id, m.words[0], (unsigned long long)m.timestamp_ns);
    umpd_close(conn);
    umpd_disconnect(client);
    return 0;
}
