/* The umpd SDK for C. A thin layer over the C++ API (client.hpp): the same threads,
 * the same behaviour. Link with -lumpd_client -lumpd_ipc -lumpd_core -lstdc++
 * (pkg-config umpd-client).
 *
 * Errors: every function returning int returns UMPD_OK (0) on success and a negative
 * umpd_error on failure; umpd_last_error() then gives a message a person can act on
 * (per thread, valid until the thread's next call). Every function accepts NULL
 * handles and pointers and reports them as UMPD_ERR_INVALID_ARGUMENT.
 *
 * Threads: the client's callbacks run on its control thread (events) and receive
 * thread (messages), as in the C++ API. Any thread may call the client functions;
 * one thread at a time may send on a connection, and one may receive from it. */
#ifndef UMPD_CLIENT_UMPD_H
#define UMPD_CLIENT_UMPD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum umpd_error {
    UMPD_OK = 0,
    UMPD_ERR_NOT_RUNNING = -1,
    UMPD_ERR_PERMISSION_DENIED = -2,
    UMPD_ERR_DISCONNECTED = -3,
    UMPD_ERR_PROTOCOL = -4,
    UMPD_ERR_TIMEOUT = -5,
    UMPD_ERR_CLOSED = -6,
    UMPD_ERR_BAD_REQUEST = -7,
    UMPD_ERR_UNSUPPORTED_VERSION = -8,
    UMPD_ERR_UNKNOWN_OP = -9,
    UMPD_ERR_NOT_FOUND = -10,
    UMPD_ERR_ALREADY_EXISTS = -11,
    UMPD_ERR_INVALID_ARGUMENT = -12,
    UMPD_ERR_BUSY = -13,
    UMPD_ERR_LIMIT = -14,
    UMPD_ERR_INTERNAL = -15,
    UMPD_ERR_MALFORMED_PACKET = -16,
    UMPD_ERR_RING_FULL = -17,
    UMPD_ERR_CORRUPT_RING = -18,
    UMPD_ERR_IN_USE = -19
};

typedef struct umpd_client umpd_client;
typedef struct umpd_connection umpd_connection;

/* One UMP packet (1 to 4 words, as its message type says) and its CLOCK_MONOTONIC time. */
typedef struct umpd_timed_packet {
    uint64_t timestamp_ns; /* 0: now */
    uint32_t words[4];
} umpd_timed_packet;

typedef struct umpd_endpoint_info {
    char id[256];
    char name[256];
    char device[256];
    char device_id[256];
    char driver[64];
    char protocol[16]; /* "midi1" or "midi2" */
    int offline;
    uint64_t connections;
} umpd_endpoint_info;

typedef struct umpd_connection_counters {
    uint64_t sent;
    uint64_t send_dropped_full;
    uint64_t receive_dropped_full;
    uint64_t rejected_malformed;
    uint64_t rejected_schedule;
} umpd_connection_counters;

/* Event as umpd's JSON text (docs/protocol.md), plus the client's own
 * {"event":"disconnected"|"reconnected"|"connection_lost", ...}. */
typedef void (*umpd_event_fn)(const char* event_json, void* user);
typedef void (*umpd_receive_fn)(const umpd_timed_packet* message, void* user);

const char* umpd_last_error(void);
uint64_t umpd_now_ns(void);

/* runtime_dir NULL: $XDG_RUNTIME_DIR/umpd. client_name NULL: "umpd-sdk-c". */
int umpd_connect(const char* runtime_dir, const char* client_name, umpd_client** out);
void umpd_disconnect(umpd_client* client); /* closes its connections too; NULL is fine */

/* JSON results (umpd's `result` objects); free with umpd_free_string. */
int umpd_status_json(umpd_client* client, char** out_json);
int umpd_list_json(umpd_client* client, char** out_json);
void umpd_free_string(char* s);

/* Fills up to capacity entries; *count receives the number of endpoints umpd has. */
int umpd_list_endpoints(umpd_client* client, umpd_endpoint_info* out, size_t capacity, size_t* count);

/* umpd's transport and musical context (see client.hpp, transport_info): the position
 * holds at CLOCK_MONOTONIC time_ns; bar is 0-based. Changes arrive as the event
 * {"event":"transport_changed", "change": ..., and these fields}. */
typedef struct umpd_transport_info {
    double sample_rate;
    double bpm;
    double beats_per_bar;
    int beat_unit;
    int playing;
    int recording;
    int cycling;
    int64_t frame;
    double beat;
    int64_t bar;
    double bar_beat;
    double cycle_start;
    double cycle_end;
    uint64_t time_ns;
} umpd_transport_info;
int umpd_get_transport(umpd_client* client, umpd_transport_info* out);

/* Events through a callback (NULL: stop calling). */
int umpd_subscribe(umpd_client* client, umpd_event_fn fn, void* user);

/* The user-client operations. Ids out (may be NULL) receive the new object's id. */
int umpd_add_port(umpd_client* client, const char* device, const char* name, const char* protocol,
                  char* endpoint_id_out, size_t capacity);
int umpd_remove_port(umpd_client* client, const char* endpoint);
int umpd_set_offline(umpd_client* client, const char* device, int offline);
int umpd_rename(umpd_client* client, const char* device_or_endpoint, const char* name);
/* kind: "pair", "midi1" or "diagnostics"; name_b only for pairs (may be NULL). */
int umpd_create_loopback(umpd_client* client, const char* kind, const char* name, const char* name_b,
                         char* device_id_out, size_t capacity);
int umpd_remove_loopback(umpd_client* client, const char* device);
int umpd_reload_config(umpd_client* client);

/* Opens a connection. With fn, messages arrive on the client's receive thread; without
 * (fn NULL), read them with umpd_receive, waiting on umpd_connection_fd. */
int umpd_open(umpd_client* client, const char* endpoint, umpd_receive_fn fn, void* user, umpd_connection** out);
void umpd_close(umpd_connection* connection); /* NULL is fine */

/* words: the packet's words (count 1..4, matching its message type). */
int umpd_send(umpd_connection* connection, const uint32_t* words, size_t count, uint64_t timestamp_ns);
/* Sends as many as fit; *sent (may be NULL) receives how many. */
int umpd_send_batch(umpd_connection* connection, const umpd_timed_packet* messages, size_t count, size_t* sent);
/* 1: *out holds a message; 0: none waiting (the fd is armed); negative: error. */
int umpd_receive(umpd_connection* connection, umpd_timed_packet* out);
/* 1: a message is waiting; 0: timeout (timeout_ns < 0: wait forever). */
int umpd_wait(umpd_connection* connection, int64_t timeout_ns);
int umpd_connection_fd(const umpd_connection* connection);
int umpd_get_counters(const umpd_connection* connection, umpd_connection_counters* out);

/* App-owned devices: the application publishes a device and serves its ports itself.
 * fn (may be NULL) receives this device's endpoint_opened / endpoint_closed events
 * (JSON, docs/protocol.md) on the client's control thread. */
typedef struct umpd_published_device umpd_published_device;
/* Ports named port_names[0..port_count) (MIDI 2.0; no discovery info declared, so
 * clients' discovery messages reach the application). */
int umpd_publish_device(umpd_client* client, const char* name, const char* const* port_names, size_t port_count,
                        umpd_event_fn fn, void* user, umpd_published_device** out);
/* Everything publish_device takes (endpoint info, function blocks, ...), as its JSON
 * request fields: {"name": ..., "ports": [{"name": ..., "endpoint_info": {...}, ...}]}. */
int umpd_publish_device_json(umpd_client* client, const char* request_json, umpd_event_fn fn, void* user,
                             umpd_published_device** out);
const char* umpd_published_device_id(const umpd_published_device* device); /* "app/<slug>"; NULL for NULL */
size_t umpd_published_device_port_count(const umpd_published_device* device);
/* The application's I/O connection on port `index` (0-based), owned by the device:
 * umpd_send emits from the port's source to every client; umpd_receive / umpd_wait /
 * umpd_connection_fd give what clients sent to the port. NULL when out of range.
 * Do not umpd_close it. */
umpd_connection* umpd_published_device_port(umpd_published_device* device, size_t index);
/* Unpublishes the device, closes its ports' connections and frees it. NULL is fine. */
void umpd_unpublish_device(umpd_published_device* device);

/* MIDI 1.0 ports (docs/protocol.md; names: docs/naming.md). The lookups are answered
 * from the client's cache, which umpd's change events keep fresh (see client.hpp). */
enum umpd_port_direction { UMPD_PORT_ANY = -1, UMPD_PORT_IN = 0, UMPD_PORT_OUT = 1 };

typedef struct umpd_midi1_port {
    uint32_t number;   /* per direction, stable */
    int direction;     /* UMPD_PORT_IN (the endpoint's source) or UMPD_PORT_OUT (its destination) */
    int group;         /* 0..15 (people read 1..16) */
    char name[128];    /* the name shown (at most 31 characters, UTF-8) */
    char custom[128];  /* empty: no custom name */
    char legacy[128];
    char new_style[128];
    char endpoint[256];      /* endpoint id */
    char endpoint_name[256];
} umpd_midi1_port;

/* Ports with this name (any style; legacy_only != 0: the legacy-compatible name only),
 * direction UMPD_PORT_ANY or one. Fills up to capacity; *count receives how many match
 * (0 is success). */
int umpd_find_ports(umpd_client* client, const char* name, int legacy_only, int direction, umpd_midi1_port* out,
                    size_t capacity, size_t* count);
/* UMPD_ERR_NOT_FOUND when no port has that number in that direction. */
int umpd_port_by_number(umpd_client* client, uint32_t number, int direction, umpd_midi1_port* out);
/* An endpoint's ports (id or unique name); group -1 or 0..15, direction UMPD_PORT_ANY or one. */
int umpd_ports_of(umpd_client* client, const char* endpoint, int group, int direction, umpd_midi1_port* out,
                  size_t capacity, size_t* count);
/* Sets the custom name of one port (group 0..15); "" or NULL clears it. */
int umpd_rename_port(umpd_client* client, const char* endpoint, int group, int direction, const char* name);
/* Everything the endpoint declared (the endpoint_info result, JSON); free with umpd_free_string. */
int umpd_endpoint_info_json(umpd_client* client, const char* endpoint, char** out_json);

#ifdef __cplusplus
}
#endif

#endif /* UMPD_CLIENT_UMPD_H */
