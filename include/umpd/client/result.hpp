// Errors as values for the SDK: a std::error_code (category "umpd.client") and a
// message a person can act on. Nothing in the SDK throws across its API (except
// std::bad_alloc, which the standard library may throw anywhere).
#pragma once

#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace umpd::client {

enum class errc {
    // Reaching umpd.
    not_running = 1,      // no umpd serves that runtime directory
    permission_denied,    // umpd refused our credentials
    disconnected,         // the control connection to umpd was lost (the client is reconnecting)
    protocol_error,       // umpd's answer broke docs/protocol.md
    timeout,              // umpd did not answer in time
    closed,               // the client or the connection was closed
    // Answers umpd gave (the protocol's error codes).
    bad_request,
    unsupported_version,
    unknown_op,
    not_found,
    already_exists,
    invalid_argument,
    busy,
    limit,
    internal,
    // The data path.
    malformed_packet,     // refused before sending: not a valid UMP packet
    ring_full,            // the ring to umpd has no room: umpd is not keeping up
    corrupt_ring,         // the shared-memory ring broke its format
    in_use,               // another thread is sending on (or reconnecting) this connection
};
[[nodiscard]] const std::error_category& client_category() noexcept;
[[nodiscard]] std::error_code make_error_code(errc e) noexcept;

// A failure: what went wrong (compare code() with errc values) and a sentence for people.
struct error_info {
    std::error_code code;
    std::string message;
};

// Either a T or an error_info. Success costs no allocation beyond T's own.
template <class T>
class [[nodiscard]] result {
public:
    result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
    result(error_info e) : v_(std::in_place_index<1>, std::move(e)) {}  // NOLINT

    [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    // Precondition: has_value().
    [[nodiscard]] T& value() & { return std::get<0>(v_); }
    [[nodiscard]] const T& value() const& { return std::get<0>(v_); }
    [[nodiscard]] T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    // Precondition: !has_value().
    [[nodiscard]] const error_info& error() const { return std::get<1>(v_); }
    [[nodiscard]] std::error_code code() const noexcept { return has_value() ? std::error_code{} : std::get<1>(v_).code; }
    [[nodiscard]] const std::string& message() const { return error().message; }

private:
    std::variant<T, error_info> v_;
};

template <>
class [[nodiscard]] result<void> {
public:
    result() = default;
    result(error_info e) : e_(std::move(e)) {}  // NOLINT

    [[nodiscard]] bool has_value() const noexcept { return !e_.code; }
    explicit operator bool() const noexcept { return has_value(); }
    [[nodiscard]] const error_info& error() const noexcept { return e_; }
    [[nodiscard]] std::error_code code() const noexcept { return e_.code; }
    [[nodiscard]] const std::string& message() const noexcept { return e_.message; }

private:
    error_info e_;
};

// Builds an error_info from a code and a message.
[[nodiscard]] inline error_info make_error(errc e, std::string message) {
    return error_info{make_error_code(e), std::move(message)};
}

}  // namespace umpd::client

template <>
struct std::is_error_code_enum<umpd::client::errc> : std::true_type {};
