// The optimizer bindings (addon_optim.cpp): optimFit and optimFitAsync, added to the addon's
// exports by the Addon constructor.
#pragma once

#include <napi.h>

namespace wengert {

void register_optim(Napi::Env env, Napi::Object exports);

}  // namespace wengert
