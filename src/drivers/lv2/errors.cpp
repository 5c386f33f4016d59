#include "umpd/lv2/errors.hpp"

namespace umpd::lv2 {
namespace {

class category final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "umpd.lv2"; }
    [[nodiscard]] std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::plugin_not_found: return "plugin not found";
        case errc::bad_bundle: return "bad plugin bundle";
        case errc::unsupported_feature: return "plugin requires an unsupported feature";
        case errc::instantiate_failed: return "plugin failed to instantiate";
        case errc::invalid_config: return "invalid host configuration";
        case errc::unknown_port: return "unknown control port";
        case errc::state_failed: return "plugin state could not be saved or restored";
        case errc::thread_failed: return "worker thread could not be started";
        }
        return "unknown lv2 error";
    }
};

}  // namespace

const std::error_category& lv2_category() noexcept {
    static const category c;
    return c;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), lv2_category()}; }

}  // namespace umpd::lv2
