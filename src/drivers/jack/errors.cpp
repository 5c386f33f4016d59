#include "umpd/jack/client.hpp"

namespace umpd::jack {
namespace {

class category final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "umpd.jack"; }
    [[nodiscard]] std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::server_unavailable: return "no JACK server available";
        case errc::not_started: return "the JACK client is not started";
        case errc::duplicate_key: return "a port with this key exists";
        case errc::unknown_port: return "no port with this key";
        case errc::register_failed: return "JACK refused to register the port";
        case errc::rename_failed: return "JACK refused to rename the port";
        case errc::invalid_argument: return "invalid argument";
        case errc::thread_failed: return "the JACK keeper thread or its eventfd could not be created";
        }
        return "unknown jack error";
    }
};

}  // namespace

const std::error_category& jack_category() noexcept {
    static const category c;
    return c;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), jack_category()}; }

}  // namespace umpd::jack
