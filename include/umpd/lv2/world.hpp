// The LV2 world: the plugins lilv knows about and the URID map every instance shares.
//
// Threads: create and destroy on the control thread; the world must outlive every
// instance made from it. Discovery (discovery.hpp) and instance creation use it from
// the control thread only (lilv is not thread-safe). The URID map inside is
// synchronised and may be called from any non-real-time thread (plugins map URIs in
// instantiate() and state restore, never in run()).
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace umpd::lv2 {

struct world_options {
    // Load every bundle on LV2_PATH (or lilv's default path when LV2_PATH is unset).
    bool load_installed = true;
    // Extra bundle directories to load (fixture plugins, user bundles); never installed.
    std::vector<std::string> bundles;
};

class world {
public:
    explicit world(const world_options& options = {});
    ~world();
    world(const world&) = delete;
    world& operator=(const world&) = delete;

    struct impl;
    [[nodiscard]] impl& internals() noexcept { return *impl_; }
    [[nodiscard]] const impl& internals() const noexcept { return *impl_; }

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace umpd::lv2
